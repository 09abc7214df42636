"""Where a recording's ads played live, from its events.jsonl: each ad from its first frame to its last.

A live ad starts once the relay has heard the phrase and put the ad's first frame on air:
later than its trigger on the audio clock, by however busy the relay was (0.2 to 3.5 s on a
loaded 2-core machine). Replay moves each ad it plans to where the audience saw it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LiveAd:
    participant: str
    start_s: float  # on the recording's clock
    end_s: float | None  # None: the log has no end (the recording stopped during it)


def read_live_ads(events: Path, started_t: float) -> tuple[list[LiveAd], list[str]]:
    """The ads in `events` in order, and a note for each line that is not a room event (skipped)."""
    try:
        lines = events.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return [], [f"{events.parent.name} has no events.jsonl: the ads go where replay hears the phrases"]
    except OSError as exc:
        return [], [f"{events} cannot be read ({exc.strerror}): the ads go where replay hears the phrases"]
    ads: list[LiveAd] = []
    notes: list[str] = []
    playing: dict[str, float] = {}  # participant -> start of the ad on air
    for number, line in enumerate(lines, 1):
        event = _event(line)
        if event is None:
            notes.append(f"events.jsonl line {number} is not a room event: skipped")
            continue
        kind, who, t = event
        if kind == "ad-start":
            playing[who] = t - started_t
        elif kind == "ad-end" and who in playing:
            ads.append(LiveAd(who, playing.pop(who), t - started_t))
    ads += [LiveAd(who, start, None) for who, start in playing.items()]
    return sorted(ads, key=lambda a: a.start_s), notes


def _event(line: str) -> tuple[str, str, float] | None:
    """(type, participant, t) of a logged room event; None for a line that is not one."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return None
    t = event.get("t")
    if not isinstance(t, int | float):
        return None
    return event["type"], str(event.get("participant", "")), float(t)
