"""Access against a real `callbridge serve --passthrough`: Host and Origin allow-lists, full-match room
names, the room key on a non-loopback bind, caps, the join deadline and TLS. Every refusal is an `error`
and a clean close (or a 403/404 before any websocket), and the server's log holds no traceback."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from aiohttp import WSMsgType

from tests.support.relayserver import free_port, serving

pytestmark = pytest.mark.integration
EVIL = "http://evil.example"


def status(url: str, path: str, headers: dict[str, str] | None = None) -> int:
    """The status of a GET, with headers as given (http.client lets a test set Host)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=headers is not None and "Host" in headers)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


async def next_reply(ws: aiohttp.ClientWebSocketResponse, timeout: float = 10.0) -> dict | str:
    while True:
        msg = await ws.receive(timeout)
        if msg.type != WSMsgType.TEXT:
            assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING), msg
            return "closed"
        data = json.loads(msg.data)
        if data["type"] != "event":
            return data


async def refused_with(ws: aiohttp.ClientWebSocketResponse, words: str, timeout: float = 10.0) -> str:
    got = await next_reply(ws, timeout)
    assert isinstance(got, dict) and got["type"] == "error" and words in got["message"], got
    assert await next_reply(ws) == "closed" and ws.close_code == 1000
    return got["message"]


@pytest.fixture(scope="module")
def loopback(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("access-loopback"), "--passthrough") as url:
        yield url


def test_foreign_hosts_origins_and_room_names_are_refused(loopback: str) -> None:
    port = loopback.rsplit(":", 1)[1]
    assert status(loopback, "/healthz") == 200
    assert status(loopback, "/healthz", {"Host": f"localhost:{port}"}) == 200
    assert status(loopback, "/healthz", {"Host": f"rebind.evil.example:{port}"}) == 403  # DNS rebinding
    assert status(loopback, "/api/campaign", {"Host": "evil.example"}) == 403
    assert status(loopback, "/api/campaign", {"Origin": EVIL}) == 403
    assert status(loopback, "/api/campaign", {"Origin": loopback}) == 200
    assert status(loopback, "/room/demo%0A") == 404
    assert status(loopback, "/ws/demo%0A") == 404
    assert status(loopback, "/room/demo") == 200

    async def probe() -> None:
        async with aiohttp.ClientSession() as session:
            ws_url = loopback.replace("http", "ws") + "/ws/demo"
            with pytest.raises(aiohttp.WSServerHandshakeError) as bad:
                await session.ws_connect(ws_url, origin=EVIL)
            assert bad.value.status == 403
            async with session.ws_connect(ws_url, origin=loopback) as ws:  # the page's own origin
                await ws.send_json({"type": "join", "name": "ana"})
                assert (await next_reply(ws))["type"] == "welcome"
            async with session.ws_connect(ws_url) as ws:  # no Origin: a script
                await ws.send_json({"type": "join", "name": "bo"})
                assert (await next_reply(ws))["type"] == "welcome"

    asyncio.run(probe())


def test_caps_refuse_with_a_message_and_a_clean_close(loopback: str) -> None:
    """8 websockets per address, 6 people per room (watchers apart): the next is told why and closed."""
    base = loopback.replace("http", "ws")

    async def probe() -> None:
        async with aiohttp.ClientSession() as session:
            people = [await session.ws_connect(f"{base}/ws/full") for _ in range(7)]
            for i, ws in enumerate(people[:6]):
                await ws.send_json({"type": "join", "name": f"p{i}"})
                got = await next_reply(ws)
                assert got["type"] == "welcome", got
            await people[6].send_json({"type": "join", "name": "p6"})
            await refused_with(people[6], "this room is full (6 people)")
            kiosk = await session.ws_connect(f"{base}/ws/full")  # 6 people and this: 7 sockets open
            await kiosk.send_json({"type": "join", "watch": True})
            assert (await next_reply(kiosk))["type"] == "welcome"  # a watcher takes no place
            eighth = await session.ws_connect(f"{base}/ws/other")
            ninth = await session.ws_connect(f"{base}/ws/other")
            await refused_with(ninth, "too many connections from your address (8 at most)")
            refusal = None
            while refusal is None:  # the others heard of the refused join
                msg = json.loads((await people[0].receive(10)).data)
                if msg["type"] == "event" and msg["event"]["type"] == "refused":
                    refusal = msg["event"]
            assert refusal["reason"] == "this room is full (6 people)"
            for ws in [*people[:6], kiosk, eighth]:
                await ws.close()

    asyncio.run(probe())


