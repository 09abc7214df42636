"""Acoustic verification of a non-exact phrase candidate.

Replace the candidate's words with the configured phrase and score both word
sequences against the same encoder output. A true utterance that Whisper merely
misspelled ("random shoes") loses few nats when the phrase is forced in; a real
near-miss ("dinner tomorrow") loses many. See shared NOTES.md for the evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from triggers.asr import Decoding, WhisperRecognizer, Word
from triggers.matcher import Candidate


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    deficit: float  # nats the phrase loses against what was decoded
    confidence: float


class AcousticVerifier:
    """Accepts a candidate when forcing the phrase costs at most `max_deficit` nats."""

    def __init__(self, recognizer: WhisperRecognizer, max_deficit: float = 8.0) -> None:
        self.recognizer = recognizer
        self.max_deficit = max_deficit

    def check(self, decoding: Decoding, words: list[Word], cand: Candidate) -> Verdict:
        heard = [w.text for w in words]
        tail = _trailing_punctuation(heard[cand.last])
        phrase_words = cand.phrase.text.split()
        phrase_words[-1] += tail
        forced = heard[: cand.first] + phrase_words + heard[cand.last + 1 :]
        tokens = self.recognizer.tokens_for
        decoded_lp, forced_lp = self.recognizer.score(decoding, [tokens(heard), tokens(forced)])
        deficit = decoded_lp - forced_lp
        confidence = math.exp(-max(0.0, deficit) / self.max_deficit)
        return Verdict(deficit <= self.max_deficit, deficit, confidence)


def _trailing_punctuation(word: str) -> str:
    end = len(word)
    while end > 0 and not word[end - 1].isalnum():
        end -= 1
    return word[end:]
