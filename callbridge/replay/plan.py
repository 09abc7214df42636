"""Where the ads go: one segment per trigger that the audience would have seen play.

Live, an ad starts when the trigger is emitted and a trigger during the speaker's
own ad is ignored; replay follows the same rules on the audio clock, so the same
input always gives the same segments. A recording's log says where each ad was
actually seen: `on_live_times` moves the segments there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from callbridge.media.adbreak import MAX_AD_S, MIN_AD_S
from callbridge.replay.livelog import LiveAd
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


# A live ad starts after its trigger on the audio clock, by the relay's lag: this much at most.
LIVE_LAG_S = (-0.5, 4.0)


def on_live_times(segments: Sequence[AdSegment], live: Sequence[LiveAd], until_s: float) -> list[AdSegment]:
    """Each segment moved to where the same speaker's ad played live (the first one starting within
    LIVE_LAG_S of it), with the live ad's length; a segment with no live ad stays where it is."""
    moved: list[AdSegment] = []
    taken: set[int] = set()
    busy_until: dict[str, float] = {}
    for segment in segments:
        match = next(
            (
                (i, ad)
                for i, ad in enumerate(live)
                if i not in taken
                and ad.participant == segment.participant
                and LIVE_LAG_S[0] <= ad.start_s - segment.start_s <= LIVE_LAG_S[1]
            ),
            None,
        )
        if match is not None:
            taken.add(match[0])
            ad = match[1]
            length = segment.end_s - segment.start_s if ad.end_s is None else ad.end_s - ad.start_s
            end = min(until_s, ad.start_s + min(MAX_AD_S, max(0.0, length)))
            segment = dataclasses.replace(segment, start_s=ad.start_s, end_s=end)
        if segment.start_s < busy_until.get(segment.participant, -1.0) or segment.start_s >= segment.end_s:
            continue
        busy_until[segment.participant] = segment.end_s
        moved.append(segment)
    return moved
