"""Phrases confirmed just as the speaker fell silent, waiting for that silence to become a pause.

The decode that proves such a phrase overlaps the wait for the pause (see
Pauses.falling_silent); the phrase fires once the pause is real, and is let go
(its occurrence forgotten, so later decodes decide) if the speaker talks on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from triggers.events import TriggerEvent
from triggers.occurrences import Occurrence, Occurrences
from triggers.pauses import Pauses


@dataclass
class HeldPhrase:
    event: TriggerEvent
    fired: Occurrence
    silence_start_s: float  # the silence it waits on: it must grow into a pause


class HeldPhrases:
    """The held phrases of one stream."""

    def __init__(self, pauses: Pauses, fired: Occurrences) -> None:
        self._pauses = pauses
        self._fired = fired
        self._held: list[HeldPhrase] = []

    def hold(self, event: TriggerEvent, fired: Occurrence, silence_start_s: float) -> None:
        self._held.append(HeldPhrase(event, fired, silence_start_s))

    def settle(self, now_s: float, stream_end: bool = False) -> list[TriggerEvent]:
        """Fire held phrases whose silence became a pause (all of them at the stream's end), emitted at `now_s`."""
        events: list[TriggerEvent] = []
        waiting: list[HeldPhrase] = []
        for held in self._held:
            verdict = "fire" if stream_end else self._pauses.held(held.silence_start_s)
            if verdict == "fire":
                events.append(replace(held.event, emitted_at_s=round(now_s, 3)))
            elif verdict == "wait":
                waiting.append(held)
            else:  # talked on: later decodes decide
                self._fired.discard(held.fired)
        self._held = waiting
        return events
