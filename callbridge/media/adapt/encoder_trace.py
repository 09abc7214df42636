"""A benchmark's view into the relay's video encoders: one JSON line per encoded frame.

Set `CALLBRIDGE_TRACE_ENCODES=FILE` before `callbridge serve` starts and every VP8
frame the relay encodes is written to FILE with its wall time, encode time, size,
packet count, whether it is a keyframe, whether it is an ad's frame, and the
encoder's bitrate target (the receiver's estimate, as followed); and when each
sender has sent all of a frame's packets. No picture data is written. The browser bench
uses it to split the time between an ad's hand-over and the receiver's page.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from typing import IO, Any

from aiortc.codecs import vpx
from aiortc.rtcrtpsender import RTCRtpSender

from callbridge.media.tracks import Program

ENV = "CALLBRIDGE_TRACE_ENCODES"
_ORIGINAL = vpx.Vp8Encoder.encode
_ORIGINAL_NEXT = RTCRtpSender._next_encoded_frame
_ORIGINAL_INJECT = Program.inject
AD_FRAMES_KEPT = 256  # (id, pts) of the latest ad frames: enough for every receiver's queue


def install(path: str | None = None) -> bool:
    """Trace every VP8 encode to `path` (default: $CALLBRIDGE_TRACE_ENCODES). False when neither is set."""
    path = path or os.environ.get(ENV)
    if not path:
        return False
    out = open(path, "a", buffering=1)  # noqa: SIM115  # held open for the process's life
    lock = threading.Lock()
    ads: deque[tuple[int, int | None]] = deque(maxlen=AD_FRAMES_KEPT)

    def inject(self: Program, frame: Any) -> None:
        _ORIGINAL_INJECT(self, frame)
        if self.on_air and self.kind == "video":
            ads.append((id(frame), frame.pts))  # the pair: an id alone is reused once a frame is freed

    def encode(self: vpx.Vp8Encoder, frame: Any, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        is_ad = (id(frame), frame.pts) in ads  # before encoding: PyAV rebases the frame's pts as it encodes
        start = time.perf_counter()
        payloads, timestamp = _ORIGINAL(self, frame, force_keyframe)
        record = {
            "t": round(time.time(), 4),
            "encoder": id(self),
            "ms": round(1000 * (time.perf_counter() - start), 2),
            "bytes": sum(len(p) for p in payloads),
            "packets": len(payloads),
            "key": is_keyframe(payloads),
            "ad": is_ad,
            "target": self.target_bitrate,
            "rtp_ts": timestamp,
        }
        _write(out, lock, record)
        return payloads, timestamp

    async def next_frame(self: RTCRtpSender, codec: Any) -> Any:
        # aiortc sends a frame's packets and then asks for the next frame: the previous one is all sent
        encoder = self.__dict__.get("_RTCRtpSender__encoder")
        if isinstance(encoder, vpx.Vp8Encoder):
            _write(out, lock, {"t": round(time.time(), 4), "sent": id(encoder)})
        return await _ORIGINAL_NEXT(self, codec)

    vpx.Vp8Encoder.encode = encode  # type: ignore[method-assign]
    RTCRtpSender._next_encoded_frame = next_frame  # type: ignore[method-assign]
    Program.inject = inject  # type: ignore[method-assign]
    return True


def uninstall() -> None:
    vpx.Vp8Encoder.encode = _ORIGINAL  # type: ignore[method-assign]
    RTCRtpSender._next_encoded_frame = _ORIGINAL_NEXT  # type: ignore[method-assign]
    Program.inject = _ORIGINAL_INJECT  # type: ignore[method-assign]


def is_keyframe(payloads: list[bytes]) -> bool:
    """Whether a VP8 frame (its RTP payloads) is a keyframe: the P bit of the first payload's frame tag is 0."""
    if not payloads:
        return False
    _, data = vpx.VpxPayloadDescriptor.parse(payloads[0])
    return bool(data) and not data[0] & 1


def _write(out: IO[str], lock: threading.Lock, record: dict) -> None:
    with lock:
        out.write(json.dumps(record) + "\n")
