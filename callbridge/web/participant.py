"""One person in a room: their peer connection, what they send, and what they receive.

The page makes one offer with its camera and microphone. Everything after that
is offered by the relay: each other participant's program is added as a pair of
send-only transceivers and the page answers. Negotiations are serialised per
participant, so offers never cross.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from callbridge.media.adapt import aiortc_playout_delay
from callbridge.media.adapt.aiortc_jitter_buffer import use_frame_buffers
from callbridge.media.adapt.aiortc_sdp_offer import Codecs, Extensions, agreed_codecs, create_offer, page_extensions
from callbridge.media.tracks import Program, RelayTrack
from callbridge.tasks import cancel_and_wait
from callbridge.workers.interface import MediaPipeline

log = logging.getLogger(__name__)
ANSWER_TIMEOUT_S = 10.0
MEDIA_TIMEOUT_S = 20.0  # ICE and DTLS take well under a second on a working network
Send = Callable[[dict[str, Any]], Awaitable[None]]


class NegotiationError(RuntimeError):
    """The page did not answer an offer in time, or answered something unusable."""


@dataclass
class _Outgoing:
    source: str
    kind: str
    track: RelayTrack
    program: Program
    transceiver: RTCRtpTransceiver


class Participant:
    """A joined participant. Create it, then `accept_offer` the page's first offer."""

    def __init__(self, name: str, room: str, pipeline: MediaPipeline, send: Send, watching: bool = False) -> None:
        self.name = name
        self.watching = watching  # a screen that only receives (a kiosk): not a person in the call
        self.room = room
        self.pipeline = pipeline
        self.send = send
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.video = Program("video")
        self.audio = Program("audio")
        self.answered = False  # the first offer has been answered
        self.record_agree = False  # agreed to the call being recorded (asked apart from face consent)
        self.on_frame: Callable[[av.AudioFrame | av.VideoFrame, float], None] | None = None  # the recorder's tap
        self.hang_up: Callable[[], None] | None = None  # set by the page's session: drops its websocket (stalled)
        self._outgoing: list[_Outgoing] = []
        self._lock = asyncio.Lock()
        self._answer: asyncio.Future[str] | None = None
        self._pumps: list[asyncio.Task[None]] = []
        self._extensions: Extensions | None = None  # the page's RTP header extension IDs
        self._codecs: Codecs | None = None  # and its payload types
        self.pc.on("track", self._on_track)

    @property
    def consent(self) -> bool:
        return self.pipeline.consent

    async def accept_offer(self, sdp: str) -> str:
        """Answer the page's one offer (its camera and microphone)."""
        async with self._lock:
            if self.answered:
                raise NegotiationError("already connected: the page offers only once")
            sdp = aiortc_playout_delay.for_page(sdp)
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
                use_frame_buffers(self.pc)  # before media flows: frames leave the buffer once complete
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                self._extensions = page_extensions(sdp)
                self._codecs = agreed_codecs(self.pc)
            except Exception as exc:  # aiortc asserts on some hostile SDP (payload type 300, a short candidate)
                raise NegotiationError(f"unusable SDP: {unusable(exc)}") from exc
            self.answered = True
            return self.pc.localDescription.sdp

    @property
    def media_up(self) -> bool:
        """The page's media connection (ICE and DTLS) is established."""
        return self.pc.connectionState == "connected"

    async def media_connected(self, timeout_s: float = MEDIA_TIMEOUT_S) -> None:
        """Wait until `media_up`; NegotiationError if the connection fails or takes too long.

        Offering new tracks while the first DTLS handshake is still running
        left Firefox deaf to them: it answered, but never played a packet.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def check() -> None:
            state = self.pc.connectionState
            if done.done():
                return
            if state == "connected":
                done.set_result(None)
            elif state in ("failed", "closed"):
                done.set_exception(NegotiationError(f"{self.name}'s media connection {state}"))

        check()
        self.pc.on("connectionstatechange", check)
        try:
            await asyncio.wait_for(done, timeout_s)
        except TimeoutError as exc:
            raise NegotiationError(f"{self.name}'s media connection was not up within {timeout_s:.0f} s") from exc
        finally:
            self.pc.remove_listener("connectionstatechange", check)

    def take_answer(self, sdp: str) -> None:
        """The page's answer to our latest offer."""
        if self._answer is None or self._answer.done():
            raise NegotiationError("no offer is waiting for an answer")
        self._answer.set_result(sdp)

    async def receive_from(self, others: list[Participant]) -> None:
        """Start receiving each of `others` (audio and video), in one renegotiation."""
        async with self._lock:
            for other in others:
                for kind, program in (("audio", other.audio), ("video", other.video)):
                    track = program.subscribe()
                    transceiver = self.pc.addTransceiver(track, direction="sendonly")
                    track.sender = transceiver.sender
                    self._outgoing.append(_Outgoing(other.name, kind, track, program, transceiver))
            await self._renegotiate()

    def stop_receiving(self, source: str) -> None:
        """Stop sending `source`'s media here; the m-lines go inactive at the next negotiation."""
        for out in [o for o in self._outgoing if o.source == source]:
            out.program.unsubscribe(out.track)
            out.transceiver.direction = "inactive"
            self._outgoing.remove(out)

    def track_map(self) -> dict[str, dict[str, str]]:
        return {
            o.transceiver.mid: {"participant": o.source, "kind": o.kind} for o in self._outgoing if o.transceiver.mid
        }

    async def close(self) -> None:
        """Hang up, stop everything this participant sends, wipe their face data (the room ends their ad first)."""
        if self._answer is not None and not self._answer.done():
            self._answer.cancel()
        for out in self._outgoing:
            out.program.unsubscribe(out.track)
        self._outgoing.clear()
        self.video.close()
        self.audio.close()
        await cancel_and_wait(*self._pumps)
        self._pumps.clear()
        await self.pc.close()
        await asyncio.to_thread(self.pipeline.close)

    async def _renegotiate(self) -> None:
        offer = await create_offer(self.pc, self._extensions, self._codecs)
        await self.pc.setLocalDescription(offer)
        self._answer = asyncio.get_running_loop().create_future()
        await self.send({"type": "offer", "sdp": self.pc.localDescription.sdp, "tracks": self.track_map()})
        try:
            sdp = await asyncio.wait_for(self._answer, ANSWER_TIMEOUT_S)
        except TimeoutError as exc:
            raise NegotiationError(f"{self.name} did not answer the offer within {ANSWER_TIMEOUT_S:.0f} s") from exc
        finally:
            self._answer = None
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except Exception as exc:
            raise NegotiationError(f"{self.name}'s answer was unusable SDP: {unusable(exc)}") from exc

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind in ("audio", "video"):
            self._pumps.append(asyncio.ensure_future(self._pump(track)))

    async def _pump(self, track: MediaStreamTrack) -> None:
        """Read what the page sends: on to the receivers, and to the pipeline; ends when the track does or
        close() cancels it."""
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            except asyncio.CancelledError:
                # ends normally: a task that ends cancelled inside aiortc's recv() keeps its CancelledError,
                # whose traceback holds this participant, where the cycle collector cannot see it
                return
            received = time.time()  # as it leaves the jitter buffer, before any queue of ours
            if isinstance(frame, (av.VideoFrame, av.AudioFrame)):  # decoded frames only; packets never reach here
                self.forward(frame, received)

    def forward(self, frame: av.AudioFrame | av.VideoFrame, received: float) -> None:
        """One frame this participant sent: on to the receivers, the pipeline and the recorder (event loop)."""
        is_audio = isinstance(frame, av.AudioFrame)
        (self.audio if is_audio else self.video).live(frame)
        try:
            if isinstance(frame, av.AudioFrame):
                self.pipeline.feed_audio(frame, received)
            else:
                self.pipeline.feed_video(frame, received)
        except Exception:
            log.exception("%s: the pipeline refused a%s frame", self.name, "n audio" if is_audio else " video")
        tap = self.on_frame
        if tap is not None:
            tap(frame, received)


def unusable(exc: Exception) -> str:
    """aiortc's complaint about an SDP, in one short line (an assertion has no text of its own)."""
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
