"""The output's pictures and sound: everyone's tile, ads spliced into the speaker's tile where they
played, the "sponsored · AI-generated" banner over every ad, captions; each ad's soundtrack in place
of its speaker's voice while it plays."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
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
SPEAKER_EDGE = (143, 180, 255)  # the room page's accent: who is talking
Box = tuple[int, int, int, int]  # x, y, width, height


@dataclass
class AdFootage:
    """One segment's pictures (RGB, each already carrying the in-frame label), as they are made, and soundtrack."""

    segment: AdSegment
    frames: Iterator[np.ndarray]  # in order; a render streams them while it runs
    fps: float
    audio: np.ndarray | None  # float32 (2, samples) at the output rate
    _made: list[np.ndarray] = field(default_factory=list)

    def frame_at(self, t: float) -> np.ndarray | None:
        """The picture at `t` (waiting for it to be made); one consumer, in time order."""
        k = max(0, int((t - self.segment.start_s) * self.fps))
        while len(self._made) <= k and (made := next(self.frames, None)) is not None:
            self._made.append(made)
        return self._made[min(k, len(self._made) - 1)] if self._made else None


@dataclass
class PendingAd:
    """A planned segment whose footage is still being made; the pictures wait for it when it starts."""

    segment: AdSegment
    footage: Future[AdFootage | None]

    def frame_at(self, t: float) -> np.ndarray | None:
        """The ad's picture at `t`; None if no ad could be made (the live tile shows)."""
        made = self.footage.result()
        return None if made is None else made.frame_at(t)


class Latest:
    """A person's frames in time order; `at(t)` is the newest one shown by time t (held, as a player holds it)."""

    def __init__(self, frames: Iterator[tuple[float, np.ndarray]]) -> None:
        self._frames = frames
        self._shown: np.ndarray | None = None
        self._next = next(frames, None)

    def at(self, t: float) -> np.ndarray | None:
        while self._next is not None and self._next[0] <= t:
            self._shown, self._next = self._next[1], next(self._frames, None)
        return self._shown


def pictures(
    streams: Mapping[str, Iterator[tuple[float, np.ndarray]]],
    fps: float,
    count: int,
    size: tuple[int, int],
    ads: Sequence[PendingAd],
    captions: Sequence[Caption],
    layout: str = "grid",
) -> Iterator[np.ndarray]:
    """`count` output frames at `fps`, each (height, width) = `size` reversed."""
    people = list(streams)
    latest = {name: Latest(frames) for name, frames in streams.items()}
    talker = people[0]
    for k in range(count):
        t = k / fps
        caption = caption_at(captions, t)
        talker = caption.speaker if caption is not None and caption.speaker in latest else talker
        out = np.zeros((size[1], size[0], 3), np.uint8)
        for name, box in boxes(people, talker, size, layout).items():
            _tile(out, box, name, t, latest[name], ads, emphasised=name == talker and len(people) > 1)
        if caption is not None:
            burn(out, f"{caption.speaker}: {caption.text}" if len(people) > 1 else caption.text)
        yield out


def boxes(people: list[str], talker: str, size: tuple[int, int], layout: str) -> dict[str, Box]:
    """Where each person's tile goes: a grid, or (`speaker`) the talker large and the others in a column."""
    w, h = size
    if layout == "speaker" and len(people) > 1:
        side = w // 4
        others = [p for p in people if p != talker]
        column = {p: (w - side, i * (h // len(others)), side, h // len(others)) for i, p in enumerate(others)}
        return {talker: (0, 0, w - side, h), **column}
    cols = math.ceil(math.sqrt(len(people)))
    rows = math.ceil(len(people) / cols)
    tw, th = w // cols, h // rows
    return {p: ((i % cols) * tw, (i // cols) * th, tw, th) for i, p in enumerate(people)}


def _tile(
    out: np.ndarray, box: Box, name: str, t: float, latest: Latest, ads: Sequence[PendingAd], emphasised: bool
) -> None:
    x, y, w, h = box
    ad = next((a for a in ads if a.segment.participant == name and a.segment.covers(t)), None)
    live = latest.at(t)  # read on, even under an ad, so the tile resumes where the call is
    shown = ad.frame_at(t) if ad is not None else None
    frame = live if shown is None else shown
    if frame is None:
        return  # not there yet
    tile = letterbox(frame, (w, h)).copy()
    if shown is not None:
        BANNER.apply(tile, copy=False)
    if emphasised:
        tile[:3], tile[-3:], tile[:, :3], tile[:, -3:] = SPEAKER_EDGE, SPEAKER_EDGE, SPEAKER_EDGE, SPEAKER_EDGE
    out[y : y + h, x : x + w] = tile


def soundtrack(
    voices: Mapping[str, tuple[np.ndarray, float]], ads: Sequence[AdFootage], rate: int, duration_s: float
) -> np.ndarray:
    """Everyone's audio at its place on the clock, each ad's soundtrack over its speaker's voice."""
    length = int(round(duration_s * rate))
    out = np.zeros((2, length), np.float32)
    for name, (audio, start_s) in voices.items():
        voice = audio.copy()
        for ad in (a for a in ads if a.segment.participant == name):  # their voice is not heard during their ad
            a, b = (int((s - start_s) * rate) for s in (ad.segment.start_s, ad.segment.end_s))
            voice[:, max(0, a) : max(0, b)] = 0.0
        _add(out, voice, int(start_s * rate))
    for ad in ads:
        if ad.audio is not None:
            _add(
                out, ad.audio[:, : int((ad.segment.end_s - ad.segment.start_s) * rate)], int(ad.segment.start_s * rate)
            )
    return np.clip(out, -1.0, 1.0)


def _add(out: np.ndarray, sound: np.ndarray, at: int) -> None:
    n = min(sound.shape[1], out.shape[1] - at)
    if n > 0 and at >= 0:
        out[:, at : at + n] += sound[:, :n]


def burn(frame: np.ndarray, text: str) -> None:
    """Write `text` at the bottom centre, white on a dark box, above the in-frame label's row."""
    h, w = frame.shape[:2]
    font = _font(max(14, int(h * 0.042)))
    lines = _wrap(text, font, int(w * 0.8))
    line_h = int(font.size * 1.3)
    widths = [font.getlength(line) for line in lines]
    box_w, box_h = min(w, int(max(widths)) + font.size), line_h * len(lines) + font.size // 2
    left, top = (w - box_w) // 2, max(0, h - box_h - int(h * 0.12))
    region = frame[top : top + box_h, left : left + box_w]  # only the box goes through PIL: a whole frame costs more
    image = Image.fromarray(region)
    draw = ImageDraw.Draw(image, "RGBA")
    draw.rectangle((0, 0, box_w, box_h), fill=(0, 0, 0, 170))
    for k, line in enumerate(lines):
        draw.text(((box_w - widths[k]) / 2, font.size // 4 + k * line_h), line, font=font, fill=(255, 255, 255))
    region[:] = np.asarray(image)


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
