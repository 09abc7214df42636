"""AdRenderer between a scripted swapper and a list sink: background render, re-render, stream, wipe."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from adengine.label import DisclosureLabel
from adengine.media import Clip
from adengine.renderer import BETTER_BY, AdRenderer
from adengine.template import AdTemplate, TemplateMeta


@dataclass
class _Quality:
    score: float


@dataclass
class _Face:
    value: int
    quality: _Quality


class _PaintSwapper:
    """Paints the whole frame with the face's value; can be held at a frame until released."""

    name = "paint"

    def __init__(self, hold_at: int | None = None) -> None:
        self.hold_at = hold_at
        self.release = threading.Event()

    def bind(self, face, track):
        def swap(i, frame):
            if i == self.hold_at:
                self.release.wait(5)
            return np.full_like(frame, face.value)

        return swap


def _template(n: int = 12) -> AdTemplate:
    meta = TemplateMeta("t", "T", "", ("dinner tonight",), 8.0, "CC0")
    clip = Clip([np.zeros((120, 160, 3), np.uint8) for _ in range(n)], 25.0, None, None)
    return AdTemplate(meta, clip, track=None, clip_sha256="0")  # type: ignore[arg-type]


def _face(value: int, score: float) -> _Face:
    return _Face(value, _Quality(score))


def test_a_face_starts_a_background_render_with_the_label_on_every_frame():
    renderer = AdRenderer(_template(), _PaintSwapper())
    assert renderer.offer(_face(80, 0.5))
    ad = renderer.wait(5)
    assert ad is not None and len(ad.frames) == 12 and ad.face_quality == 0.5
    assert all(DisclosureLabel().is_on(f) for f in ad.frames)
    assert all(f[5, 150].tolist() == [80, 80, 80] for f in ad.frames)  # away from the label


def test_only_a_clearly_better_face_re_renders():
    renderer = AdRenderer(_template(), _PaintSwapper())
    renderer.offer(_face(80, 0.5))
    renderer.wait(5)
    assert not renderer.offer(_face(90, 0.5 + BETTER_BY / 2))
    assert renderer.offer(_face(100, 0.5 + BETTER_BY * 1.5))
    assert renderer.wait(5).frames[0][5, 150, 0] == 100


def test_frames_stream_while_the_render_is_still_going():
    swapper = _PaintSwapper(hold_at=6)
    renderer = AdRenderer(_template(), swapper)
    renderer.offer(_face(70, 0.5))
    stream = renderer.stream()
    first = [next(stream) for _ in range(6)]  # frames 0-5 are out while frame 6 is held
    assert len(first) == 6 and not renderer.ready
    swapper.release.set()
    assert len(list(stream)) == 6 and renderer.ready


def test_a_fast_render_may_stream_and_a_finished_one_always_can():
    renderer = AdRenderer(_template(), _PaintSwapper())
    assert not renderer.can_stream()  # no face yet
    renderer.offer(_face(70, 0.5))
    renderer.wait(5)
    assert renderer.can_stream()


def test_clear_wipes_the_rendered_frames():
    renderer = AdRenderer(_template(), _PaintSwapper())
    renderer.offer(_face(200, 0.5))
    frames = renderer.wait(5).frames
    kept = list(frames)
    renderer.clear()
    assert renderer.wait(0) is None and not renderer.ready
    assert all(not f.any() for f in kept)


def test_a_failing_swap_is_reported_not_lost():
    class Broken(_PaintSwapper):
        def bind(self, face, track):
            raise RuntimeError("model exploded")

    renderer = AdRenderer(_template(), Broken())
    renderer.offer(_face(1, 0.5))
    try:
        renderer.wait(5)
    except RuntimeError as exc:
        assert "exploded" in str(exc)
    else:
        raise AssertionError("the swap error was swallowed")
    assert not renderer.ready


class _ShiftSwapper(_PaintSwapper):
    """A 'better backend': the same face, painted 100 brighter."""

    name = "shift"

    def bind(self, face, track):
        return lambda i, frame: np.full_like(frame, face.value + 100)


def test_an_upgrade_renders_the_same_face_again_with_the_better_backend():
    renderer = AdRenderer(_template(), _PaintSwapper())
    assert not renderer.upgrade(_ShiftSwapper())  # nothing rendered yet: nothing to upgrade
    renderer.offer(_face(80, 0.5))
    assert renderer.wait(5).frames[0][5, 150, 0] == 80
    assert renderer.upgrade(_ShiftSwapper())
    ad = renderer.wait(5)
    assert [f[5, 150, 0] for f in ad.frames] == [180] * 12 and ad.face_quality == 0.5
    renderer.offer(_face(90, 0.5 + BETTER_BY * 1.5))  # a better face keeps the better backend
    assert renderer.wait(5).frames[0][5, 150, 0] == 190


def test_a_cleared_renderer_takes_no_upgrade():
    renderer = AdRenderer(_template(), _PaintSwapper())
    renderer.offer(_face(80, 0.5))
    renderer.wait(5)
    renderer.clear()  # consent withdrawn
    assert not renderer.upgrade(_ShiftSwapper()) and renderer.wait(0) is None
