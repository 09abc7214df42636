"""The playout-delay extension: agreed where the page offers it, and on every video packet sent."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterator

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription, rtp
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters

from callbridge.media.adapt import aiortc_playout_delay
from callbridge.media.adapt.aiortc_playout_delay import URI, value


@pytest.fixture
def installed() -> Iterator[None]:
    aiortc_playout_delay.install()
    yield
    aiortc_playout_delay.uninstall()


def test_value_packs_twelve_bit_tens_of_milliseconds() -> None:
    assert value(0, 500) == bytes([0x00, 0x00, 0x32])
    assert value(100, 200) == bytes([0x00, 0xA0, 0x14])
    with pytest.raises(ValueError, match="out of range"):
        value(300, 200)


def _sent(extensions: rtp.HeaderExtensionsMap) -> dict[int, bytes]:
    """The header extensions of a packet as a sender with `extensions` writes it, by id."""
    packet = rtp.RtpPacket(payload_type=96, sequence_number=1, timestamp=1)
    packet.extensions.mid = "0"
    data = packet.serialize(extensions)
    assert data[0] & 0x10, "no header extension at all"
    profile, words = struct.unpack("!HH", data[12:16])
    return dict(rtp.unpack_header_extensions(profile, data[16 : 16 + 4 * words]))


def _map(*uris: str) -> rtp.HeaderExtensionsMap:
    params = RTCRtpParameters(
        headerExtensions=[RTCRtpHeaderExtensionParameters(id=k + 4, uri=u) for k, u in enumerate(uris)]
    )
    extensions = rtp.HeaderExtensionsMap()
    extensions.configure(params)
    return extensions


def test_a_sender_that_agreed_it_writes_it_beside_the_others(installed: None) -> None:
    found = _sent(_map("urn:ietf:params:rtp-hdrext:sdes:mid", URI))
    assert found == {4: b"0", 5: value()}


def test_a_sender_that_did_not_agree_it_writes_nothing_new(installed: None) -> None:
    assert _sent(_map("urn:ietf:params:rtp-hdrext:sdes:mid")) == {4: b"0"}


CHROME_VIDEO_OFFER = """v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0
m=video 9 UDP/TLS/RTP/SAVPF 96
c=IN IP4 0.0.0.0
a=mid:0
a=sendrecv
a=rtcp-mux
a=ice-ufrag:abcd
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
a=setup:actpass
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:12 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
a=rtpmap:96 VP8/90000
"""


def _answer_extmaps() -> str:
    async def answer() -> str:
        pc = RTCPeerConnection()
        try:
            await pc.setRemoteDescription(RTCSessionDescription(CHROME_VIDEO_OFFER, "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            return pc.localDescription.sdp
        finally:
            await pc.close()

    return "\n".join(line for line in asyncio.run(answer()).splitlines() if line.startswith("a=extmap"))


def test_the_answer_agrees_it_with_the_pages_id(installed: None) -> None:
    assert f"a=extmap:12 {URI}" in _answer_extmaps()


def test_without_install_aiortc_leaves_it_out() -> None:
    assert URI not in _answer_extmaps()
