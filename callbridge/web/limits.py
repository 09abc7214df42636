"""Caps and rate limits for a public server: their settings, and the per-address counts (docs/interfaces.md).

Every refusal is a plain sentence; the websocket side sends it as
`{"type":"error","message":M}` and closes, the API answers it with 429.
"""

from __future__ import annotations

import ipaddress
import time
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

from callbridge.web.ratelimit import Clock, Rate, RateLimiter

# The refusals, one sentence each: pages show them as they are.
ROOM_FULL = "this room is full ({n} people)"
SERVER_FULL = "this server is full, try again later"
TOO_MANY_SOCKETS = "too many connections from your address ({n} at most); close another tab and try again"
JOIN_LATE = "no join within {s:.0f} s; connection closed"
TOO_MANY_JOINS = "too many joins from your address; wait a moment and try again"
TOO_MANY_MESSAGES = "too many messages; connection closed"
TOO_MANY_CONSENT = "too many consent changes; wait a moment"
TOO_MANY_UPLOADS = "too many uploads; wait a moment and try again"


@dataclass(frozen=True)
class Limits:
    """The caps (`serve --max-per-room`, `--max-rooms`, `--max-sockets`) and the rates per client address."""

    max_per_room: int = 6  # people; watching screens (kiosks) are not counted here
    max_rooms: int = 20
    max_sockets: int = 8  # open websockets per client address, watchers included
    join_deadline_s: float = 10.0  # from the socket's opening to its join message
    joins: Rate = Rate(burst=10, per_s=0.5)
    messages: Rate = Rate(burst=100, per_s=50)  # every signalling message; past it the socket is closed
    consent: Rate = Rate(burst=5, per_s=1)  # consent and recording answers (each is a log row, a wipe)
    uploads: Rate = Rate(burst=5, per_s=0.1)  # template uploads and previews


@dataclass
class ClientLimits:
    """What each client address is using now: open sockets, and its token buckets."""

    limits: Limits = field(default_factory=Limits)
    clock: Clock = time.monotonic
    sockets: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.joins = RateLimiter(self.limits.joins, self.clock)
        self.messages = RateLimiter(self.limits.messages, self.clock)
        self.consent = RateLimiter(self.limits.consent, self.clock)
        self.uploads = RateLimiter(self.limits.uploads, self.clock)

    def open_socket(self, client: str) -> bool:
        """Count a new websocket from `client`; False (not counted) when it is at its cap."""
        if self.sockets[client] >= self.limits.max_sockets:
            return False
        self.sockets[client] += 1
        return True

    def close_socket(self, client: str) -> None:
        self.sockets[client] -= 1
        if self.sockets[client] <= 0:
            del self.sockets[client]


def client_key(remote: str | None) -> str:
    """The address limits are counted by: an IPv4 address, or an IPv6 address's /64 (one home or host)."""
    if not remote:
        return "unknown"
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return remote  # a Unix socket's peer, say
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


LIMITS = web.AppKey("limits", ClientLimits)
