"""Hostile signalling against a real `callbridge serve --passthrough` (property-based, hypothesis).

Bad JSON, deep nesting, wrong types, huge and hostile SDP, unknown types and floods: every connection
gets an `error` (or, for what is valid, its normal reply) or a clean close, /healthz stays 200, and the
server's log holds no traceback (`serving` checks it when the module ends).

One event loop runs on a thread for the whole module, so a joined session can take many hostile
offers; examples are paced under the server's message rate (50 a second per address).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import urllib.request
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.relayserver import serving

pytestmark = pytest.mark.integration
T = TypeVar("T")
PACE_S = 0.03  # between messages: about 33 a second, under the server's 50
CLEAN = (1000, 1009)  # a normal close, or "message too big" from the websocket layer
WS_MAX = 512 * 1024  # the websocket layer's limit: past it aiohttp closes (1009) while the frame still arrives,
# so the client may see the reset of the rest of its own frame instead of the close
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Loop:
    """An event loop on a thread of its own, for the module."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, job: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(job, self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Probe:
    """A client session, and one joined websocket reused while it can take offers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ws_base = url.replace("http", "ws", 1)
        self.session: aiohttp.ClientSession | None = None
        self.joined: aiohttp.ClientWebSocketResponse | None = None
        self.names = 0
        self.replies: list[str] = []

    async def open(self) -> aiohttp.ClientWebSocketResponse:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        return await self.session.ws_connect(f"{self.ws_base}/ws/hostile")

    async def one_shot(self, frame: str | bytes) -> str:
        """A fresh socket gets one frame: the reply's type (or message), or "closed"."""
        ws = await self.open()
        try:
            got = await send_and_reply(ws, frame)
            if got == "reset":
                assert len(frame) > WS_MAX, "only a frame past the websocket limit may end in a reset"
            elif got == "welcome":  # hypothesis wrote a valid join: that is fine too
                await ws.send_str('{"type":"leave"}')
                assert await reply(ws) == "closed"
            elif got != "closed":
                assert got.startswith("error:"), got
            return got
        finally:
            await ws.close()
            await asyncio.sleep(PACE_S)

    async def offer(self, sdp: str, kind: str = "offer") -> str:
        """A hostile SDP to a joined session: an answer or an error, and the session goes on."""
        ws = await self.ready()
        text = json.dumps({"type": kind, "sdp": sdp})
        got = await send_and_reply(ws, text, timeout=30)
        await asyncio.sleep(PACE_S)
        if got == "reset":
            assert len(text) > WS_MAX, "only a frame past the websocket limit may end in a reset"
            self.joined = None
        elif got == "closed":
            self.joined = None
            assert ws.close_code in CLEAN, ws.close_code
        elif got == "answer":
            await self.drop()  # it is connected now: the next offer needs a fresh participant
        else:
            assert got.startswith("error:"), got
        self.replies.append(got)
        return got

    async def ready(self) -> aiohttp.ClientWebSocketResponse:
        while self.joined is None or self.joined.closed:
            ws = await self.open()
            self.names += 1
            await ws.send_str(json.dumps({"type": "join", "name": f"h{self.names}"}))
            got = await reply(ws)
            if got == "welcome":
                self.joined = ws
            else:  # the server's rate of joins per address: wait for a token
                assert "too many joins" in got or got == "closed", got
                await ws.close()
                await asyncio.sleep(2.1)
        return self.joined

    async def drop(self) -> None:
        if self.joined is not None:
            if await send_and_reply(self.joined, '{"type":"leave"}') != "reset":
                await self.joined.close()
            self.joined = None

    async def close(self) -> None:
        await self.drop()
        if self.session is not None:
            await self.session.close()


async def send_and_reply(ws: aiohttp.ClientWebSocketResponse, frame: str | bytes, timeout: float = 15) -> str:
    try:
        await (ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_str(frame))
    except ConnectionError:
        return "reset"
    return await reply(ws, timeout)


async def reply(ws: aiohttp.ClientWebSocketResponse, timeout: float = 15) -> str:
    """The next reply that is not a room event: its type ("error: M" for errors), or "closed"."""
    while True:
        msg = await ws.receive(timeout)
        if msg.type == WSMsgType.ERROR and isinstance(msg.data, ConnectionError):
            return "reset"
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
            assert ws.close_code in CLEAN, ws.close_code
            return "closed"
        assert msg.type == WSMsgType.TEXT, msg
        data = json.loads(msg.data)
        if data["type"] == "error":
            assert isinstance(data["message"], str) and "Traceback" not in data["message"]
            return f"error: {data['message']}"
        if data["type"] != "event":
            return data["type"]


