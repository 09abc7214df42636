"""The kiosk page in a real browser: headless Chromium opens /kiosk/exhibit on `serve --exhibit`.
It shows the recorded participant fullscreen with no controls and no cursor, her ad arrives
labelled, and when the server goes away and comes back on the same port the page rejoins by itself."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from adengine.label import DisclosureLabel
from tests.support.browser.chromium import CHROMIUM, CHROMIUM_FLAGS, EVENTS_JS, GRAB_JS, _decode_png
from tests.support.clips import monologue, recording
from tests.support.relayserver import free_port, serving

pytestmark = pytest.mark.e2e
ALICE = "alice (recorded)"
SHOTS = os.environ.get("CALLBRIDGE_KIOSK_SHOTS")  # a folder to keep the page's screenshots in

PLAYING_JS = """(name) => {
  const v = document.querySelector('video[data-participant="' + CSS.escape(name) + '"]');
  return !!v && v.videoWidth > 0 && !v.paused && v.readyState >= 2;
}"""


def wait_for(page, check, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        page.wait_for_timeout(250)
    raise AssertionError(f"kiosk: {what} within {timeout_s:.0f} s")


def test_the_kiosk_shows_the_exhibit_fullscreen_and_rejoins_after_a_drop(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    data = tmp_path / "data"
    data.mkdir()
    shots = Path(SHOTS) if SHOTS else tmp_path
    source = monologue(tmp_path / "m.mp4", "Shall we have dinner tonight? I know a nice place.", lead_s=2.0, tail_s=6.0)
    show = tmp_path / "show"
    recording(show, "gallery", [("alice", source)])
    port = free_port()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        try:
            with serving(data, "--exhibit", str(show), port=port) as url:
                page.goto(f"{url}/kiosk/exhibit")
                wait_for(page, lambda: page.evaluate(PLAYING_JS, ALICE), 30, f"{ALICE} playing")
                looks = page.evaluate(
                    """() => ({kiosk: document.body.classList.contains('kiosk'),
                               cursor: getComputedStyle(document.body).cursor,
                               controls: [...document.querySelectorAll('button, input')]
                                 .filter(e => e.offsetParent).length,
                               local: !!document.getElementById('local')})"""
                )
                assert looks == {"kiosk": True, "cursor": "none", "controls": 0, "local": False}
                tile = page.evaluate(GRAB_JS, [ALICE, None])["rect"]
                assert tile["w"] >= 700 and tile["h"] >= 520, tile  # one person fills the screen
                page.screenshot(path=str(shots / "kiosk-live.png"))
                events = lambda: page.evaluate(EVENTS_JS)  # noqa: E731
                wait_for(
                    page,
                    lambda: any(e["type"] == "ad-start" and e["participant"] == ALICE for e in events()),
                    40,
                    "ad-start",
                )
                page.wait_for_timeout(1500)
                grab = page.evaluate(GRAB_JS, [ALICE, None])
                assert grab["png"] and DisclosureLabel().is_on(_decode_png(grab["png"]))
                assert grab["rect"]["w"] >= 1000  # the ad fills the screen
                page.screenshot(path=str(shots / "kiosk-ad.png"))
            # the server is gone: the page keeps trying, and rejoins when it is back on the same port
            page.wait_for_timeout(2000)
            assert not page.evaluate(PLAYING_JS, ALICE)
            with serving(data, "--exhibit", str(show), port=port):
                wait_for(page, lambda: page.evaluate(PLAYING_JS, ALICE), 45, f"{ALICE} playing again")
                assert page.evaluate(GRAB_JS, [ALICE, None])["rect"]["w"] >= 700
                page.screenshot(path=str(shots / "kiosk-back.png"))
        except Exception:
            page.screenshot(path=str(shots / "kiosk-failure.png"))
            raise
        finally:
            browser.close()
