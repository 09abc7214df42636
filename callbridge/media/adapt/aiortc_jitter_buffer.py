"""Receive buffers that hand a frame on as soon as it is complete.

aiortc's `JitterBuffer` knows a video frame is complete only when the first
packet of the next frame arrives: one frame interval late (67 ms at 15 fps) on
every hop. For audio it holds 4 more packets (80 ms) before releasing one. On
the relay both delays land in front of everything the call does: the live
picture, and the audio the trigger engine listens to.

A video frame's last packet carries the RTP marker bit (RFC 7741 for VP8, RFC
6184 for H.264), and every Opus packet is a whole frame, so `FrameJitterBuffer`
releases a frame on its marker (video) or on arrival (audio). A frame whose
marker was lost is still released by the next frame's first packet, as before.
"""

from __future__ import annotations

from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

_ATTRIBUTE = "_RTCRtpReceiver__jitter_buffer"  # aiortc 1.16's private name (pinned)


class FrameJitterBuffer(JitterBuffer):
    """A `JitterBuffer` that releases each frame once its last packet is in."""

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        packets: list[RtpPacket] = []
        complete = False
        origin = self._origin
        if origin is None:  # nothing received yet (add() sets it before it calls here)
            return None
        for count in range(self.capacity):
            packet = self._packets[(origin + count) % self.capacity]
            if packet is None:
                break
            if packets and packet.timestamp != packets[0].timestamp:
                complete = True  # the next frame has begun
                break
            packets.append(packet)
            if packet.marker or not self._is_video:
                complete = True
                break
        if not complete:
            return None
        self.remove(len(packets))
        data = b"".join(p._data for p in packets)  # type: ignore[attr-defined]  # set by aiortc's depayloader
        return JitterFrame(data=data, timestamp=packets[0].timestamp)


def buffer_for(kind: str) -> FrameJitterBuffer:
    """Sized as aiortc sizes its own buffers for `kind`."""
    if kind == "audio":
        return FrameJitterBuffer(capacity=16)
    return FrameJitterBuffer(capacity=512, is_video=True)


def use_frame_buffers(pc: RTCPeerConnection) -> int:
    """Give every receiver of `pc` that still has aiortc's buffer a `FrameJitterBuffer`.

    Call it after each setRemoteDescription, before media flows on new
    receivers; receivers already converted are left alone. Returns how many
    were converted.
    """
    converted = 0
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        if _swap(receiver, transceiver.kind):
            converted += 1
    return converted


def _swap(receiver: RTCRtpReceiver, kind: str) -> bool:
    current = getattr(receiver, _ATTRIBUTE, None)
    if current is None:
        raise RuntimeError("aiortc's RTCRtpReceiver has no jitter buffer where callbridge expects it (aiortc 1.16)")
    if isinstance(current, FrameJitterBuffer):
        return False
    setattr(receiver, _ATTRIBUTE, buffer_for(kind))
    return True
