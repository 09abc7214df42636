"""The sweep: a finished utterance read once more, by a beam biased to every phrase.

Streaming decodes can lose a phrase. Heard once at the window's edge, where it
must wait for its guard ("lasagna for dinner tonight,"), it may be read otherwise
once the rest of the audio is in ("this on your 40-0."). A reading that holds
a phrase counts under the second look's limit (AcousticVerifier.cheapest_reading).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from triggers.asr import Decoding, Word
from triggers.matcher import Candidate, Phrase, PhraseMatcher
from triggers.recognizer import Recognizer
from triggers.verify import REWRITES, AcousticVerifier


@dataclass(frozen=True)
class SweepFind:
    """A phrase in the cheapest beam reading that holds it, timed on the stream clock."""

    candidate: Candidate
    start_s: float
    end_s: float
    confidence: float


def sweep(
    recognizer: Recognizer,
    verifier: AcousticVerifier,
    decoding: Decoding,
    heard: list[Word],
    phrases: Sequence[Phrase],
    hotwords: str,
) -> list[SweepFind]:
    """Phrases that a beam reading of `decoding` holds at an acceptable cost against `heard`."""
    readings = recognizer.rewrites(decoding, hotwords, REWRITES)
    finds = []
    for phrase in phrases:
        found = verifier.cheapest_reading(decoding, [w.text for w in heard], phrase, readings)
        if found is None or not found[1].accepted:
            continue
        reading, verdict = found
        finds += [
            SweepFind(c, start, end, verdict.confidence)
            for c, start, end in placed(recognizer, decoding, reading, phrase)
        ]
    return finds


def placed(
    recognizer: Recognizer, decoding: Decoding, reading: Sequence[str], phrase: Phrase
) -> list[tuple[Candidate, float, float]]:
    """Where in the decoding's audio a reading says `phrase`: (span, start_s, end_s) per occurrence."""
    timed = recognizer.timed(decoding, reading)
    spans = PhraseMatcher([phrase]).candidates([w.text for w in timed])
    return [(c, timed[c.first].start, timed[c.last].end) for c in spans if c.exact]
