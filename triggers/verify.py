"""Acoustic verification of a non-exact phrase candidate.

Replace the candidate's words with the configured phrase and score both word
sequences against the same encoder output. A true utterance that Whisper merely
misspelled ("random shoes") loses few nats when the phrase is forced in; a real
near-miss ("dinner tomorrow") loses many. See shared NOTES.md for the evidence.

When the plain substitution lands in a grey zone, the neighbouring words may be
misheard too ("planning and we can get away" for "planning a weekend getaway").
A second decode biased towards the phrase proposes the whole rewrite; it counts
only if it holds the phrase and costs no more than the same limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from triggers.asr import Decoding, WhisperRecognizer, Word
from triggers.matcher import Candidate, PhraseMatcher


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    deficit: float  # nats the phrase loses against what was decoded
    confidence: float


class AcousticVerifier:
    """Accepts a candidate when forcing the phrase costs at most `max_deficit` nats."""

    def __init__(self, recognizer: WhisperRecognizer, max_deficit: float = 8.0, grey_zone: float = 20.0) -> None:
        self.recognizer = recognizer
        self.max_deficit = max_deficit
        self.grey_zone = grey_zone

    def check(self, decoding: Decoding, words: list[Word], cand: Candidate) -> Verdict:
        heard = [w.text for w in words]
        tail = _trailing_punctuation(heard[cand.last])
        phrase_words = cand.phrase.text.split()
        phrase_words[-1] += tail
        forced = heard[: cand.first] + phrase_words + heard[cand.last + 1 :]
        deficit = self._deficit(decoding, heard, forced)
        return self._verdict(deficit)

    def unbiased_look(self, decoding: Decoding, words: list[Word]) -> Verdict:
        """Verdict on a phrase heard by a hotword-biased decode.

        The same audio is decoded without hotwords; if that too holds a phrase
        the bias had nothing to do. Otherwise the biased words must cost at most
        `max_deficit` nats against the unbiased ones.
        """
        plain = self.recognizer.redecode(decoding, None)
        return self._verdict(self._deficit(decoding, plain, [w.text for w in words]))

    def second_look(self, decoding: Decoding, words: list[Word], cand: Candidate) -> Verdict:
        """Verdict on the rewrite a phrase-biased decode proposes."""
        biased = self.recognizer.redecode(decoding, cand.phrase.text)
        if not any(c.exact and c.phrase == cand.phrase for c in PhraseMatcher([cand.phrase]).candidates(biased)):
            return Verdict(False, math.inf, 0.0)
        return self._verdict(self._deficit(decoding, [w.text for w in words], biased))

    def in_grey_zone(self, verdict: Verdict) -> bool:
        return not verdict.accepted and verdict.deficit <= self.grey_zone

    def _deficit(self, decoding: Decoding, heard: list[str], alternative: list[str]) -> float:
        tokens = self.recognizer.tokens_for
        heard_lp, alternative_lp = self.recognizer.score(decoding, [tokens(heard), tokens(alternative)])
        return heard_lp - alternative_lp

    def _verdict(self, deficit: float) -> Verdict:
        confidence = math.exp(-max(0.0, deficit) / self.max_deficit)
        return Verdict(deficit <= self.max_deficit, deficit, confidence)


def _trailing_punctuation(word: str) -> str:
    end = len(word)
    while end > 0 and not word[end - 1].isalnum():
        end -= 1
    return word[end:]
