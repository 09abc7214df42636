"""Who may reach the relay: the Host and Origin allow-lists, and the room key (docs/relay.md, "Access").

- Host: every request must name a host the server answers to (any port), or
  carry no Host at all. A DNS-rebinding page reaches the server under its own
  DNS name, so unknown names are refused with 403.
- Origin: websocket and /api/ requests that carry an Origin must come from
  the server's own origin (the scheme and Host of the request itself) or from
  an `--allow-origin`; others get 403. Requests with no Origin (curl, scripts)
  pass.
- Room key: a relay bound beyond loopback, or given `--room-key`, admits a
  websocket only with `?key=KEY`, compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from callbridge.web.ratelimit import Rate, RateLimiter

log = logging.getLogger(__name__)
NOTES = RateLimiter(Rate(burst=5, per_s=0.1))  # refusals logged: a flood of them does not flood the log
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ROOM_KEY_FILE = "room-key"
KEY_NEEDED = "this room needs its key: open the link with ?key=... (the server prints it at start)"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("", "0.0.0.0", "::")


class OriginError(ValueError):
    """An `--allow-origin` that is not scheme://host[:port]."""


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: only this machine can connect."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def normalise_origin(origin: str) -> str:
    """`scheme://host[:port]` in lower case, default ports dropped; OriginError if it is not one."""
    parts = urlsplit(origin.strip().lower())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise OriginError(f"{origin!r} is not an origin like https://gallery.example.org[:port]")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise OriginError(f"{origin!r} is not an origin like https://gallery.example.org[:port]")
    try:
        port = parts.port
    except ValueError:
        raise OriginError(f"{origin!r} has a bad port") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = 80 if parts.scheme == "http" else 443
    return f"{parts.scheme}://{host}" + ("" if port in (None, default) else f":{port}")


def host_name(host_header: str) -> str:
    """The host of a Host header, without port or brackets, in lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def machine_names() -> set[str]:
    """This machine's host name and fully qualified name (and its mDNS .local name)."""
    names = {socket.gethostname().lower()}
    try:
        names.add(socket.getfqdn().lower())
    except OSError:
        pass
    names |= {f"{n.split('.', 1)[0]}.local" for n in names if n}
    return {n for n in names if n}


@dataclass(frozen=True)
class Access:
    """The allow-lists and room key of one server; `for_bind` derives them from `serve`'s flags."""

    hosts: frozenset[str] = frozenset(LOOPBACK_NAMES)  # host names (no port) the server answers to
    any_ip: bool = False  # a wildcard bind answers to any IP literal too
    origins: frozenset[str] = frozenset()  # --allow-origin, normalised
    room_key: str | None = None
    loopback: bool = True

    @classmethod
    def for_bind(
        cls,
        bind: str,
        room_key: str | None = None,
        allow_origins: Iterable[str] = (),
        names: set[str] | None = None,
    ) -> Access:
        origins = frozenset(normalise_origin(o) for o in allow_origins)
        bind = bind.strip("[]").lower()
        loopback = is_loopback(bind)
        if loopback:
            hosts = {*LOOPBACK_NAMES, bind}
        else:
            hosts = {bind, *(machine_names() if names is None else names)} - set(WILDCARDS)
        hosts |= {host_name(urlsplit(o).netloc) for o in origins}
        return cls(frozenset(hosts), bind in WILDCARDS, origins, room_key, loopback)

    def host_allowed(self, host_header: str | None) -> bool:
        if host_header is None:
            return True  # not a browser: browsers always send Host
        host = host_name(host_header)
        return host in self.hosts or (self.any_ip and is_ip(host))

    def origin_allowed(self, origin: str | None, scheme: str, host_header: str | None) -> bool:
        if origin is None:
            return True
        try:
            given = normalise_origin(origin)
        except OriginError:
            return False  # "null", or garbage
        if given in self.origins:
            return True
        if host_header is None or not self.host_allowed(host_header):
            return False
        try:
            own = normalise_origin(f"{scheme}://{host_header}")
        except OriginError:
            return False
        return hmac.compare_digest(given, own)

    def key_ok(self, given: str | None) -> bool:
        """The room key, in constant time; always true when no key is set."""
        if self.room_key is None:
            return True
        return hmac.compare_digest((given or "").encode(), self.room_key.encode())


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """403 for a foreign Host anywhere, and for a foreign Origin on websockets and /api/."""
    access = request.app.get(ACCESS) or DEFAULT
    host = request.headers.get("Host")
    if not access.host_allowed(host):
        if NOTES.allow("host"):
            log.warning("refused a request for host %.80r (403)", host)
        return _forbidden(request, "this server does not answer to that host name")
    if request.path.startswith(("/ws/", "/api/")):
        origin = request.headers.get("Origin")
        if not access.origin_allowed(origin, request.scheme, host):
            if NOTES.allow("origin"):
                log.warning("refused a request from origin %.80r (403)", origin)
            return _forbidden(request, "requests from that origin are not allowed (see serve --allow-origin)")
    return await handler(request)


def _forbidden(request: web.Request, message: str) -> web.Response:
    if request.path.startswith("/api/"):
        return web.json_response({"error": message}, status=403)
    return web.Response(status=403, text=message)


def load_room_key(data_dir: Path) -> str:
    """The generated room key, kept in DATA/room-key (mode 600) so that links survive restarts."""
    path = data_dir / ROOM_KEY_FILE
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = secrets.token_urlsafe(12)
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def check_room_key(key: str) -> str:
    """A `--room-key`: 8-200 URL-safe characters (it travels in links)."""
    key = key.strip()
    if not 8 <= len(key) <= 200 or not all(c.isascii() and (c.isalnum() or c in "-_.~") for c in key):
        raise ValueError("--room-key must be 8-200 characters: letters, digits, - _ . ~")
    return key


DEFAULT = Access()
ACCESS = web.AppKey("access", Access)
