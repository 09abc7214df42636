"""A room: who is in it, who receives whom, and events to every page.

The room owns the state that spans participants: the events replayed to
newcomers, the ad breaks (`room_ads.RoomAds`), and the background tasks
(trigger handling, broadcasts), each named, which tests can await with `idle()`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, NoReturn

from callbridge.config.campaign import Campaign
from callbridge.config.services import Services
from callbridge.media.adbreak import AdBreak
from callbridge.web.events import RoomEvent, campaign_event, room_event
from callbridge.web.participant import NegotiationError, Participant
from callbridge.web.room_ads import RoomAds
from callbridge.web.room_recording import RoomRecording
from callbridge.workers import heap
from callbridge.workers.priority import in_normal_thread
from triggers import Event, TranscriptEvent, TriggerEvent

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 2.0  # a page that takes longer to take one message is not reading: it is dropped
RELEASE_AFTER_S = 1.0  # by then the leaver's session has let go of them too: their pipeline is freed at once
PATIENCE_S = 0.1  # a broadcast waits this long for slow pages; their deliveries go on in the background
ROOM_FULL = "this room is full ({n} people)"
CONSENT_LOG_FAILED = "the server could not record your consent just now; try again in a moment"
CONSENT_NOT_GIVEN = "the server could not record your consent just now, so your face is not used; try again"


class Refusal(ValueError):
    """Something the room refuses to do; the message, for the page, says why."""


class JoinError(Refusal):
    """A join the room refuses; the message says why."""


class Seat:
    """A place held in a room while its joiner's pipeline is built; `release` once the join is over."""

    def __init__(self, room: Room | None = None) -> None:
        self._room = room

    def release(self) -> None:
        if self._room is not None:
            self._room._seats -= 1
            self._room = None


def refused_event(reason: str) -> RoomEvent:
    """Someone could not join this room (it or the server is full): no name, since they are not in it."""
    return {"type": "refused", "reason": reason, "t": round(time.time(), 4)}


