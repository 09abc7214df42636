"""Room events as pages see them: {type, participant, t, ...} (docs/interfaces.md)."""

from __future__ import annotations

import time
from typing import Any

# "face" is ours, beyond docs/interfaces.md: a participant's face is (ready=true) or is no
# longer (ready=false) held for their ad, so every page can say so openly.
EVENT_TYPES = ("joined", "left", "transcript", "trigger", "ad-start", "ad-end", "face")
RoomEvent = dict[str, Any]


def room_event(kind: str, participant: str, t: float | None = None, **fields: Any) -> RoomEvent:
    """An event stamped with the server's wall clock unless `t` is given."""
    if kind not in EVENT_TYPES:
        raise ValueError(f"unknown event type {kind!r}")
    return {"type": kind, "participant": participant, "t": round(time.time() if t is None else t, 4), **fields}


def recording_event(on: bool, reason: str | None = None) -> RoomEvent:
    """The room's recording started or stopped (every page shows REC while it is on)."""
    event: RoomEvent = {"type": "recording", "on": on, "t": round(time.time(), 4)}
    return event if reason is None else {**event, "reason": reason}


def campaign_event(phrases: list[str]) -> RoomEvent:
    """The campaign changed: the phrases that now start an ad (no participant: it concerns the room)."""
    return {"type": "campaign", "phrases": list(phrases), "t": round(time.time(), 4)}
