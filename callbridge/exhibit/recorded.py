"""A person from a recording, played into a room as a participant: media from a file, nothing received."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import av

from callbridge.exhibit.player import FilePlayer
from callbridge.web.participant import MEDIA_TIMEOUT_S, NegotiationError, Participant
from callbridge.workers.interface import MediaPipeline


async def _nobody(message: dict[str, Any]) -> None:
    """Events for a recorded person go nowhere: there is no page behind them."""


class RecordedParticipant(Participant):
    """Sends what the file holds, in real time, from `play()` on; receives no one.

    Its pipeline hears and looks as it would at a visitor's media, so its phrases fire
    ads in its own tile, made with its face when the recording says it agreed.
    """

    def __init__(self, name: str, room: str, pipeline: MediaPipeline, path: str) -> None:
        super().__init__(name, room, pipeline, _nobody)
        self.path = path
        self._player: FilePlayer | None = None

    @property
    def media_up(self) -> bool:
        return self._player is not None

    def play(self, start_t: float) -> None:
        """Start sending at `start_t` (time.monotonic), from the event loop."""
        loop = asyncio.get_running_loop()

        def deliver(frame: av.AudioFrame | av.VideoFrame) -> None:  # on the player's thread
            received = time.time()
            loop.call_soon_threadsafe(self.forward, frame, received)

        self._player = FilePlayer(self.path, start_t, deliver, name=f"exhibit-{self.name}").start()

    async def accept_offer(self, sdp: str) -> str:
        raise NegotiationError("a recorded participant takes no offers")

    async def media_connected(self, timeout_s: float = MEDIA_TIMEOUT_S) -> None:
        if self._player is None:
            raise NegotiationError(f"{self.name} is not playing")

    async def receive_from(self, others: list[Participant]) -> None:
        """A recording watches no one."""

    def stop_receiving(self, source: str) -> None:
        """A recording watches no one."""

    async def close(self) -> None:
        player, self._player = self._player, None
        if player is not None:
            await asyncio.to_thread(player.stop)
        await super().close()
