"""Room logic between fake participants (recording what they are sent and asked) and a real Store."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import time
from types import SimpleNamespace

import numpy as np
import pytest

from callbridge.adbreak import AdMedia
from callbridge.injector import Program
from callbridge.participant import NegotiationError
from callbridge.room import JoinError, Room
from callbridge.roomevents import EVENT_TYPES, room_event
from callbridge.store import Store
from triggers.events import TranscriptEvent, TriggerEvent


class FakePipeline:
    def __init__(self, consent: bool, media: AdMedia | None = None) -> None:
        self.consent = consent
        self.media = media
        self.asked: list[str] = []

    def set_consent(self, consent: bool) -> None:
        self.consent = consent

    def ad_media(self, template: str) -> AdMedia | None:
        self.asked.append(template)
        return self.media


class FakeParticipant:
    """What Room uses of a Participant, recording every call."""

    def __init__(self, name: str, consent: bool = False, connected: bool = True, media: AdMedia | None = None) -> None:
        self.name = name
        self.pipeline = FakePipeline(consent, media)
        self.connected = connected
        self.joined_event: dict | None = None
        self.face_event: dict | None = None
        self.video, self.audio = Program("video"), Program("audio")
        self.ad = None
        self.sent: list[dict] = []
        self.stopped: list[str] = []
        self.received_from: list[list[str]] = []
        self.closed = 0
        self.fail_receive: Exception | None = None

    @property
    def consent(self) -> bool:
        return self.pipeline.consent

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    def stop_receiving(self, name: str) -> None:
        self.stopped.append(name)

    async def receive_from(self, others: list) -> None:
        self.received_from.append([o.name for o in others])
        if self.fail_receive is not None:
            raise self.fail_receive

    async def close(self) -> None:
        self.closed += 1
        if self.ad is not None:  # as Participant.close does
            self.ad.cancel()

    def events(self, kind: str | None = None) -> list[dict]:
        assert all(m["type"] == "event" for m in self.sent)
        return [m["event"] for m in self.sent if kind is None or m["event"]["type"] == kind]


class PageGone(FakeParticipant):
    async def send(self, message: dict) -> None:
        raise ConnectionResetError("the page has gone")


@pytest.fixture
def room(tmp_path):
    return Room("lobby", SimpleNamespace(store=Store(tmp_path)))


def consent_log(room: Room) -> list[tuple]:
    with sqlite3.connect(room.services.store.path) as db:
        return db.execute("SELECT room, participant, consent FROM consent_log ORDER BY rowid").fetchall()


def assert_event(event: dict, kind: str, participant: str) -> None:
    assert event["type"] == kind and event["participant"] == participant
    assert isinstance(event["t"], float) and abs(event["t"] - time.time()) < 60


def test_join_replays_earlier_joins_to_the_newcomer_and_broadcasts_its_own(room):
    ana, bo, cy = FakeParticipant("ana", consent=True), FakeParticipant("bo"), FakeParticipant("cy")

    async def scenario():
        for p in (ana, bo, cy):
            await room.join(p)

    asyncio.run(scenario())
    assert list(room.participants) == ["ana", "bo", "cy"]
    assert [(e["type"], e["participant"]) for e in ana.events()] == [("joined", "ana"), ("joined", "bo"), ("joined", "cy")]
    assert [(e["type"], e["participant"]) for e in bo.events()] == [("joined", "ana"), ("joined", "bo"), ("joined", "cy")]
    assert [(e["type"], e["participant"]) for e in cy.events()] == [("joined", "ana"), ("joined", "bo"), ("joined", "cy")]
    assert cy.events()[0] is ana.joined_event  # replayed as it was first sent, with its own time
    for event in ana.events():
        assert_event(event, "joined", event["participant"])
    assert ana.joined_event["consent"] is True and bo.joined_event["consent"] is False
    assert consent_log(room) == [("lobby", "ana", 1), ("lobby", "bo", 0), ("lobby", "cy", 0)]


def test_a_duplicate_name_is_refused_and_changes_nothing(room):
    ana, impostor = FakeParticipant("ana"), FakeParticipant("ana")

    async def scenario():
        await room.join(ana)
        with pytest.raises(JoinError, match="'ana' is already taken"):
            await room.join(impostor)

    asyncio.run(scenario())
    assert room.participants == {"ana": ana}
    assert impostor.sent == [] and len(ana.events()) == 1
    assert len(consent_log(room)) == 1
    with pytest.raises(JoinError):
        room.check_name("ana")
    room.check_name("bo")  # free


def test_the_welcome_comes_first_and_names_who_is_already_there(room):
    ana, bo = FakeParticipant("ana"), FakeParticipant("bo")
    welcome = {"type": "welcome", "room": "lobby", "participant": "bo", "phrases": []}

    async def scenario():
        await room.join(ana, {**welcome, "participant": "ana"})
        await room.join(bo, welcome)

    asyncio.run(scenario())
    assert ana.sent[0] == {"type": "welcome", "room": "lobby", "participant": "ana", "phrases": [], "participants": []}
    assert bo.sent[0] == {**welcome, "participants": ["ana"]}
    assert [m["type"] for m in bo.sent] == ["welcome", "event", "event"]
    assert "participants" not in welcome  # the caller's dict is not changed


def test_concurrent_joins_deliver_each_joined_event_once(room):
    ana, bo = FakeParticipant("ana"), FakeParticipant("bo")

    async def scenario():
        await asyncio.gather(room.join(ana), room.join(bo))

    asyncio.run(scenario())
    for p in (ana, bo):
        assert sorted(e["participant"] for e in p.events("joined")) == ["ana", "bo"], p.name


def test_connect_makes_everyone_receive_everyone(room):
    ana, bo, cy = FakeParticipant("ana"), FakeParticipant("bo"), FakeParticipant("cy", connected=False)
    dan = FakeParticipant("dan")

    async def scenario():
        for p in (ana, bo, cy, dan):
            await room.join(p)
        await room.connect(dan)

    asyncio.run(scenario())
    assert dan.received_from == [["ana", "bo"]]  # not cy: not connected yet
    assert ana.received_from == [["dan"]] and bo.received_from == [["dan"]]
    assert cy.received_from == []


def test_connecting_alone_renegotiates_nothing(room):
    ana = FakeParticipant("ana")

    async def scenario():
        await room.join(ana)
        await room.connect(ana)

    asyncio.run(scenario())
    assert ana.received_from == []


def test_one_failed_renegotiation_does_not_stop_the_others(room, caplog):
    ana, bo, cy = FakeParticipant("ana"), FakeParticipant("bo"), FakeParticipant("cy")
    bo.fail_receive = NegotiationError("bo did not answer the offer within 10 s")
    ana.fail_receive = RuntimeError("boom")

    async def scenario():
        for p in (ana, bo, cy):
            await room.join(p)
        await room.connect(cy)

    asyncio.run(scenario())
    assert cy.received_from == [["ana", "bo"]] and ana.received_from == [["cy"]] and bo.received_from == [["cy"]]
    messages = [r.getMessage() for r in caplog.records]
    assert "room lobby: bo did not answer the offer within 10 s" in messages
    assert "room lobby: renegotiation for ana failed" in messages


def test_a_receiver_who_left_during_the_renegotiation_is_not_an_error(room, caplog):
    caplog.set_level(logging.INFO, logger="callbridge.room")
    ana, bo = FakeParticipant("ana"), FakeParticipant("bo")

    async def leave_then_fail(others):
        await room.leave(ana)
        raise ConnectionError("peer connection closed")

    ana.receive_from = leave_then_fail

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        await room.connect(bo)

    asyncio.run(scenario())
    assert "room lobby: ana left during a renegotiation" in [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_leave_removes_stops_closes_and_broadcasts_once(room):
    ana, bo, cy = FakeParticipant("ana"), FakeParticipant("bo"), FakeParticipant("cy")

    async def scenario():
        for p in (ana, bo, cy):
            await room.join(p)
        await room.leave(bo)
        await room.leave(bo)  # idempotent

    asyncio.run(scenario())
    assert list(room.participants) == ["ana", "cy"]
    assert ana.stopped == ["bo"] and cy.stopped == ["bo"] and bo.stopped == []
    assert bo.closed == 1
    for p in (ana, cy):
        (left,) = p.events("left")
        assert_event(left, "left", "bo")
    assert bo.events("left") == []  # the one who left is not told


def test_leave_of_a_refused_namesake_leaves_the_original_alone(room):
    ana, impostor = FakeParticipant("ana"), FakeParticipant("ana")

    async def scenario():
        await room.join(ana)
        await room.leave(impostor)

    asyncio.run(scenario())
    assert room.participants == {"ana": ana} and impostor.closed == 0 and ana.events("left") == []


def test_a_gone_page_does_not_stop_a_broadcast(room):
    ana, ghost, cy = FakeParticipant("ana"), PageGone("ghost"), FakeParticipant("cy")

    async def scenario():
        for p in (ana, ghost, cy):
            await room.join(p)
        await room.broadcast(room_event("left", "zed"))

    asyncio.run(scenario())
    assert [e["participant"] for e in cy.events("left")] == ["zed"]
    assert [e["participant"] for e in ana.events("left")] == ["zed"]


def test_set_consent_reaches_the_pipeline_and_the_log(room):
    ana = FakeParticipant("ana")

    async def scenario():
        await room.join(ana)
        await room.set_consent(ana, True)

    asyncio.run(scenario())
    assert ana.consent is True
    assert consent_log(room) == [("lobby", "ana", 0), ("lobby", "ana", 1)]


def test_room_events_carry_type_participant_and_a_rounded_time():
    assert room_event("left", "ana", t=12.345678) == {"type": "left", "participant": "ana", "t": 12.3457}
    event = room_event("trigger", "ana", phrase="dinner tonight")
    assert_event(event, "trigger", "ana") and event["phrase"] == "dinner tonight"
    assert set(EVENT_TYPES) == {"joined", "left", "transcript", "trigger", "ad-start", "ad-end", "face"}
    with pytest.raises(ValueError, match="unknown event type"):
        room_event("shout", "ana")


async def settle(room: Room, timeout: float = 5.0) -> None:
    """Wait for the room's background jobs (broadcasts, ad breaks) to finish."""
    deadline = time.monotonic() + timeout
    await asyncio.sleep(0)
    while room._ads:
        assert time.monotonic() < deadline, "room jobs still running"
        await asyncio.sleep(0.01)


