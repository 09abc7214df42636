"""Finds spans of recognised words that may be a configured phrase.

Text and phonetic similarity only nominate candidates: as text, recognition slips
("random shoes") and real near-misses ("dinner tomorrow") look alike. Whether a
non-exact candidate fires is decided acoustically (see verify.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import jellyfish
from rapidfuzz import fuzz

from triggers.normalize import compact, normalize_words


class PhraseError(ValueError):
    """A configured phrase cannot be matched (for example, it has no words)."""


@dataclass(frozen=True)
class Phrase:
    """A configured trigger phrase, as written and normalised."""

    text: str
    words: tuple[str, ...]
    cooldown_s: float = 0.0

    @classmethod
    def parse(cls, text: str, cooldown_s: float = 0.0) -> Phrase:
        words = tuple(normalize_words(text))
        if not words:
            raise PhraseError(f"phrase {text!r} has no words to listen for")
        if cooldown_s < 0:
            raise PhraseError(f"phrase {text!r}: cooldown must be >= 0 s")
        return cls(text.strip(), words, cooldown_s)

    @property
    def key(self) -> str:
        return compact(list(self.words))


@dataclass(frozen=True)
class Candidate:
    """Words [first, last] of a hypothesis that resemble `phrase`."""

    phrase: Phrase
    first: int
    last: int
    heard: str
    similarity: float
    exact: bool
    # Overlapping spans for the same phrase, next best first: recognisers split
    # words differently ("we can get away"), so the right span is not always the top one.
    alternatives: tuple[Candidate, ...] = ()


def _comparable_length(heard: str, phrase: str) -> bool:
    """Spans much longer or shorter than the phrase are not substitutes for it.

    Teacher-forced scoring barely charges for dropped words, so forcing a short
    phrase over a long span ("dinner tomorrow instead") would look cheap.
    """
    return 0.7 <= len(heard) / len(phrase) <= 1.45


def _phonetic(words: Sequence[str]) -> str:
    return "".join(jellyfish.metaphone(w) for w in words)


class PhraseMatcher:
    """Scores every short span of a word sequence against each phrase."""

    def __init__(self, phrases: Sequence[Phrase], min_similarity: float = 0.6) -> None:
        self.phrases = list(phrases)
        self.min_similarity = min_similarity
        self._phonetics = {p.key: _phonetic(p.words) for p in self.phrases}

    def candidates(self, words: Sequence[str]) -> list[Candidate]:
        """Best non-overlapping candidates per phrase, best first.

        `words` are recognised words as written; indices in the result refer to them.
        """
        norm: list[tuple[str, int]] = [(n, i) for i, w in enumerate(words) for n in normalize_words(w)]
        found: list[Candidate] = []
        for phrase in self.phrases:
            found.extend(self._for_phrase(phrase, words, norm))
        return found

    def near_onset(self, words: Sequence[str], tail: int = 3) -> bool:
        """True when one of the last `tail` words resembles a word of some phrase.

        The engine decodes faster while this holds, so a phrase being spoken is
        confirmed soon after its last word.
        """
        recent = [n for w in words[-tail:] for n in normalize_words(w)]
        return any(
            fuzz.ratio(r, p) >= 70 or fuzz.ratio(jellyfish.metaphone(r), jellyfish.metaphone(p)) >= 75
            for r in recent
            for phrase in self.phrases
            for p in phrase.words
            if len(p) > 2
        )

    def _for_phrase(self, phrase: Phrase, words: Sequence[str], norm: list[tuple[str, int]]) -> list[Candidate]:
        n = len(phrase.words)
        spans: list[Candidate] = []
        for length in range(max(1, n - 1), n + 3):
            for start in range(0, len(norm) - length + 1):
                span = norm[start : start + length]
                tokens = [t for t, _ in span]
                if not _comparable_length(compact(tokens), phrase.key):
                    continue
                similarity = self._similarity(phrase, tokens)
                if similarity >= self.min_similarity:
                    first, last = span[0][1], span[-1][1]
                    heard = " ".join(words[first : last + 1])
                    spans.append(Candidate(phrase, first, last, heard, similarity, compact(tokens) == phrase.key))
        return _best_disjoint(spans)

    def _similarity(self, phrase: Phrase, tokens: list[str]) -> float:
        text = fuzz.ratio(compact(tokens), phrase.key) / 100
        sound = fuzz.ratio(_phonetic(tokens), self._phonetics[phrase.key]) / 100
        # A span must also share its edges with the phrase, so long sentences
        # that merely contain similar letters are not nominated.
        edges = max(fuzz.ratio(tokens[0], phrase.words[0]), fuzz.ratio(tokens[-1], phrase.words[-1])) / 100
        return min((text + sound) / 2, 0.5 + edges / 2)


_MAX_ALTERNATIVES = 3


def _overlap(a: Candidate, b: Candidate) -> bool:
    return not (a.last < b.first or a.first > b.last)


def _best_disjoint(spans: list[Candidate]) -> list[Candidate]:
    ranked = sorted(spans, key=lambda c: (not c.exact, -c.similarity, c.last - c.first))
    chosen: list[Candidate] = []
    for cand in ranked:
        if not any(_overlap(cand, c) for c in chosen):
            chosen.append(cand)
    return [
        replace(c, alternatives=tuple(o for o in ranked if o is not c and _overlap(o, c))[:_MAX_ALTERNATIVES])
        for c in chosen
    ]
