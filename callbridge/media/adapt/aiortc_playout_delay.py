"""Ask receivers to show the relay's video as soon as it is decoded (the playout-delay RTP extension).

Chrome holds each received frame in its jitter buffer until a render time it
estimates from the stream's jitter and frame sizes; the first frame of an ad is
a scene cut several times the size of a live frame, and Chrome's estimate grows
after it. With the playout-delay extension (min 0, max 500 ms) on the relay's
video, Chrome renders each frame as soon as it is decoded ("low-latency
rendering"), which is how interactive streams are sent (docs/experiments.md,
"The first ad of a call"). aiortc knows neither the extension nor how to send it:
`install` adds it to aiortc's video extensions, so it is agreed where the page
offers it, and writes it on every video packet a sender with that agreement sends.
"""

from __future__ import annotations

from aiortc import rtp
from aiortc.codecs import HEADER_EXTENSIONS
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters

URI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
MIN_MS, MAX_MS = 0, 500  # min 0 and max up to 500 ms: Chrome's low-latency rendering
_ORIGINAL_CONFIGURE = rtp.HeaderExtensionsMap.configure
_ORIGINAL_SET = rtp.HeaderExtensionsMap.set


def value(min_ms: int = MIN_MS, max_ms: int = MAX_MS) -> bytes:
    """The extension's 3 bytes: 12-bit minimum and maximum delay, each in 10 ms units."""
    lo, hi = min_ms // 10, max_ms // 10
    if not 0 <= lo <= hi < 4096:
        raise ValueError(f"playout delay {min_ms}-{max_ms} ms is out of range")
    return bytes([lo >> 4, ((lo & 0xF) << 4) | (hi >> 8), hi & 0xFF])


def _configure(self: rtp.HeaderExtensionsMap, parameters: RTCRtpParameters) -> None:
    _ORIGINAL_CONFIGURE(self, parameters)
    agreed = [ext.id for ext in parameters.headerExtensions if ext.uri == URI]
    self.__dict__["_playout_delay_id"] = agreed[0] if agreed else None


def _set(self: rtp.HeaderExtensionsMap, values: rtp.HeaderExtensions) -> tuple[int, bytes]:
    profile, data = _ORIGINAL_SET(self, values)
    ext_id = self.__dict__.get("_playout_delay_id")
    if ext_id is None:
        return profile, data
    extensions = [*rtp.unpack_header_extensions(profile, data), (ext_id, _VALUE)]
    return rtp.pack_header_extensions(extensions)


_VALUE = value()


def for_page(offer_sdp: str) -> str:
    """The page's offer as the relay takes it: without the extension when the page is Firefox.

    Firefox ESR offers it, but with it agreed Alice's Chromium never got Bob's video past
    its first frames when Bob was Firefox (the call test); Chromium is where it was measured.
    """
    if "o=mozilla" not in offer_sdp:
        return offer_sdp
    return "".join(line for line in offer_sdp.splitlines(keepends=True) if URI not in line)


def install() -> None:
    """Offer and answer the extension on video, and send it wherever it was agreed."""
    if not any(ext.uri == URI for ext in HEADER_EXTENSIONS["video"]):
        # The id is aiortc's own default, used only where no page chose one (see aiortc_sdp_offer).
        HEADER_EXTENSIONS["video"].append(RTCRtpHeaderExtensionParameters(id=6, uri=URI))
    rtp.HeaderExtensionsMap.configure = _configure  # type: ignore[method-assign]
    rtp.HeaderExtensionsMap.set = _set  # type: ignore[method-assign]


def uninstall() -> None:
    """Back to aiortc's own behaviour (tests)."""
    HEADER_EXTENSIONS["video"][:] = [ext for ext in HEADER_EXTENSIONS["video"] if ext.uri != URI]
    rtp.HeaderExtensionsMap.configure = _ORIGINAL_CONFIGURE  # type: ignore[method-assign]
    rtp.HeaderExtensionsMap.set = _ORIGINAL_SET  # type: ignore[method-assign]