def test_speech_events_are_broadcast_on_the_loop(room):
    ana, bo = FakeParticipant("ana"), FakeParticipant("bo")

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        loop = asyncio.get_running_loop()
        transcript = TranscriptEvent("ana", "shall we have dinner", 1.23456, 2.5, False)
        await asyncio.to_thread(room.on_speech, ana, transcript, 1000.0, None, loop)  # from a worker thread
        trigger = TriggerEvent("ana", "see you soon", "see you soon", 3.0, 3.4, 0.87654)
        room.on_speech(ana, trigger, 1001.0, 1000.6, loop)
        await settle(room)

    asyncio.run(scenario())
    (transcript,) = bo.events("transcript")
    assert transcript == {
        "type": "transcript", "participant": "ana", "t": 1000.0,
        "text": "shall we have dinner", "final": False, "start_s": 1.235, "end_s": 2.5,
    }  # fmt: skip
    (trigger,) = bo.events("trigger")
    assert trigger["t"] == 1001.0 and trigger["phrase_end_t"] == 1000.6 and trigger["confidence"] == 0.877
    assert ana.pipeline.asked == []  # no template for that phrase: no ad


def test_speech_from_someone_who_left_is_dropped(room):
    ana, bo = FakeParticipant("ana"), FakeParticipant("bo")

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        await room.leave(ana)
        room.on_speech(ana, TranscriptEvent("ana", "late", 0.0, 1.0, True), 1.0, None, asyncio.get_running_loop())
        await settle(room)

    asyncio.run(scenario())
    assert bo.events("transcript") == []


