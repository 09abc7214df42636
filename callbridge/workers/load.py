"""How loaded the machine is, and what the workers do about it (docs/interfaces.md, "Overload").

The readings are measured, not guessed: the share of all cores taken by work
that competes with the relay (system-wide, from /proc/stat, so other programs'
load counts too) and how far the speech workers lag behind the audio they are
given. Niced work (nice > 0: a benchmark's browsers, a build) yields to the relay,
so it is headroom and not counted, except the relay's own mildly niced threads
(its media transcoding, nice 5): those are its calls' work. Threads at nice 10 or
more (the in-call fitter at the lowest priority) get a tenth of a core's share
or less against normal ones, so they are headroom too. `LoadPolicy` turns
smoothed readings into a level, with hysteresis: `normal`, `busy` (the workers
do less: fewer face frames, fewer speculative pre-renders) or `full` (new joins
are refused; nobody in a call is dropped). `Throttle` is where the workers read
the level's effect; the web side (web/overload.py) samples and sets it.
"""

from __future__ import annotations

import enum
import math
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

PROC_STAT = Path("/proc/stat")
OWN_TASKS = Path("/proc/self/task")
OWN_STAT = Path("/proc/self/stat")
YIELDING_NICE = 10  # from this nice value on, a thread's CPU is headroom: it yields to the relay's work


class Level(enum.Enum):
    NORMAL = "normal"
    BUSY = "busy"
    FULL = "full"


class CpuTimes(NamedTuple):
    """Cumulative jiffies of all cores: those spent working, those of niced work among them, and all of them."""

    busy: int
    nice: int
    total: int


def parse_proc_stat(text: str) -> CpuTimes:
    """The aggregate `cpu` line of /proc/stat; ValueError when there is none."""
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            # user nice system idle iowait irq softirq steal; guest and guest_nice are already in user and nice
            ticks = [int(v) for v in fields[1:9]]
            if len(ticks) < 4:
                break
            idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # waiting on a disk leaves the CPU free
            total = sum(ticks)
            return CpuTimes(total - idle, ticks[1], total)
    raise ValueError("no aggregate 'cpu' line in /proc/stat")


def read_cpu_times(path: Path = PROC_STAT) -> CpuTimes | None:
    """The counters now, or None where there is no /proc/stat (not Linux)."""
    try:
        return parse_proc_stat(path.read_text())
    except (OSError, ValueError):
        return None


def parse_task_stat(text: str) -> tuple[int, int]:
    """(nice, utime + stime in jiffies) from one thread's /proc/.../stat line."""
    fields = text.rpartition(")")[2].split()  # the name in parentheses may hold spaces and parentheses
    return int(fields[16]), int(fields[11]) + int(fields[12])


