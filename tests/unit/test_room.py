"""Room membership between fake participants and a real Store: joins, connects, leaves, consent."""

from __future__ import annotations

import asyncio
import logging

import pytest

from callbridge.web.events import EVENT_TYPES, room_event
from callbridge.web.participant import NegotiationError
from callbridge.web.room import JoinError
from tests.support.roomfakes import FakeParticipant, PageGone, assert_event, consent_log


def test_join_replays_earlier_joins_to_the_newcomer_and_broadcasts_its_own(room):
    ana, bo, cy = FakeParticipant("ana", consent=True), FakeParticipant("bo"), FakeParticipant("cy")

    async def scenario():
        for p in (ana, bo, cy):
            await room.join(p)

    asyncio.run(scenario())
    assert list(room.participants) == ["ana", "bo", "cy"]
    assert [(e["type"], e["participant"]) for e in ana.events()] == [
        ("joined", "ana"),
        ("joined", "bo"),
        ("joined", "cy"),
    ]
    assert [(e["type"], e["participant"]) for e in bo.events()] == [
        ("joined", "ana"),
        ("joined", "bo"),
        ("joined", "cy"),
    ]
    assert [(e["type"], e["participant"]) for e in cy.events()] == [
        ("joined", "ana"),
        ("joined", "bo"),
        ("joined", "cy"),
    ]
    assert cy.events()[0] is ana.events()[0]  # replayed as it was first sent, with its own time
    for event in ana.events():
        assert_event(event, "joined", event["participant"])
    assert ana.events()[0]["consent"] is True and ana.events()[1]["consent"] is False
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


def test_two_pages_answering_together_receive_each_other_once(room):
    ana, bo = FakeParticipant("ana"), FakeParticipant("bo")

    async def scenario():
        for p in (ana, bo):
            await room.join(p)  # both connected before either connect runs
        await asyncio.gather(room.connect(ana), room.connect(bo))

    asyncio.run(scenario())
    assert ana.received_from == [["bo"]] and bo.received_from == [["ana"]]


def test_a_rejoined_participant_is_wired_again(room):
    ana, bo, bo_again = FakeParticipant("ana"), FakeParticipant("bo"), FakeParticipant("bo")

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        await room.connect(bo)
        await room.leave(bo)
        await room.join(bo_again)
        await room.connect(bo_again)

    asyncio.run(scenario())
    assert ana.received_from == [["bo"], ["bo"]] and bo_again.received_from == [["ana"]]


def test_a_newcomer_whose_media_never_comes_up_is_not_wired(room):
    ana, bo = FakeParticipant("ana"), FakeParticipant("bo", connected=False)

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        await room.connect(bo)

    asyncio.run(scenario())
    assert ana.received_from == [] and bo.received_from == []


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
    caplog.set_level(logging.INFO, logger="callbridge.web.room")
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
