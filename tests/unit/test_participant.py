"""Participant.media_connected: renegotiation waits for the page's ICE and DTLS."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from callbridge.web.participant import NegotiationError, Participant


async def _nothing(message: dict) -> None:
    return None


def _participant() -> Participant:
    return Participant("ana", "demo", SimpleNamespace(consent=False, close=lambda: None), _nothing)


def test_media_that_never_comes_up_times_out_with_a_reason():
    async def scenario():
        p = _participant()
        try:
            assert not p.media_up
            with pytest.raises(NegotiationError, match="ana's media connection was not up within"):
                await p.media_connected(timeout_s=0.05)
        finally:
            await p.pc.close()

    asyncio.run(scenario())


def test_a_closed_connection_fails_at_once():
    async def scenario():
        p = _participant()
        await p.pc.close()
        with pytest.raises(NegotiationError, match="ana's media connection closed"):
            await asyncio.wait_for(p.media_connected(timeout_s=30), 1.0)

    asyncio.run(scenario())
