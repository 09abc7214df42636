"""What the trigger engine needs of a speech recogniser and a voice activity detector.

`WhisperRecognizer` and `VoiceActivity` implement them; tests use scripted ones
with the same interfaces, and mypy checks those against them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from triggers.asr import Decoding, Word


class Recognizer(Protocol):
    """Decodes audio windows and scores alternative readings of the same audio."""

    def decode(self, audio: np.ndarray, offset_s: float, hotwords: str | None = None) -> Decoding:
        """Greedy decode of `audio`, which starts at `offset_s` on the stream clock."""
        ...

    def redecode(
        self, decoding: Decoding, hotwords: str | None, prefix: Sequence[str] = (), max_new_tokens: int | None = None
    ) -> list[str]:
        """Words of another decode of the same audio, with other (or no) hotwords."""
        ...

    def rewrites(self, decoding: Decoding, hotwords: str, n: int) -> list[list[str]]:
        """The `n` best readings of the same audio under `hotwords`."""
        ...

    def timed(self, decoding: Decoding, words: Sequence[str]) -> list[Word]:
        """A given reading of the decoding's audio, with word times."""
        ...

    def tokens_for(self, words: Sequence[str]) -> list[int]:
        """Text tokens for words."""
        ...

    def score(self, decoding: Decoding, sequences: Sequence[Sequence[int]]) -> list[float]:
        """Teacher-forced log-probability of each token sequence on the decoding's audio."""
        ...


class VoiceDetector(Protocol):
    """Finds speech in a stream fed in chunks; times are in samples or seconds of the stream."""

    in_speech: bool
    speech_start: int  # sample at which the current (or last) utterance began

    @property
    def silence_start_s(self) -> float:
        """Where the current stretch of silence began."""
        ...

    @property
    def silence_s(self) -> float:
        """How long the stream has been silent."""
        ...

    @property
    def pauses(self) -> list[tuple[float, float]]:
        """Recent pauses within speech, (start_s, end_s)."""
        ...

    def feed(self, samples: np.ndarray) -> int | None:
        """Take a chunk; the sample where an utterance ended, if one did."""
        ...
