"""Signalling messages from pages, validated at the edge (see docs/interfaces.md)."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass

MAX_MESSAGE = 256 * 1024  # an SDP with many m-lines stays far below this
MAX_NAME = 40


class SignallingError(ValueError):
    """A message the server cannot use; the text goes back to the page."""


@dataclass(frozen=True)
class Join:
    name: str
    consent: bool
    watch: bool = False  # a screen that only receives (the kiosk page): no name, no media of its own


@dataclass(frozen=True)
class Offer:
    sdp: str


@dataclass(frozen=True)
class Answer:
    sdp: str


@dataclass(frozen=True)
class Consent:
    consent: bool


@dataclass(frozen=True)
class Record:
    """Agreement to the call being recorded, asked apart from the face consent."""

    agree: bool


@dataclass(frozen=True)
class Leave:
    pass


Message = Join | Offer | Answer | Consent | Record | Leave


def parse_message(text: str | bytes) -> Message:
    """One websocket message -> a typed message; SignallingError says what is wrong."""
    if len(text) > MAX_MESSAGE:
        raise SignallingError(f"message too large ({len(text)} characters, at most {MAX_MESSAGE})")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise SignallingError("message is not valid JSON") from None
    except RecursionError:  # 100 KB of "[" nests deeper than the parser goes
        raise SignallingError("message is nested too deeply") from None
    if not isinstance(data, dict):
        raise SignallingError("message must be a JSON object")
    kind = data.get("type")
    if kind == "join":
        if _bool(data, "watch", default=False):
            return Join("", False, watch=True)
        return Join(parse_name(data.get("name")), _bool(data, "consent", default=False))
    if kind in ("offer", "answer"):
        sdp = data.get("sdp")
        if not isinstance(sdp, str) or not sdp.startswith("v=0"):
            raise SignallingError(f"{kind} needs an SDP string in 'sdp'")
        return Offer(sdp) if kind == "offer" else Answer(sdp)
    if kind == "consent":
        return Consent(_bool(data, "consent"))
    if kind == "record":
        return Record(_bool(data, "agree"))
    if kind == "leave":
        return Leave()
    raise SignallingError(f"unknown message type {kind!r} (expected join, offer, answer, consent, record or leave)")


def parse_name(value: object) -> str:
    """A display name: 1-40 printable characters, trimmed."""
    if not isinstance(value, str):
        raise SignallingError("join needs a 'name' string")
    name = value.strip()
    if not name:
        raise SignallingError("the name is empty")
    if len(name) > MAX_NAME:
        raise SignallingError(f"the name is longer than {MAX_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise SignallingError("the name has control characters")
    return name


def _bool(data: dict, key: str, default: bool | None = None) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise SignallingError(f"'{key}' must be true or false")
    return value