def test_a_trigger_with_no_ad_to_play_is_only_announced(room):
    ana, bo = FakeParticipant("ana", media=None), FakeParticipant("bo")

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        trigger = TriggerEvent("ana", "dinner tonight", "dinner tonight", 3.0, 3.4, 0.9)
        room.on_speech(ana, trigger, time.time(), None, asyncio.get_running_loop())
        await settle(room)

    asyncio.run(scenario())
    assert ana.pipeline.asked == ["default"]
    (trigger,) = bo.events("trigger")
    assert trigger["phrase_end_t"] == trigger["t"]  # no receive time: the emission time
    assert bo.events("ad-start") == [] and ana.ad is None


def test_a_trigger_plays_the_speakers_ad_and_logs_it(room):
    frame = np.full((24, 32, 3), 120, np.uint8)
    media = AdMedia("default", itertools.repeat(frame), 10.0, 15, None, None, True, "Forkful", "dinner, sorted")
    ana, bo = FakeParticipant("ana", media=media), FakeParticipant("bo")
    seen_during: list = []

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        trigger = TriggerEvent("ana", "dinner tonight", "dinner tonight", 3.0, 3.4, 0.9)
        room.on_speech(ana, trigger, time.time(), None, asyncio.get_running_loop())
        while not bo.events("ad-start"):
            await asyncio.sleep(0.01)
        seen_during.append(ana.ad)
        room.on_speech(ana, trigger, time.time(), None, asyncio.get_running_loop())  # said again during the ad
        await settle(room)

    asyncio.run(scenario())
    assert seen_during[0] is not None and ana.ad is None
    assert ana.pipeline.asked == ["default"]  # the repeat during the ad is ignored
    assert len(bo.events("trigger")) == 2
    (start,) = bo.events("ad-start")
    (end,) = bo.events("ad-end")
    assert start["participant"] == "ana" and start["template"] == "default" and start["personalised"] is True
    assert start["duration_s"] == 1.5 and start["title"] == "Forkful" and start["tagline"] == "dinner, sorted"
    assert end["template"] == "default" and 1.2 < end["t"] - start["t"] < 2.0
    with sqlite3.connect(room.services.store.path) as db:
        (row,) = db.execute("SELECT room, participant, template, phrase, personalised, t_start, t_end FROM ad_plays").fetchall()
    assert row[:5] == ("lobby", "ana", "default", "dinner tonight", 1)
    assert row[5] == pytest.approx(start["t"], abs=1e-3) and row[6] == pytest.approx(end["t"], abs=1e-3)


def test_leaving_mid_ad_sends_ad_end_then_left(room):
    frame = np.full((24, 32, 3), 120, np.uint8)
    media = AdMedia("default", itertools.repeat(frame), 10.0, 15, None, None, False)
    ana, bo = FakeParticipant("ana", media=media), FakeParticipant("bo")

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        trigger = TriggerEvent("ana", "dinner tonight", "dinner tonight", 3.0, 3.4, 0.9)
        room.on_speech(ana, trigger, time.time(), None, asyncio.get_running_loop())
        while not bo.events("ad-start"):
            await asyncio.sleep(0.01)
        began = time.monotonic()
        await room.leave(ana)
        await settle(room)
        return time.monotonic() - began

    took = asyncio.run(scenario())
    assert took < 0.5  # cut short
    assert [e["type"] for e in bo.events() if e["type"] in ("ad-start", "ad-end", "left")] == ["ad-start", "ad-end", "left"]
