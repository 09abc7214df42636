"""The overload guard on an in-process relay (aiohttp test server, fake pipelines, scripted CPU counters):
`GET /api/load` behind the admin token, and a full server refusing joins the way a full room does, while
those in the call stay and watching screens still join."""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from callbridge.config.admin_token import AdminToken
from callbridge.config.services import Services
from callbridge.web import session as session_module
from callbridge.web.limits import SERVER_FULL
from callbridge.web.overload import LoadGuard
from callbridge.web.pipelines import RoomLink
from callbridge.web.relay import Relay
from callbridge.web.server import build_app
from callbridge.workers.load import CpuTimes, Level, LoadPolicy, Throttle
from tests.support.adminapi import AUTH, TOKEN
from tests.support.roomfakes import FakePipeline

FIELDS = {"level", "cpu_busy", "speech_lag_s", "rooms", "participants", "speech_workers", "face_workers"}


@pytest.fixture(autouse=True)
def fake_pipelines(monkeypatch):
    async def new_pipeline(room, name, consent, passthrough):
        return FakePipeline(name, consent), RoomLink(room, asyncio.get_running_loop())

    monkeypatch.setattr(session_module, "new_pipeline", new_pipeline)


class Machine:
    """CPU counters that advance by `busy` of 100 jiffies at each reading."""

    def __init__(self) -> None:
        self.busy, self.seen = 0.0, CpuTimes(0, 0, 0)

    def read(self) -> CpuTimes:
        self.seen = CpuTimes(self.seen.busy + int(self.busy * 100), 0, self.seen.total + 100)
        return self.seen


@asynccontextmanager
async def served(data: Path, machine: Machine) -> AsyncIterator[tuple[TestClient, Relay, LoadGuard]]:
    relay = Relay(Services(data), passthrough=True, token=AdminToken(TOKEN, "environment"))
    policy = LoadPolicy(smooth_s=0.01, calm_s=0.0)  # the readings count at once: the test sets the level
    guard = LoadGuard(
        policy,
        throttle=Throttle(),
        read_cpu=machine.read,
        read_niced=dict,
        read_lag=lambda: 0.0,
        read_own=lambda: None,  # one participant costs the policy's prior: 0.25 of a core, 0.125 of two
        cores=2,
        clock=functools.partial(next, itertools.count(0.0, 0.5)),  # readings half a second apart, as live
    )
    async with TestClient(TestServer(build_app(relay, load=guard))) as client:
        assert relay.loading is not None
        await relay.loading
        yield client, relay, guard


def settle(guard: LoadGuard, machine: Machine, busy: float) -> Level:
    machine.busy = busy
    for _ in range(3):
        guard.sample()
    return guard.level


async def reply(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> dict | str:
    msg = await ws.receive(timeout)
    if msg.type == WSMsgType.TEXT:
        return json.loads(msg.data)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING), msg
    return "closed"


async def join(client: TestClient, room: str = "demo", **fields) -> tuple[aiohttp.ClientWebSocketResponse, dict | str]:
    ws = await client.ws_connect(f"/ws/{room}")
    await ws.send_json({"type": "join", **fields})
    got = await reply(ws)
    while isinstance(got, dict) and got["type"] == "event":
        got = await reply(ws)
    return ws, got


def test_the_load_endpoint_needs_the_token_and_reports_the_level_and_what_the_relay_holds(tmp_path):
    async def scenario():
        machine = Machine()
        async with served(tmp_path, machine) as (client, relay, guard):
            async with client.get("/api/load") as r:
                assert r.status == 401
            async with client.get("/api/load", headers={"Authorization": "Bearer wrong"}) as r:
                assert r.status == 401
            ana, welcome = await join(client, name="ana")
            assert isinstance(welcome, dict) and welcome["type"] == "welcome"
            settle(guard, machine, 0.7)
            async with client.get("/api/load", headers=AUTH) as r:
                assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
                body = await r.json()
            await ana.close()
            return body

    body = asyncio.run(scenario())
    assert FIELDS <= set(body)
    assert body["level"] == "busy" and body["cpu_busy"] == pytest.approx(0.7, abs=0.01) and body["guard"] is True
    assert body["participant_share"] == 0.125 and body["room_for_one_more"] is False  # 0.7 + 0.125 >= 0.75
    assert (body["rooms"], body["participants"]) == (1, 1)
    assert body["speech_lag_s"] == 0.0 and isinstance(body["speech_workers"], int)


