"""RTP header extension IDs and payload types for the relay's own offers.

With BUNDLE, one ID space covers every m-line, and once a page has agreed an ID
for an extension it may not change. aiortc's offers always use its own IDs
(mid=1, audio-level=2, abs-send-time=3), which clash with Chrome's (mid=4,
audio-level=1, abs-send-time=2): Chrome refuses the renegotiation ("RTP
extension ID reassignment not supported"). So the relay's offers to a page
reuse the IDs that page chose in its own offer.

Payload types are the same story: aiortc offers opus 96 and VP8 97, where
Chrome agreed opus 111 and VP8 96. Chrome then switches to the new numbers, and
aiortc's receivers, whose codecs are fixed when they start, drop every packet.
The relay's offers reuse the codecs agreed in its answer to the page.
"""

from __future__ import annotations

import re

from aiortc import RTCSessionDescription, rtcpeerconnection
from aiortc.codecs import CODECS, HEADER_EXTENSIONS
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters

Extensions = dict[str, list[RTCRtpHeaderExtensionParameters]]
Codecs = dict[str, list[RTCRtpCodecParameters]]
# offered to a page only if its own offer had it: Firefox ESR stops receiving the page's video otherwise
ONLY_WHERE_OFFERED = {"http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"}
_EXTMAP = re.compile(r"^a=extmap:(\d+)(?:/\w+)?\s+(\S+)", re.MULTILINE)


def page_extensions(offer_sdp: str) -> Extensions:
    """aiortc's extensions, renumbered to the IDs the page's offer uses."""
    chosen = {uri: int(ext_id) for ext_id, uri in _EXTMAP.findall(offer_sdp)}
    taken = set(chosen.values())
    free = (i for i in range(1, 15) if i not in taken)
    ids: dict[str, int] = {}
    offered = [e for kind in ("audio", "video") for e in HEADER_EXTENSIONS[kind]]
    for ext in offered:
        if ext.uri not in ids and (ext.uri in chosen or ext.uri not in ONLY_WHERE_OFFERED):
            ids[ext.uri] = chosen[ext.uri] if ext.uri in chosen else next(free)
    return {
        kind: [
            RTCRtpHeaderExtensionParameters(id=ids[e.uri], uri=e.uri) for e in HEADER_EXTENSIONS[kind] if e.uri in ids
        ]
        for kind in ("audio", "video")
    }


def agreed_codecs(pc: rtcpeerconnection.RTCPeerConnection) -> Codecs:
    """The codecs (with the page's payload types) agreed per kind in the first answer."""
    agreed: Codecs = {}
    for transceiver in pc.getTransceivers():
        codecs = transceiver._codecs  # aiortc keeps what the answer agreed here
        if codecs and transceiver.kind not in agreed:
            agreed[transceiver.kind] = list(codecs)
    return {kind: agreed.get(kind) or CODECS[kind] for kind in ("audio", "video")}


async def create_offer(
    pc: rtcpeerconnection.RTCPeerConnection, extensions: Extensions | None, codecs: Codecs | None = None
) -> RTCSessionDescription:
    """pc.createOffer() with the page's extension IDs and payload types in place of aiortc's."""
    saved = rtcpeerconnection.HEADER_EXTENSIONS, rtcpeerconnection.CODECS
    # createOffer reads both tables before its first await (it has none), so no
    # other offer can see the swapped tables.
    rtcpeerconnection.HEADER_EXTENSIONS = extensions or saved[0]
    rtcpeerconnection.CODECS = codecs or saved[1]
    try:
        return await pc.createOffer()
    finally:
        rtcpeerconnection.HEADER_EXTENSIONS, rtcpeerconnection.CODECS = saved
