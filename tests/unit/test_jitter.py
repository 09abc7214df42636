"""FrameJitterBuffer: frames leave once complete, not one frame (or 80 ms) later."""

from __future__ import annotations

import asyncio

import pytest
from aiortc import RTCPeerConnection
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket

from callbridge.media.adapt.aiortc_jitter_buffer import buffer_for, use_frame_buffers


def packet(seq: int, timestamp: int, marker: bool = False, data: bytes | None = None) -> RtpPacket:
    p = RtpPacket(payload_type=96, marker=int(marker), sequence_number=seq, timestamp=timestamp)
    p._data = data if data is not None else bytes([seq % 256])  # type: ignore[attr-defined]
    return p


def released(buffer: JitterBuffer, packets: list[RtpPacket]) -> list[tuple[int, int, bytes]]:
    """(index of the packet whose arrival released it, timestamp, data) per frame."""
    out = []
    for i, p in enumerate(packets):
        _, frame = buffer.add(p)
        if frame is not None:
            out.append((i, frame.timestamp, frame.data))
    return out


def test_video_frame_leaves_on_its_marker_packet() -> None:
    packets = [
        packet(10, 3000, data=b"a"),
        packet(11, 3000, data=b"b"),
        packet(12, 3000, True, b"c"),
        packet(13, 6000, True, b"d"),
    ]
    assert released(buffer_for("video"), packets) == [(2, 3000, b"abc"), (3, 6000, b"d")]


def test_aiortc_buffer_waits_for_the_next_frame() -> None:
    # the delay being removed: aiortc releases frame 3000 only when 6000 begins
    packets = [packet(10, 3000), packet(11, 3000, True), packet(12, 6000, True)]
    assert [r[0] for r in released(JitterBuffer(capacity=512, is_video=True), packets)] == [2]
    assert [r[0] for r in released(buffer_for("video"), packets)] == [1, 2]


def test_lost_marker_falls_back_to_the_next_frame() -> None:
    packets = [packet(10, 3000), packet(11, 3000), packet(12, 6000), packet(13, 6000, True)]
    assert [(i, ts) for i, ts, _ in released(buffer_for("video"), packets)] == [(2, 3000), (3, 6000)]


def test_reordered_packets_release_when_the_gap_fills() -> None:
    packets = [packet(10, 3000, data=b"a"), packet(12, 3000, True, b"c"), packet(11, 3000, data=b"b")]
    assert released(buffer_for("video"), packets) == [(2, 3000, b"abc")]


def test_incomplete_frame_is_held() -> None:
    assert released(buffer_for("video"), [packet(10, 3000), packet(11, 3000)]) == []


def test_audio_packets_leave_on_arrival() -> None:
    packets = [packet(100 + k, 960 * k) for k in range(6)]
    assert [r[0] for r in released(buffer_for("audio"), packets)] == [0, 1, 2, 3, 4, 5]
    # aiortc releases each packet four packets (80 ms of Opus) later
    assert [r[0] for r in released(JitterBuffer(capacity=16, prefetch=4), packets)] == [4, 5]


def test_use_frame_buffers_converts_each_receiver_once() -> None:
    async def run() -> tuple[int, int, list[bool]]:
        pc = RTCPeerConnection()
        pc.addTransceiver("audio", direction="recvonly")
        pc.addTransceiver("video", direction="recvonly")
        first, second = use_frame_buffers(pc), use_frame_buffers(pc)
        kinds = [t.receiver._RTCRtpReceiver__jitter_buffer._is_video for t in pc.getTransceivers()]
        await pc.close()
        return first, second, kinds

    assert asyncio.run(run()) == (2, 0, [False, True])


def test_missing_buffer_is_a_clear_error() -> None:
    class Receiver:
        pass

    class Transceiver:
        kind = "video"
        receiver = Receiver()

    class PC:
        def getTransceivers(self) -> list[Transceiver]:
            return [Transceiver()]

    with pytest.raises(RuntimeError, match="jitter buffer"):
        use_frame_buffers(PC())  # type: ignore[arg-type]
