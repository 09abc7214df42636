"""Captions from the final transcripts: burned into frames, or written as SRT beside the video."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from triggers import TranscriptEvent

HOLD_S = 1.5  # a caption stays this long after its words end, unless the next one starts


@dataclass(frozen=True)
class Caption:
    start_s: float
    end_s: float
    speaker: str
    text: str


def captions_from(transcripts: Sequence[TranscriptEvent]) -> list[Caption]:
    finals = sorted((t for t in transcripts if t.final and t.text.strip()), key=lambda t: t.start_s)
    out: list[Caption] = []
    for i, t in enumerate(finals):
        end = t.end_s + HOLD_S
        if i + 1 < len(finals):
            end = min(end, max(t.end_s, finals[i + 1].start_s))
        out.append(Caption(t.start_s, end, t.participant, t.text.strip()))
    return out


def caption_at(captions: Sequence[Caption], t: float) -> Caption | None:
    return next((c for c in captions if c.start_s <= t < c.end_s), None)


def write_srt(captions: Sequence[Caption], path: Path, named: bool = False) -> None:
    """An SRT file; with `named`, each caption starts with its speaker's name."""
    blocks = []
    for i, c in enumerate(captions, 1):
        text = f"{c.speaker}: {c.text}" if named else c.text
        blocks.append(f"{i}\n{_srt_time(c.start_s)} --> {_srt_time(c.end_s)}\n{text}\n")
    path.write_text("\n".join(blocks), encoding="utf-8")


def _srt_time(seconds: float) -> str:
    ms = int(round(max(0.0, seconds) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"
