"""`serve`'s access flags: the room key, allowed origins, TLS and the caps, read into what the app needs."""

from __future__ import annotations

import argparse
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parser is built for every command: aiohttp is imported only to serve
    from callbridge.web.access import Access
    from callbridge.web.limits import Limits


@dataclass(frozen=True)
class Exposure:
    """How the server is reached: its access rules, caps, TLS context and the base URL it prints."""

    access: Access
    limits: Limits
    ssl_context: ssl.SSLContext | None
    base: str  # scheme://host:port, a host a browser can open
    tls_note: str | None = None

    def room_url(self, room: str) -> str:
        key = self.access.room_key
        return f"{self.base}/room/{room}" + (f"?key={key}" if key else "")

    def kiosk_url(self, room: str) -> str:
        key = self.access.room_key
        return f"{self.base}/kiosk/{room}" + (f"?key={key}" if key else "")


def add_arguments(p: Any) -> None:
    """The flags, on `serve`'s parser."""
    p.add_argument(
        "--room-key",
        metavar="KEY",
        help="the key every room link must carry (?key=KEY). Needed on any address but loopback: without this "
        "flag one is generated once into DATA/room-key and printed with the room URL",
    )
    p.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept websocket and /api/ requests from this origin (scheme://host[:port]), e.g. a reverse "
        "proxy's public address; repeatable",
    )
    p.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS and WSS with a self-signed certificate made once in DATA/tls/ (browsers give the camera "
        "only to localhost or HTTPS pages)",
    )
    p.add_argument("--max-per-room", type=int, default=6, metavar="N", help="people in one room (default 6)")
    p.add_argument("--max-rooms", type=int, default=20, metavar="N", help="rooms open at once (default 20)")
    p.add_argument(
        "--max-sockets", type=int, default=8, metavar="N", help="websockets open per client address (default 8)"
    )


def read_arguments(args: argparse.Namespace) -> Exposure:
    """The flags checked and applied; ValueError with a one-line message for a bad one."""
    from callbridge.web.access import WILDCARDS, Access, OriginError, check_room_key, is_loopback, load_room_key
    from callbridge.web.limits import Limits

    for flag in ("max_per_room", "max_rooms", "max_sockets"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be 1 or more")
    limits = Limits(max_per_room=args.max_per_room, max_rooms=args.max_rooms, max_sockets=args.max_sockets)
    host, data = args.host, Path(args.data)
    if args.room_key is not None:
        key: str | None = check_room_key(args.room_key)
    else:
        key = None if is_loopback(host) else load_room_key(data)
    try:
        access = Access.for_bind(host, key, args.allow_origin)
    except OriginError as exc:
        raise ValueError(f"--allow-origin {exc}") from None
    shown = socket.gethostname() if host.strip("[]") in WILDCARDS else host
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    context, note = None, None
    if args.tls:
        from callbridge.config.tls import ensure_certificate

        files = ensure_certificate(data, [host, shown.strip("[]"), *access.hosts])
        context = files.context()
        made = "made" if files.made else "reused"
        note = f"TLS: self-signed certificate {made} in {files.cert.parent}; browsers ask once to accept it"
    scheme = "https" if args.tls else "http"
    return Exposure(access, limits, context, f"{scheme}://{shown}:{args.port}", note)
