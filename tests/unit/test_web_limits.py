"""Caps, rate limits, the room key and the allow-lists on an in-process relay (aiohttp test server, fake pipelines).

Each refusal must be an `error` message and a clean close, never a silent drop.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from callbridge.config.services import Services
from callbridge.web import session as session_module
from callbridge.web.access import KEY_NEEDED, Access
from callbridge.web.limits import (
    JOIN_LATE,
    SERVER_FULL,
    TOO_MANY_CONSENT,
    TOO_MANY_JOINS,
    TOO_MANY_MESSAGES,
    Limits,
)
from callbridge.web.pipelines import RoomLink
from callbridge.web.ratelimit import Rate
from callbridge.web.relay import Relay
from callbridge.web.room import CONSENT_LOG_FAILED
from callbridge.web.server import build_app
from tests.support.roomfakes import FakePipeline

PIPELINES: list[FakePipeline] = []


@pytest.fixture(autouse=True)
def fake_pipelines(monkeypatch):
    """Pipelines with no workers, remembered so that tests can see they were closed."""
    PIPELINES.clear()

    async def new_pipeline(room, name, consent, passthrough):
        pipeline = FakePipeline(name, consent)
        PIPELINES.append(pipeline)
        return pipeline, RoomLink(room, asyncio.get_running_loop())

    monkeypatch.setattr(session_module, "new_pipeline", new_pipeline)


@asynccontextmanager
async def served(data: Path, access: Access | None = None, **limits) -> AsyncIterator[tuple[TestClient, Relay]]:
    relay = Relay(Services(data), passthrough=True, limits=Limits(**limits))
    async with TestClient(TestServer(build_app(relay, access=access))) as client:
        assert relay.loading is not None
        await relay.loading
        yield client, relay


async def reply(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> dict | str:
    """The next message as a dict, or "closed" once the server has closed the socket."""
    msg = await ws.receive(timeout)
    if msg.type == WSMsgType.TEXT:
        return json.loads(msg.data)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING), msg
    return "closed"


async def answer(ws: aiohttp.ClientWebSocketResponse) -> dict | str:
    """The next reply that is not a room event."""
    got = await reply(ws)
    while isinstance(got, dict) and got["type"] == "event":
        got = await reply(ws)
    return got


async def join(
    client: TestClient, name: str, room: str = "demo", **fields
) -> tuple[aiohttp.ClientWebSocketResponse, dict]:
    ws = await client.ws_connect(f"/ws/{room}")
    await ws.send_json({"type": "join", "name": name, **fields})
    first = await reply(ws)
    assert isinstance(first, dict)
    return ws, first


async def refused(ws: aiohttp.ClientWebSocketResponse, message: str) -> None:
    """An error saying `message`, then a clean close (close code 1000)."""
    got = await reply(ws)
    while isinstance(got, dict) and got["type"] == "event":
        got = await reply(ws)
    assert got == {"type": "error", "message": message}
    assert await reply(ws) == "closed"
    assert ws.close_code == 1000


def test_a_full_room_refuses_the_next_person_and_tells_the_others(tmp_path):
    async def scenario():
        async with served(tmp_path, max_per_room=2) as (client, relay):
            ana, welcome = await join(client, "ana")
            assert welcome["type"] == "welcome"
            bo, _ = await join(client, "bo")
            cy = await client.ws_connect("/ws/demo")
            await cy.send_json({"type": "join", "name": "cy"})
            await refused(cy, "this room is full (2 people)")
            events = []
            while not any(e.get("type") == "refused" for e in events):
                got = await reply(ana)
                assert isinstance(got, dict)
                events.append(got.get("event", {}))
            assert events[-1]["reason"] == "this room is full (2 people)" and "participant" not in events[-1]
            kiosk = await client.ws_connect("/ws/demo")  # a watching screen takes no place
            await kiosk.send_json({"type": "join", "watch": True})
            assert (await reply(kiosk))["type"] == "welcome"
            assert sorted(relay.rooms["demo"].people) == ["ana", "bo"]
            assert [p.name for p in PIPELINES] == ["ana", "bo"]  # the refused join built nothing
            for ws in (ana, bo, kiosk):
                await ws.close()

    asyncio.run(scenario())


def test_a_server_at_its_room_cap_refuses_a_new_room_but_not_an_open_one(tmp_path):
    async def scenario():
        async with served(tmp_path, max_rooms=2) as (client, relay):
            one = await client.ws_connect("/ws/one")
            two = await client.ws_connect("/ws/two")
            await asyncio.sleep(0.1)
            three = await client.ws_connect("/ws/three")
            await refused(three, SERVER_FULL)
            again = await client.ws_connect("/ws/one")
            await again.send_json({"type": "join", "name": "ana"})
            assert (await reply(again))["type"] == "welcome"
            await one.close()
            await two.close()
            await asyncio.sleep(0.1)
            assert list(relay.rooms) == ["one"]  # "two" is forgotten once its socket has gone
            await again.close()

    asyncio.run(scenario())


def test_sockets_per_address_are_capped(tmp_path):
    async def scenario():
        async with served(tmp_path, max_sockets=3) as (client, _):
            open_ = [await client.ws_connect("/ws/demo") for _ in range(3)]
            fourth = await client.ws_connect("/ws/demo")
            await refused(fourth, "too many connections from your address (3 at most); close another tab and try again")
            await open_[0].close()
            await asyncio.sleep(0.1)
            fifth = await client.ws_connect("/ws/demo")
            await fifth.send_json({"type": "join", "name": "ana"})
            assert (await reply(fifth))["type"] == "welcome"
            for ws in [*open_[1:], fifth]:
                await ws.close()

    asyncio.run(scenario())


def test_a_socket_that_does_not_join_in_time_is_told_and_closed(tmp_path):
    async def scenario():
        async with served(tmp_path, join_deadline_s=0.5) as (client, relay):
            idle = await client.ws_connect("/ws/demo")
            chatty = await client.ws_connect("/ws/demo")
            await chatty.send_str("not json")  # messages other than a join do not keep it open
            assert (await reply(chatty))["type"] == "error"
            ana, _ = await join(client, "ana")
            await asyncio.sleep(0.8)
            await refused(idle, JOIN_LATE.format(s=0.5))
            await refused(chatty, JOIN_LATE.format(s=0.5))
            await ana.send_json({"type": "consent", "consent": True})  # a joined socket has no deadline
            assert not ana.closed
            assert list(relay.rooms["demo"].participants) == ["ana"]
            await ana.close()

    asyncio.run(scenario())


def test_joins_per_address_are_rate_limited(tmp_path):
    async def scenario():
        async with served(tmp_path, joins=Rate(burst=2, per_s=0.01)) as (client, _):
            first, _ = await join(client, "ana")
            second, _ = await join(client, "bo")
            third = await client.ws_connect("/ws/demo")
            await third.send_json({"type": "join", "name": "cy"})
            await refused(third, TOO_MANY_JOINS)
            for ws in (first, second):
                await ws.close()

    asyncio.run(scenario())


def test_consent_changes_are_rate_limited_and_the_session_goes_on(tmp_path):
    async def scenario():
        async with served(tmp_path, consent=Rate(burst=3, per_s=0.01)) as (client, relay):
            ws, _ = await join(client, "ana")
            for i in range(20):
                await ws.send_json({"type": "consent", "consent": i % 2 == 0})
            errors = []
            while len(errors) < 17:
                got = await reply(ws)
                assert isinstance(got, dict)
                if got["type"] == "error":
                    errors.append(got["message"])
            assert set(errors) == {TOO_MANY_CONSENT}
            await ws.send_json({"type": "dance"})  # still in session
            assert "unknown message type" in (await answer(ws))["message"]
            with sqlite3.connect(relay.services.store.path) as db:
                rows = db.execute("SELECT consent FROM consent_log WHERE participant = 'ana'").fetchall()
            assert len(rows) == 1 + 3  # the join, then three changes
            await ws.close()

    asyncio.run(scenario())


def test_a_flood_of_messages_is_closed_cleanly(tmp_path):
    async def scenario():
        async with served(tmp_path, messages=Rate(burst=20, per_s=1)) as (client, relay):
            ws = await client.ws_connect("/ws/demo")
            for _ in range(200):
                if ws.closed:
                    break
                await ws.send_str('{"type":"dance"}')
            messages = []
            while (got := await reply(ws)) != "closed":
                assert isinstance(got, dict)
                messages.append(got["message"])
            assert len(messages) == 21 and messages[-1] == TOO_MANY_MESSAGES
            assert ws.close_code == 1000
            await asyncio.sleep(0.1)
            assert relay.rooms == {}

    asyncio.run(scenario())


def test_a_room_with_a_key_admits_only_the_right_key(tmp_path):
    access = Access.for_bind("0.0.0.0", room_key="s3cret-key-1234", names={"gallery"})

    async def scenario():
        async with served(tmp_path, access=access) as (client, relay):
            for url in ("/ws/demo", "/ws/demo?key=wrong", "/ws/demo?key=s3cret-key-123", "/ws/demo?key=%C3%A9"):
                ws = await client.ws_connect(url)
                await refused(ws, KEY_NEEDED)
            ws = await client.ws_connect("/ws/demo?key=s3cret-key-1234")
            await ws.send_json({"type": "join", "name": "ana"})
            assert (await reply(ws))["type"] == "welcome"
            await ws.close()

    asyncio.run(scenario())


def test_foreign_hosts_and_origins_get_403(tmp_path):
    async def scenario():
        async with served(tmp_path) as (client, _):
            own = f"http://127.0.0.1:{client.port}"
            assert (await client.get("/healthz")).status == 200
            assert (await client.get("/healthz", headers={"Host": "evil.example"})).status == 403
            assert (
                await client.get("/room/demo", headers={"Host": f"rebind.evil.example:{client.port}"})
            ).status == 403
            assert (await client.get("/healthz", headers={"Host": f"localhost:{client.port}"})).status == 200
            api = await client.get("/api/campaign", headers={"Origin": "http://evil.example"})
            assert api.status == 403 and "origin" in (await api.json())["error"]
            assert (await client.get("/api/campaign", headers={"Origin": own})).status == 200
            assert (await client.get("/api/campaign", headers={"Origin": "null"})).status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError) as bad:
                await client.ws_connect("/ws/demo", origin="http://evil.example")
            assert bad.value.status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError):  # same host, another port: another origin
                await client.ws_connect("/ws/demo", origin="http://127.0.0.1:1")
            ws = await client.ws_connect("/ws/demo", origin=own)
            await ws.send_json({"type": "join", "name": "ana"})
            assert (await reply(ws))["type"] == "welcome"
            await ws.close()

    asyncio.run(scenario())


def test_an_allowed_origin_passes(tmp_path):
    access = Access.for_bind("127.0.0.1", allow_origins=["https://gallery.example.org"])

    async def scenario():
        async with served(tmp_path, access=access) as (client, _):
            ws = await client.ws_connect("/ws/demo", origin="https://gallery.example.org")
            await ws.send_json({"type": "join", "name": "ana"})
            assert (await reply(ws))["type"] == "welcome"
            await ws.close()
            proxied = await client.get("/healthz", headers={"Host": "gallery.example.org"})
            assert proxied.status == 200  # the allowed origin's host is one the server answers to

    asyncio.run(scenario())


@pytest.mark.parametrize("path", ["/room/demo%0A", "/ws/demo%0A", "/room/demo%0a%0a", "/kiosk/demo%0A", "/ws/DEMO"])
def test_room_names_are_matched_in_full(tmp_path, path):
    async def scenario():
        async with served(tmp_path) as (client, relay):
            response = await client.get(path)
            assert response.status == 404
            assert relay.rooms == {}

    asyncio.run(scenario())


def test_a_consent_log_that_cannot_be_written_refuses_the_join_and_leaks_nothing(tmp_path, monkeypatch):
    async def scenario():
        async with served(tmp_path) as (client, relay):
            store = relay.services.store

            def broken(*args):
                raise sqlite3.OperationalError("database or disk is full")

            monkeypatch.setattr(store, "log_consent", broken)
            ws = await client.ws_connect("/ws/demo")
            await ws.send_json({"type": "join", "name": "ana", "consent": True})
            await refused(ws, CONSENT_LOG_FAILED)
            await asyncio.sleep(0.1)
            assert relay.rooms == {}  # no ghost participant, no room
            (pipeline,) = PIPELINES
            assert pipeline.closed  # its pipeline was closed
            monkeypatch.undo()
            ws, welcome = await join(client, "ana")  # the name is free: nothing was left behind
            assert welcome["type"] == "welcome"
            await ws.close()

    asyncio.run(scenario())


def test_a_message_whose_handling_fails_gets_an_error_and_the_session_goes_on(tmp_path, monkeypatch, caplog):
    async def scenario():
        async with served(tmp_path) as (client, relay):
            ws, _ = await join(client, "ana")
            room = relay.rooms["demo"]

            async def broken(participant, consent):
                raise KeyError("surprise")

            monkeypatch.setattr(room, "set_consent", broken)
            await ws.send_json({"type": "consent", "consent": False})
            got = await answer(ws)
            assert got == {"type": "error", "message": "the server could not handle that consent message (KeyError)"}
            await ws.send_str("[" * 100_000)  # a RecursionError in json.loads, once
            assert (await answer(ws))["message"] == "message is nested too deeply"
            await ws.send_json({"type": "leave"})
            assert await answer(ws) == "closed"

    with caplog.at_level("WARNING"):
        asyncio.run(scenario())
    failed = [r for r in caplog.records if "consent message failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].exc_info is None and "KeyError" in failed[0].getMessage()


def test_template_uploads_are_rate_limited_with_429(tmp_path):
    from callbridge.config.admin_token import AdminToken

    async def scenario():
        relay = Relay(
            Services(tmp_path),
            passthrough=True,
            token=AdminToken("test-admin-token-0123456789", "environment"),
            limits=Limits(uploads=Rate(burst=2, per_s=0.001)),
        )
        async with TestClient(TestServer(build_app(relay))) as client:
            await relay.loading
            auth = {"Authorization": "Bearer test-admin-token-0123456789"}
            statuses = []
            for _ in range(3):
                form = aiohttp.FormData()
                form.add_field("name", "bad")
                response = await client.post("/api/templates", data=form, headers=auth)
                statuses.append((response.status, (await response.json())["error"]))
            preview = await client.post(
                "/api/templates/default/preview", data=aiohttp.FormData({"x": "1"}), headers=auth
            )
            return statuses, preview.status

    statuses, preview = asyncio.run(scenario())
    assert statuses[:2] == [(400, "send the upload as multipart/form-data")] * 2  # refused for what it is
    assert statuses[2] == (429, "too many uploads; wait a moment and try again")
    assert preview == 429  # previews share the uploads' rate
