"""The admin page in a real headless Chromium: log in, add a phrase, upload a clip made at test
time, watch it ingest, and play its labelled preview.

The relay runs with `--passthrough`: the admin page needs no speech model, and the
ingest and preview use the real face mesh all the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support import faces
from tests.support.browser.chromium import CHROMIUM
from tests.support.clips import face_clip
from tests.support.relayserver import serving

pytestmark = pytest.mark.e2e
TOKEN = "admin-e2e-token-0123456789"
SHOTS = os.environ.get("CALLBRIDGE_ADMIN_SHOTS")  # a folder to keep the page's screenshots in


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    # passthrough: the admin page needs no speech model; ingest and preview use the face mesh all the same
    data = tmp_path_factory.mktemp("admin-data")
    with serving(data, "--passthrough", env={"CALLBRIDGE_ADMIN_TOKEN": TOKEN}) as url:
        yield url


def test_a_designer_adds_a_phrase_uploads_a_clip_and_sees_its_preview(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    clip = face_clip(tmp_path / "pizza-ad.mp4", seconds=3.0, size=(480, 360))
    photo = tmp_path / "me.png"
    Image.fromarray(faces.portrait(faces.hopper(), faces.HOPPER_FACE, face_width=200)).save(photo)
    errors: list[str] = []
    shots = Path(SHOTS) if SHOTS else tmp_path
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless=new"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: d.accept())
        try:
            page.goto(server + "/admin")
            page.fill("#token", "not-the-token-000000")
            page.click("#login")
            expect(page.locator("#login-error")).to_be_visible()
            page.fill("#token", TOKEN)
            page.click("#login")
            expect(page.locator('#phrases-table tbody tr[data-phrase="dinner tonight"]')).to_be_visible()
            assert TOKEN not in page.url
            assert page.evaluate("() => sessionStorage.getItem('callbridge-admin-token')") == TOKEN
            assert page.evaluate("() => localStorage.length") == 0
            page.screenshot(path=str(shots / "admin-signed-in.png"), full_page=True)

            page.fill("#upload-name", "pizza")
            page.fill("#upload-title", "Pizza Palace")
            page.fill("#upload-licence", "astronaut portrait, public domain (NASA)")
            page.set_input_files("#upload-file", str(clip))
            page.click("#upload-submit")
            card = page.locator('#templates [data-template="pizza"]')
            expect(card).to_be_visible(timeout=20_000)
            expect(card).to_have_attribute("data-status", "ready", timeout=120_000)
            expect(card.locator(".verdict")).to_contain_text("tracked")

            page.fill("#phrase-input", "pizza night")
            expect(page.locator("#phrase-warnings")).to_contain_text("short", timeout=5_000)
            page.select_option("#phrase-template", "pizza")
            page.click("#phrase-add")
            row = page.locator('#phrases-table tbody tr[data-phrase="pizza night"]')
            expect(row).to_be_visible()
            expect(row).to_contain_text("pizza")

            card.locator("input.preview-photo").set_input_files(str(photo))
            video = card.locator("video.preview-video")
            expect(video).to_be_visible(timeout=60_000)
            page.wait_for_function(
                "() => { const v = document.querySelector('#templates [data-template=pizza] video.preview-video');"
                " return v && v.readyState >= 2 && v.videoWidth > 0; }",
                timeout=20_000,
            )
            frame = np.asarray(Image.open(__import__("io").BytesIO(video.screenshot())).convert("RGB"))
            assert frame.std() > 20  # a picture, not a blank box
            card.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "admin-template-preview.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(shots / "admin-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert errors == []
