"""Which phrase occurrences have fired: one event per spoken occurrence, and each phrase's cooldown.

Re-decodes hear the same occurrence again and again, with word times that
shift a little each time; an occurrence is the same one when its span lies
within 0.3 s of one that fired.
"""

from __future__ import annotations

from dataclasses import dataclass

from triggers.matcher import Phrase

_SAME_OCCURRENCE_S = 0.3


@dataclass
class Occurrence:
    phrase: str  # Phrase.key
    start_s: float
    end_s: float


class Occurrences:
    """The occurrences that fired (or are held to fire), on the stream clock."""

    def __init__(self) -> None:
        self._fired: list[Occurrence] = []

    def suppressed(self, phrase: Phrase, start_s: float, end_s: float) -> bool:
        """The span is an occurrence already fired, or falls in the phrase's cooldown."""
        for f in self._fired:
            if f.phrase != phrase.key:
                continue
            if start_s < f.end_s + _SAME_OCCURRENCE_S and end_s > f.start_s - _SAME_OCCURRENCE_S:
                return True
            if start_s < f.end_s + phrase.cooldown_s:
                return True
        return False

    def add(self, phrase: Phrase, start_s: float, end_s: float) -> Occurrence:
        occurrence = Occurrence(phrase.key, start_s, end_s)
        self._fired.append(occurrence)
        return occurrence

    def discard(self, occurrence: Occurrence) -> None:
        """Forget an occurrence that was held and let go: later decodes decide on it."""
        if occurrence in self._fired:
            self._fired.remove(occurrence)

    def any_since(self, t_s: float) -> bool:
        return any(f.end_s >= t_s for f in self._fired)

    def forget_before(self, t_s: float) -> None:
        self._fired = [f for f in self._fired if f.end_s > t_s]
