"""The personalised ad with the real face mesh: swap, label, template ingest, `callbridge render`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from adengine.facebank import assess_image
from adengine.label import DisclosureLabel
from adengine.media import read_clip
from adengine.renderer import AdRenderer
from adengine.template import TemplateLibrary
from tests.support.faces import ASTRONAUT_FACE, HOPPER_FACE, astronaut, dark, hopper, noise_image, portrait, small

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def hopper_ad(template):
    return AdRenderer(template).render(assess_image(portrait(hopper(), HOPPER_FACE)))


@pytest.fixture(scope="module")
def astronaut_ad(template):
    return AdRenderer(template).render(assess_image(portrait(astronaut(), ASTRONAUT_FACE)))


def _face_zone(template, i: int, margin: float) -> np.ndarray:
    """The actor's face hull in frame i, grown by `margin` of the face width."""
    pts = template.track.landmarks[i][:468]
    grow = margin * float(np.ptp(pts[:, 0]))
    centre = pts.mean(axis=0)
    hull = cv2.convexHull(np.round(centre + (pts - centre) * (1 + 2 * grow / np.ptp(pts[:, 0]))).astype(np.int32))
    zone = np.zeros(template.frames[i].shape[:2], np.uint8)
    cv2.fillConvexPoly(zone, hull, 1)
    return zone.astype(bool)


def _label_zone(frame: np.ndarray) -> np.ndarray:
    x, y, w, h = DisclosureLabel().box(*frame.shape[:2])
    zone = np.zeros(frame.shape[:2], bool)
    zone[y : y + h, x : x + w] = True
    return zone


def test_the_default_template_is_tracked_in_every_frame(template):
    assert len(template.track) == len(template.frames) >= 150
    widths = np.ptp(template.track.landmarks[:, :468, 0], axis=1)
    assert widths.min() > 100


def test_the_swap_changes_the_face_and_leaves_far_pixels_alone(template, hopper_ad):
    for i in (0, len(template.frames) // 2, len(template.frames) - 1):
        before, after = template.frames[i].astype(int), hopper_ad.frames[i].astype(int)
        inner = _face_zone(template, i, -0.15)
        far = ~_face_zone(template, i, 0.15) & ~_label_zone(after)
        assert np.abs(after - before)[inner].mean() > 12
        assert np.array_equal(after[far], before[far])


def test_two_faces_give_two_ads_that_differ_only_in_the_face(template, hopper_ad, astronaut_ad):
    i = len(template.frames) // 3
    a, b = hopper_ad.frames[i].astype(int), astronaut_ad.frames[i].astype(int)
    assert np.abs(a - b)[_face_zone(template, i, -0.15)].mean() > 8
    outside = ~_face_zone(template, i, 0.15)
    assert np.array_equal(a[outside], b[outside])


def test_the_actors_inner_mouth_is_kept(template, hopper_ad):
    i = 10
    pts = template.track.landmarks[i]
    mouth_centre = np.round((pts[13] + pts[14]) / 2).astype(int)  # between the inner lips
    x, y = mouth_centre
    patch = np.s_[y - 1 : y + 2, x - 2 : x + 3]
    assert np.abs(hopper_ad.frames[i][patch].astype(int) - template.frames[i][patch]).mean() < 12


def test_the_swapped_face_does_not_flicker(template, hopper_ad):
    zone = [_face_zone(template, i, -0.15) for i in range(len(template.frames))]

    def jitter(frames):
        return np.median(
            [np.abs(frames[i].astype(int) - frames[i - 1])[zone[i] & zone[i - 1]].mean() for i in range(1, len(frames))]
        )

    # the ad moves as much as the template's own head motion does, not more
    assert jitter(hopper_ad.frames) < 1.5 * jitter(template.frames) + 1.0


def test_every_frame_carries_the_label(hopper_ad):
    label = DisclosureLabel()
    assert all(label.is_on(f) for f in hopper_ad.frames)


def test_a_second_look_at_the_template_uses_the_cache(data_dir, template):
    cached = list((data_dir / "templates" / ".cache").glob("*.npz"))
    assert len(cached) == 1
    again = TemplateLibrary(data_dir, lambda: pytest.fail("the cached track should be used"))
    assert len(again.get("default").track) == len(template.track)


def _render(tmp_path, data_dir, face: np.ndarray | Path, *extra: str) -> subprocess.CompletedProcess:
    if isinstance(face, np.ndarray):
        path = tmp_path / "face.png"
        cv2.imwrite(str(path), cv2.cvtColor(face, cv2.COLOR_RGB2BGR))
        face = path
    cmd = [
        sys.executable,
        "-m",
        "callbridge",
        "render",
        "--face",
        str(face),
        "--out",
        str(tmp_path / "ad.mp4"),
        "--data",
        str(data_dir),
        *extra,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_render_cli_writes_a_labelled_mp4_with_the_soundtrack(tmp_path, data_dir, template):
    done = _render(tmp_path, data_dir, portrait(hopper(), HOPPER_FACE), "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert record["event"] == "rendered" and record["frames"] == len(template.frames)
    assert (record["width"], record["height"], record["fps"]) == (640, 480, 25.0)
    assert record["render_ms"] > 0 and 0 < record["face_quality"] <= 1
    clip = read_clip(tmp_path / "ad.mp4")
    assert len(clip.frames) == record["frames"] and clip.audio is not None and clip.sample_rate
    assert all(DisclosureLabel().is_on(f) for f in clip.frames)


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda: noise_image(), "no face"),
        (lambda: small(hopper(), HOPPER_FACE, face_width=40, canvas=(320, 240)), "too small"),
        (lambda: dark(portrait(hopper(), HOPPER_FACE), level=0.08), "too dark"),
    ],
)
def test_render_refuses_a_face_it_cannot_use(tmp_path, data_dir, make, reason):
    done = _render(tmp_path, data_dir, make())
    assert done.returncode == 2
    assert reason in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "ad.mp4").exists()


def test_render_refuses_a_corrupt_image_and_a_corrupt_video(tmp_path, data_dir):
    bad_png = tmp_path / "bad.png"
    bad_png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    bad_mp4 = tmp_path / "bad.mp4"
    bad_mp4.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x13" * 500)
    for path in (bad_png, bad_mp4, tmp_path / "missing.jpg"):
        done = _render(tmp_path, data_dir, path)
        assert done.returncode == 2 and done.stderr.count("\n") <= 2 and "Traceback" not in done.stderr, done.stderr
        assert not (tmp_path / "ad.mp4").exists()


def _add_template(tmp_path, clip: Path) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "callbridge",
        "template",
        "add",
        str(clip),
        "--name",
        "t1",
        "--title",
        "T",
        "--phrase",
        "dinner tonight",
        "--licence",
        "CC0",
        "--data",
        str(tmp_path / "data"),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_a_template_clip_without_a_face_is_refused_by_the_probe(tmp_path):
    from adengine.encode import write_mp4

    frames = [noise_image((320, 240), seed=i) for i in range(20)]
    write_mp4(tmp_path / "noface.mp4", frames, 25.0)
    done = _add_template(tmp_path, tmp_path / "noface.mp4")
    assert done.returncode == 2
    # the face probe, on frames spread over the clip, refuses it before the whole clip is tracked
    assert "no face found in the clip" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "data" / "templates" / "t1").exists()


def test_a_template_clip_that_is_not_a_video_or_truncated_is_refused(tmp_path, data_dir, template):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 50)
    good = data_dir / "templates" / "default" / "clip.mp4"
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    for clip in (text, cut):
        done = _add_template(tmp_path, clip)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert not (tmp_path / "data" / "templates" / "t1").exists()
