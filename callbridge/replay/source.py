"""What replay reads: a video file (one person), or a recording folder (one file per person).

Frames and sound come with their times on the input's clock: in a recording each
file is timed from the recording's start, so people who joined later start later.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import av
import numpy as np

from adengine import ClipError, probe
from callbridge.recording.recorder import MANIFEST_VERSION
from callbridge.replay.livelog import LiveAd, read_live_ads

T = TypeVar("T")
DEFAULT_FPS = 15.0  # a call's rate, when a recording's files do not say


class SourceError(ValueError):
    """An input replay cannot read; the message says why, in one line."""


@dataclass(frozen=True)
class Person:
    name: str
    path: Path
    face_consent: bool = True  # a video file's giver agreed; a recording says for each person


@dataclass
class Source:
    people: list[Person]
    fps: float
    duration_s: float
    title: str
    notes: list[str] = field(default_factory=list)
    live_ads: list[LiveAd] | None = None  # a recording's ads as the audience saw them; None for a video file


def open_source(path: Path) -> Source:
    if path.is_dir():
        return _recording(path)
    try:
        info = probe(path)
    except ClipError as exc:
        raise SourceError(str(exc)) from None
    if not info.fps:
        raise SourceError(f"{path.name}: its frame rate is unknown")
    duration = info.duration_s or info.n_frames / info.fps
    return Source([Person("speaker", path)], info.fps, duration, path.name)


def _recording(folder: Path) -> Source:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except FileNotFoundError:
        raise SourceError(f"{folder}: not a recording (no manifest.json)") from None
    except (OSError, ValueError) as exc:
        raise SourceError(f"{folder}/manifest.json cannot be read: {exc}") from None
    version = manifest.get("version")
    if not isinstance(version, int) or version > MANIFEST_VERSION:
        raise SourceError(f"{folder}: made by a newer callbridge (manifest version {version}; this one reads 1)")
    people, notes = [], []
    for entry in manifest.get("participants", []):
        path = folder / str(entry.get("file", ""))
        if path.is_file() and path.parent == folder:
            consent = entry.get("face_consent") is True  # an entry that does not say: no
            people.append(Person(str(entry.get("name", path.stem)), path, consent))
        else:
            notes.append(f"{entry.get('name')}'s media file {entry.get('file')!r} is missing: they are left out")
    if not people:
        raise SourceError(f"{folder}: no participant's media file is there")
    fps, duration = DEFAULT_FPS, 0.0
    for person in people:
        rate, length = _timing(person.path)
        duration = max(duration, length)
        fps = rate if person is people[0] and rate else fps
    started = manifest.get("started_t")
    live_ads: list[LiveAd] | None = None
    if isinstance(started, int | float):
        live_ads, log_notes = read_live_ads(folder / "events.jsonl", float(started))
        notes += log_notes
    else:
        notes.append("the manifest has no started_t: the ads go where replay hears the phrases")
    return Source(people, fps, duration, folder.name, notes, live_ads)


def _timing(path: Path) -> tuple[float, float]:
    """(frame rate, end time) of a recording's file; 0 for what it does not say.

    A recording's video is timed by arrival (its stream's nominal rate is the writer's, not
    the call's), so the rate is counted from the packets' times: a demux, with no decoding.
    """
    try:
        with av.open(str(path), options={"protocol_whitelist": "file"}) as container:
            end = (container.duration or 0) / av.time_base
            if not container.streams.video:
                return 0.0, end
            times = _packet_times(container, container.streams.video[0])
    except av.FFmpegError as exc:
        raise SourceError(f"{path.name} cannot be read: {exc}") from None
    rate = round((len(times) - 1) / (max(times) - min(times))) if len(times) > 1 and max(times) > min(times) else 0
    return (float(rate) if 1 <= rate <= 60 else 0.0), end


def _packet_times(container: av.container.InputContainer, video: av.VideoStream) -> list[float]:
    return [
        float(p.pts * p.time_base) for p in _until_broken(container.demux(video)) if p.pts is not None and p.time_base
    ]


def _until_broken(items: Iterator[T]) -> Iterator[T]:
    """A demux's or decode's items; a file that breaks off ends there (what came before is kept)."""
    try:
        yield from items
    except av.FFmpegError:
        return


def timed_frames(path: Path) -> Iterator[tuple[float, np.ndarray]]:
    """(time in seconds, RGB) for each video frame; a file that breaks off ends there."""
    with av.open(str(path), options={"protocol_whitelist": "file"}) as container:
        if not container.streams.video:
            return
        for frame in _until_broken(container.decode(video=0)):
            yield float(frame.time or 0.0), frame.to_ndarray(format="rgb24")


def timed_audio(path: Path, rate: int) -> tuple[np.ndarray, float] | None:
    """float32 stereo (2, samples) at `rate`, and when its first sample plays; None without audio."""
    with av.open(str(path), options={"protocol_whitelist": "file"}) as container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate)
        pieces: list[np.ndarray] = []
        start: float | None = None
        for frame in _until_broken(container.decode(audio=0)):
            start = float(frame.time or 0.0) if start is None else start
            pieces.extend(f.to_ndarray() for f in resampler.resample(frame))
        pieces.extend(f.to_ndarray() for f in resampler.resample(None))
    if not pieces:
        return None
    return np.concatenate(pieces, axis=1).astype(np.float32, copy=False), start or 0.0