def read_own_niced(tasks: Path = OWN_TASKS) -> dict[int, int]:
    """Jiffies so far of each of this process's threads that run niced but below YIELDING_NICE."""
    found: dict[int, int] = {}
    try:
        entries = list(tasks.iterdir())
    except OSError:
        return found
    for entry in entries:
        try:
            nice, ticks = parse_task_stat((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
        if 0 < nice < YIELDING_NICE:
            found[int(entry.name)] = ticks
    return found


def read_own_ticks(path: Path = OWN_STAT) -> int | None:
    """Jiffies this process has run so far (all its threads), or None where there is no /proc."""
    try:
        return parse_task_stat(path.read_text())[1]
    except (OSError, ValueError, IndexError):
        return None


def niced_ticks_between(before: dict[int, int], after: dict[int, int]) -> int:
    """Jiffies the threads in `after` ran since `before` (a new thread's whole life; ended ones are lost)."""
    return sum(max(0, ticks - before.get(tid, 0)) for tid, ticks in after.items())


def cpu_share(before: CpuTimes, after: CpuTimes, own_niced: int = 0) -> float | None:
    """The share of all cores taken by competing work between two readings (0-1); None when no time passed.

    Niced work is left out, but for `own_niced`: the jiffies of the relay's own mildly niced threads.
    """
    total = after.total - before.total
    if total <= 0:
        return None
    nice = after.nice - before.nice
    competing = after.busy - before.busy - nice + min(max(own_niced, 0), max(nice, 0))
    return min(1.0, max(0.0, competing / total))


class Smoothed:
    """An exponential moving average over about `span_s` seconds, whatever the sampling interval."""

    def __init__(self, span_s: float, start: float | None = None) -> None:
        self.span_s = span_s
        self.value: float | None = start  # None: the first sample is taken as it is

    def add(self, sample: float, dt_s: float) -> float:
        if self.value is None:
            self.value = sample
        else:
            weight = 1.0 - math.exp(-max(dt_s, 0.0) / self.span_s)
            self.value += weight * (sample - self.value)
        return self.value


@dataclass(frozen=True)
class LoadPolicy:
    """Thresholds on the smoothed readings; ValueError for values that make no sense."""

    # CPU is the share of all cores, and a join is refused when one more participant's measured cost would
    # take it to this: on the 2-core bench machine trigger-to-ad broke with 6 people (readings up to
    # 0.68-0.74) and held with 4 (up to 0.59-0.61), one person costing 0.12 (bench/load.py;
    # docs/experiments.md, "Capacity and the guard").
    full_at_cpu: float = 0.75
    # From here the calls' peaks (a beam sweep, an ad's start) still fit; work that can wait should.
    busy_at_cpu: float = 0.75 * 5 / 6
    # A decode normally keeps audio waiting 0.1-0.3 s; a second means the recognisers get too little CPU.
    full_at_speech_lag_s: float = 1.0
    busy_at_speech_lag_s: float = 0.5
    # A level is left only this far below its thresholds ...
    cpu_margin: float = 0.1
    lag_margin_s: float = 0.25
    # ... and only after this long there: a call's load comes in waves (speech, silence), levels should not.
    calm_s: float = 5.0
    # Decode bursts last 0.1-0.3 s: averaged over 3 s, one burst does not move the level, a sustained load does.
    smooth_s: float = 3.0
    sample_s: float = 0.5  # the gauge's pace: /proc/stat and the workers are read twice a second
    # While busy, each face worker looks once a second (5 normally): still enough to catch a better face.
    busy_face_fps: float = 1.0
    # What one participant costs until the relay has measured it itself: the capacity bench's relay CPU
    # per participant with AI on (0.22-0.24 cores).
    participant_cores: float = 0.25

    def __post_init__(self) -> None:
        if not 0.0 < self.busy_at_cpu <= self.full_at_cpu <= 1.0:
            raise ValueError("CPU thresholds must satisfy 0 < busy <= full <= 1 (a share of all cores)")
        if not 0.0 < self.busy_at_speech_lag_s <= self.full_at_speech_lag_s <= 10.0:
            raise ValueError("speech-lag thresholds must satisfy 0 < busy <= full <= 10 seconds")
        positive = ("cpu_margin", "lag_margin_s", "smooth_s", "sample_s", "busy_face_fps", "participant_cores")
        for name in positive:
            if not getattr(self, name) > 0.0:  # `not >` also refuses NaN
                raise ValueError(f"{name} must be more than 0")
        if not 0.0 <= self.calm_s <= 600.0:
            raise ValueError("calm_s must be 0-600 seconds")

    @classmethod
    def from_full(cls, full_at_cpu: float, full_at_speech_lag_s: float) -> LoadPolicy:
        """The policy for `serve`'s flags: busy comes at 5/6 of the full CPU share and half the full lag."""
        return cls(
            full_at_cpu=full_at_cpu,
            busy_at_cpu=full_at_cpu * 5 / 6,
            full_at_speech_lag_s=full_at_speech_lag_s,
            busy_at_speech_lag_s=full_at_speech_lag_s / 2,
        )

    def level_of(self, cpu: float, lag_s: float) -> Level:
        """The level the readings call for, without hysteresis."""
        if cpu >= self.full_at_cpu or lag_s >= self.full_at_speech_lag_s:
            return Level.FULL
        if cpu >= self.busy_at_cpu or lag_s >= self.busy_at_speech_lag_s:
            return Level.BUSY
        return Level.NORMAL

    def below(self, level: Level, cpu: float, lag_s: float) -> bool:
        """True when the readings are clearly under `level`'s thresholds (by the margins)."""
        if level is Level.FULL:
            cpu_at, lag_at = self.full_at_cpu, self.full_at_speech_lag_s
        elif level is Level.BUSY:
            cpu_at, lag_at = self.busy_at_cpu, self.busy_at_speech_lag_s
        else:
            return False
        return cpu < cpu_at - self.cpu_margin and lag_s < lag_at - self.lag_margin_s


class LevelTracker:
    """The level, with hysteresis: up at once when a threshold is reached, down one step after `calm_s` below it."""

    def __init__(self, policy: LoadPolicy) -> None:
        self.policy = policy
        self.level = Level.NORMAL
        self._calm_since: float | None = None

    def update(self, cpu: float, lag_s: float, now: float) -> Level:
        wanted = self.policy.level_of(cpu, lag_s)
        order = list(Level)
        if order.index(wanted) >= order.index(self.level):
            if wanted is not self.level:
                self.level = wanted
            self._calm_since = None
            return self.level
        if not self.policy.below(self.level, cpu, lag_s):
            self._calm_since = None  # under the threshold but inside the margin: stay
            return self.level
        if self._calm_since is None:
            self._calm_since = now
        if now - self._calm_since >= self.policy.calm_s:
            self.level = order[order.index(self.level) - 1]
            self._calm_since = now if self.level is not Level.NORMAL else None
        return self.level


class Calming(Protocol):
    def on_calm(self) -> None:
        """The relay is no longer busy: catch up on what was put off (must not block)."""


class Throttle:
    """Whether the workers should do less now. Set by the overload guard; read by face workers and pipelines."""

    def __init__(self, busy_face_fps: float = LoadPolicy.busy_face_fps) -> None:
        self.busy_face_fps = busy_face_fps
        self._busy = False
        self._lock = threading.Lock()
        self._waiting: weakref.WeakSet[Calming] = weakref.WeakSet()  # weak: a closed pipeline is not kept

    @property
    def busy(self) -> bool:
        return self._busy

    def set_busy(self, busy: bool) -> None:
        """Set the state; leaving busy tells every subscriber to catch up."""
        with self._lock:
            was, self._busy = self._busy, busy
            waiting = list(self._waiting) if was and not busy else []
        for subscriber in waiting:
            subscriber.on_calm()

    def subscribe(self, subscriber: Calming) -> None:
        with self._lock:
            self._waiting.add(subscriber)

    def unsubscribe(self, subscriber: Calming) -> None:
        with self._lock:
            self._waiting.discard(subscriber)


THROTTLE = Throttle()  # the process's one: there is one machine, so one load
