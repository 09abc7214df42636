"""The output's pictures and sound: the speaker's tile, ads spliced in where they played, the
"sponsored · AI-generated" banner over every ad frame, captions; the ad's soundtrack in place
of the speaker's audio while it plays."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from adengine import DisclosureLabel
from adengine.label import FONT_PATH
from callbridge.media.adbreak import letterbox
from callbridge.replay.captions import Caption, caption_at
from callbridge.replay.plan import AdSegment

BANNER = DisclosureLabel(
    text="sponsored · AI-generated",
    position="top-left",
    text_colour=(29, 22, 3),
    box_colour=(255, 194, 75),  # the room page's disclosure colour
    opacity=1.0,
)


@dataclass
class AdFootage:
    """One segment's pictures (RGB, each already carrying the in-frame label) and soundtrack."""

    segment: AdSegment
    frames: list[np.ndarray]
    fps: float
    audio: np.ndarray | None  # float32 (channels, samples) at the output rate

    def frame_at(self, t: float) -> np.ndarray:
        k = int((t - self.segment.start_s) * self.fps)
        return self.frames[max(0, min(len(self.frames) - 1, k))]


def pictures(
    source: Iterator[np.ndarray],
    fps: float,
    size: tuple[int, int],
    ads: Sequence[AdFootage],
    captions: Sequence[Caption],
) -> Iterator[np.ndarray]:
    """The output frames, one per source frame, at `size` (width, height)."""
    for i, frame in enumerate(source):
        t = i / fps
        ad = next((a for a in ads if a.segment.covers(t)), None)
        out = letterbox(ad.frame_at(t) if ad is not None else frame, size).copy()
        if ad is not None:
            BANNER.apply(out, copy=False)
        caption = caption_at(captions, t)
        if caption is not None:
            burn(out, caption.text)
        yield out


def soundtrack(speech: np.ndarray | None, ads: Sequence[AdFootage], rate: int, duration_s: float) -> np.ndarray:
    """The speaker's audio (silence if there is none), with each ad's soundtrack over its segment."""
    length = int(round(duration_s * rate))
    out = np.zeros((2, length), np.float32)
    if speech is not None:
        n = min(length, speech.shape[1])
        out[:, :n] = speech[:, :n] if speech.shape[0] == 2 else np.repeat(speech[:1, :n], 2, axis=0)
    for ad in ads:
        a, b = int(ad.segment.start_s * rate), min(length, int(ad.segment.end_s * rate))
        out[:, a:b] = 0.0  # the ad replaces the speaker's voice, as it did in the call
        if ad.audio is not None:
            n = min(b - a, ad.audio.shape[1])
            out[:, a : a + n] = ad.audio[:, :n]
    return out


def burn(frame: np.ndarray, text: str) -> None:
    """Write `text` at the bottom centre, white on a dark box, above the in-frame label's row."""
    h, w = frame.shape[:2]
    font = _font(max(14, int(h * 0.042)))
    lines = _wrap(text, font, int(w * 0.8))
    line_h = int(font.size * 1.3)
    box_h = line_h * len(lines) + font.size // 2
    top = h - box_h - int(h * 0.12)
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image, "RGBA")
    widths = [draw.textlength(line, font=font) for line in lines]
    box_w = int(max(widths)) + font.size
    left = (w - box_w) // 2
    draw.rectangle((left, top, left + box_w, top + box_h), fill=(0, 0, 0, 170))
    for k, line in enumerate(lines):
        draw.text(((w - widths[k]) / 2, top + font.size // 4 + k * line_h), line, font=font, fill=(255, 255, 255))
    frame[:] = np.asarray(image)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines[-2:]  # the newest two lines, as live captions show
