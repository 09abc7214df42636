"""Record a call in real browsers, replay it, and find the live run's triggers and ads again (issue 19).

Two headless Chromiums join a `serve --record` room and both agree to recording; alice says "dinner
tonight" and bob's page sees her ad come and go; they leave, and `callbridge replay` of the recording
must hear the phrase where the live call's events.jsonl has it, and play her ad where it played live,
start and end, each within 0.5 s (tests/support/replaycheck.py).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.support.browser import media
from tests.support.browser.chromium import ChromiumParticipant
from tests.support.browser.report import dump
from tests.support.relayserver import serving
from tests.support.replaycheck import replay_matches_the_live_call

pytestmark = pytest.mark.e2e
KEEP = os.environ.get("CALLBRIDGE_RECORD_REPLAY_KEEP")  # a folder to keep the recording and its replay in
# Alice's microphone: LEAD_S of silence, the sentence (about 3 s), silence to LOOP_S, looped. The recording
# starts about 2 s after her microphone opens (both join, see each other, agree), before her sentence; the
# loop outlasts the phrase, its 7 s ad and the leaving, so no second phrase reaches the recording.
LEAD_S, LOOP_S = 6.0, 16.0
JOINED_JS = """name => ((window.callbridge && window.callbridge.events) || [])
  .some(e => e.type === 'joined' && e.participant === name)"""
# The first ad of alice after the recording started, and its end, on a page's events.
AD_OVER_JS = """name => {
  const events = (window.callbridge && window.callbridge.events) || [];
  const on = events.findIndex(e => e.type === 'recording' && e.on);
  const start = events.findIndex((e, i) => i > on && on >= 0 && e.type === 'ad-start' && e.participant === name);
  return start >= 0 && events.some((e, i) => i > start && e.type === 'ad-end' && e.participant === name);
}"""


def test_a_recorded_call_replays_as_it_happened(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    began = time.monotonic()

    def lap(what: str) -> None:
        print(f"{time.monotonic() - began:6.1f} s {what}")

    data = tmp_path / "data"
    data.mkdir()
    faces = [media.write_y4m(tmp_path / f"{k}.y4m", media.face_video(k, 3.0)) for k in ("hopper", "astronaut")]
    talk = media.speech_wav(tmp_path / "alice.wav", "Shall we have dinner tonight? I know a place.", LOOP_S, LEAD_S)
    quiet = media.silence_wav(tmp_path / "bob.wav", 3.0)
    with serving(data, "--record") as url, sync_playwright() as pw:
        people = [ChromiumParticipant(pw, "alice", faces[0], talk), ChromiumParticipant(pw, "bob", faces[1], quiet)]
        try:
            room = f"{url}/room/replay?raw=1"
            people[1].page.goto(room, wait_until="load", timeout=20_000)  # bob joins right after alice
            spoke = time.time()  # alice's microphone opens as she joins
            people[0].join(room)
            expect(people[0].page.locator("#record-switch")).to_be_visible(timeout=20_000)  # she is in: first tile
            lap("alice joined")
            people[1].page.fill("#name", "bob")
            people[1].page.check("#consent")
            people[1].page.click("#join")
            lap("bob joined")
            for person, other in zip(people, people[::-1], strict=True):  # alone in the room, one would record
                person.page.wait_for_function(JOINED_JS, arg=other.name, timeout=20_000, polling=100)
            lap("joins seen")
            for person in people:
                expect(person.page.locator("#record-switch")).to_be_visible()
                person.page.check("#record-live", force=True)
            for person in people:
                expect(person.page.locator("#rec")).to_be_visible(timeout=10_000)
            lap("REC")
            (folder,) = (data / "recordings").iterdir()
            late = json.loads((folder / "manifest.json").read_text())["started_t"] - spoke
            print(f"recording started {late:.1f} s after alice's microphone opened; her sentence at {LEAD_S} s")
            assert late < LEAD_S, "the recording started after alice began her sentence: joining took too long"
            people[1].page.wait_for_function(AD_OVER_JS, arg="alice", timeout=45_000, polling=250)
            lap("ad over")
        except Exception:
            dump(people, tmp_path)  # screenshots, events and consoles of both pages
            raise
        finally:
            for person in people:
                person.close()
        _wait_ended(folder)
    lap("call over")
    replay_matches_the_live_call(folder, data, tmp_path / "replay.mp4")
    lap("replayed")
    if KEEP:
        shutil.copytree(folder, Path(KEEP) / folder.name, dirs_exist_ok=True)
        shutil.copy(tmp_path / "replay.mp4", Path(KEEP) / "replay.mp4")
        shutil.copytree(data / "provenance", Path(KEEP) / "provenance", dirs_exist_ok=True)


def _wait_ended(folder: Path, timeout_s: float = 15.0) -> None:
    """Until the recording is closed (both have left); alice's is the first tile of its replay."""
    deadline = time.monotonic() + timeout_s
    while not (manifest := json.loads((folder / "manifest.json").read_text()))["ended_t"]:
        assert time.monotonic() < deadline, f"the recording in {folder} did not end when both left"
        time.sleep(0.25)
    assert [p["name"] for p in manifest["participants"]] == ["alice", "bob"], manifest
