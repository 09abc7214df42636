"""A watcher (the kiosk page) receives everyone but is no one: no events name it, no one receives
it, it is in no consent log, and it does not stop a recording."""

from __future__ import annotations

import asyncio

from callbridge.web.room import Room
from tests.support.roomfakes import FakeParticipant, consent_log


def watcher(name: str = "watcher-1") -> FakeParticipant:
    screen = FakeParticipant(name)
    screen.watching = True
    return screen


def test_a_watcher_gets_the_news_and_receives_everyone_but_no_one_hears_of_it(room: Room):
    ana, bo, screen = FakeParticipant("ana", consent=True), FakeParticipant("bo"), watcher()

    async def scenario():
        await room.join(ana)
        await room.join(bo)
        await room.join(screen)
        for p in (ana, bo, screen):
            await room.connect(p)
        await room.leave(screen)

    asyncio.run(scenario())
    assert [(e["type"], e["participant"]) for e in screen.events()] == [("joined", "ana"), ("joined", "bo")]
    assert [e["type"] for e in ana.events()] == ["joined", "joined"]  # neither joined nor left of the screen
    assert sorted(n for names in screen.received_from for n in names) == ["ana", "bo"]
    assert all("watcher-1" not in names for names in ana.received_from + bo.received_from)
    assert [row[1] for row in consent_log(room)] == ["ana", "bo"]
    assert screen.closed == 1


def test_the_welcome_lists_people_not_watchers(room: Room):
    ana, screen, bo = FakeParticipant("ana"), watcher(), FakeParticipant("bo")

    async def scenario():
        await room.join(ana)
        await room.join(screen, {"type": "welcome"})
        await room.join(bo, {"type": "welcome"})

    asyncio.run(scenario())
    (welcome,) = [m for m in bo.sent if m["type"] == "welcome"]
    assert welcome["participants"] == ["ana"]


def test_a_watcher_does_not_stop_a_recording(tmp_path):
    from types import SimpleNamespace

    from callbridge.config.store import Store

    room = Room("lobby", SimpleNamespace(store=Store(tmp_path / "data")), tmp_path / "recordings")  # type: ignore[arg-type]
    ana, screen = FakeParticipant("ana"), watcher()

    async def scenario():
        await room.join(ana)
        await room.set_record(ana, True)
        assert room.recording.on
        await room.join(screen)
        assert room.recording.on
        await room.set_record(ana, False)

    asyncio.run(scenario())
    assert [e["on"] for e in screen.events("recording")] == [False]  # it heard the recording stop
