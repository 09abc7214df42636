"""The relay's HTTP side (aiohttp): pages, health, campaign, and the signalling websocket."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from callbridge.config.services import Services
from callbridge.media.adapt import aiortc_audio_level, aiortc_vp8_bitrate
from callbridge.web.room import Room
from callbridge.web.session import Session
from callbridge.workers.priority import in_normal_thread, media_executor

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
ROOM_NAME = re.compile(r"^[a-z0-9-]{1,40}$")


@dataclass
class Relay:
    """Rooms by name, and whether the models have loaded."""

    services: Services
    passthrough: bool = False
    rooms: dict[str, Room] = field(default_factory=dict)
    ready: bool = False
    load_error: str | None = None
    started: float = field(default_factory=time.monotonic)
    loading: asyncio.Task[None] | None = None

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room(name, self.services)
        return self.rooms[name]

    def forget_if_empty(self, name: str) -> None:
        room = self.rooms.get(name)
        if room is not None and not room.participants:
            del self.rooms[name]

    async def load(self) -> None:
        try:
            if not self.passthrough:
                await in_normal_thread(self.services.load)  # CTranslate2 starts its threads here
            self.ready = True
            log.info("ready after %.1f s", time.monotonic() - self.started)
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.exception("the relay could not load its models")


RELAY = web.AppKey("relay", Relay)


def build_app(relay: Relay) -> web.Application:
    app = web.Application()
    app[RELAY] = relay
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/room/{room}", room_page)
    app.router.add_get("/ws/{room}", websocket)
    app.router.add_get("/api/campaign", campaign)
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


async def _hang_up(app: web.Application) -> None:
    relay = app[RELAY]
    for room in list(relay.rooms.values()):
        for participant in list(room.participants.values()):
            await room.leave(participant)


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def room_page(request: web.Request) -> web.StreamResponse:
    if not ROOM_NAME.match(request.match_info["room"]):
        raise web.HTTPNotFound(text="room names are 1-40 lowercase letters, digits or -")
    return web.FileResponse(STATIC / "room.html")


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


async def campaign(request: web.Request) -> web.Response:
    store = request.app[RELAY].services.store
    rules = await asyncio.to_thread(store.rules)
    phrases = [{"phrase": r.phrase, "template": r.template, "enabled": r.enabled} for r in rules]
    templates = [
        {"name": n, "status": "ready", "progress": 1.0, "error": None} for n in sorted({r.template for r in rules})
    ]
    return web.json_response({"phrases": phrases, "templates": templates})


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
