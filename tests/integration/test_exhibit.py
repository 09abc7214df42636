"""Exhibition mode for real: `callbridge serve --exhibit DIR` with a recording made at test time
(Grace Hopper's face saying the phrase). Her recorded self joins room `exhibit`, her phrase fires a
personalised ad, a visitor and a watching screen receive her, and the act loops. Bad folders exit 2."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adengine.label import DisclosureLabel
from tests.support import faces
from tests.support.clips import monologue, recording
from tests.support.relayserver import serving
from tests.support.rtcclient import LoopAudio, LoopVideo, RoomClient

pytestmark = pytest.mark.integration
ALICE = "alice (recorded)"


def exhibit(tmp_path: Path) -> Path:
    show = tmp_path / "show"
    source = monologue(tmp_path / "m.mp4", "Shall we have dinner tonight? I know a nice place.", lead_s=2.0, tail_s=6.0)
    recording(show, "gallery", [("alice", source)])
    (show / "broken.mp4").write_bytes(b"not a video")  # left out, with a note
    return show


async def labelled_frames(client: RoomClient, wanted: int) -> None:
    label, seen = DisclosureLabel(), 0
    async for _, frame in client.frames_of(ALICE):
        seen += label.is_on(frame)
        if seen >= wanted:
            return


def test_a_recording_plays_into_the_exhibit_room_in_a_loop(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    show = exhibit(tmp_path)

    async def visit(url: str) -> None:
        bob = RoomClient(
            url,
            "exhibit",
            "bob",
            True,
            LoopVideo(faces.animate(faces.astronaut(), 20)),
            LoopAudio(np.zeros(96000, np.int16)),
        )
        screen = RoomClient(url, "exhibit", "screen", False, None, None)  # type: ignore[arg-type]
        try:
            await bob.join()
            await screen.join(watch=True)
            joined = await bob.wait_event("joined", ALICE, 30)
            assert joined["consent"] is True  # the recording says she agreed to face use
            start = await bob.wait_event("ad-start", ALICE, 40)
            assert start["personalised"] is True
            await asyncio.wait_for(labelled_frames(screen, 10), 10)  # the screen receives her ad
            left = await bob.wait_event("left", ALICE, 40)
            await bob.wait_event("joined", ALICE, 20, after=bob.events.index(left))  # the loop comes round
            assert not [e for e in bob.events if "watcher" in str(e.get("participant"))]  # no one hears of screens
        finally:
            await bob.leave()
            await screen.leave()

    with serving(data, "--exhibit", str(show)) as url:
        asyncio.run(visit(url))
    log = (data / "serve.log").read_text()
    assert "broken.mp4 is not a video file" in log and "kiosk screen on" in log


@pytest.mark.parametrize("make", ["missing", "empty", "only-junk"])
def test_a_folder_with_nothing_to_play_exits_2_with_one_line(tmp_path, make):
    folder = tmp_path / "show"
    if make != "missing":
        folder.mkdir()
    if make == "only-junk":
        (folder / "a.mp4").write_bytes(b"junk")
    argv = [sys.executable, "-m", "callbridge", "serve", "--data", str(tmp_path / "d"), "--exhibit", str(folder)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "--exhibit" in errors[0], done.stderr
