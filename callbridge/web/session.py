"""One page's websocket: signalling in, events out, and cleanup when it goes."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from callbridge.media.adbreak import MAX_AD_S
from callbridge.web.participant import NegotiationError, Participant
from callbridge.web.pipelines import new_pipeline
from callbridge.web.room import JoinError, Room
from callbridge.web.signalling import Answer, Consent, Join, Leave, Offer, Record, SignallingError, parse_message
from callbridge.workers.interface import MediaPipeline
from callbridge.workers.pipeline import PassthroughPipeline
from callbridge.workers.priority import in_normal_thread

log = logging.getLogger(__name__)


class Session:
    """Runs one page's signalling for its whole stay in a room."""

    def __init__(self, ws: web.WebSocketResponse, room: Room, passthrough: bool = False) -> None:
        self.ws = ws
        self.room = room
        self.passthrough = passthrough
        self.participant: Participant | None = None
        self._send_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:  # one writer at a time keeps messages whole and in order
            if not self.ws.closed:
                await self.ws.send_str(json.dumps(message))

    async def run(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    if not await self._handle(msg.data):
                        break
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            await self._leave()

    async def _handle(self, data: str | bytes) -> bool:
        """Handle one message; False ends the session."""
        try:
            message = parse_message(data)
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
            elif isinstance(message, Consent):
                await self.room.set_consent(self.participant, message.consent)
            elif isinstance(message, Record):
                if not self.room.recording.available:
                    raise SignallingError("this server does not record calls")
                await self.room.set_record(self.participant, message.agree)
            elif isinstance(message, Leave):
                return False
        except (SignallingError, NegotiationError) as exc:
            await self.send({"type": "error", "message": str(exc)})
        except ValueError as exc:  # aiortc's verdict on an SDP it cannot use
            await self.send({"type": "error", "message": f"unusable SDP: {exc}"})
        return True

    async def _join(self, join: Join) -> bool:
        if self.participant is not None:
            raise SignallingError("already joined")
        try:
            self.room.check_name(join.name)
        except JoinError as exc:
            await self.send({"type": "error", "message": str(exc)})
            return False
        if join.watch:
            name = f"watcher-{secrets.token_hex(4)}"  # never shown: no event names a watcher
            pipeline: MediaPipeline = PassthroughPipeline(name, False)
            participant = Participant(name, self.room.name, pipeline, self.send, watching=True)
        else:
            pipeline, link = await new_pipeline(self.room, join.name, join.consent, self.passthrough)
            participant = link.participant = Participant(join.name, self.room.name, pipeline, self.send)
        participant.pc.on("connectionstatechange", lambda: self._on_state(participant))
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
        try:
            await self.room.join(participant, welcome)
        except JoinError as exc:  # the name was taken while the pipeline loaded
            await participant.close()
            await self.send({"type": "error", "message": str(exc)})
            return False
        self.participant = participant
        return True

    async def _offer(self, offer: Offer) -> None:
        participant = self.participant
        assert participant is not None
        if "\nm=audio" not in offer.sdp and "\nm=video" not in offer.sdp:
            raise SignallingError("the offer has no audio or video to send")
        sdp = await participant.accept_offer(offer.sdp)
        await self.send({"type": "answer", "sdp": sdp})
        asyncio.ensure_future(self.room.connect(participant))

    def _on_state(self, participant: Participant) -> None:
        state = participant.pc.connectionState
        log.info("room %s: %s's media connection is %s", self.room.name, participant.name, state)
        if state in ("failed", "closed") and self.participant is participant:
            asyncio.ensure_future(self._leave())

    async def _leave(self) -> None:
        participant, self.participant = self.participant, None
        if participant is not None:
            await self.room.leave(participant)
        if not self.ws.closed:
            await self.ws.close()
