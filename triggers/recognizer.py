"""What the trigger engine needs of a speech recogniser: the interface `WhisperRecognizer` implements.

Tests use scripted recognisers with the same interface; mypy checks them against it.
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
