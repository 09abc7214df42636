"""What replay learns from the input before writing anything: speech events, and the speaker's faces.

Faces are kept as they were at each moment (the best so far), so an ad uses the
face the relay would have held when the phrase was said. They stay in RAM and
`Faces.wipe()` clears them; nothing about them is written.
"""

from __future__ import annotations

import dataclasses
import threading
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


class Faces:
    """The speaker's best face over time: (time, a private copy of the best crop so far).

    Filled by `harvest` on one thread while others ask `at(t)`, which waits until the
    harvest has passed `t`: an ad can be made as soon as its moment has been looked at.
    """

    def __init__(self) -> None:
        self.timeline: list[tuple[float, FaceCrop]] = []
        self._seen_s = float("-inf")
        self._ended = False
        self._error: BaseException | None = None
        self._stopping = False
        self._changed = threading.Condition()

    def at(self, t: float) -> FaceCrop | None:
        with self._changed:
            self._changed.wait_for(lambda: self._ended or self._seen_s > t)
            if self._error is not None:
                raise RuntimeError(f"finding faces failed: {self._error}") from self._error
            held = [crop for when, crop in self.timeline if when <= t]
        return held[-1] if held else None

    def stop(self) -> None:
        """Ask a running harvest to end early (the replay failed or is done with it)."""
        self._stopping = True

    def wipe(self) -> None:
        with self._changed:
            for _, crop in self.timeline:
                wipe(crop)
            self.timeline.clear()

    def seen(self, t: float, best: FaceCrop | None) -> None:
        """The harvest has looked at everything up to `t`; `best` is the bank's best face then."""
        with self._changed:
            if best is not None and (not self.timeline or best.timestamp_s != self.timeline[-1][1].timestamp_s):
                self.timeline.append((t, _copy(best)))
            self._seen_s = t
            self._changed.notify_all()

    def end(self, error: BaseException | None = None) -> None:
        """The harvest is over (with `error` if it failed): `at` answers from what there is."""
        with self._changed:
            self._ended, self._error = True, error
            self._changed.notify_all()


def harvest(
    frames: Iterator[tuple[float, np.ndarray]], speaker: str, faces: Faces, progress: Progress | None = None
) -> None:
    """Offer frames at FACE_FPS to a face bank, into `faces` (a recorded participant agreed;
    so did whoever gave a video). `faces` is ended even if this fails."""
    bank = FaceBank(speaker, MediapipeFaceTracker())
    bank.grant_consent()
    next_t = 0.0
    try:
        for i, (t, frame) in enumerate(frames):
            if faces._stopping:
                break
            best = None
            if t >= next_t:
                next_t = t + 1.0 / FACE_FPS
                if progress is not None:
                    progress(i, t)
                bank.offer(frame, t)
                best = bank.best()
            faces.seen(t, best)
    except BaseException as exc:
        faces.end(exc)
        raise
    finally:
        bank.clear()
    faces.end()


def _copy(crop: FaceCrop) -> FaceCrop:
    return dataclasses.replace(crop, image=crop.image.copy(), landmarks=crop.landmarks.copy())
