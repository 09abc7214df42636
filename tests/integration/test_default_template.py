"""The built-in `default` ad: a moving public-domain face beside drawn graphics, with a jingle."""

from __future__ import annotations

from pathlib import Path

import mediapipe as mp
import numpy as np
import pytest

from adengine import default_template as dt
from adengine.media import Clip, probe, read_clip

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, list[tuple[int, int]]]:
    calls: list[tuple[int, int]] = []
    out = tmp_path_factory.mktemp("default") / "templates" / "default" / "clip.mp4"
    assert dt.build_default_clip(out, lambda done, total: calls.append((done, total))) == out
    return out, calls


@pytest.fixture(scope="module")
def clip(built) -> Clip:
    return read_clip(built[0])


@pytest.fixture(scope="module")
def faces(clip: Clip) -> list[tuple[float, float, float, float] | None]:
    """Mediapipe's face box (x, y, w, h in pixels) in every decoded frame."""
    boxes = []
    with mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.6) as detector:
        for frame in clip.frames:
            found = detector.process(frame).detections
            if not found:
                boxes.append(None)
                continue
            b = found[0].location_data.relative_bounding_box
            h, w = frame.shape[:2]
            boxes.append((b.xmin * w, b.ymin * h, b.width * w, b.height * h))
    return boxes


def test_clip_format(built, clip: Clip) -> None:
    info = probe(built[0])
    assert info.fps == 25 and clip.fps == 25
    assert 6.0 <= clip.duration_s <= 8.0
    w, h = clip.size
    assert w <= 640 and h <= 480
    assert info.has_audio


def test_soundtrack_is_stereo_music_as_long_as_the_video(clip: Clip) -> None:
    assert clip.audio is not None and clip.sample_rate == 48_000
    assert clip.audio.shape[0] == 2
    assert abs(clip.audio.shape[1] / clip.sample_rate - clip.duration_s) < 0.05
    rms = np.sqrt((clip.audio**2).mean())
    assert 0.05 < rms < 0.5
    assert np.abs(clip.audio).max() <= 1.0
    # Faded in and out: quiet at both ends, loud in the middle.
    edge = clip.sample_rate // 200
    loud = np.abs(clip.audio[:, clip.sample_rate : 2 * clip.sample_rate]).mean()
    assert np.abs(clip.audio[:, :edge]).mean() < loud / 4 and np.abs(clip.audio[:, -edge:]).mean() < loud / 20
    # Not one held tone: the loudness moves with the beat.
    beats = clip.audio[:, : 6 * clip.sample_rate].reshape(2, -1, clip.sample_rate // 8)
    assert np.sqrt((beats**2).mean(axis=(0, 2))).std() > 0.01


def test_progress_reports_every_frame(built) -> None:
    calls = built[1]
    assert calls[-1] == (dt.N_FRAMES, dt.N_FRAMES)
    assert [done for done, _ in calls] == list(range(1, dt.N_FRAMES + 1))


def test_frames_change_over_time(clip: Clip) -> None:
    frames = np.stack(clip.frames).astype(np.int16)
    steps = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    assert (steps > 0.3).mean() > 0.9  # nearly every frame moves, it is not a still
    actor = frames[:, :, :360]
    assert np.abs(actor[100] - actor[0]).mean() > 5


def test_face_is_visible_large_and_clear_of_graphics_in_every_frame(faces) -> None:
    assert all(box is not None for box in faces), f"no face in frames {[i for i, b in enumerate(faces) if b is None]}"
    for x, y, w, h in faces:
        assert w >= 150
        assert x >= 0 and y >= 0
        assert x + w < dt.PANEL_X - 24  # left of the brand panel's slanted edge
        assert y + h < dt.LOWER_THIRD_Y  # above the lower third and the disclosure label


def test_the_head_moves(faces) -> None:
    centres = np.array([(x + w / 2, y + h / 2) for x, y, w, h in faces])
    widths = np.array([w for _, _, w, _ in faces])
    assert np.ptp(centres[:, 0]) > 10 and np.ptp(centres[:, 1]) > 8
    assert widths[-10:].mean() > widths[:10].mean() + 5  # the slow push-in
    # Smooth motion, no jumps: a tracker must be able to follow it.
    assert np.abs(np.diff(centres, axis=0)).max() < 8


def test_face_box_helper_agrees_with_the_detector(faces) -> None:
    for i in range(0, dt.N_FRAMES, 25):
        x, y, w, h = dt.face_box(i / dt.FPS)
        fx, fy, fw, fh = faces[i]
        assert abs((x + w / 2) - (fx + fw / 2)) < 25 and abs((y + h / 2) - (fy + fh / 2)) < 35


def test_rendering_is_deterministic() -> None:
    assert np.array_equal(dt.render_frame(37), dt.render_frame(37))
    assert np.array_equal(dt.render_soundtrack(), dt.render_soundtrack())


def test_meta_describes_the_default_template() -> None:
    meta = dt.DEFAULT_META
    assert set(meta) == {"name", "title", "tagline", "phrases", "max_duration_s", "licence"}
    assert meta["name"] == "default"
    assert meta["phrases"] == ["dinner tonight"]
    assert "public domain" in meta["licence"]
    assert 0 < meta["max_duration_s"] <= dt.DURATION_S
    assert "Forkful" in meta["tagline"]
