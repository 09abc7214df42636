"""A scripted participant for tests and benchmarks: aiortc on one side of the relay.

It speaks the same signalling as the room page: join, one offer with a camera
and a microphone, answers to the relay's offers. Its camera plays RGB frames and
its microphone plays samples, both paced in real time and looped.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import av
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from callbridge.media.adapt.aiortc_jitter_buffer import use_frame_buffers

AUDIO_RATE = 48_000
AUDIO_FRAME = 960


class LoopVideo(MediaStreamTrack):
    kind = "video"

    def __init__(self, frames: list[np.ndarray], fps: float = 15.0) -> None:
        super().__init__()
        self._frames = [av.VideoFrame.from_ndarray(f, format="rgb24").to_ndarray(format="yuv420p") for f in frames]
        self._fps = fps
        self._start: float | None = None
        self._i = 0

    async def recv(self) -> av.VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self._i / self._fps - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = av.VideoFrame.from_ndarray(self._frames[self._i % len(self._frames)], format="yuv420p")
        frame.pts, frame.time_base = int(self._i * 90000 / self._fps), fractions.Fraction(1, 90000)
        self._i += 1
        return frame


class LoopAudio(MediaStreamTrack):
    """Plays 48 kHz mono int16 samples in 20 ms frames; `started` is the wall time of sample 0."""

    kind = "audio"

    def __init__(self, samples: np.ndarray) -> None:
        super().__init__()
        pad = (-len(samples)) % AUDIO_FRAME
        self.samples = np.concatenate([samples.astype(np.int16), np.zeros(pad, np.int16)])
        self.started: float | None = None
        self._i = 0

    async def recv(self) -> av.AudioFrame:
        if self.started is None:
            self.started = time.time()
            self._mono = time.monotonic()
        delay = self._mono + self._i * AUDIO_FRAME / AUDIO_RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        start = (self._i * AUDIO_FRAME) % len(self.samples)
        chunk = self.samples[start : start + AUDIO_FRAME]
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = (
            AUDIO_RATE,
            self._i * AUDIO_FRAME,
            fractions.Fraction(1, AUDIO_RATE),
        )
        self._i += 1
        return frame


class RoomClient:
    """One scripted participant."""

    def __init__(self, base_url: str, room: str, name: str, consent: bool, video: LoopVideo, audio: LoopAudio) -> None:
        self.url = base_url.replace("http", "ws", 1) + f"/ws/{room}"
        self.name = name
        self.consent = consent
        self.video, self.audio = video, audio
        self.events: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.tracks: dict[str, dict[str, MediaStreamTrack]] = {}
        self._mids: dict[str, dict[str, str]] = {}
        self._pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._pc.on("track", self._on_track)
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._welcome = asyncio.Event()
        self.arrived = asyncio.Event()

    async def join(self, watch: bool = False) -> None:
        """Join as a participant, or (`watch`) as a screen that only receives, as the kiosk page does."""
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(self.url)
        self._reader = asyncio.ensure_future(self._read())
        join = (
            {"type": "join", "watch": True} if watch else {"type": "join", "name": self.name, "consent": self.consent}
        )
        await self.send(join)
        await asyncio.wait_for(self._welcome.wait(), 30)
        direction = "recvonly" if watch else "sendonly"
        self._pc.addTransceiver("audio" if watch else self.audio, direction=direction)
        self._pc.addTransceiver("video" if watch else self.video, direction=direction)
        await self._pc.setLocalDescription(await self._pc.createOffer())
        await self.send({"type": "offer", "sdp": self._pc.localDescription.sdp})

    async def send(self, message: dict[str, Any]) -> None:
        assert self._ws is not None
        await self._ws.send_str(json.dumps(message))

    async def wait_event(
        self, kind: str, participant: str | None = None, timeout: float = 30.0, after: int = 0
    ) -> dict[str, Any]:
        """The first event of `kind` (about `participant`) at index >= `after`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events[after:]:
                if event["type"] == kind and participant in (None, event.get("participant")):
                    return event
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
        raise AssertionError(f"{self.name}: no {kind} event about {participant} within {timeout} s; got {self.events}")

    async def frames_of(self, participant: str, timeout: float = 30.0) -> AsyncIterator[tuple[float, np.ndarray]]:
        """(arrival wall time, RGB) for each video frame received from `participant`."""
        deadline = time.monotonic() + timeout
        while participant not in self.tracks or "video" not in self.tracks[participant]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no video track from {participant}")
            await asyncio.sleep(0.05)
        track = self.tracks[participant]["video"]
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.VideoFrame):  # a video track's recv() is typed Frame | Packet
                raise TypeError(f"{self.name}: video track from {participant} gave a {type(frame).__name__}")
            yield time.time(), frame.to_ndarray(format="rgb24")

    async def leave(self) -> None:
        if self._ws is not None and not self._ws.closed:
            try:
                await self.send({"type": "leave"})
            except Exception:
                pass
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
        await self._pc.close()
        if self._session is not None:
            await self._session.close()

    async def _read(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            kind = data.get("type")
            if kind == "welcome":
                self._welcome.set()
            elif kind == "answer":
                await self._pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "answer"))
            elif kind == "offer":
                self._mids = data["tracks"]
                await self._pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "offer"))
                use_frame_buffers(self._pc)  # as a browser, complete frames on the RTP marker
                await self._pc.setLocalDescription(await self._pc.createAnswer())
                await self.send({"type": "answer", "sdp": self._pc.localDescription.sdp})
            elif kind == "event":
                event = dict(data["event"], _rx=time.time())
                self.events.append(event)
                self.arrived.set()
            elif kind == "error":
                self.errors.append(data["message"])
                self.arrived.set()

    def _on_track(self, track: MediaStreamTrack) -> None:
        for transceiver in self._pc.getTransceivers():
            if transceiver.receiver.track is track and transceiver.mid in self._mids:
                owner = self._mids[transceiver.mid]["participant"]
                self.tracks.setdefault(owner, {})[track.kind] = track


@contextlib.asynccontextmanager
async def in_call(*clients: RoomClient) -> AsyncIterator[tuple[RoomClient, ...]]:
    """Join each client in turn; leave them all afterwards, whatever happened (leave twice is fine)."""
    try:
        for client in clients:
            await client.join()
        yield clients
    finally:
        for client in clients:
            await client.leave()


def talker_and_listener(url: str, room: str, talk: np.ndarray, frames: int = 20) -> tuple[RoomClient, RoomClient]:
    """alice (Grace Hopper's face, her microphone looping `talk`, 48 kHz int16) and bob (Eileen
    Collins, silent), both consenting: the two-person call of the relay's tests and benches."""
    from tests.support import faces  # the test portraits load on first use

    hopper = faces.animate(faces.hopper(), frames, spot=faces.HOPPER_FACE, face_width=170)
    alice = RoomClient(url, room, "alice", True, LoopVideo(hopper), LoopAudio(talk))
    silence = np.zeros(2 * AUDIO_RATE, np.int16)
    bob = RoomClient(url, room, "bob", True, LoopVideo(faces.animate(faces.astronaut(), frames)), LoopAudio(silence))
    return alice, bob
