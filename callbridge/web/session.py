"""One page's websocket: signalling in, events out, and cleanup when it goes.

Every message is handled under one rule: whatever goes wrong becomes an
`error` reply (and one warning line in the log for the unexpected), and the
session goes on, or is closed cleanly. Caps and rates (limits.py) are checked
here: the deadline to join, joins, messages and consent changes per address.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from callbridge.media.adbreak import MAX_AD_S
from callbridge.web.limits import (
    JOIN_LATE,
    SERVER_FULL,
    TOO_MANY_CONSENT,
    TOO_MANY_JOINS,
    TOO_MANY_MESSAGES,
    ClientLimits,
)
from callbridge.web.outbox import Outbox
from callbridge.web.participant import NegotiationError, Participant
from callbridge.web.pipelines import new_pipeline
from callbridge.web.ratelimit import Rate, RateLimiter
from callbridge.web.room import JoinError, Refusal, Room, Seat
from callbridge.web.signalling import Answer, Consent, Join, Leave, Offer, Record, SignallingError, parse_message
from callbridge.workers.interface import MediaPipeline
from callbridge.workers.passthrough import PassthroughPipeline
from callbridge.workers.priority import in_normal_thread

log = logging.getLogger(__name__)
NOTES = RateLimiter(Rate(burst=20, per_s=1))  # warnings about failed messages, per room: a flood is not a log flood
ENDS = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


class Session:
    """Runs one page's signalling for its whole stay in a room."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        room: Room,
        passthrough: bool = False,
        *,
        client: str = "unknown",
        limits: ClientLimits | None = None,
        abort: Callable[[], None] = lambda: None,
        full: Callable[[int], bool] = lambda in_room: False,
    ) -> None:
        self.ws = ws
        self.room = room
        self.passthrough = passthrough
        self.client = client  # the address its limits are counted by
        self.limits = limits or ClientLimits()
        self.full = full  # the overload guard (overload.py): True while the machine takes nobody into a room of n
        self.participant: Participant | None = None
        self.outbox = Outbox(ws, abort)
        self._tasks: set[asyncio.Task[None]] = set()

    async def send(self, message: dict[str, Any]) -> None:
        """Queue a message; it never waits on the network (outbox.py)."""
        self.outbox.put(message)

    def hang_up(self) -> None:
        """Cut a page that does not read (the room calls this); the session then ends."""
        self.outbox.cut("the room gave up on it")

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.limits.join_deadline_s
        try:
            while not self.ws.closed:
                wait = None if self.participant is not None else deadline - loop.time()
                try:
                    if wait is not None and wait <= 0:
                        raise TimeoutError
                    msg = await self.ws.receive(timeout=wait)
                except TimeoutError:
                    await self.send(_error(JOIN_LATE.format(s=self.limits.limits.join_deadline_s)))
                    break
                if msg.type in ENDS:
                    break
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY) and not await self._handle(msg.data):
                    break
        finally:
            await self._leave()

    async def _handle(self, data: str | bytes) -> bool:
        """Handle one message; False ends the session (after the reply is sent)."""
        if not self.limits.messages.allow(self.client):
            await self.send(_error(TOO_MANY_MESSAGES))
            return False
        kind = "unparsed"
        try:
            message = parse_message(data)
            kind = type(message).__name__.lower()
            if isinstance(message, Join):
                return await self._join(message)
            if self.participant is None:
                raise SignallingError("join first")
            if isinstance(message, Offer):
                await self._offer(message)
            elif isinstance(message, Answer):
                self.participant.take_answer(message.sdp)
            elif isinstance(message, Consent | Record) and self.participant.watching:
                raise SignallingError("a watching screen sends no face or voice to agree about")
            elif isinstance(message, Consent | Record) and not self.limits.consent.allow(self.client):
                raise SignallingError(TOO_MANY_CONSENT)
            elif isinstance(message, Consent):
                await self.room.set_consent(self.participant, message.consent)
            elif isinstance(message, Record):
                if not self.room.recording.available:
                    raise SignallingError("this server does not record calls")
                await self.room.set_record(self.participant, message.agree)
            elif isinstance(message, Leave):
                return False
        except (SignallingError, NegotiationError, Refusal) as exc:
            await self.send(_error(str(exc)))
        except Exception as exc:  # anything else: one line in the log, an error to the page, and on we go
            if NOTES.allow(self.room.name):
                log.warning("room %s: a %s message failed: %s", self.room.name, kind, type(exc).__name__)
            await self.send(_error(f"the server could not handle that {kind} message ({type(exc).__name__})"))
        return True

    async def _join(self, join: Join) -> bool:
        if self.participant is not None:
            raise SignallingError("already joined")
        if not self.limits.joins.allow(self.client):
            await self.send(_error(TOO_MANY_JOINS))
            return False
        try:
            if not join.watch and self.full(self.room.taken):  # a screen only receives: it adds no speech or face work
                self.room.refuse(SERVER_FULL)
            self.room.check_name(join.name)
            seat = self.room.reserve(join.watch)  # before a pipeline is built: a full room builds nothing
        except JoinError as exc:
            await self.send(_error(str(exc)))
            return False
        try:
            return await self._admit(join, seat)
        finally:
            seat.release()

    async def _admit(self, join: Join, seat: Seat) -> bool:
        if join.watch:
            name = f"watcher-{secrets.token_hex(4)}"  # never shown: no event names a watcher
            pipeline: MediaPipeline = PassthroughPipeline(name, False)
            participant = Participant(name, self.room.name, pipeline, self.send, watching=True)
        else:
            pipeline, link = await new_pipeline(self.room, join.name, join.consent, self.passthrough)
            participant = link.participant = Participant(join.name, self.room.name, pipeline, self.send)
        participant.hang_up = self.hang_up
        participant.pc.on("connectionstatechange", lambda: self._on_state(participant))
        try:
            rules = await in_normal_thread(self.room.services.store.live_rules)  # SQLite off the event loop
            welcome = {
                "type": "welcome",
                "participant": participant.name,
                "room": self.room.name,
                "phrases": [{"phrase": r.phrase, "template": r.template} for r in rules],
                "ice_servers": [],
                "max_ad_s": MAX_AD_S,  # the page's failsafe restores live video after this (plus slack)
                "recording": {"available": self.room.recording.available, "on": self.room.recording.on},
            }
            await self.room.join(participant, welcome, seat)
        except JoinError as exc:  # the name was taken while the pipeline loaded, the room filled, the log failed
            await participant.close()
            await self.send(_error(str(exc)))
            return False
        except BaseException:  # nothing of a failed join is left behind: no ghost, no pipeline
            if self.room.participants.get(participant.name) is participant:
                await self.room.leave(participant)
            else:
                await participant.close()
            raise
        if self.room.participants.get(participant.name) is not participant:
            return False  # dropped while joining (it did not read)
        self.participant = participant
        return True

    async def _offer(self, offer: Offer) -> None:
        participant = self.participant
        assert participant is not None
        if "\nm=audio" not in offer.sdp and "\nm=video" not in offer.sdp:
            raise SignallingError("the offer has no audio or video to send")
        sdp = await participant.accept_offer(offer.sdp)
        await self.send({"type": "answer", "sdp": sdp})
        task = asyncio.ensure_future(self._connect(participant))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, participant: Participant) -> None:
        try:
            await self.room.connect(participant)
        except Exception as exc:
            log.warning("room %s: connecting %s failed: %s", self.room.name, participant.name, type(exc).__name__)

    def _on_state(self, participant: Participant) -> None:
        state = participant.pc.connectionState
        log.info("room %s: %s's media connection is %s", self.room.name, participant.name, state)
        if state in ("failed", "closed") and self.participant is participant:
            asyncio.ensure_future(self._leave())

    async def _leave(self) -> None:
        participant, self.participant = self.participant, None
        if participant is not None:
            await self.room.leave(participant)
        await self.outbox.close()


def _error(message: str) -> dict[str, str]:
    return {"type": "error", "message": message}
