"""A participant's media pipeline, wired to its room: for pages' sessions and the exhibition's recorded people."""

from __future__ import annotations

import asyncio
from typing import Any

from callbridge.web.participant import Participant
from callbridge.web.room import Room
from callbridge.workers.interface import MediaPipeline
from callbridge.workers.passthrough import PassthroughPipeline
from callbridge.workers.pipeline import ParticipantPipeline
from callbridge.workers.priority import in_normal_thread


class RoomLink:
    """Hands a pipeline's speech and face news (from its worker threads) to the room, once the participant exists."""

    def __init__(self, room: Room, loop: asyncio.AbstractEventLoop) -> None:
        self.room, self.loop = room, loop
        self.participant: Participant | None = None

    def on_speech(self, event: Any, emitted_t: float, phrase_end_t: float | None) -> None:
        if self.participant is not None:
            self.room.on_speech(self.participant, event, emitted_t, phrase_end_t, self.loop)

    def on_face(self, quality: float | None) -> None:
        if self.participant is not None:
            self.room.on_face(self.participant, quality, self.loop)


async def new_pipeline(room: Room, name: str, consent: bool, passthrough: bool) -> tuple[MediaPipeline, RoomLink]:
    """The pipeline for `name`, and the link to set its participant on."""
    link = RoomLink(room, asyncio.get_running_loop())
    if passthrough:
        return PassthroughPipeline(name, consent), link
    # its speech and face threads must not inherit the media executor's lower priority
    pipeline = await in_normal_thread(ParticipantPipeline, name, consent, room.services, link.on_speech, link.on_face)
    return pipeline, link