def test_a_full_server_refuses_a_join_tells_the_room_and_drops_no_one(tmp_path):
    async def scenario():
        machine = Machine()
        async with served(tmp_path, machine) as (client, relay, guard):
            ana, welcome = await join(client, name="ana", consent=True)
            assert isinstance(welcome, dict) and welcome["type"] == "welcome"
            assert settle(guard, machine, 1.0) is Level.FULL
            di, welcome = await join(client, name="di")  # the first call's two people are always let in
            assert isinstance(welcome, dict) and welcome["type"] == "welcome"
            bo, refusal = await join(client, name="bo")
            assert refusal == {"type": "error", "message": SERVER_FULL}
            assert await reply(bo) == "closed" and bo.close_code == 1000
            events: list[dict] = []
            while not any(e.get("type") == "refused" for e in events):
                told = await reply(ana)
                assert isinstance(told, dict)
                events.append(told.get("event", {}))
            assert events[-1]["reason"] == SERVER_FULL and "participant" not in events[-1]
            kiosk, screen = await join(client, watch=True)  # a watching screen adds no speech or face work
            assert isinstance(screen, dict) and screen["type"] == "welcome"
            await ana.send_json({"type": "consent", "consent": False})  # ana's session goes on
            await asyncio.sleep(0.2)
            assert list(relay.rooms["demo"].people) == ["ana", "di"] and not ana.closed
            assert relay.rooms["demo"].people["ana"].consent is False
            assert settle(guard, machine, 0.1) is Level.NORMAL
            cy, welcome = await join(client, name="cy")
            assert isinstance(welcome, dict) and welcome["type"] == "welcome"
            for ws in (ana, di, kiosk, cy):
                await ws.close()

    asyncio.run(scenario())


def test_a_join_that_would_fill_the_machine_is_refused_before_the_level_is_full(tmp_path):
    async def scenario():
        machine = Machine()
        async with served(tmp_path, machine) as (client, relay, guard):
            assert settle(guard, machine, 0.7) is Level.BUSY  # not full, but 0.7 + one person's 0.125 would be
            first_call = [await join(client, name=name) for name in ("ana", "bo")]  # always let in
            assert all(isinstance(w, dict) and w["type"] == "welcome" for _, w in first_call)
            cy, refusal = await join(client, name="cy")
            assert refusal == {"type": "error", "message": SERVER_FULL}
            assert settle(guard, machine, 0.6) is Level.BUSY
            assert not guard.room_for_one_more()  # ana and bo are new: their load is not in the reading yet
            for _ in range(8):  # 12 s of readings at 0.6 with them in it
                settle(guard, machine, 0.6)
            assert guard.room_for_one_more()  # 0.6 + 0.125 leaves room for one more
            di, welcome = await join(client, name="di")
            assert isinstance(welcome, dict) and welcome["type"] == "welcome"
            for ws in (di, *(ws for ws, _ in first_call)):
                await ws.close()

    asyncio.run(scenario())


def test_a_call_is_let_in_whole_the_first_into_an_empty_room_counting_for_two(tmp_path):
    async def scenario():
        machine = Machine()
        async with served(tmp_path, machine) as (client, relay, guard):
            first_call = [await join(client, name=name) for name in ("ana", "bo")]
            for _ in range(8):  # 12 s of readings with them in it
                settle(guard, machine, 0.55)
            assert guard.room_for_one_more() and not guard.room_for(2)  # 0.55 + 0.125 < 0.75 <= 0.55 + 0.25
            cy, refusal = await join(client, room="two", name="cy")  # nobody waits alone for a refused partner
            assert refusal == {"type": "error", "message": SERVER_FULL}
            for _ in range(8):
                settle(guard, machine, 0.45)
            cy, welcome = await join(client, room="two", name="cy")  # 0.45 + 2 x 0.125
            assert isinstance(welcome, dict) and welcome["type"] == "welcome"
            assert settle(guard, machine, 0.6) is Level.NORMAL and not guard.room_for_one_more()
            di, welcome = await join(client, room="two", name="di")  # cy's partner: their seat was kept
            assert isinstance(welcome, dict) and welcome["type"] == "welcome"
            ed, refusal = await join(client, room="two", name="ed")  # a third in the room is one more
            assert refusal == {"type": "error", "message": SERVER_FULL}
            for _ in range(8):
                settle(guard, machine, 0.3)
            fay, welcome = await join(client, room="three", name="fay")  # a partner waits for a seat kept ...
            assert isinstance(welcome, dict) and welcome["type"] == "welcome"
            assert settle(guard, machine, 1.0) is Level.FULL
            gus, refusal = await join(client, room="three", name="gus")  # ... but not while it is
            assert refusal == {"type": "error", "message": SERVER_FULL}
            for ws in (cy, di, fay, *(ws for ws, _ in first_call)):
                await ws.close()

    asyncio.run(scenario())
