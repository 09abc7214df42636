"""Live apply, for real: a call is running when "pizza night" is added through the API, mapped to a
template uploaded a moment before; the speaker then says it (synthesised speech) and the ad that plays
is the new template's. Disabled, the phrase stops firing. No restart, no dropped call."""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from tests.support.adminapi import upload_and_wait
from tests.support.clips import face_clip
from tests.support.relayserver import serving
from tests.support.rtcclient import in_call, talker_and_listener
from tests.support.speech import say

pytestmark = pytest.mark.integration
TOKEN = "live-apply-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("live-data"), env={"CALLBRIDGE_ADMIN_TOKEN": TOKEN}) as url:
        yield url


def speech(folder: Path) -> np.ndarray:
    path = say(folder / "pizza.wav", "Shall we have pizza night? I know a nice place.", lead_s=1.0, tail_s=6.0)
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    return np.repeat(pcm, 3)  # 16 kHz -> 48 kHz


def test_a_phrase_added_mid_call_plays_the_new_template(server: str, tmp_path: Path) -> None:
    clip = face_clip(tmp_path / "pizza.mp4", seconds=3.0, size=(480, 360))
    audio = speech(tmp_path)

    async def call() -> None:
        async with aiohttp.ClientSession() as session:
            fields = {"name": "pizza", "title": "Pizza Palace", "max_duration_s": "3"}
            record, _ = await upload_and_wait(session, server, clip, TOKEN, **fields)
            assert record["status"] == "ready", record
            alice, bob = talker_and_listener(server, "live", audio)
            async with in_call(alice, bob):
                heard = await bob.wait_event("transcript", "alice", 40)
                await asyncio.sleep(9.0)  # a whole loop of the sentence, before the phrase exists
                assert not [e for e in bob.events if e["type"] == "trigger"]
                sent = time.time()
                async with session.post(
                    server + "/api/phrases", json={"phrase": "pizza night", "template": "pizza"}, headers=AUTH
                ) as r:
                    assert r.status == 201
                change = await bob.wait_event("campaign", None, 5)
                assert "pizza night" in change["phrases"]
                assert time.time() - sent < 1.0, "the change reached the room within 1 s"
                start = await bob.wait_event("ad-start", "alice", 30, after=bob.events.index(change))
                assert start["template"] == "pizza" and start["title"] == "Pizza Palace"
                await bob.wait_event("ad-end", "alice", 15, after=bob.events.index(start))
                async with session.patch(
                    server + "/api/phrases/pizza%20night", json={"enabled": False}, headers=AUTH
                ) as r:
                    assert r.status == 200
                off = await bob.wait_event("campaign", None, 5, after=bob.events.index(change) + 1)
                assert "pizza night" not in off["phrases"]
                await asyncio.sleep(12.0)  # more than a loop: she says it again, disabled
                later = bob.events[bob.events.index(off) :]
                assert not [e for e in later if e["type"] == "trigger"], "a disabled phrase stops firing"
                assert [e for e in later if e["type"] == "transcript" and "pizza" in e["text"].lower()]
                assert heard and not [e for e in bob.events if e["type"] == "left"]  # nobody was dropped

    asyncio.run(call())
