"""The relay's state: rooms by name, whether the models have loaded, and the campaign rooms run on."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from callbridge.config.admin_token import AdminToken
from callbridge.config.services import Services
from callbridge.web.limits import SERVER_FULL, Limits
from callbridge.web.room import Room
from callbridge.workers.priority import in_normal_thread

log = logging.getLogger(__name__)
CAMPAIGN_POLL_S = 0.25  # a change made by `callbridge campaign` reaches rooms within this (plus applying)
PURGE_EVERY_S = 3600.0


class ServerFull(RuntimeError):
    """No room may be opened now: the server holds `--max-rooms` rooms already."""


@dataclass
class Relay:
    """Rooms by name, whether the models have loaded, and the campaign revision the rooms run on."""

    services: Services
    passthrough: bool = False
    record: bool = False  # `serve --record`: rooms may record, while everyone in them agrees
    token: AdminToken = field(default_factory=AdminToken)
    limits: Limits = field(default_factory=Limits)
    rooms: dict[str, Room] = field(default_factory=dict)
    ready: bool = False
    load_error: str | None = None
    started: float = field(default_factory=time.monotonic)
    loading: asyncio.Task[None] | None = None
    applied_revision: int | None = None
    _applying: asyncio.Lock = field(default_factory=asyncio.Lock)
    _watch: asyncio.Task[None] | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _holds: Counter[str] = field(default_factory=Counter)  # room -> sessions (and acts) using it

    def spawn(self, job: Coroutine[Any, Any, None], what: str) -> None:
        """Run a background job (an ingest) whose failure is logged, not lost."""
        task = asyncio.get_running_loop().create_task(job, name=what)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    async def idle(self) -> None:
        """Wait for the background jobs (tests)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def room(self, name: str) -> Room:
        """The room called `name`, made if need be, and held until a matching `forget_if_empty`.

        One room object per name, always: a room is forgotten only once no one holds it, so a
        socket that closes before joining cannot take the room from under a join still under way.
        """
        if name not in self.rooms:
            recordings = self.services.data_dir / "recordings" if self.record else None
            self.rooms[name] = Room(name, self.services, recordings, max_people=self.limits.max_per_room)
        self._holds[name] += 1
        return self.rooms[name]

    def open_room(self, name: str) -> Room:
        """`room` for a visitor's websocket: ServerFull when a new room would pass `--max-rooms`."""
        if name not in self.rooms and len(self.rooms) >= self.limits.max_rooms:
            raise ServerFull(SERVER_FULL)
        return self.room(name)

    def forget_if_empty(self, name: str) -> None:
        """Let go of one hold on the room; it is forgotten once it is neither held nor occupied."""
        if self._holds[name] > 0:
            self._holds[name] -= 1
        if self._holds[name] > 0:
            return
        del self._holds[name]
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

    async def apply_campaign(self) -> None:
        """Bring every running room onto the stored campaign, if it has changed since the last time."""
        async with self._applying:
            campaign = await in_normal_thread(self.services.store.campaign)
            if campaign.revision == self.applied_revision:
                return
            first = self.applied_revision is None
            self.applied_revision = campaign.revision
            await in_normal_thread(self.services.forget_stale, campaign)
            if first:
                return  # the rooms were built on this campaign
            began = time.monotonic()
            for room in list(self.rooms.values()):
                await room.apply_campaign(campaign)
            took = time.monotonic() - began
            log.info(
                "campaign revision %d (%d live phrases) applied in %.2f s",
                campaign.revision,
                len(campaign.live_rules()),
                took,
            )

    def start_campaign_watch(self) -> None:
        self._watch = asyncio.ensure_future(self._watch_campaign())

    def stop_campaign_watch(self) -> None:
        if self._watch is not None:
            self._watch.cancel()

    async def _watch_campaign(self) -> None:
        """Poll the store's revision (changes from the CLI), and purge expired log rows hourly."""
        store = self.services.store
        last_purge = -PURGE_EVERY_S  # the first purge is at start
        while True:
            try:
                if time.monotonic() - last_purge > PURGE_EVERY_S:
                    last_purge = time.monotonic()
                    purged = await in_normal_thread(store.purge_expired)
                    if purged:
                        log.info("purged %d log rows past the retention setting", purged)
                if await in_normal_thread(store.revision) != self.applied_revision:
                    await self.apply_campaign()
            except Exception:
                log.exception("could not apply the campaign; trying again")
            await asyncio.sleep(CAMPAIGN_POLL_S)


RELAY = web.AppKey("relay", Relay)
