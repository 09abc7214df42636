"""Graceful overload: the relay's load gauge, its effects, and `GET /api/load` (docs/interfaces.md, "Overload").

Twice a second the gauge reads the share of all cores taken by competing work
(/proc/stat; niced work is headroom, see workers/load.py) and the largest lag of
the speech workers, smooths both over a few seconds, and lets `LoadPolicy` set
the level. Busy: face workers look less often and unlikely pre-renders wait
(through `Throttle`). Full: new joins get the server-full refusal, as a full
room refuses them; nobody in a call is dropped, and watching screens still join.
A join is refused as well when it would take the CPU to the full threshold: what
one participant costs is measured, the relay's own CPU over the people in its
calls, so the refusal comes before the latency grows. A call is admitted whole:
the first person into an empty room counts with the partner they wait for, and
that partner is then let in unless the level is full. Level changes are logged
once each.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from aiohttp import web

from callbridge.tasks import cancel_and_wait
from callbridge.web.admin_api import require_admin
from callbridge.web.relay import RELAY
from callbridge.workers.faces import live_face_workers
from callbridge.workers.heap import heap_mb
from callbridge.workers.load import (
    THROTTLE,
    CpuTimes,
    Level,
    LevelTracker,
    LoadPolicy,
    Smoothed,
    Throttle,
    cpu_share,
    niced_ticks_between,
    read_cpu_times,
    read_own_niced,
    read_own_ticks,
)
from callbridge.workers.priority import in_normal_thread
from triggers.worker import live_workers

log = logging.getLogger(__name__)
CpuReader = Callable[[], CpuTimes | None]
NicedReader = Callable[[], dict[int, int]]
LagReader = Callable[[], float]
ALWAYS_SEATED = 2  # one two-person call
# A newcomer's load shows in the readings only once their media flows and the smoothing catches up;
# until then they count at the measured cost per person (two people often join a room together).
NEW_S = 10.0
PER_PERSON_SMOOTH_S = 20.0  # a participant's cost swings with speech and ads; a join is judged on the average


class Reading(NamedTuple):
    """One look at the machine: when, its CPU counters, the relay's niced threads' counters, the speech lag,
    the relay's own CPU counter and how many people its calls hold."""

    t: float
    cpu: CpuTimes | None
    niced: dict[int, int]
    lag_s: float
    own: int | None = None
    people: int = 0


def speech_lag_s() -> float:
    """The largest lag of the open speech workers (0 with none)."""
    return max((w.lag_s for w in live_workers() if not w.closed), default=0.0)


