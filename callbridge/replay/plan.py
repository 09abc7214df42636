"""Where the ads go: one segment per trigger that the audience would have seen play.

Live, an ad starts when the trigger is emitted and a trigger during the speaker's
own ad is ignored; replay follows the same rules on the audio clock, so the same
input always gives the same segments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from callbridge.media.adbreak import MAX_AD_S, MIN_AD_S
from triggers import TriggerEvent


@dataclass(frozen=True)
class AdSegment:
    participant: str
    phrase: str
    template: str
    start_s: float
    end_s: float
    personalised: bool = False

    def covers(self, t: float) -> bool:
        return self.start_s <= t < self.end_s

    def to_dict(self) -> dict[str, object]:
        return {
            "event": "ad",
            "participant": self.participant,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "template": self.template,
            "personalised": self.personalised,
        }


def plan_ads(
    triggers: Sequence[TriggerEvent],
    template_for: Callable[[str], str | None],
    duration_of: Callable[[str], float],
    until_s: float,
) -> list[AdSegment]:
    """Segments in time order, none overlapping another of the same speaker, none past `until_s`."""
    segments: list[AdSegment] = []
    busy_until: dict[str, float] = {}
    for trigger in sorted(triggers, key=lambda t: t.emitted_at_s):
        start = trigger.emitted_at_s
        template = template_for(trigger.phrase)
        if template is None or start >= until_s or start < busy_until.get(trigger.participant, -1.0):
            continue
        end = min(until_s, start + min(MAX_AD_S, max(MIN_AD_S, duration_of(template))))
        busy_until[trigger.participant] = end
        segments.append(AdSegment(trigger.participant, trigger.phrase, template, start, end))
    return segments