@pytest.fixture(scope="module")
def relay(tmp_path_factory) -> Iterator[tuple[Loop, Probe, str]]:
    data = tmp_path_factory.mktemp("hostile")
    loop = Loop()
    with serving(data, "--passthrough") as url:
        probe = Probe(url)
        yield loop, probe, url
        loop.run(probe.close())
        healthy(url)
        text = (data / "serve.log").read_text()
        for bad in ("Task exception was never retrieved", "Error handling request", "Unhandled exception"):
            assert bad not in text, text[-4000:]
    loop.stop()


@pytest.fixture(scope="module")
def base_offer(relay) -> str:
    """A real offer from aiortc: audio then video, send-only, as the page sends."""
    loop, _, _ = relay

    async def make() -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return sdp

    return loop.run(make())


def healthy(url: str) -> None:
    with urllib.request.urlopen(url + "/healthz", timeout=10) as r:
        assert r.status == 200 and json.loads(r.read())["ok"] is True


# ---------------------------------------------------------------- strategies

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
TYPES = st.sampled_from(["join", "offer", "answer", "consent", "record", "leave", "JOIN", "", "dance"])
MESSAGES = st.fixed_dictionaries(
    {"type": TYPES | JSON},
    optional={"name": JSON | st.text(max_size=80), "consent": JSON, "watch": JSON, "sdp": JSON, "agree": JSON},
).map(json.dumps)
DEEP = st.tuples(st.sampled_from(["[", '{"a":', '[{"b":']), st.integers(50, 120_000)).map(lambda p: p[0] * p[1])
FRAMES = st.one_of(
    st.text(max_size=3000),
    st.binary(max_size=3000),
    JSON.map(json.dumps),
    MESSAGES,
    DEEP,
    st.integers(300_000, 700_000).map(lambda n: '{"type":"join","name":"' + "x" * n + '"}'),  # past 256 KiB / 512 KiB
)

HOSTILE_LINES = [
    "a=candidate:1",
    "a=candidate:1 1 udp",
    "a=candidate:1 1 udp 2130706431 127.0.0.1",
    "a=candidate:1 1 udp x 127.0.0.1 9 typ host",
    "a=candidate:1 1 tcp 1 999.999.1.1 99999 typ host",
    "a=rtpmap:300 opus/48000/2",
    "a=rtpmap:96",
    "a=rtpmap:96 VP8",
    "a=fmtp:300 minptime=10",
    "a=fmtp:",
    "a=rtcp-fb:300 nack",
    "a=fingerprint:sha-256 ZZ",
    "a=fingerprint:md5",
    "a=setup:sideways",
    "a=ssrc:abc cname:x",
    "a=ssrc-group:FID 1",
    "a=extmap:99999 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:x",
    "a=rtcp:abc",
    "a=ice-ufrag:",
    "a=ice-pwd:",
    "a=mid:" + "m" * 300,
    "a=msid:",
    "a=group:BUNDLE 0 1 2 3 4 5",
    "a=sctp-port:abc",
    "a=max-message-size:-1",
    "c=IN IP4 999.1.1.1",
    "c=IN IP6",
    "m=audio 9 UDP/TLS/RTP/SAVPF 300",
    "m=video x UDP/TLS/RTP/SAVPF 96",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "m=audio 9 RTP/AVP",
    "b=AS:-5",
    "o=- x x IN IP4",
    "t=abc",
    "a=" + "x" * 5000,
]


@st.composite
def hostile_sdp(draw: st.DrawFn, base: str) -> str:
    lines = base.strip().split("\r\n")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "insert", "pt", "delete", "text", "repeat"]))
        at = draw(st.integers(1, len(lines)))
        if op == "insert":
            lines.insert(at, draw(st.sampled_from(HOSTILE_LINES)))
        elif op == "pt":  # payload types anywhere: 300, negative, huge
            number = str(draw(st.sampled_from([300, 128, -1, 65536, 10**12])))
            lines = [re.sub(r"(?<=[ :])(96|111|0|8)\b", number, line, count=1) for line in lines]
        elif op == "delete" and len(lines) > 2:
            del lines[min(at, len(lines) - 1)]
        elif op == "text":
            lines.insert(at, draw(st.text(max_size=200)).replace("\n", " "))
        elif op == "repeat":  # a huge SDP: the m-sections many times over
            first = next((i for i, line in enumerate(lines) if line.startswith("m=")), len(lines))
            lines += lines[first:] * draw(st.integers(2, 200))
    return "\r\n".join(lines) + "\r\n"


