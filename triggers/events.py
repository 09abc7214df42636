"""Typed events the trigger engine emits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TranscriptEvent:
    """Recognised speech. Partial ones (final=False) may still change."""

    participant: str
    text: str
    start_s: float
    end_s: float
    final: bool

    def to_dict(self, **extra: Any) -> dict[str, Any]:
        return _record("transcript", self, extra)


@dataclass(frozen=True)
class TriggerEvent:
    """A configured phrase was heard.

    phrase_end_s is where the matched words end on the stream clock; emitted_at_s is
    how much audio had been fed when the event was emitted.
    """

    participant: str
    phrase: str
    heard: str
    phrase_end_s: float
    emitted_at_s: float
    confidence: float

    def to_dict(self, **extra: Any) -> dict[str, Any]:
        return _record("trigger", self, extra)


Event = TranscriptEvent | TriggerEvent


def _record(kind: str, event: Event, extra: dict[str, Any]) -> dict[str, Any]:
    """The event as a JSON-ready dict: its kind, then `extra` (e.g. the file), then its fields.

    An empty participant (a file, not a call) is left out.
    """
    fields = asdict(event)
    if not fields["participant"]:
        del fields["participant"]
    return {"event": kind, **extra, **fields}
