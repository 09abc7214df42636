"""What replay learns from the input before writing anything: speech events, and the speaker's faces.

Faces are kept as they were at each moment (the best so far), so an ad uses the
face the relay would have held when the phrase was said. They stay in RAM and
`Faces.wipe()` clears them; nothing about them is written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adengine import ClipError, FaceBank, FaceCrop, MediapipeFaceTracker, iter_frames, wipe
from triggers import Event, Phrase, TranscriptEvent, TriggerEngine, TriggerEvent, WhisperRecognizer
from triggers.audio import chunks

FACE_FPS = 5.0  # as the relay's face worker samples a call
Progress = Callable[[int, int], None]


@dataclass
class Speech:
    triggers: list[TriggerEvent] = field(default_factory=list)
    transcripts: list[TranscriptEvent] = field(default_factory=list)


def hear(audio16k: np.ndarray, phrases: list[Phrase], recognizer: WhisperRecognizer, speaker: str) -> Speech:
    """The trigger engine over the whole audio, fed as a call feeds it (fixed chunks), then flushed."""
    engine = TriggerEngine(phrases, recognizer=recognizer, participant=speaker)
    events: list[Event] = []
    for chunk in chunks(audio16k):
        events.extend(engine.feed(chunk))
    events.extend(engine.flush())
    speech = Speech()
    for event in events:
        if isinstance(event, TriggerEvent):
            speech.triggers.append(event)
        elif isinstance(event, TranscriptEvent):
            speech.transcripts.append(event)
    return speech


@dataclass
class Faces:
    """The speaker's best face over time: (time, a private copy of the best crop so far)."""

    timeline: list[tuple[float, FaceCrop]] = field(default_factory=list)

    def at(self, t: float) -> FaceCrop | None:
        held = [crop for when, crop in self.timeline if when <= t]
        return held[-1] if held else None

    def wipe(self) -> None:
        for _, crop in self.timeline:
            wipe(crop)
        self.timeline.clear()


def harvest(path: Path, fps: float, frames: int, speaker: str, progress: Progress | None = None) -> Faces:
    """Offer frames at FACE_FPS to a face bank (the speaker agreed by handing in the video)."""
    step = max(1, int(round(fps / FACE_FPS)))
    bank = FaceBank(speaker, MediapipeFaceTracker())
    bank.grant_consent()
    faces = Faces()
    try:
        for i, frame in enumerate(iter_frames(path)):
            if progress is not None and i % step == 0:
                progress(i, frames)
            if i % step:
                continue
            bank.offer(frame, i / fps)
            best = bank.best()
            if best is not None and (not faces.timeline or best.timestamp_s != faces.timeline[-1][1].timestamp_s):
                faces.timeline.append((i / fps, _copy(best)))
    except ClipError:
        if not faces.timeline and bank.best() is None:
            raise
        # a truncated video: the faces found before the break still count
    finally:
        bank.clear()
    return faces


def _copy(crop: FaceCrop) -> FaceCrop:
    return dataclasses.replace(crop, image=crop.image.copy(), landmarks=crop.landmarks.copy())
