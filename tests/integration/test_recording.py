"""Recording for real: `callbridge serve --record`, two scripted participants who both agree, a phrase
and its ad; then one withdraws and the recording stops for everyone. The directory holds what the
relay received (one Matroska file each), the room's events and a manifest, and nothing else."""

from __future__ import annotations

import asyncio
import json
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from tests.support.relayserver import serving
from tests.support.replaycheck import replay_matches_the_live_call
from tests.support.rtcclient import in_call, talker_and_listener
from tests.support.speech import say

pytestmark = pytest.mark.integration


def speech(folder: Path) -> np.ndarray:
    path = say(folder / "s.wav", "Shall we have dinner tonight? I know a nice place.", lead_s=2.0, tail_s=9.0)
    with wave.open(str(path)) as w:
        return np.repeat(np.frombuffer(w.readframes(w.getnframes()), np.int16), 3)


def test_a_call_is_recorded_while_both_agree(tmp_path):
    data = tmp_path / "data"
    data.mkdir()

    async def call(url: str) -> None:
        alice, bob = talker_and_listener(url, "rec", speech(tmp_path))
        async with in_call(alice, bob):
            await alice.send({"type": "record", "agree": True})
            await asyncio.sleep(1.0)
            assert not [e for e in bob.events if e["type"] == "recording"]  # bob has not agreed yet
            await bob.send({"type": "record", "agree": True})
            on = await bob.wait_event("recording", None, 10)
            assert on["on"] is True
            start = await bob.wait_event("ad-start", "alice", 45, after=bob.events.index(on))
            await bob.wait_event("ad-end", "alice", 20, after=bob.events.index(start))
            await alice.send({"type": "record", "agree": False})
            off = await bob.wait_event("recording", None, 10, after=bob.events.index(on) + 1)
            assert off["on"] is False and "reason" not in off
            await alice.wait_event("recording", None, 5)  # every page hears of it

    with serving(data, "--record") as url:
        asyncio.run(call(url))
    # When alice, who withdrew, leaves, bob is alone and agrees: a recording of bob alone may follow
    folder, *later = sorted((data / "recordings").iterdir())
    for other in later:
        assert [p["name"] for p in json.loads((other / "manifest.json").read_text())["participants"]] == ["bob"]
    assert sorted(p.name for p in folder.iterdir()) == ["alice-1.mkv", "bob-2.mkv", "events.jsonl", "manifest.json"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [p["name"] for p in manifest["participants"]] == ["alice", "bob"] and manifest["ended_t"]
    kinds = [json.loads(line)["type"] for line in (folder / "events.jsonl").read_text().splitlines()]
    assert {"recording", "transcript", "trigger", "ad-start", "ad-end"} <= set(kinds)
    for name in ("alice-1.mkv", "bob-2.mkv"):
        with av.open(str(folder / name)) as container:
            streams = sorted((s.type, s.codec_context.name) for s in container.streams)
            assert streams == [("audio", "opus"), ("video", "h264")]
            frames = sum(1 for _ in container.decode(video=0))
            # the whole 7 s ad lies between agreeing and withdrawing; how soon the phrase fires after agreeing varies
            assert container.duration / 1e6 > 7.0 and frames > 60, (name, container.duration, frames)

    replay_matches_the_live_call(folder, data, tmp_path / "replay.mp4")