class Room:
    """Participants of one room and what flows between them."""

    def __init__(self, name: str, services: Services, recordings: Path | None = None, max_people: int = 6) -> None:
        self.name = name
        self.services = services
        self.max_people = max_people  # watchers (kiosk screens) are not counted
        self._seats = 0  # joins under way (pipelines being built), counted against max_people
        self._dropping: set[Participant] = set()  # pages given up on (not reading), until they have left
        self.recording = RoomRecording(name, recordings, lambda: self.people, self.broadcast, self._campaign_note)
        self.participants: dict[str, Participant] = {}
        self._news: dict[str, dict[str, RoomEvent]] = {}  # participant -> kind -> latest event, for newcomers
        self._tasks: set[asyncio.Task[None]] = set()
        self.ads = RoomAds(self)
        self._joining = asyncio.Lock()  # one join at a time: each joined event reaches each page once
        self._wired: set[tuple[str, str]] = set()  # (receiver, source) pairs whose media is set up
        self._campaign: Campaign | None = None  # the last campaign change applied here

    @property
    def people(self) -> dict[str, Participant]:
        """The participants who take part: everyone but watchers (kiosk screens, which only receive)."""
        return {name: p for name, p in self.participants.items() if not p.watching}

    @property
    def taken(self) -> int:
        """Places taken: the people in the room and the joins under way."""
        return len(self.people) + self._seats

    def check_name(self, name: str) -> None:
        if name in self.participants:
            raise JoinError(f"the name {name!r} is already taken in this room")

    def reserve(self, watching: bool = False) -> Seat:
        """Hold a place for a join about to build its pipeline; JoinError when the room is full.

        The others get a `refused` event. A watcher (kiosk) takes no place.
        """
        if watching:
            return Seat()
        if self.taken >= self.max_people:
            self._refuse_full()
        self._seats += 1
        return Seat(self)

    def _refuse_full(self) -> None:
        self.refuse(ROOM_FULL.format(n=self.max_people))

    def refuse(self, reason: str) -> NoReturn:
        """Refuse a join for a reason of capacity: JoinError, and a `refused` event to those in the room."""
        self._spawn(self.broadcast(refused_event(reason)), "a refused join")
        raise JoinError(reason)

    async def join(
        self, participant: Participant, welcome: dict[str, Any] | None = None, seat: Seat | None = None
    ) -> None:
        """Admit a participant: `welcome` goes to them first, then earlier `joined` events; theirs goes to all.

        JoinError (nothing changed) for a taken name, a full room or a consent log that cannot be written.
        The `joined` broadcast goes out after the join lock is released, to those in the room at admission,
        so a page that is slow to read holds up no one's join.
        """
        async with self._joining:
            if seat is not None:
                seat.release()  # from here the participant is counted as one of the people, or refused
            self.check_name(participant.name)
            if not participant.watching and len(self.people) >= self.max_people:
                self._refuse_full()
            if not participant.watching:  # written first: a join whose consent cannot be logged does not happen
                try:
                    await asyncio.to_thread(
                        self.services.store.log_consent, self.name, participant.name, participant.consent
                    )
                except Exception as exc:
                    log.warning("room %s: the consent log could not be written (%s); join refused", self.name, exc)
                    raise JoinError(CONSENT_LOG_FAILED) from exc
            self.participants[participant.name] = participant
            try:
                if self._campaign is not None:  # a change that came while this participant's pipeline was built
                    await asyncio.to_thread(participant.pipeline.set_campaign, self._campaign)
            except BaseException:
                del self.participants[participant.name]
                raise
            if welcome is not None:
                others = [p for p in self.people if p != participant.name]
                await self._deliver(participant, {**welcome, "participants": others})
            for other in list(self.participants):
                for news in list(self._news.get(other, {}).values()):
                    await self._deliver(participant, {"type": "event", "event": news})
            if participant.watching or self.participants.get(participant.name) is not participant:
                return  # a screen (no one is told, recording is not its to stop), or dropped as it joined
            joined = room_event("joined", participant.name, consent=participant.consent)
            self._news[participant.name] = {"joined": joined}
            told = list(self.participants.values())
        self.recording.log(joined)
        await self._send_all(told, {"type": "event", "event": joined})
        await self.recording.update()  # a newcomer who has not agreed stops it for everyone

    async def connect(self, newcomer: Participant) -> None:
        """After the newcomer's first answer: once its media connection is up, everyone receives everyone."""
        try:
            await newcomer.media_connected()
        except NegotiationError as exc:
            log.warning("room %s: %s", self.name, exc)
            return
        if self.participants.get(newcomer.name) is not newcomer:
            return  # left meanwhile
        # Whoever comes up second wires the pair; the others' connects wait for their own media.
        others = [p for p in self.participants.values() if p is not newcomer and p.media_up]
        # Two pages answered before either connect ran: both connects see the pair; wire it once.
        # Watchers send nothing: no one receives them.
        plan = [(newcomer, [o for o in others if not o.watching and self._claim(newcomer, o)])]
        if not newcomer.watching:
            plan += [(other, [newcomer]) for other in others if self._claim(other, newcomer)]
        plan = [(receiver, sources) for receiver, sources in plan if sources]
        outcomes = await asyncio.gather(
            *(receiver.receive_from(sources) for receiver, sources in plan), return_exceptions=True
        )
        for (receiver, _), outcome in zip(plan, outcomes):
            if not isinstance(outcome, BaseException):
                continue
            if self.participants.get(receiver.name) is not receiver:
                log.info("room %s: %s left during a renegotiation", self.name, receiver.name)
            elif isinstance(outcome, NegotiationError):
                log.warning("room %s: %s", self.name, outcome)
            else:
                log.error("room %s: renegotiation for %s failed", self.name, receiver.name, exc_info=outcome)

    def _claim(self, receiver: Participant, source: Participant) -> bool:
        """True the first time `receiver` is to receive `source` (until one of them leaves)."""
        pair = (receiver.name, source.name)
        if pair in self._wired:
            return False
        self._wired.add(pair)
        return True

    async def leave(self, participant: Participant) -> None:
        """Remove a participant (left, vanished or refused); the others carry on."""
        if self.participants.get(participant.name) is not participant:
            return
        del self.participants[participant.name]
        self._dropping.discard(participant)
        self._news.pop(participant.name, None)
        self._wired = {pair for pair in self._wired if participant.name not in pair}
        for other in self.participants.values():
            other.stop_receiving(participant.name)
        ad_over = self.ads.over.get(participant.name)
        ad = self.ads.playing.get(participant.name)
        if ad is not None:
            ad.cancel()
        await participant.close()
        if ad_over is not None:  # the others see ad-end before left
            try:
                await asyncio.wait_for(ad_over.wait(), 2.0)
            except TimeoutError:
                log.warning("room %s: %s's ad did not stop within 2 s", self.name, participant.name)
        asyncio.get_running_loop().call_later(RELEASE_AFTER_S, _release, self.name, participant.name)
        if participant.watching:
            return
        await self.broadcast(room_event("left", participant.name))
        await self.recording.update()

    async def set_consent(self, participant: Participant, consent: bool) -> None:
        """Consent given (logged first: Refusal, and nothing changes, if it cannot be) or withdrawn
        (acted on first: a withdrawal stands even when its log row cannot be written)."""
        if consent:
            try:
                await asyncio.to_thread(self.services.store.log_consent, self.name, participant.name, True)
            except Exception as exc:
                log.warning("room %s: the consent log could not be written (%s); consent not taken", self.name, exc)
                raise Refusal(CONSENT_NOT_GIVEN) from exc
            await asyncio.to_thread(participant.pipeline.set_consent, True)
            return
        ad = self.ads.playing.get(participant.name)
        if ad is not None and ad.media.personalised:
            ad.cancel()  # their face leaves the screen at once
        await asyncio.to_thread(participant.pipeline.set_consent, False)
        await in_normal_thread(self.recording.withdrew_consent, participant.name)
        try:
            await asyncio.to_thread(self.services.store.log_consent, self.name, participant.name, False)
        except Exception as exc:
            log.warning("room %s: a withdrawal of consent could not be logged (%s); it stands", self.name, exc)

    async def apply_campaign(self, campaign: Campaign) -> None:
        """A campaign change: every participant's engine and renders follow it, every page hears of it."""
        async with self._joining:
            self._campaign = campaign
            everyone = list(self.participants.values())
            outcomes = await asyncio.gather(
                *(in_normal_thread(p.pipeline.set_campaign, campaign) for p in everyone), return_exceptions=True
            )
            for participant, outcome in zip(everyone, outcomes):
                if isinstance(outcome, BaseException):
                    log.error("room %s: %s could not take the campaign", self.name, participant.name, exc_info=outcome)
        await self.broadcast(campaign_event([r.phrase for r in campaign.live_rules()]))

    async def set_record(self, participant: Participant, agree: bool) -> None:
        """Agreement to recording, given or withdrawn; the room records only while everyone agrees."""
        participant.record_agree = agree
        await self.recording.update(answered=True)

    def _campaign_note(self) -> dict[str, Any]:
        """What a recording's manifest says of the campaign: the phrases that fired and their templates."""
        rules = self.services.store.live_rules()
        return {"phrases": [{"phrase": r.phrase, "template": r.template} for r in rules]}

    async def broadcast(self, event: RoomEvent) -> None:
        self.recording.log(event)
        await self._send_all(list(self.participants.values()), {"type": "event", "event": event})

    async def _send_all(self, participants: list[Participant], message: dict[str, Any]) -> None:
        """One message to each, side by side: a page that does not read holds up no one else, and its
        caller (a join, a trigger) at most PATIENCE_S; the delivery then times out in the background."""
        kind = message.get("event", message).get("type")
        tasks = [self._spawn(self._deliver(p, message), f"{kind} to {p.name}") for p in participants]
        if tasks:
            await asyncio.wait(tasks, timeout=PATIENCE_S)

    async def _deliver(self, participant: Participant, message: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(participant.send(message), SEND_TIMEOUT_S)
        except TimeoutError:
            log.warning(
                "room %s: %s did not take a message within %.1f s; dropped", self.name, participant.name, SEND_TIMEOUT_S
            )
            self._drop(participant)
        except Exception:  # a page that has gone: its own session cleans up
            log.debug("could not deliver a %s message to %s", message.get("type"), participant.name)

    def _drop(self, participant: Participant) -> None:
        """A page that stopped reading: its websocket is closed and it leaves the room (once)."""
        if participant in self._dropping or self.participants.get(participant.name) is not participant:
            return
        self._dropping.add(participant)
        hang_up = getattr(participant, "hang_up", None)
        if callable(hang_up):
            hang_up()
        self._spawn(self.leave(participant), f"dropping {participant.name}")

    def on_speech(
        self,
        participant: Participant,
        event: Event,
        emitted_t: float,
        phrase_end_t: float | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        """From the speech worker's thread: hand the event to the event loop."""
        loop.call_soon_threadsafe(self._speech, participant, event, emitted_t, phrase_end_t)

    def on_face(self, participant: Participant, quality: float | None, loop: asyncio.AbstractEventLoop) -> None:
        """From the face worker's thread: a face is now held for the ad (or no longer)."""
        loop.call_soon_threadsafe(self._face, participant, quality)

    def _face(self, participant: Participant, quality: float | None) -> None:
        if self.participants.get(participant.name) is participant:
            fields = {"ready": quality is not None, "quality": None if quality is None else round(quality, 2)}
            face = self._news.setdefault(participant.name, {})["face"] = room_event("face", participant.name, **fields)
            self._spawn(self.broadcast(face), f"face news of {participant.name}")

    def _speech(self, participant: Participant, event: Event, emitted_t: float, phrase_end_t: float | None) -> None:
        if self.participants.get(participant.name) is not participant:
            return  # a late event from someone who has left
        if isinstance(event, TranscriptEvent):
            fields = dict(
                text=event.text, final=event.final, start_s=round(event.start_s, 3), end_s=round(event.end_s, 3)
            )
            event_out = room_event("transcript", participant.name, t=emitted_t, **fields)
            self._spawn(self.broadcast(event_out), f"transcript of {participant.name}")
        elif isinstance(event, TriggerEvent):
            self._spawn(self.ads.trigger(participant, event, emitted_t, phrase_end_t), f"trigger by {participant.name}")

    def ad_of(self, speaker: str) -> AdBreak | None:
        """The ad break playing in `speaker`'s tile, if any."""
        return self.ads.playing.get(speaker)

    async def idle(self) -> None:
        """Wait until no background task of this room (triggers, ads, broadcasts) is left running."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))
            await asyncio.sleep(0)  # let done-callbacks run and follow-up tasks start

    def _spawn(self, job: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(job, name=f"room {self.name}: {what}")
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("room %s: %s failed", self.name, task.get_name(), exc_info=task.exception())


def _release(room: str, name: str) -> None:
    took = heap.release()
    log.debug("room %s: memory released after %s left (a full collection, %.0f ms)", room, name, took * 1000)