def test_a_socket_that_never_joins_is_closed_after_10_s(loopback: str) -> None:
    async def probe() -> float:
        async with aiohttp.ClientSession() as session:
            began = time.monotonic()
            ws = await session.ws_connect(loopback.replace("http", "ws") + "/ws/idle")
            await refused_with(ws, "no join within 10 s", timeout=15)
            return time.monotonic() - began

    took = asyncio.run(probe())
    assert 9.5 < took < 15
    with urllib.request.urlopen(loopback + "/healthz", timeout=5) as r:
        assert json.loads(r.read())["rooms"] == 0  # the idle room is gone


def test_beyond_loopback_rooms_need_the_printed_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with serving(data, "--passthrough", "--host", "0.0.0.0") as url:
        key = (data / "room-key").read_text().strip()
        printed = re.search(r"/room/demo\?key=(\S+)", (data / "serve.log").read_text())
        assert printed and printed.group(1) == key
        port = url.rsplit(":", 1)[1]
        assert status(url, "/healthz") == 200  # an IP literal
        assert status(url, "/healthz", {"Host": f"rebind.evil.example:{port}"}) == 403

        async def probe() -> None:
            async with aiohttp.ClientSession() as session:
                base = url.replace("http", "ws") + "/ws/demo"
                for query in ("", "?key=", "?key=wrong", f"?key={key[:-1]}"):
                    ws = await session.ws_connect(base + query)
                    await refused_with(ws, "this room needs its key")
                async with session.ws_connect(f"{base}?key={key}") as ws:
                    await ws.send_json({"type": "join", "name": "ana"})
                    assert (await next_reply(ws))["type"] == "welcome"

        asyncio.run(probe())
    with serving(data, "--passthrough", "--host", "0.0.0.0"):
        assert (data / "room-key").read_text().strip() == key  # the links survive a restart


def _start_tls(data: Path, port: int, log: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "callbridge", "serve", "--passthrough", "--tls", "--port", str(port)]
    env = {**os.environ, "CALLBRIDGE_ICE_LOOPBACK": "1"}
    return subprocess.Popen([*argv, "--data", str(data)], stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)


async def _healthz_over_tls(url: str, ssl_arg: ssl.SSLContext | bool, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url + "/healthz", ssl=ssl_arg) as r:
                    if r.status == 200:
                        return await r.json()
            except aiohttp.ClientConnectorError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.25)


def test_tls_serves_https_and_wss_and_reuses_its_certificate(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    url = f"https://127.0.0.1:{port}"
    cert = data / "tls" / "cert.pem"
    pems = []
    for run in range(2):
        log = tmp_path / f"serve-{run}.log"
        proc = _start_tls(data, port, log)
        try:
            if run == 0:
                assert asyncio.run(_healthz_over_tls(url, False))["ok"] is True
                trusted = ssl.create_default_context(cafile=str(cert))  # the certificate names 127.0.0.1
                assert asyncio.run(_healthz_over_tls(url, trusted))["ok"] is True
            else:
                assert asyncio.run(_healthz_over_tls(url, ssl.create_default_context(cafile=str(cert))))["ok"]

                async def wss() -> None:
                    async with aiohttp.ClientSession() as session:
                        ctx = ssl.create_default_context(cafile=str(cert))
                        async with session.ws_connect(f"wss://127.0.0.1:{port}/ws/demo", ssl=ctx) as ws:
                            await ws.send_json({"type": "join", "name": "ana"})
                            assert (await next_reply(ws))["type"] == "welcome"

                asyncio.run(wss())
            pems.append(cert.read_bytes())
            assert oct((data / "tls" / "key.pem").stat().st_mode & 0o777) == "0o600"
        finally:
            proc.terminate()
            proc.wait(10)
        text = log.read_text()
        assert f"https://127.0.0.1:{port}/room/demo" in text and "Traceback" not in text, text[-3000:]
        assert ("made" if run == 0 else "reused") in text
    assert pems[0] == pems[1]
