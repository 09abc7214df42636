"""Acoustic verification of a non-exact phrase candidate.

Replace the candidate's words with the configured phrase and score both word
sequences against the same encoder output. A true utterance that Whisper merely
misspelled ("random shoes") loses few nats when the phrase is forced in; a real
near-miss ("dinner tomorrow") loses many (docs/triggers.md).

When the plain substitution lands in a grey zone, the neighbouring words may be
misheard too ("planning and we can get away" for "planning a weekend getaway").
A beam search biased towards the phrase proposes whole rewrites; the cheapest
that holds the phrase counts if it costs no more than its own limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from triggers.asr import Decoding, Word
from triggers.matcher import Candidate, Phrase, PhraseMatcher
from triggers.normalize import word_key
from triggers.recognizer import Recognizer


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    deficit: float  # nats the phrase loses against what was decoded
    confidence: float
    reading: tuple[str, ...] = ()  # for a second look: the rewrite that holds the phrase


@dataclass(frozen=True)
class DeficitLimits:
    """Nats a phrase may lose, by how strong the evidence that proposed it is.

    A phrase the biased decoder wrote itself (`unbiased`, `second_look`) has
    more going for it than one forced onto words that no decoder wrote
    (`substitution`), so it may lose more; and words that sound more like the
    phrase ("we can get away") are likelier a slip, so forcing the phrase onto
    them may cost more. Chosen on the bench corpus so that no unrelated
    sentence fires (docs/experiments.md, 'Verification limits').
    """

    substitution: float = 5.0  # at text+phonetic similarity 0.7 ...
    substitution_slope: float = 10.0  # ... plus this much per unit of similarity above it
    unbiased: float = 12.0
    second_look: float = 8.0
    grey_zone: float = 20.0  # a substitution up to this deficit earns a second look

    def for_substitution(self, similarity: float) -> float:
        return self.substitution + self.substitution_slope * (similarity - 0.7)


# Readings a second look weighs: deep enough to reach a true phrase's reading
# ranked low, and on the bench corpus no near-miss or unrelated sentence gets
# one (docs/experiments.md, 'Second-look beam').
REWRITES = 10
_FREE_WORDS_BEFORE = 2  # words before the phrase the unbiased decode may re-hear
_FREE_WORDS_AFTER = 2


class AcousticVerifier:
    """Accepts a candidate when the phrase costs at most its limit in nats."""

    def __init__(self, recognizer: Recognizer, limits: DeficitLimits = DeficitLimits()) -> None:
        self.recognizer = recognizer
        self.limits = limits

    def check(self, decoding: Decoding, words: list[Word], cand: Candidate) -> Verdict:
        heard = [w.text for w in words]
        tail = _trailing_punctuation(heard[cand.last])
        phrase_words = cand.phrase.text.split()
        phrase_words[-1] += tail
        forced = heard[: cand.first] + phrase_words + heard[cand.last + 1 :]
        return self._verdict(self._deficit(decoding, heard, forced), self.limits.for_substitution(cand.similarity))

    def unbiased_look(self, decoding: Decoding, words: list[Word], cand: Candidate) -> Verdict:
        """Verdict on a phrase heard by a hotword-biased decode.

        The same audio is decoded without hotwords. Where that decode differs
        around the phrase, its words there replace the phrase, and the phrase
        must cost at most `limits.unbiased` nats against them. Only the phrase's
        neighbourhood is compared: elsewhere the two decodes may differ freely
        (an unbiased decode also loops or trails off into the silent pad).
        """
        heard = [w.text for w in words]
        # This check sits between the phrase's end and the trigger. No reading
        # scores above 0 nats, so the phrase costs at most -heard_lp against any
        # alternative: within the limit, it passes whatever the unbiased decode
        # would write, and one scoring pass replaces a far dearer generation
        # (docs/experiments.md, 'Unbiased check'). The confidence is then a lower bound.
        (heard_lp,) = self.recognizer.score(decoding, [self.recognizer.tokens_for(heard)])
        if -heard_lp <= self.limits.unbiased:
            return self._verdict(-heard_lp, self.limits.unbiased)
        # Words well before the phrase are forced, and generation stops a few
        # words after it: a third of a whole-window decode.
        keep = max(0, cand.first - _FREE_WORDS_BEFORE)
        budget = len(self.recognizer.tokens_for(heard[keep : cand.last + 1 + _FREE_WORDS_AFTER])) + 4
        plain = self.recognizer.redecode(decoding, None, prefix=heard[:keep], max_new_tokens=budget)
        alternative = splice_alternative(heard, plain, cand.first, cand.last)
        if alternative is None:
            return Verdict(True, 0.0, 1.0)  # heard without the bias too
        (alternative_lp,) = self.recognizer.score(decoding, [self.recognizer.tokens_for(alternative)])
        return self._verdict(alternative_lp - heard_lp, self.limits.unbiased)  # heard_lp is scored once

    def second_look(self, decoding: Decoding, words: list[Word], cand: Candidate) -> Verdict:
        """Verdict on the cheapest rewrite holding the phrase among a phrase-biased beam's readings."""
        readings = self.recognizer.rewrites(decoding, cand.phrase.text, REWRITES)
        found = self.cheapest_reading(decoding, [w.text for w in words], cand.phrase, readings)
        return found[1] if found else Verdict(False, math.inf, 0.0)

    def cheapest_reading(
        self, decoding: Decoding, heard: list[str], phrase: Phrase, readings: list[list[str]]
    ) -> tuple[list[str], Verdict] | None:
        """The reading holding `phrase` that costs least against `heard`, with its verdict (limit: second_look)."""
        matcher = PhraseMatcher([phrase])
        holding = [r for r in readings if any(c.exact for c in matcher.candidates(r))]
        if not holding:
            return None
        deficit, reading = min((self._deficit(decoding, heard, r), r) for r in holding)
        return reading, replace(self._verdict(deficit, self.limits.second_look), reading=tuple(reading))

    def in_grey_zone(self, verdict: Verdict) -> bool:
        return not verdict.accepted and verdict.deficit <= self.limits.grey_zone

    def _deficit(self, decoding: Decoding, heard: list[str], alternative: list[str]) -> float:
        tokens = self.recognizer.tokens_for
        heard_lp, alternative_lp = self.recognizer.score(decoding, [tokens(heard), tokens(alternative)])
        return heard_lp - alternative_lp

    @staticmethod
    def _verdict(deficit: float, limit: float) -> Verdict:
        confidence = math.exp(-max(0.0, deficit) / limit)
        return Verdict(deficit <= limit, deficit, confidence)


def _trailing_punctuation(word: str) -> str:
    end = len(word)
    while end > 0 and not word[end - 1].isalnum():
        end -= 1
    return word[end:]


def splice_alternative(heard: list[str], other: list[str], first: int, last: int) -> list[str] | None:
    """`heard` with words first..last replaced by what `other` has in their place.

    The two decodes are aligned word by word; the replaced region runs between
    the nearest agreeing words on either side. None when `other` agrees there.
    """
    a, b = [word_key(w) for w in heard], [word_key(w) for w in other]
    pairs = [
        (i + k, j + k)
        for i, j, n in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
        for k in range(n)
    ]
    a_lo, b_lo = max(((i + 1, j + 1) for i, j in pairs if i < first), default=(0, 0))
    a_hi, b_hi = min(((i, j) for i, j in pairs if i > last), default=(len(a), None))
    if b_hi is None:  # nothing agrees after the phrase: take no more than it spans
        b_hi = min(len(b), b_lo + (a_hi - a_lo) + 2)
    if a[a_lo:a_hi] == b[b_lo:b_hi]:
        return None
    return heard[:a_lo] + other[b_lo:b_hi] + heard[a_hi:]
