"""Whether a room records: on only while every participant in it agrees, off the moment one does not.

Starting and stopping open and close files, so they run off the event loop; the
page of everyone in the room gets a `recording` event each time, with the reason
when the recording stopped on an error (a full disk): the call itself goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import av

from callbridge.recording import CallRecorder, RecordingError
from callbridge.web.events import RoomEvent, recording_event
from callbridge.workers.priority import in_normal_thread

log = logging.getLogger(__name__)


class Recordable(Protocol):
    name: str
    record_agree: bool
    on_frame: Callable[[av.AudioFrame | av.VideoFrame, float], None] | None

    @property
    def consent(self) -> bool: ...


class RoomRecording:
    """One room's recording state and recorder."""

    def __init__(
        self,
        room: str,
        root: Path | None,
        participants: Callable[[], Mapping[str, Recordable]],
        broadcast: Callable[[RoomEvent], Awaitable[None]],
        campaign: Callable[[], dict[str, Any]],
    ) -> None:
        self._room, self._root = room, root
        self._participants, self._broadcast, self._campaign = participants, broadcast, campaign
        self._recorder: CallRecorder | None = None
        self._halted = False  # stopped on an error: not again until someone changes their answer
        self._busy = asyncio.Lock()

    @property
    def available(self) -> bool:
        return self._root is not None

    @property
    def on(self) -> bool:
        return self._recorder is not None

    def log(self, event: RoomEvent) -> None:
        if self._recorder is not None:
            self._recorder.log(event)

    def withdrew_consent(self, name: str) -> None:
        """Face consent withdrawn: the recording must not offer their face to replays (manifest)."""
        if self._recorder is not None:
            self._recorder.withdrew_consent(name)

    async def update(self, answered: bool = False) -> None:
        """Start, extend or stop the recording to match who is in the room and what they agreed to.

        `answered`: someone has just given or withdrawn their agreement (a halted recording may start again).
        """
        async with self._busy:
            self._halted = self._halted and not answered
            everyone = list(self._participants().values())
            wanted = self._root is not None and bool(everyone) and all(p.record_agree for p in everyone)
            wanted = wanted and not self._halted
            if wanted and self._recorder is None:
                await self._start(everyone)
            elif wanted and self._recorder is not None:
                for person in everyone:
                    self._tap(self._recorder, person)
            elif not wanted and self._recorder is not None:
                await self._stop(everyone, None)

    async def _start(self, everyone: list[Recordable]) -> None:
        assert self._root is not None
        loop = asyncio.get_running_loop()

        def failed(message: str) -> None:  # from a writer thread
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._failed(message)))

        try:
            recorder = await in_normal_thread(CallRecorder, self._root, self._room, self._campaign(), failed)
        except RecordingError as exc:
            log.warning("room %s: %s", self._room, exc)
            await self._broadcast(recording_event(False, str(exc)))
            return
        self._recorder = recorder
        for person in everyone:
            self._tap(recorder, person)
        log.info("room %s: recording into %s", self._room, recorder.folder)
        await self._broadcast(recording_event(True))

    def _tap(self, recorder: CallRecorder, person: Recordable) -> None:
        if person.on_frame is None:
            recorder.add(person.name, person.consent)
            person.on_frame = partial(recorder.push, person.name)

    async def _stop(self, everyone: list[Recordable], reason: str | None) -> None:
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return
        for person in everyone:
            person.on_frame = None
        await in_normal_thread(recorder.stop)
        log.info("room %s: recording stopped%s", self._room, f" ({reason})" if reason else "")
        await self._broadcast(recording_event(False, reason))

    async def _failed(self, message: str) -> None:
        async with self._busy:
            self._halted = True
            await self._stop(list(self._participants().values()), f"recording stopped: {message}")
