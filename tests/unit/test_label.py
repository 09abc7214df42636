"""The disclosure label: always drawn, restyleable, never switched off, and checkable on any frame."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from skimage import data

from adengine.label import DEFAULT_TEXT, DisclosureLabel

H, W = 480, 640


def backgrounds(h: int = H, w: int = W) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, w, dtype=np.float32)
    return {
        "black": np.zeros((h, w, 3), np.uint8),
        "white": np.full((h, w, 3), 255, np.uint8),
        "grey": np.full((h, w, 3), 128, np.uint8),
        "ramp": np.repeat(np.repeat(ramp[None, :, None], h, 0), 3, 2).astype(np.uint8),
        "noise": rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
        "face": cv2.resize(data.astronaut(), (w, h)),
    }


@pytest.mark.parametrize("name", list(backgrounds()))
def test_label_is_found_on_labelled_frames_and_not_on_bare_ones(name: str) -> None:
    label = DisclosureLabel()
    frame = backgrounds()[name]
    labelled = label.apply(frame)
    assert label.is_on(labelled)
    assert not label.is_on(frame)


def test_default_text_is_the_disclosure() -> None:
    assert DisclosureLabel().text == DEFAULT_TEXT == "AI-generated face · advertisement"


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="cannot be empty"):
        DisclosureLabel(text=text)


@pytest.mark.parametrize(
    "style",
    [
        {"opacity": 0.0},  # invisible box
        {"opacity": 0.3},
        {"scale": 0.001},  # unreadably small
        {"text_colour": (20, 20, 20), "box_colour": (0, 0, 0)},  # no contrast
        {"position": "centre-ish"},
        {"text": "AI-generated\nface"},
    ],
)
def test_styles_that_would_hide_the_label_are_refused(style: dict) -> None:
    with pytest.raises(ValueError):
        DisclosureLabel(**style)


def test_apply_draws_in_the_chosen_corner_only() -> None:
    frame = backgrounds()["grey"]
    for position in ("bottom-left", "bottom-right", "top-left", "top-right"):
        label = DisclosureLabel(position=position)
        out = label.apply(frame)
        x, y, w, h = label.box(H, W)
        changed = np.argwhere((out != frame).any(axis=2))
        assert changed.size
        assert changed[:, 0].min() >= y and changed[:, 0].max() < y + h
        assert changed[:, 1].min() >= x and changed[:, 1].max() < x + w
        assert (x < W - (x + w)) == position.endswith("left")  # nearer the named side
        assert (y < H - (y + h)) == position.startswith("top")


def test_restyled_and_moved_label_is_its_own_label() -> None:
    frame = backgrounds()["face"]
    default = DisclosureLabel()
    custom = DisclosureLabel(
        position="top-right", scale=0.06, text_colour=(20, 20, 20), box_colour=(255, 214, 0), opacity=0.9
    )
    out = custom.apply(frame)
    assert custom.is_on(out)
    assert not default.is_on(out)
    assert custom.box(H, W)[2] > default.box(H, W)[2]  # larger text, wider box
    region = out[custom.box(H, W)[1] + 3, custom.box(H, W)[0] + 3]
    assert region[0] > 200 and region[2] < 80  # the yellow box, not the default dark one


def test_other_text_is_not_this_label() -> None:
    frame = backgrounds()["white"]
    short = DisclosureLabel(text="AI-generated face")
    assert not DisclosureLabel().is_on(short.apply(frame))


def test_label_moved_by_a_few_pixels_is_not_on() -> None:
    label = DisclosureLabel()
    out = label.apply(backgrounds()["white"])
    assert not label.is_on(np.roll(out, 4, axis=1))


@pytest.mark.parametrize("size", [(144, 176), (240, 320), (720, 1280), (1080, 1920), (481, 641)])
def test_label_fits_and_is_found_at_other_sizes(size: tuple[int, int]) -> None:
    h, w = size
    label = DisclosureLabel()
    x, y, bw, bh = label.box(h, w)
    assert x >= 0 and y >= 0 and x + bw <= w and y + bh <= h
    frame = backgrounds(h, w)["face"]
    assert label.is_on(label.apply(frame))
    assert not label.is_on(frame)


def test_apply_copies_unless_asked_not_to() -> None:
    label = DisclosureLabel()
    frame = backgrounds()["noise"]
    before = frame.copy()
    out = label.apply(frame)
    assert np.array_equal(frame, before) and out is not frame
    same = label.apply(frame, copy=False)
    assert same is frame and label.is_on(frame)


def test_apply_refuses_non_rgb_frames() -> None:
    label = DisclosureLabel()
    with pytest.raises(ValueError):
        label.apply(np.zeros((H, W), np.uint8))
    with pytest.raises(ValueError):
        label.apply(np.zeros((H, W, 3), np.float32))


def test_text_is_opaque_and_box_semi_opaque() -> None:
    label = DisclosureLabel()
    o = label.overlay(H, W)
    assert o.alpha[o.text_core].min() == 255
    assert 0.6 * 255 <= o.alpha[o.box_only].min() < 255


def test_apply_costs_well_under_a_millisecond_at_640x480() -> None:
    label = DisclosureLabel()
    frame = backgrounds()["face"]
    label.apply(frame)  # renders and caches the overlay
    times = []
    for _ in range(200):
        start = time.perf_counter()
        label.apply(frame)
        times.append(time.perf_counter() - start)
    assert float(np.median(times)) < 1e-3
