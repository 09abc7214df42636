"""The relay's HTTP side (aiohttp): pages, health, campaign, and the signalling websocket."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

from aiohttp import web

from callbridge.exhibit import Act, Exhibition
from callbridge.media.adapt import aiortc_audio_level, aiortc_playout_delay, aiortc_vp8_bitrate, encoder_trace
from callbridge.provenance import ExhibitAuthority
from callbridge.web import admin_api, template_upload
from callbridge.web.access import ACCESS, KEY_NEEDED, Access, guard
from callbridge.web.limits import LIMITS, TOO_MANY_SOCKETS, ClientLimits, client_key
from callbridge.web.overload import LOAD, LoadGuard
from callbridge.web.overload import install as install_load_guard
from callbridge.web.relay import RELAY, Relay, ServerFull
from callbridge.web.session import Session
from callbridge.workers.heap import HeapTrimmer
from callbridge.workers.priority import in_normal_thread, media_executor

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
ROOM_NAME = re.compile(r"[a-z0-9-]{1,40}")  # always with fullmatch: "$" would let "demo\n" through
BAD_ROOM = "room names are 1-40 lowercase letters, digits or -"


EXHIBITION = web.AppKey("exhibition", Exhibition)
HEAP_TRIMMER = web.AppKey("heap_trimmer", HeapTrimmer)


def build_app(
    relay: Relay, exhibit: list[Act] | None = None, access: Access | None = None, load: LoadGuard | None = None
) -> web.Application:
    """The relay's application; with `exhibit`, those acts play in a loop into room `exhibit`.

    `access` holds the Host and Origin allow-lists and the room key (default: a loopback server, no key).
    `load` is the overload guard (default: one that only measures, for `/api/load`; `serve` turns it on).
    """
    app = web.Application(middlewares=[guard, admin_api.json_errors])
    app[RELAY] = relay
    app[ACCESS] = access or Access()
    app[LIMITS] = ClientLimits(relay.limits)
    if exhibit:
        app[EXHIBITION] = Exhibition(relay, exhibit)
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/room/{room}", room_page)
    app.router.add_get("/kiosk/{room}", room_page)  # the same page, as a watching screen (room/session.js)
    app.router.add_get("/ws/{room}", websocket)
    app.router.add_get("/admin", admin_page)
    app.router.add_get("/provenance/root.pem", provenance_root)
    admin_api.add_routes(app)
    install_load_guard(app, load or LoadGuard(enabled=False))
    template_upload.add_routes(app)
    app.router.add_static("/static", STATIC)
    app[HEAP_TRIMMER] = HeapTrimmer()
    app.on_startup.append(_start_loading)
    app.on_shutdown.append(_hang_up)
    return app


async def _start_loading(app: web.Application) -> None:
    # aiortc encodes in the default executor: media work yields to speech (see priority.py)
    asyncio.get_running_loop().set_default_executor(media_executor())
    aiortc_audio_level.install()  # aiortc's per-sample loop otherwise holds the event loop
    aiortc_vp8_bitrate.install()  # aiortc otherwise restarts the video encoder at every wobble of the estimate
    aiortc_playout_delay.install()  # pages show the relay's video once decoded, not after a jitter buffer
    encoder_trace.install()  # only where $CALLBRIDGE_TRACE_ENCODES names a file (the browser bench)
    app[RELAY].loading = asyncio.ensure_future(app[RELAY].load())
    app[RELAY].start_campaign_watch()
    app[HEAP_TRIMMER].start()  # freed ad renders' pages go back to the system (workers/heap.py)
    if EXHIBITION in app:
        app[EXHIBITION].start()


async def _hang_up(app: web.Application) -> None:
    relay = app[RELAY]
    relay.stop_campaign_watch()
    await app[HEAP_TRIMMER].stop()
    if EXHIBITION in app:
        await app[EXHIBITION].stop()
    for room in list(relay.rooms.values()):
        for participant in list(room.participants.values()):
            await room.leave(participant)


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def room_page(request: web.Request) -> web.StreamResponse:
    if not valid_room(request.match_info["room"]):
        raise web.HTTPNotFound(text=BAD_ROOM)
    return web.FileResponse(STATIC / "room.html")


def valid_room(name: str) -> bool:
    return ROOM_NAME.fullmatch(name) is not None


async def admin_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "admin.html", headers={"Cache-Control": "no-store"})


async def provenance_root(request: web.Request) -> web.Response:
    """The exhibit root certificate, so that visitors can check the videos this installation signs."""
    data_dir = request.app[RELAY].services.data_dir
    authority = await in_normal_thread(ExhibitAuthority.load_or_create, data_dir)
    return web.Response(body=authority.root_pem, content_type="application/x-pem-file")


async def healthz(request: web.Request) -> web.Response:
    relay = request.app[RELAY]
    body: dict[str, bool | int | str] = {
        "ok": relay.ready,
        "passthrough": relay.passthrough,
        "rooms": len(relay.rooms),
        "participants": sum(len(r.participants) for r in relay.rooms.values()),
    }
    if relay.load_error:
        body["error"] = relay.load_error
    return web.json_response(body, status=200 if relay.ready else 503)


async def websocket(request: web.Request) -> web.StreamResponse:
    """One page's signalling. Checked in this order: room name (404), sockets per address, room key,
    the relay's readiness, the number of rooms; each refusal is an `error` message and a clean close."""
    relay, access, limits = request.app[RELAY], request.app[ACCESS], request.app[LIMITS]
    name = request.match_info["room"]
    if not valid_room(name):
        raise web.HTTPNotFound(text=BAD_ROOM)
    client = client_key(request.remote)
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=512 * 1024)
    await ws.prepare(request)
    if not limits.open_socket(client):
        return await _refuse(ws, TOO_MANY_SOCKETS.format(n=relay.limits.max_sockets))
    try:
        if not access.key_ok(request.query.get("key")):
            return await _refuse(ws, KEY_NEEDED)
        if not relay.ready:
            return await _refuse(ws, "the relay is still loading its models; try again in a moment")
        try:
            room = relay.open_room(name)
        except ServerFull as exc:
            return await _refuse(ws, str(exc))
        try:
            transport = request.transport
            abort = transport.abort if transport is not None else lambda: None
            full = request.app[LOAD].full
            await Session(ws, room, relay.passthrough, client=client, limits=limits, abort=abort, full=full).run()
        except Exception as exc:  # never a traceback for one page's trouble
            log.warning("room %s: a session failed: %s", name, type(exc).__name__)
        finally:
            relay.forget_if_empty(name)
    finally:
        limits.close_socket(client)
    return ws


async def _refuse(ws: web.WebSocketResponse, message: str) -> web.WebSocketResponse:
    """An `error` message, then a clean close."""
    try:
        await asyncio.wait_for(ws.send_json({"type": "error", "message": message}), 5.0)
        await asyncio.wait_for(ws.close(), 5.0)
    except (TimeoutError, ConnectionError, RuntimeError):
        pass
    return ws