# ---------------------------------------------------------------- tests


def test_the_known_crashes_get_an_error_and_the_session_goes_on(relay, base_offer) -> None:
    loop, probe, url = relay

    async def run() -> list[str]:
        got = [await probe.one_shot("[" * 100_000)]
        for line in ("a=rtpmap:300 opus/48000/2", "a=candidate:1"):
            sdp = base_offer.replace("a=mid:0\r\n", f"a=mid:0\r\n{line}\r\n", 1)
            if line.startswith("a=rtpmap"):
                sdp = re.sub(r"m=audio (\S+) (\S+) (\d+)", r"m=audio \1 \2 300 \3", sdp, count=1)
            got.append(await probe.offer(sdp))
        return got

    nested, pt300, candidate = loop.run(run())
    assert nested == "error: message is nested too deeply"
    assert pt300.startswith("error: unusable SDP") and candidate.startswith("error: unusable SDP"), (pt300, candidate)
    assert probe.joined is not None and not probe.joined.closed  # the same session took both
    healthy(url)


@SETTINGS
@given(frame=FRAMES)
def test_any_frame_before_joining_gets_an_error_or_a_clean_close(relay, frame) -> None:
    loop, probe, _ = relay
    loop.run(probe.one_shot(frame))


@SETTINGS
@given(data=st.data())
def test_hostile_sdp_after_joining_gets_an_answer_or_an_error(relay, base_offer, data) -> None:
    loop, probe, _ = relay
    sdp = data.draw(hostile_sdp(base_offer))
    loop.run(probe.offer(sdp, data.draw(st.sampled_from(["offer", "offer", "offer", "answer"]))))


@SETTINGS
@given(message=MESSAGES)
def test_any_message_after_joining_gets_a_reply_or_nothing_and_the_session_goes_on(relay, message) -> None:
    loop, probe, _ = relay

    async def run() -> None:
        ws = await probe.ready()
        await ws.send_str(message)
        await ws.send_str('{"type":"dance"}')  # a marker: its error comes after the message's own reply
        seen = []
        while not (seen and "unknown message type 'dance'" in seen[-1]):
            got = await reply(ws)
            if got == "closed":
                probe.joined = None
                return
            seen.append(got)
        await asyncio.sleep(2 * PACE_S)
        if any(s == "answer" for s in seen):
            await probe.drop()

    loop.run(run())


def test_the_server_is_healthy_after_the_examples(relay) -> None:
    _, probe, url = relay
    healthy(url)
    assert any(r.startswith("error: unusable SDP") for r in probe.replies)
    print("offer replies:", {r[:60]: probe.replies.count(r) for r in set(probe.replies)})


def test_floods_are_refused_and_closed_cleanly(relay) -> None:
    loop, probe, url = relay

    async def run() -> tuple[list[str], list[str]]:
        await probe.drop()
        await asyncio.sleep(2.5)  # a full bucket of messages
        ws = await probe.ready()
        for i in range(10):  # consent toggles: a few pass, the rest are refused, the session goes on
            await ws.send_str(json.dumps({"type": "consent", "consent": i % 2 == 0}))
        await ws.send_str('{"type":"dance"}')
        consent = []
        while not consent or "dance" not in consent[-1]:
            consent.append(await reply(ws))
        flood = await probe.open()
        replies = []
        for _ in range(400):
            if flood.closed:
                break
            try:
                await flood.send_str('{"type":"dance"}')
            except ConnectionError:
                break
        while (got := await reply(flood)) != "closed":
            replies.append(got)
        return consent, replies

    consent, replies = loop.run(run())
    assert "error: too many consent changes; wait a moment" in consent and "'dance'" in consent[-1]
    assert replies[-1] == "error: too many messages; connection closed", replies[-3:]
    healthy(url)
