"""`callbridge serve`: the relay and the demo pages."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callbridge.cli.exits import EXIT_BAD_INPUT
from callbridge.web import exposure

if TYPE_CHECKING:
    from callbridge.workers.load import LoadPolicy

HELP = """Runs the WebRTC relay and its pages. Open http://HOST:PORT/room/NAME in two
browsers, tick the consent box, join, and say a trigger phrase ("dinner tonight"):
the others see your tile turn into a labelled, personalised ad. With --record,
rooms record while everyone in them agrees; with --exhibit DIR, recorded calls
play in a loop into room 'exhibit' beside its visitors, and /kiosk/exhibit shows
it fullscreen for a gallery screen. Set CALLBRIDGE_ICE_LOOPBACK=1 to offer
127.0.0.1 candidates (loopback-only hosts)."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the relay and the demo room pages", description=HELP)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--data", type=Path, default=Path("data"), metavar="DIR", help="data directory (default ./data)")
    p.add_argument("--model", default="tiny.en", metavar="NAME|PATH", help="speech model (default tiny.en)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument(
        "--fit",
        default="auto",
        choices=["auto", "cpu", "cuda", "off"],
        help="fit each consenting participant's trained face swap during the call, in RAM, and use it once it "
        "measures better than warp (default auto: only on a CUDA GPU; cpu runs it at the lowest priority)",
    )
    p.add_argument("--passthrough", action="store_true", help="relay only: no speech recognition, no faces, no ads")
    p.add_argument(
        "--record",
        action="store_true",
        help="let rooms record calls into DATA/recordings, only while everyone in the room agrees (asked in the page)",
    )
    p.add_argument(
        "--exhibit",
        type=Path,
        metavar="DIR",
        help="play the recordings (and videos) in DIR in a loop into room 'exhibit', as participants; "
        "visitors can join and trigger ads too, and /kiosk/exhibit shows it fullscreen",
    )
    p.add_argument(
        "--log-speech",
        action="store_true",
        help="write recognised speech (what a trigger heard) into the relay's log; by default it is withheld",
    )
    p.add_argument(
        "--log-days",
        type=_days,
        metavar="N",
        help="keep consent-log and ad-play-log rows N days, purged at start and hourly (default: the stored "
        "setting, 30 unless changed on the admin page); the relay's own log goes to stderr only",
    )
    exposure.add_arguments(p)  # --room-key, --allow-origin, --tls, --max-per-room, --max-rooms, --max-sockets
    p.add_argument(
        "--full-at-cpu",
        type=float,
        default=0.75,
        metavar="SHARE",
        help="refuse new joins ('this server is full') while the CPU taken by work at normal priority, averaged "
        "over a few seconds, is at least this share of all cores, or one more participant (their measured cost) "
        "would take it there (default 0.75; niced programs count as free); "
        "from 5/6 of it the relay is busy: it analyses fewer face frames and puts off unlikely ad pre-renders. "
        "People in a call are never dropped",
    )
    p.add_argument(
        "--full-at-speech-lag",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="refuse new joins while a speech recogniser is this far behind the audio, averaged (default 1.0; "
        "busy from half of it)",
    )
    p.add_argument(
        "--no-overload-guard",
        action="store_true",
        help="never refuse joins or slow workers for load (GET /api/load still reports it)",
    )
    p.set_defaults(run=run)


def _load_policy(args: argparse.Namespace) -> LoadPolicy:
    """The overload thresholds from the flags; ValueError with a one-line message for a bad one."""
    from callbridge.workers.load import LoadPolicy

    if not 0.0 < args.full_at_cpu <= 1.0:  # `not` also refuses NaN
        raise ValueError(
            f"--full-at-cpu must be more than 0 and at most 1 (a share of all cores), not {args.full_at_cpu}"
        )
    if not 0.0 < args.full_at_speech_lag <= 10.0:
        raise ValueError(
            f"--full-at-speech-lag must be more than 0 and at most 10 seconds, not {args.full_at_speech_lag}"
        )
    return LoadPolicy.from_full(args.full_at_cpu, args.full_at_speech_lag)


