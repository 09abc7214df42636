"""Text normalisation shared by configured phrases and recognised words."""

from __future__ import annotations

import re
import unicodedata

from num2words import num2words

_SYMBOLS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at "}
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)(st|nd|rd|th)?")
_NON_WORD = re.compile(r"[^a-z0-9' ]+")


def _spell_number(match: re.Match[str]) -> str:
    digits, ordinal = match.group(1), match.group(2)
    if ordinal and "." not in digits:
        return " " + num2words(int(digits), to="ordinal") + " "
    return " " + num2words(float(digits) if "." in digits else int(digits)) + " "


def normalize_words(text: str) -> list[str]:
    """Lower-case words with numbers spelled out and punctuation removed.

    "Dinner To-Night!" -> ["dinner", "to", "night"]; "7-Eleven" -> ["seven", "eleven"].
    Compound splits ("to night" vs "tonight") are handled by comparing the
    words joined without spaces (see `compact`).
    """
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    for symbol, spoken in _SYMBOLS.items():
        text = text.replace(symbol, spoken)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,000 -> 1000
    text = _NUMBER.sub(_spell_number, text)
    text = text.replace("-", " ")
    text = _NON_WORD.sub(" ", text)
    words = [w.strip("'").replace("'", "") for w in text.split()]
    return [w for w in words if w]


def compact(words: list[str]) -> str:
    """Words joined without spaces, so "to night" and "tonight" compare equal."""
    return "".join(words)


def word_key(text: str) -> str:
    """One recognised word as compared across decodes: "Tonight?" -> "tonight"."""
    return compact(normalize_words(text))
