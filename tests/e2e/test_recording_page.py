"""Recording in real browsers: two headless Chromiums in a `serve --record` room. Neither page shows
REC until both have agreed on the page's own switch; then both do; when one withdraws, both stop.
The recording's folder names both people."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.browser import media
from tests.support.browser.chromium import ChromiumParticipant
from tests.support.relayserver import serving

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("CALLBRIDGE_RECORDING_SHOTS")  # a folder to keep the pages' screenshots in


def test_rec_shows_only_while_both_agree(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    data = tmp_path / "data"
    data.mkdir()
    shots = Path(SHOTS) if SHOTS else tmp_path
    y4m = media.write_y4m(tmp_path / "face.y4m", media.face_video("hopper", 3.0))
    wav = media.silence_wav(tmp_path / "quiet.wav", 3.0)
    with serving(data, "--record") as url, sync_playwright() as pw:
        people = [ChromiumParticipant(pw, name, y4m, wav) for name in ("alice", "bob")]
        try:
            for person in people:
                person.join(f"{url}/room/rec")
            for person in people:
                expect(person.page.locator("#record-switch")).to_be_visible(timeout=20_000)
                expect(person.page.locator("#rec")).to_be_hidden()
            alice, bob = (p.page for p in people)
            alice.check("#record-live", force=True)
            bob.wait_for_timeout(1000)
            expect(bob.locator("#rec")).to_be_hidden()  # bob has not agreed
            bob.check("#record-live", force=True)
            for page in (alice, bob):
                expect(page.locator("#rec")).to_be_visible(timeout=10_000)
            bob.screenshot(path=str(shots / "recording-on.png"))
            alice.uncheck("#record-live", force=True)
            for page in (alice, bob):
                expect(page.locator("#rec")).to_be_hidden(timeout=10_000)
        except Exception:
            for person in people:
                person.screenshot(shots / f"recording-failure-{person.name}.png")
            raise
        finally:
            for person in people:
                person.close()
    # once alice has withdrawn, bob still agrees: if her page closes first, a recording of bob alone may follow
    folder, *later = sorted((data / "recordings").iterdir())
    for other in later:
        assert [p["name"] for p in json.loads((other / "manifest.json").read_text())["participants"]] == ["bob"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [p["name"] for p in manifest["participants"]] == ["alice", "bob"] and manifest["ended_t"]