def _days(text: str) -> int:
    from callbridge.config.logs import days

    return days(text)


def run(args: argparse.Namespace) -> int:
    from aiohttp import web

    from callbridge.config.admin_token import ENV, FILE, load_admin_token
    from callbridge.config.logs import setup as setup_logs
    from callbridge.config.pretrained import resolve_fit_device
    from callbridge.config.services import Services, StartError
    from callbridge.media.adapt.aioice_loopback import configure_ice
    from callbridge.web.overload import LoadGuard
    from callbridge.web.relay import Relay
    from callbridge.web.server import build_app
    from callbridge.workers.heap import map_large_blocks

    map_large_blocks()  # before the first frame: a relay that runs for weeks keeps its heap from fragmenting
    setup_logs(speech=args.log_speech)  # to a private copy of stderr that mediapipe's muting cannot swallow
    logging.getLogger("aiortc").setLevel(logging.WARNING)
    logging.getLogger("aioice").setLevel(logging.WARNING)
    if not 0 < args.port < 65536:
        print(f"callbridge serve: error: port {args.port} is not in 1-65535", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        policy = _load_policy(args)
    except ValueError as exc:
        print(f"callbridge serve: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        resolve_fit_device(args.fit)  # --fit cuda on a machine without one stops here
    except ValueError as exc:
        print(f"callbridge serve: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        services = Services(args.data, args.model, args.device, fit=args.fit)
        token = load_admin_token(args.data)
    except Exception as exc:
        print(f"callbridge serve: error: {args.data}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:  # every model file present and as declared (or the fix), and the log retention applied
        services.check_start(models=not args.passthrough, log_days=args.log_days)
    except StartError as exc:
        print(f"callbridge serve: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        reach = exposure.read_arguments(args)  # room key, origins, TLS certificate, caps
    except (ValueError, OSError) as exc:
        print(f"callbridge serve: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    acts = None
    if args.exhibit is not None:
        from callbridge.exhibit import ExhibitError, load_playlist

        try:
            acts, notes = load_playlist(args.exhibit)
        except ExhibitError as exc:
            print(f"callbridge serve: error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        for note in notes:
            print(f"callbridge serve: note: {note}", file=sys.stderr)
    configure_ice()
    relay = Relay(services, passthrough=args.passthrough, token=token, record=args.record, limits=reach.limits)
    mode = " (passthrough: no AI)" if args.passthrough else ""
    base = reach.base
    print(f"callbridge relay on {reach.room_url('demo')}{mode}", file=sys.stderr)
    if reach.tls_note:
        print(reach.tls_note, file=sys.stderr)
    if acts:
        minutes = sum(a.duration_s for a in acts) / 60
        print(
            f"exhibition: {len(acts)} recording(s), {minutes:.1f} min a loop, in {reach.room_url('exhibit')}",
            file=sys.stderr,
        )
        print(f"kiosk screen on {reach.kiosk_url('exhibit')}", file=sys.stderr)
    print(f"campaign admin on {base}/admin", file=sys.stderr)
    if token.source == "new":  # shown once; afterwards it is read from the file
        print(f"admin token (shown once, kept in {args.data / FILE}): {token.value}", file=sys.stderr, flush=True)
    else:
        where = f"${ENV}" if token.source == "environment" else str(args.data / FILE)
        print(f"admin token: see {where}", file=sys.stderr, flush=True)
    try:
        web.run_app(
            build_app(relay, acts, reach.access, LoadGuard(policy, enabled=not args.no_overload_guard)),
            host=args.host,
            port=args.port,
            print=None,
            access_log=None,
            ssl_context=reach.ssl_context,
        )
    except OSError as exc:
        print(
            f"callbridge serve: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr
        )
        return EXIT_BAD_INPUT
    return 0
