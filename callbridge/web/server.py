"""The relay's HTTP side (aiohttp): pages, health, campaign, and the signalling websocket."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

from aiohttp import web

from callbridge.exhibit import Act, Exhibition
from callbridge.media.adapt import aiortc_audio_level, aiortc_vp8_bitrate
from callbridge.provenance import ExhibitAuthority
from callbridge.web import admin_api, template_upload
from callbridge.web.relay import RELAY, Relay
from callbridge.web.session import Session
from callbridge.workers.priority import in_normal_thread, media_executor

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
ROOM_NAME = re.compile(r"^[a-z0-9-]{1,40}$")


EXHIBITION = web.AppKey("exhibition", Exhibition)


def build_app(relay: Relay, exhibit: list[Act] | None = None) -> web.Application:
    """The relay's application; with `exhibit`, those acts play in a loop into room `exhibit`."""
    app = web.Application(middlewares=[admin_api.json_errors])
    app[RELAY] = relay
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
    template_upload.add_routes(app)
    app.router.add_static("/static", STATIC)
    app.on_startup.append(_start_loading)
    app.on_shutdown.append(_hang_up)
    return app


async def _start_loading(app: web.Application) -> None:
    # aiortc encodes in the default executor: media work yields to speech (see priority.py)
    asyncio.get_running_loop().set_default_executor(media_executor())
    aiortc_audio_level.install()  # aiortc's per-sample loop otherwise holds the event loop
    aiortc_vp8_bitrate.install()  # aiortc otherwise restarts the video encoder at every wobble of the estimate
    app[RELAY].loading = asyncio.ensure_future(app[RELAY].load())
    app[RELAY].start_campaign_watch()
    if EXHIBITION in app:
        app[EXHIBITION].start()


async def _hang_up(app: web.Application) -> None:
    relay = app[RELAY]
    relay.stop_campaign_watch()
    if EXHIBITION in app:
        await app[EXHIBITION].stop()
    for room in list(relay.rooms.values()):
        for participant in list(room.participants.values()):
            await room.leave(participant)


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def room_page(request: web.Request) -> web.StreamResponse:
    if not ROOM_NAME.match(request.match_info["room"]):
        raise web.HTTPNotFound(text="room names are 1-40 lowercase letters, digits or -")
    return web.FileResponse(STATIC / "room.html")


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
    relay = request.app[RELAY]
    name = request.match_info["room"]
    if not ROOM_NAME.match(name):
        raise web.HTTPNotFound(text="room names are 1-40 lowercase letters, digits or -")
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=512 * 1024)
    await ws.prepare(request)
    if not relay.ready:
        await ws.send_json({"type": "error", "message": "the relay is still loading its models; try again in a moment"})
        await ws.close()
        return ws
    try:
        await Session(ws, relay.room(name), relay.passthrough).run()
    finally:
        relay.forget_if_empty(name)
    return ws
