"""The relay's offers keep the header extension IDs the page chose."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiortc import RTCPeerConnection, rtcpeerconnection
from aiortc.codecs import HEADER_EXTENSIONS

from callbridge.media.adapt import aiortc_playout_delay
from callbridge.media.adapt.aiortc_sdp_offer import create_offer, page_extensions

CHROME_OFFER = """v=0
m=audio 9 UDP/TLS/RTP/SAVPF 111
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
m=video 9 UDP/TLS/RTP/SAVPF 96
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:9 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
"""


@pytest.fixture(autouse=True)
def aiortc_own_extensions() -> Iterator[None]:
    """aiortc's own extension table: a relay started earlier in this process may have added playout-delay."""
    aiortc_playout_delay.uninstall()
    yield


def _ids(extensions) -> dict[str, dict[str, int]]:
    return {
        kind: {e.uri.rsplit(":", 1)[-1].rsplit("/", 1)[-1]: e.id for e in exts} for kind, exts in extensions.items()
    }


def test_ids_follow_the_page() -> None:
    ids = _ids(page_extensions(CHROME_OFFER))
    assert ids["audio"] == {"mid": 4, "ssrc-audio-level": 1}
    assert ids["video"] == {"mid": 4, "abs-send-time": 2}


def test_an_extension_the_page_lacks_gets_an_unused_id() -> None:
    offer = "v=0\nm=audio 9 RTP 0\na=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\na=extmap:2 urn:x\n"
    ids = _ids(page_extensions(offer))
    assert ids["audio"]["mid"] == 1
    others = {ids["audio"]["ssrc-audio-level"], ids["video"]["abs-send-time"]}
    assert others.isdisjoint({1, 2}) and len(others) == 2


def test_the_offer_uses_them_and_the_defaults_come_back() -> None:
    async def offer() -> str:
        pc = RTCPeerConnection()
        pc.addTransceiver("audio", direction="sendonly")
        pc.addTransceiver("video", direction="sendonly")
        description = await create_offer(pc, page_extensions(CHROME_OFFER))
        await pc.close()
        return description.sdp

    sdp = asyncio.run(offer())
    assert "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid" in sdp
    assert "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level" in sdp
    assert "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time" in sdp
    assert rtcpeerconnection.HEADER_EXTENSIONS is HEADER_EXTENSIONS


def test_playout_delay_takes_the_pages_id_and_is_left_out_where_the_page_did_not_offer_it() -> None:
    aiortc_playout_delay.install()
    try:
        offered = CHROME_OFFER + f"a=extmap:12 {aiortc_playout_delay.URI}\n"
        assert _ids(page_extensions(offered))["video"]["playout-delay"] == 12
        assert "playout-delay" not in _ids(page_extensions(CHROME_OFFER))["video"]
    finally:
        aiortc_playout_delay.uninstall()


def test_a_firefox_offer_loses_the_playout_delay_line_and_a_chromium_one_keeps_it() -> None:
    line = f"a=extmap:12 {aiortc_playout_delay.URI}\n"
    firefox = "v=0\no=mozilla...THIS_IS_SDPARTA-128.0 1 0 IN IP4 0.0.0.0\n" + line + "a=extmap:4 urn:x\n"
    assert (
        aiortc_playout_delay.for_page(firefox)
        == "v=0\no=mozilla...THIS_IS_SDPARTA-128.0 1 0 IN IP4 0.0.0.0\na=extmap:4 urn:x\n"
    )
    chromium = "v=0\no=- 4611 2 IN IP4 127.0.0.1\n" + line
    assert aiortc_playout_delay.for_page(chromium) == chromium
