"""The room key in a real browser: the kiosk page passes its link's ?key= on to the websocket, and
without it the page shows the server's refusal. Signalling only (`serve --passthrough`, no media needed)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.browser.chromium import CHROMIUM, CHROMIUM_FLAGS
from tests.support.relayserver import serving

pytestmark = pytest.mark.e2e
KEY = "gallery-key-0123"


def wait_for(page, check, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        page.wait_for_timeout(200)
    raise AssertionError(f"{what} within {timeout_s:.0f} s")


def test_the_page_passes_its_key_and_shows_a_refusal_without_it(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    data = tmp_path / "data"
    data.mkdir()
    with serving(data, "--passthrough", "--room-key", KEY) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.goto(f"{url}/kiosk/demo")
            status = wait_for(
                page, lambda: page.evaluate("() => document.getElementById('status').textContent"), 15, "a refusal"
            )
            assert "this room needs its key" in status
            page = browser.new_page()
            page.goto(f"{url}/kiosk/demo?key={KEY}")
            conn = lambda: page.evaluate("() => document.getElementById('conn').textContent")  # noqa: E731
            wait_for(page, lambda: "Joined" in conn() or "Live" in conn(), 15, "a welcome")
            assert not page.evaluate("() => document.getElementById('status').textContent")
        finally:
            browser.close()
