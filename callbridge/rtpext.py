"""RTP header extension IDs for the relay's own offers.

With BUNDLE, one ID space covers every m-line, and once a page has agreed an ID
for an extension it may not change. aiortc's offers always use its own IDs
(mid=1, audio-level=2, abs-send-time=3), which clash with Chrome's (mid=4,
audio-level=1, abs-send-time=2): Chrome refuses the renegotiation ("RTP
extension ID reassignment not supported"). So the relay's offers to a page
reuse the IDs that page chose in its own offer.
"""

from __future__ import annotations

import re

from aiortc import rtcpeerconnection
from aiortc.codecs import HEADER_EXTENSIONS
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters

Extensions = dict[str, list[RTCRtpHeaderExtensionParameters]]
_EXTMAP = re.compile(r"^a=extmap:(\d+)(?:/\w+)?\s+(\S+)", re.MULTILINE)


def page_extensions(offer_sdp: str) -> Extensions:
    """aiortc's extensions, renumbered to the IDs the page's offer uses."""
    chosen = {uri: int(ext_id) for ext_id, uri in _EXTMAP.findall(offer_sdp)}
    taken = set(chosen.values())
    free = (i for i in range(1, 15) if i not in taken)
    ids: dict[str, int] = {}
    for kind in ("audio", "video"):
        for ext in HEADER_EXTENSIONS[kind]:
            if ext.uri not in ids:
                ids[ext.uri] = chosen[ext.uri] if ext.uri in chosen else next(free)
    return {
        kind: [RTCRtpHeaderExtensionParameters(id=ids[e.uri], uri=e.uri) for e in HEADER_EXTENSIONS[kind]]
        for kind in ("audio", "video")
    }


async def create_offer(pc: rtcpeerconnection.RTCPeerConnection, extensions: Extensions | None):
    """pc.createOffer() with `extensions` in place of aiortc's defaults."""
    if extensions is None:
        return await pc.createOffer()
    saved = rtcpeerconnection.HEADER_EXTENSIONS
    # createOffer reads the table before its first await (it has none), so no
    # other offer can see the swapped table.
    rtcpeerconnection.HEADER_EXTENSIONS = extensions
    try:
        return await pc.createOffer()
    finally:
        rtcpeerconnection.HEADER_EXTENSIONS = saved
