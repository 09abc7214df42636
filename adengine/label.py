"""The visible disclosure on every synthetic frame: "AI-generated face · advertisement".

The label can be restyled and moved but never switched off: empty text, an
unreadable size, a see-through box or low-contrast colours are refused.
It is drawn with Pillow (DejaVu Sans Bold from matplotlib) because OpenCV's
Hershey fonts have no "·"; the rendered overlay is cached per frame size, so
applying it is one small alpha blend.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

DEFAULT_TEXT = "AI-generated face · advertisement"
POSITIONS = ("bottom-left", "bottom-right", "top-left", "top-right")
FONT_PATH = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
MIN_OPACITY = 0.6  # below this, busy backgrounds show through the box and the text gets hard to read
MIN_CONTRAST = 4.5  # WCAG AA contrast ratio for normal text
MIN_FONT_PX = 12
MIN_SCALE = 0.03  # text height as a share of frame height; smaller is unreadable at 480p

RGB = tuple[int, int, int]


def _luminance(colour: RGB) -> float:
    channels = np.asarray(colour, dtype=np.float64) / 255.0
    linear = np.where(channels <= 0.03928, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


def contrast_ratio(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True)
class LabelOverlay:
    """The label rendered for one frame size: where it goes and what to blend there."""

    y: int
    x: int
    alpha: np.ndarray  # (h, w, 1) uint16, 0..255
    premultiplied: np.ndarray  # (h, w, 3) uint16: colour x alpha
    text_core: np.ndarray  # (h, w) bool: inside the glyphs, away from their edges
    box_only: np.ndarray  # (h, w) bool: plain box, away from the glyphs and the rounded corners

    @property
    def box(self) -> tuple[int, int, int, int]:
        """x, y, width, height in frame pixels."""
        return self.x, self.y, self.alpha.shape[1], self.alpha.shape[0]


@dataclass(frozen=True)
class DisclosureLabel:
    """How the disclosure looks and where it sits. Every instance is visible and readable."""

    text: str = DEFAULT_TEXT
    position: str = "bottom-left"
    scale: float = 0.045  # text size as a share of frame height
    text_colour: RGB = (255, 255, 255)
    box_colour: RGB = (12, 12, 16)
    opacity: float = 0.72  # of the box; the text itself is always opaque
    margin: float = 0.025  # gap to the frame edges, as a share of frame height

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError("the disclosure label cannot be empty: it may be restyled, not switched off")
        if "\n" in self.text:
            raise ValueError("the disclosure label is one line")
        if self.position not in POSITIONS:
            raise ValueError(f"label position must be one of {', '.join(POSITIONS)}")
        if not MIN_SCALE <= self.scale <= 0.2:
            raise ValueError(f"label scale must be in [{MIN_SCALE}, 0.2] of the frame height")
        if not MIN_OPACITY <= self.opacity <= 1.0:
            raise ValueError(f"label box opacity must be in [{MIN_OPACITY}, 1]")
        if not 0.0 <= self.margin <= 0.2:
            raise ValueError("label margin must be in [0, 0.2] of the frame height")
        for name in ("text_colour", "box_colour"):
            colour = getattr(self, name)
            if len(colour) != 3 or not all(isinstance(c, (int, np.integer)) and 0 <= c <= 255 for c in colour):
                raise ValueError(f"label {name} must be three integers 0-255")
            object.__setattr__(self, name, tuple(int(c) for c in colour))
        if contrast_ratio(self.text_colour, self.box_colour) < MIN_CONTRAST:
            raise ValueError(f"label text and box colours need a contrast ratio of at least {MIN_CONTRAST}")

    def overlay(self, height: int, width: int) -> LabelOverlay:
        """The rendered label for frames of this size (cached)."""
        return _render(self, int(height), int(width))

    def box(self, height: int, width: int) -> tuple[int, int, int, int]:
        """Where the label sits in a frame of this size: x, y, width, height."""
        return self.overlay(height, width).box

    def apply(self, frame: np.ndarray, copy: bool = True) -> np.ndarray:
        """`frame` with the label drawn on it (into `frame` itself when copy=False)."""
        _check(frame)
        out = frame.copy() if copy else frame
        o = self.overlay(*frame.shape[:2])
        h, w = o.alpha.shape[:2]
        region = out[o.y : o.y + h, o.x : o.x + w]
        # Integer blend: out = (frame * (255 - a) + colour * a) / 255, rounded.
        blended = (region * (255 - o.alpha) + o.premultiplied + 127) // 255
        region[...] = blended
        return out

    def is_on(self, frame: np.ndarray, tolerance: int = 48) -> bool:
        """Whether `frame` carries this label, allowing for lossy video compression.

        The box is semi-transparent, so its pixels are only known to lie in a range
        (box colour over anything); the glyph cores are opaque and known exactly.
        Both must hold: a frame without the label fails one or the other.
        """
        _check(frame)
        o = self.overlay(*frame.shape[:2])
        h, w = o.alpha.shape[:2]
        region = frame[o.y : o.y + h, o.x : o.x + w].astype(np.int16)
        text = region[o.text_core]
        text_ok = np.abs(text - np.array(self.text_colour)).max(axis=1) <= tolerance
        lo = np.array(self.box_colour) * self.opacity
        hi = lo + 255 * (1 - self.opacity)
        box = region[o.box_only]
        box_ok = ((box >= lo - tolerance) & (box <= hi + tolerance)).all(axis=1)
        # Shares rather than all pixels: compression smears a few glyph pixels.
        return bool(text.size and box.size and text_ok.mean() >= 0.9 and box_ok.mean() >= 0.9)


def _check(frame: np.ndarray) -> None:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError("frames must be RGB uint8 arrays of shape (height, width, 3)")


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


@lru_cache(maxsize=32)
def _render(label: DisclosureLabel, height: int, width: int) -> LabelOverlay:
    size = max(MIN_FONT_PX, round(label.scale * height))
    margin = round(label.margin * height)
    # Shrink the text to fit narrow frames rather than cut it off.
    while True:
        font = _font(size)
        # Whole pixels without a stroke; Pillow types them float because a stroke may be fractional.
        left, top, right, bottom = (int(v) for v in font.getbbox(label.text))
        pad_x, pad_y = round(0.5 * size), round(0.32 * size)
        box_w, box_h = right - left + 2 * pad_x, bottom - top + 2 * pad_y
        if box_w <= width - 2 * margin or size <= 6:
            break
        size -= 1
    box_w, box_h = min(box_w, width), min(box_h, height)
    image = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        (0, 0, box_w - 1, box_h - 1),
        radius=max(2, round(0.3 * size)),
        fill=(*label.box_colour, round(255 * label.opacity)),
    )
    glyphs = Image.new("L", (box_w, box_h), 0)
    ImageDraw.Draw(glyphs).text((pad_x - left, pad_y - top), label.text, font=font, fill=255)
    rgba = np.asarray(image, dtype=np.float32)
    g = np.asarray(glyphs, dtype=np.float32)[..., None] / 255.0
    # Opaque text over the box: "over" compositing of the glyph mask onto the box.
    box_a = rgba[..., 3:4] / 255.0
    alpha = g + box_a * (1 - g)
    colour = g * np.array(label.text_colour, np.float32) + (1 - g) * box_a * rgba[..., :3]  # premultiplied, 0..255
    premultiplied = np.round(colour * 255.0).astype(np.uint16)  # on the blend's x255 scale
    alpha8 = np.round(alpha * 255.0).astype(np.uint16)

    glyph_mask = np.asarray(glyphs) >= 250
    kernel = np.ones((3, 3), np.uint8)
    text_core = cv2.erode(glyph_mask.astype(np.uint8), kernel).astype(bool)
    if text_core.sum() < 20:  # tiny fonts: strokes are too thin to erode
        text_core = glyph_mask
    near_glyphs = cv2.dilate((np.asarray(glyphs) > 0).astype(np.uint8), kernel, iterations=2).astype(bool)
    plain_box = cv2.erode(
        (rgba[..., 3] >= round(255 * label.opacity) - 1).astype(np.uint8), kernel, iterations=2
    ).astype(bool)
    box_only = plain_box & ~near_glyphs

    x = margin if label.position.endswith("left") else width - margin - box_w
    y = margin if label.position.startswith("top") else height - margin - box_h
    x, y = max(0, min(x, width - box_w)), max(0, min(y, height - box_h))
    for array in (alpha8, premultiplied, text_core, box_only):
        array.setflags(write=False)
    return LabelOverlay(y, x, alpha8, premultiplied, text_core, box_only)