class LoadGuard:
    """Samples the load, keeps the level, applies its effects; `enabled=False` measures only."""

    def __init__(
        self,
        policy: LoadPolicy | None = None,
        enabled: bool = True,
        throttle: Throttle = THROTTLE,
        read_cpu: CpuReader = read_cpu_times,
        read_niced: NicedReader = read_own_niced,
        read_lag: LagReader = speech_lag_s,
        clock: Callable[[], float] = time.monotonic,
        read_own: Callable[[], int | None] = read_own_ticks,
        cores: int | None = None,
    ) -> None:
        self.policy = policy or LoadPolicy()
        self.enabled = enabled
        self.throttle = throttle
        self._read_cpu, self._read_niced, self._read_lag, self._clock = read_cpu, read_niced, read_lag, clock
        self._cpu = Smoothed(self.policy.smooth_s)
        self._lag = Smoothed(self.policy.smooth_s)
        self._tracker = LevelTracker(self.policy)
        self._read_own = read_own
        self.people: Callable[[], int] = lambda: 0  # the people in the relay's calls (set by `install`)
        self.waiting: Callable[[], int] = lambda: 0  # rooms of one, whose partner's seat is kept (set by `install`)
        # the share of all cores one participant costs: measured over the calls, from a prior, so that
        # one person's first seconds (a pre-render, the models warming up) do not stand for everyone's
        prior = self.policy.participant_cores / (cores or os.cpu_count() or 1)
        self._per_person = Smoothed(PER_PERSON_SMOOTH_S, start=prior)
        self._counts: deque[tuple[float, int]] = deque()  # (time, people) of the recent readings
        self._last: Reading | None = None
        self._task: asyncio.Task[None] | None = None
        throttle.busy_face_fps = self.policy.busy_face_fps

    @property
    def level(self) -> Level:
        return self._tracker.level

    @property
    def cpu_busy(self) -> float:
        return self._cpu.value or 0.0

    @property
    def speech_lag_s(self) -> float:
        return self._lag.value or 0.0

    @property
    def participant_share(self) -> float:
        """The share of all cores one more participant would take, as measured (or the policy's prior)."""
        assert self._per_person.value is not None  # it starts from the prior
        return self._per_person.value

    def room_for(self, newcomers: int) -> bool:
        """The reading, plus the people it does not show yet (joined within NEW_S), plus the partners kept
        seats wait for, plus `newcomers`, under full."""
        since = self._counts[0][1] if self._counts else 0
        unseen = max(0, self.people() - since)
        expected = newcomers + unseen + self.waiting()
        return self.cpu_busy + self.participant_share * expected < self.policy.full_at_cpu

    def room_for_one_more(self) -> bool:
        return self.room_for(1)

    def full(self, in_room: int = 0) -> bool:
        """True while a join into a room of `in_room` people is to be refused: the level is full, or the join
        would make it so. Into an empty room the join counts twice: nobody is let in to wait for a
        partner who would then be refused. The partner of someone waiting alone has their seat already.

        The first call's people are always let in: a machine too busy for one call is set up wrong, not
        full, and its readings then are the relay's own start (models, the first pre-render).
        """
        if not self.enabled or self.people() < ALWAYS_SEATED:
            return False
        if self._tracker.level is Level.FULL:
            return True
        if in_room == 1:
            return False
        return not self.room_for(2 if in_room == 0 else 1)

    def measure(self) -> Reading:
        """Read the counters (a few small files: off the event loop in the relay)."""
        return Reading(self._clock(), self._read_cpu(), self._read_niced(), self._read_lag(), self._read_own())

    def sample(self, reading: Reading | None = None) -> Level:
        """Take in one reading (measured now if not given) and update the level; its effects follow a change."""
        now = reading or self.measure()._replace(people=self.people())
        last, self._last = self._last, now
        self._counts.append((now.t, now.people))
        while len(self._counts) > 1 and self._counts[1][0] <= now.t - NEW_S:
            self._counts.popleft()  # keeps the newest reading at least NEW_S old at the front
        dt = self.policy.sample_s if last is None else now.t - last.t
        if last is not None and last.cpu is not None and now.cpu is not None:
            share = cpu_share(last.cpu, now.cpu, niced_ticks_between(last.niced, now.niced))
            if share is not None:
                self._cpu.add(share, dt)
            self._measure_per_person(last, now, dt)
        self._lag.add(now.lag_s, dt)
        before = self._tracker.level
        after = self._tracker.update(self.cpu_busy, self.speech_lag_s, now.t)
        if after is not before:
            log.info(
                "load %s -> %s (CPU %.0f%%, speech lag %.2f s)%s",
                before.value,
                after.value,
                self.cpu_busy * 100,
                self.speech_lag_s,
                "" if self.enabled else "; the overload guard is off",
            )
            if self.enabled:
                self.throttle.set_busy(after is not Level.NORMAL)
        return after

    def _measure_per_person(self, last: Reading, now: Reading, dt: float) -> None:
        assert last.cpu is not None and now.cpu is not None
        total = now.cpu.total - last.cpu.total
        if now.people < 1 or last.own is None or now.own is None or total <= 0:
            return  # nobody to divide by: keep what was measured before
        self._per_person.add(max(0, now.own - last.own) / total / now.people, dt)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="load gauge")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self.enabled:
            self.throttle.set_busy(False)  # the process may serve again (tests); workers start at full rate

    async def _run(self) -> None:
        while True:
            try:
                reading = await in_normal_thread(self.measure)
                self.sample(reading._replace(people=self.people()))  # counted on the loop, which changes the rooms
            except Exception:  # a gauge that fails must not stop: the relay keeps serving on the last level
                log.exception("the load gauge could not take a reading")
            await asyncio.sleep(self.policy.sample_s)

    def snapshot(self) -> dict[str, Any]:
        """What `GET /api/load` answers, apart from the room counts."""
        speech = live_workers()
        faces = live_face_workers()
        return {
            "level": self.level.value,
            "guard": self.enabled,
            "cpu_busy": round(self.cpu_busy, 3),
            "speech_lag_s": round(self.speech_lag_s, 3),
            "speech_lag_now_s": round(self._read_lag(), 3),
            "participant_share": round(self.participant_share, 3),
            "room_for_one_more": self.room_for_one_more(),
            "room_for_a_call": self.room_for(2),
            "speech_workers": sum(1 for w in speech if not w.closed),
            "speech_workers_in_memory": len(speech),
            "face_workers": sum(1 for w in faces if not w.closed),
            "face_workers_in_memory": len(faces),
            "heap": heap_mb(),
            "thresholds": {
                "busy_at_cpu": round(self.policy.busy_at_cpu, 3),
                "full_at_cpu": round(self.policy.full_at_cpu, 3),
                "busy_at_speech_lag_s": round(self.policy.busy_at_speech_lag_s, 3),
                "full_at_speech_lag_s": round(self.policy.full_at_speech_lag_s, 3),
            },
        }


LOAD = web.AppKey("load", LoadGuard)


async def load(request: web.Request) -> web.Response:
    """`GET /api/load` (admin token): the level, its readings, and what the relay holds."""
    relay = require_admin(request)
    body = request.app[LOAD].snapshot()
    rooms = list(relay.rooms.values())
    body["rooms"] = len(rooms)
    body["participants"] = sum(len(r.participants) for r in rooms)  # as /healthz counts them: screens too
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def install(app: web.Application, guard: LoadGuard) -> None:
    """Add the guard, its route and its start and stop to `app`."""
    app[LOAD] = guard
    relay = app[RELAY]
    guard.people = lambda: sum(len(room.participants) for room in relay.rooms.values())
    guard.waiting = lambda: sum(1 for room in relay.rooms.values() if room.taken == 1)
    app.router.add_get("/api/load", load)
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)


async def _start(app: web.Application) -> None:
    app[LOAD].start()


async def _stop(app: web.Application) -> None:
    await app[LOAD].stop()
