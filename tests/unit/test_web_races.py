"""Races at the web layer: a room emptied while someone joins, a page that stops reading, a consent log
that fails during a join. Each must leave the rest of the room working."""

from __future__ import annotations

import asyncio
import gc
import json
import sqlite3
import time
import weakref

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from callbridge.config.services import Services
from callbridge.web import room as room_module
from callbridge.web import session as session_module
from callbridge.web.outbox import Outbox
from callbridge.web.pipelines import RoomLink
from callbridge.web.relay import Relay
from callbridge.web.room import CONSENT_LOG_FAILED, JoinError, Refusal
from callbridge.web.server import build_app
from tests.support.roomfakes import FakeParticipant, FakePipeline, consent_log


class StalledPage(FakeParticipant):
    """A page that takes its first messages, then stops reading: every send hangs."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.stalled = False
        self.hung_up = 0

    async def send(self, message: dict) -> None:
        if self.stalled:
            await asyncio.Event().wait()
        await super().send(message)

    def hang_up(self) -> None:
        self.hung_up += 1


def test_a_room_emptied_while_someone_joins_stays_one_room(tmp_path, monkeypatch):
    """A socket that closes before joining, while another join builds its pipeline, must not take the room."""
    building = asyncio.Event()
    go_on = asyncio.Event()

    async def slow_pipeline(room, name, consent, passthrough):
        if name == "bo":
            building.set()
            await go_on.wait()
        return FakePipeline(name, consent), RoomLink(room, asyncio.get_running_loop())

    monkeypatch.setattr(session_module, "new_pipeline", slow_pipeline)

    async def receive(ws) -> dict:
        while True:
            msg = await ws.receive(5)
            assert msg.type == WSMsgType.TEXT, msg
            data = json.loads(msg.data)
            if data["type"] != "event":
                return data

    async def scenario():
        relay = Relay(Services(tmp_path), passthrough=True)
        async with TestClient(TestServer(build_app(relay))) as client:
            await relay.loading
            passer_by = await client.ws_connect("/ws/demo")  # opens the room, never joins
            bo = await client.ws_connect("/ws/demo")
            await bo.send_json({"type": "join", "name": "bo"})
            await asyncio.wait_for(building.wait(), 5)
            room = relay.rooms["demo"]
            await passer_by.close()
            await asyncio.sleep(0.2)  # its session is over, and it let go of the room
            go_on.set()
            assert (await receive(bo))["type"] == "welcome"
            assert relay.rooms["demo"] is room and list(room.participants) == ["bo"]
            cy = await client.ws_connect("/ws/demo")
            await cy.send_json({"type": "join", "name": "cy"})
            welcome = await receive(cy)
            assert welcome["participants"] == ["bo"]  # the newcomer finds bo: one room object per name
            await bo.close()
            await cy.close()
            await asyncio.sleep(0.2)
            assert relay.rooms == {}  # and it is forgotten once empty

    asyncio.run(scenario())


def test_holds_on_a_room_keep_it_until_the_last_lets_go(tmp_path):
    relay = Relay(Services(tmp_path), passthrough=True)
    first, second = relay.room("demo"), relay.room("demo")
    assert first is second
    relay.forget_if_empty("demo")
    assert relay.rooms["demo"] is first
    relay.forget_if_empty("demo")
    assert relay.rooms == {}
    relay.forget_if_empty("demo")  # one too many: harmless
    assert relay.room("demo") is not first


def test_a_page_that_stops_reading_holds_up_no_join_and_is_dropped(room, monkeypatch):
    monkeypatch.setattr(room_module, "SEND_TIMEOUT_S", 0.5)
    ana, bo, cy, dan = StalledPage("ana"), FakeParticipant("bo"), FakeParticipant("cy"), FakeParticipant("dan")

    async def scenario():
        await room.join(ana)
        ana.stalled = True
        began = time.monotonic()
        bo_join = asyncio.ensure_future(room.join(bo))
        await asyncio.sleep(0.05)
        await asyncio.wait_for(room.join(cy), 0.45)  # bo's join is waiting on ana, but the lock is free
        cy_took = time.monotonic() - began
        assert ("joined", "bo") in [(e["type"], e["participant"]) for e in cy.events()]
        assert ("joined", "cy") in [(e["type"], e["participant"]) for e in bo.events()]  # others are not held up
        await asyncio.wait_for(bo_join, 2.0)
        await room.idle()
        assert "ana" not in room.participants and ana.hung_up == 1 and ana.closed == 1
        assert bo.events("left")[0]["participant"] == "ana"
        began = time.monotonic()
        await room.join(dan)
        return cy_took, time.monotonic() - began

    cy_took, dan_took = asyncio.run(scenario())
    assert cy_took < 0.45 and dan_took < 0.3  # both well under the 0.5 s a stalled page is given


def test_a_broadcast_reaches_the_others_while_one_page_stalls(room, monkeypatch):
    monkeypatch.setattr(room_module, "SEND_TIMEOUT_S", 0.5)
    ana, bo = StalledPage("ana"), FakeParticipant("bo")

    async def scenario():
        await room.join(ana)
        await room.join(bo)
        ana.stalled = True
        sent = asyncio.ensure_future(room.broadcast({"type": "campaign", "phrases": [], "t": time.time()}))
        await asyncio.wait_for(bo.got("campaign"), 0.1)
        await sent
        await room.idle()
        assert list(room.participants) == ["bo"]

    asyncio.run(scenario())


def test_a_consent_log_that_fails_refuses_the_join_in_the_room(room, monkeypatch):
    ana, bo = FakeParticipant("ana", consent=True), FakeParticipant("bo", consent=True)

    async def scenario():
        await room.join(ana)

        def broken(*args):
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(room.services.store, "log_consent", broken)
        with pytest.raises(JoinError, match="could not record your consent"):
            await room.join(bo, {"type": "welcome"})

    asyncio.run(scenario())
    assert list(room.participants) == ["ana"] and bo.sent == []
    assert [e["participant"] for e in ana.events()] == ["ana"]  # no one heard of bo
    assert consent_log(room) == [("lobby", "ana", 1)]
    assert CONSENT_LOG_FAILED.startswith("the server could not record your consent")


class FakeSocket:
    """The part of a WebSocketResponse the outbox uses; `hang` makes every send hang."""

    def __init__(self, hang: bool = False) -> None:
        self.hang = hang
        self.closed = False
        self.sent: list[str] = []

    async def send_str(self, text: str) -> None:
        if self.hang:
            await asyncio.Event().wait()
        self.sent.append(text)

    async def close(self) -> None:
        self.closed = True


def test_the_outbox_never_waits_and_cuts_a_page_that_does_not_read():
    async def scenario():
        aborted = []
        ws = FakeSocket(hang=True)
        box = Outbox(ws, lambda: aborted.append(1), write_timeout_s=0.2)  # type: ignore[arg-type]
        began = time.monotonic()
        for i in range(10):
            box.put({"n": i})
        assert time.monotonic() - began < 0.05  # putting never waits on the network
        await asyncio.sleep(0.4)
        assert box.stalled and aborted == [1]
        box.put({"n": 11})  # after the cut: dropped, not queued
        await box.close()
        assert aborted == [1]

    asyncio.run(scenario())


@pytest.mark.parametrize("hang", [True, False])
def test_a_closed_outbox_is_freed_even_when_its_writer_was_cut(hang: bool):
    async def scenario() -> None:
        box = Outbox(FakeSocket(hang=hang), lambda: None, write_timeout_s=60)  # type: ignore[arg-type]
        if hang:
            box.put({"n": 1})
        await asyncio.sleep(0.05)  # the writer waits in send_str (hang) or for a message (not)
        box.cut("test")
        await box.close()
        ref = weakref.ref(box)
        del box
        await asyncio.sleep(0.05)
        gc.collect()
        assert ref() is None  # a writer that ended cancelled would keep the box, and the page's socket, for good

    asyncio.run(scenario())


def test_the_outbox_cuts_a_page_whose_queue_overflows_and_keeps_order_otherwise():
    async def scenario():
        aborted = []
        slow = FakeSocket(hang=True)
        box = Outbox(slow, lambda: aborted.append(1), limit=5, write_timeout_s=60)  # type: ignore[arg-type]
        for i in range(7):
            box.put({"n": i})
        assert box.stalled and aborted == [1]
        fine = FakeSocket()
        box = Outbox(fine, lambda: aborted.append(2))  # type: ignore[arg-type]
        for i in range(50):
            box.put({"n": i})
        await box.close()
        assert [json.loads(t)["n"] for t in fine.sent] == list(range(50)) and fine.closed

    asyncio.run(scenario())


def test_consent_that_cannot_be_logged_is_not_taken_but_a_withdrawal_stands(room, monkeypatch):
    ana = FakeParticipant("ana", consent=True)

    def broken(*args):
        raise sqlite3.OperationalError("database or disk is full")

    async def scenario():
        await room.join(ana)
        monkeypatch.setattr(room.services.store, "log_consent", broken)
        await room.set_consent(ana, False)  # acted on although its row cannot be written
        assert ana.consent is False
        with pytest.raises(Refusal, match="your face is not used"):
            await room.set_consent(ana, True)
        assert ana.consent is False

    asyncio.run(scenario())
