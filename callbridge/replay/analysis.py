"""What replay learns from the input before writing anything: speech events, and the speaker's faces.

Faces are kept as they were at each moment (the best so far), so an ad uses the
face the relay would have held when the phrase was said. They stay in RAM and
`Faces.wipe()` clears them; nothing about them is written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from adengine import FaceBank, FaceCrop, MediapipeFaceTracker, wipe
from triggers import Event, Phrase, TranscriptEvent, TriggerEngine, TriggerEvent, WhisperRecognizer
from triggers.audio import chunks

FACE_FPS = 5.0  # as the relay's face worker samples a call
Progress = Callable[[int, float], None]  # (frames seen, seconds in)


@dataclass
class Speech:
    triggers: list[TriggerEvent] = field(default_factory=list)
    transcripts: list[TranscriptEvent] = field(default_factory=list)


def hear(
    audio16k: np.ndarray, phrases: list[Phrase], recognizer: WhisperRecognizer, speaker: str, offset_s: float = 0.0
) -> Speech:
    """The trigger engine over the whole audio, fed as a call feeds it (fixed chunks), then flushed.

    `offset_s` is when the audio starts on the input's clock; every time in the result is on that clock.
    """
    engine = TriggerEngine(phrases, recognizer=recognizer, participant=speaker)
    events: list[Event] = []
    for chunk in chunks(audio16k):
        events.extend(engine.feed(chunk))
    events.extend(engine.flush())
    speech = Speech()
    for event in events:
        if isinstance(event, TriggerEvent):
            moved = dataclasses.replace(
                event, phrase_end_s=event.phrase_end_s + offset_s, emitted_at_s=event.emitted_at_s + offset_s
            )
            speech.triggers.append(moved)
        elif isinstance(event, TranscriptEvent):
            moved_t = dataclasses.replace(event, start_s=event.start_s + offset_s, end_s=event.end_s + offset_s)
            speech.transcripts.append(moved_t)
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


def harvest(frames: Iterator[tuple[float, np.ndarray]], speaker: str, progress: Progress | None = None) -> Faces:
    """Offer frames at FACE_FPS to a face bank (a recorded participant agreed; so did whoever gave a video)."""
    bank = FaceBank(speaker, MediapipeFaceTracker())
    bank.grant_consent()
    faces = Faces()
    next_t = 0.0
    try:
        for i, (t, frame) in enumerate(frames):
            if t < next_t:
                continue
            next_t = t + 1.0 / FACE_FPS
            if progress is not None:
                progress(i, t)
            bank.offer(frame, t)
            best = bank.best()
            if best is not None and (not faces.timeline or best.timestamp_s != faces.timeline[-1][1].timestamp_s):
                faces.timeline.append((t, _copy(best)))
    finally:
        bank.clear()
    return faces


def _copy(crop: FaceCrop) -> FaceCrop:
    return dataclasses.replace(crop, image=crop.image.copy(), landmarks=crop.landmarks.copy())
