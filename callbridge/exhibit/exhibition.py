"""The exhibition loop: each act's people join room `exhibit`, play their recording, and leave; then the next.

Visitors in the room see them as participants, and can talk and trigger ads themselves.
Each act's face data is wiped when its people leave, as a visitor's is.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

from callbridge.exhibit.playlist import Act
from callbridge.exhibit.recorded import RecordedParticipant
from callbridge.tasks import cancel_and_wait
from callbridge.web.pipelines import new_pipeline
from callbridge.web.relay import Relay
from callbridge.web.room import JoinError, Room

log = logging.getLogger(__name__)
EXHIBIT_ROOM = "exhibit"
LEAD_S = 0.5  # joined events reach the pages before the first frames
GAP_S = 3.0  # between acts: the room empties, pages settle


class Exhibition:
    """Plays `acts` in order, in a loop, into the relay's room `room` until stopped."""

    def __init__(self, relay: Relay, acts: list[Act], room: str = EXHIBIT_ROOM) -> None:
        self.relay, self.acts, self.room_name = relay, acts, room
        self.cast: list[RecordedParticipant] = []  # who is on now
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        if self.relay.loading is not None:
            await self.relay.loading
        if not self.relay.ready:
            log.error("exhibition: the relay could not load its models; nothing is played")
            return
        for act in itertools.cycle(self.acts):
            try:
                await self._play(act)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("exhibition: %s failed; going on with the next", act.title)
            await asyncio.sleep(GAP_S)

    async def _play(self, act: Act) -> None:
        room = self.relay.room(self.room_name)
        people = f"{len(act.people)} {'person' if len(act.people) == 1 else 'people'}"
        log.info("exhibition: playing %s (%.0f s, %s)", act.title, act.duration_s, people)
        try:
            for person in act.people:
                joined = await self._join(room, person.name, person.face_consent, str(person.path))
                if joined is not None:
                    self.cast.append(joined)
            start = time.monotonic() + LEAD_S
            for member in self.cast:
                member.play(start)
            for member in self.cast:
                await room.connect(member)  # visitors already in the room start receiving them
            await asyncio.sleep(LEAD_S + act.duration_s)
        finally:
            cast, self.cast = self.cast, []
            for member in cast:
                await asyncio.shield(room.leave(member))
            self.relay.forget_if_empty(room.name)

    async def _join(self, room: Room, name: str, consent: bool, path: str) -> RecordedParticipant | None:
        pipeline, link = await new_pipeline(room, name, consent, self.relay.passthrough)
        member = link.participant = RecordedParticipant(name, room.name, pipeline, path)
        try:
            await room.join(member)
        except JoinError as exc:  # a visitor took the name: this act goes on without them
            log.warning("exhibition: %s", exc)
            await member.close()
            return None
        return member
