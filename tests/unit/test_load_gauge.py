"""The load gauge's arithmetic: /proc/stat and thread stat lines from fixed text, the CPU share with niced
work left out, smoothing, the policy's levels and hysteresis, and the guard's log and effects on fake readings."""

from __future__ import annotations

import logging
import math

import pytest

from callbridge.web.overload import LoadGuard, Reading
from callbridge.workers.load import (
    CpuTimes,
    Level,
    LevelTracker,
    LoadPolicy,
    Smoothed,
    Throttle,
    cpu_share,
    niced_ticks_between,
    parse_proc_stat,
    parse_task_stat,
    read_cpu_times,
    read_own_niced,
)

PROC_STAT = """cpu  4705 150 1120 16250 520 0 25 0 0 0
cpu0 2300 75 560 8125 260 0 12 0 0 0
cpu1 2405 75 560 8125 260 0 13 0 0 0
intr 114930548 113199788 3 0 5 263 0 4 [... 16 more]
ctxt 1990473
btime 1062191376
"""


def test_the_aggregate_cpu_line_gives_busy_nice_and_total_jiffies() -> None:
    times = parse_proc_stat(PROC_STAT)
    total = 4705 + 150 + 1120 + 16250 + 520 + 0 + 25 + 0  # guest columns are already inside user and nice
    assert times == CpuTimes(busy=total - 16250 - 520, nice=150, total=total)  # iowait is idle time


def test_an_old_kernel_line_without_iowait_still_parses_and_text_without_one_is_refused() -> None:
    assert parse_proc_stat("cpu 10 0 5 85\n") == CpuTimes(15, 0, 100)
    with pytest.raises(ValueError):
        parse_proc_stat("cpu0 1 2 3 4\nintr 5\n")


def test_this_machine_has_counters_that_move_forward() -> None:
    first = read_cpu_times()
    assert first is not None and 0 <= first.busy <= first.total
    sum(i * i for i in range(200_000))
    later = read_cpu_times()
    assert later is not None and later.total >= first.total


def test_the_share_leaves_out_niced_work_but_keeps_the_relays_own_niced_threads() -> None:
    before = CpuTimes(busy=1000, nice=100, total=4000)
    after = CpuTimes(busy=1180, nice=160, total=4200)  # 200 jiffies: 180 busy, 60 of them niced
    assert cpu_share(before, after) == pytest.approx(120 / 200)
    assert cpu_share(before, after, own_niced=20) == pytest.approx(140 / 200)
    assert cpu_share(before, after, own_niced=500) == pytest.approx(180 / 200)  # never more than the niced time
    assert cpu_share(before, before) is None
    assert cpu_share(after, before) is None  # counters that went back (a reading from another boot)


def test_a_thread_stat_line_gives_nice_and_cpu_time_even_with_parentheses_in_its_name() -> None:
    line = "4242 (media (1) x) S 1 4242 4242 0 -1 4194560 300 0 0 0 170 30 0 0 25 5 40 0 123 456 789"
    assert parse_task_stat(line) == (5, 200)


def test_only_new_time_of_the_threads_seen_now_counts() -> None:
    assert niced_ticks_between({1: 100, 2: 50}, {1: 130, 3: 20}) == 30 + 20  # 2 ended; 3 is new
    assert niced_ticks_between({1: 100}, {1: 90}) == 0  # a reused thread id never counts negative


def test_reading_this_process_own_niced_threads_finds_none_in_the_test_process() -> None:
    assert read_own_niced() == {}


def test_smoothing_follows_a_step_over_its_span_whatever_the_interval() -> None:
    fast, slow = Smoothed(3.0), Smoothed(3.0)
    fast.add(0.0, 0.5)
    slow.add(0.0, 1.0)
    for _ in range(6):
        fast.add(1.0, 0.5)
    for _ in range(3):
        slow.add(1.0, 1.0)
    assert fast.value == pytest.approx(1 - math.exp(-1)) and slow.value == pytest.approx(fast.value)


@pytest.mark.parametrize(
    "fields",
    [
        {"full_at_cpu": 1.2},
        {"full_at_cpu": 0.0},
        {"busy_at_cpu": 0.95},  # above full
        {"full_at_cpu": math.nan},
        {"full_at_speech_lag_s": 0.3},  # below busy
        {"full_at_speech_lag_s": 11.0},
        {"busy_face_fps": 0.0},
        {"smooth_s": -1.0},
        {"calm_s": math.inf},
    ],
)
def test_a_policy_that_makes_no_sense_is_refused(fields) -> None:
    with pytest.raises(ValueError):
        LoadPolicy(**fields)


def test_the_flags_policy_puts_busy_below_full() -> None:
    policy = LoadPolicy.from_full(0.6, 2.0)
    assert policy.busy_at_cpu == pytest.approx(0.5) and policy.busy_at_speech_lag_s == pytest.approx(1.0)


@pytest.mark.parametrize(
    "cpu,lag,level",
    [
        (0.2, 0.0, Level.NORMAL),
        (0.7, 0.0, Level.BUSY),
        (0.3, 0.6, Level.BUSY),
        (0.95, 0.0, Level.FULL),
        (0.1, 1.5, Level.FULL),
    ],
)
def test_either_reading_sets_the_level(cpu, lag, level) -> None:
    assert LoadPolicy().level_of(cpu, lag) is level


def test_levels_rise_at_once_and_fall_one_step_after_a_calm_spell_clearly_below() -> None:
    tracker = LevelTracker(LoadPolicy(full_at_cpu=0.9, busy_at_cpu=0.75, calm_s=5.0))
    assert tracker.update(0.95, 0.0, now=0.0) is Level.FULL
    assert tracker.update(0.85, 0.0, now=1.0) is Level.FULL  # below 0.9 but within the margin: stays
    for t in (2.0, 4.0, 6.0):
        assert tracker.update(0.7, 0.0, now=t) is Level.FULL  # clearly below, but not for 5 s yet
    assert tracker.update(0.7, 0.0, now=7.0) is Level.BUSY
    assert tracker.update(0.3, 0.0, now=8.0) is Level.BUSY  # the busy level waits its own calm spell
    assert tracker.update(0.3, 0.0, now=11.9) is Level.BUSY
    assert tracker.update(0.3, 0.0, now=12.0) is Level.NORMAL


def test_a_flicker_above_the_release_point_restarts_the_calm_spell() -> None:
    tracker = LevelTracker(LoadPolicy(full_at_cpu=0.9, busy_at_cpu=0.75, calm_s=5.0))
    tracker.update(0.95, 0.0, now=0.0)
    tracker.update(0.5, 0.0, now=1.0)
    tracker.update(0.86, 0.0, now=4.0)  # back inside the margin
    assert tracker.update(0.5, 0.0, now=8.0) is Level.FULL
    assert tracker.update(0.5, 0.0, now=13.0) is Level.BUSY


class Counters:
    """CPU counters that advance by `busy` of 100 jiffies per reading."""

    def __init__(self) -> None:
        self.busy, self.seen = 0.0, CpuTimes(0, 0, 0)

    def read(self) -> CpuTimes:
        self.seen = CpuTimes(self.seen.busy + int(self.busy * 100), 0, self.seen.total + 100)
        return self.seen


def guard_on(counters: Counters, throttle: Throttle, **policy: float) -> tuple[LoadGuard, list[float]]:
    now = [0.0]
    guard = LoadGuard(
        LoadPolicy(**policy),
        throttle=throttle,
        read_cpu=counters.read,
        read_niced=dict,
        read_lag=lambda: 0.0,
        clock=lambda: now[0],
    )
    guard.people = lambda: 2  # a call under way: past the seats always given
    return guard, now


def test_the_guard_logs_each_change_once_and_sets_the_throttle(caplog) -> None:
    counters, throttle = Counters(), Throttle()
    guard, now = guard_on(counters, throttle, calm_s=2.0, smooth_s=1.0)
    calmed: list[bool] = []

    class Waiting:
        def on_calm(self) -> None:
            calmed.append(True)

    waiting = Waiting()
    throttle.subscribe(waiting)
    caplog.set_level(logging.INFO, "callbridge.web.overload")
    levels = []
    for busy in [0.1] * 4 + [1.0] * 10 + [0.1] * 20:
        counters.busy = busy
        now[0] += 0.5
        levels.append(guard.sample())
        if levels[-1] is Level.FULL:
            assert throttle.busy and guard.full()
    assert levels[3] is Level.NORMAL and Level.FULL in levels and levels[-1] is Level.NORMAL
    changes = [r.getMessage() for r in caplog.records]
    assert [m.split(" (")[0] for m in changes] == [
        "load normal -> busy",
        "load busy -> full",
        "load full -> busy",
        "load busy -> normal",
    ]
    assert not throttle.busy and calmed == [True]  # told once, when busy ended


def test_a_guard_that_is_off_measures_but_refuses_no_one_and_slows_nothing() -> None:
    counters, throttle = Counters(), Throttle()
    counters.busy = 1.0
    guard, now = guard_on(counters, throttle)
    guard.enabled = False
    for _ in range(4):
        now[0] += 0.5
        guard.sample()
    assert guard.level is Level.FULL and not guard.full() and not throttle.busy
    assert guard.snapshot()["level"] == "full" and guard.snapshot()["guard"] is False


def test_a_reading_without_cpu_counters_still_tracks_the_speech_lag() -> None:
    guard = LoadGuard(LoadPolicy(), throttle=Throttle())
    for t in (0.0, 0.5, 1.0):
        guard.sample(Reading(t, None, {}, lag_s=2.0))
    assert guard.cpu_busy == 0.0 and guard.level is Level.FULL


def test_one_participants_cost_is_the_relays_own_cpu_over_the_people_in_its_calls() -> None:
    policy = LoadPolicy(smooth_s=0.01)
    guard = LoadGuard(policy, throttle=Throttle(), cores=2)
    assert guard.participant_share == 0.125  # the prior until someone is measured: 0.25 of a core, of two
    own, total = 0, 0
    for k in range(60):  # the relay runs 36 of every 100 jiffies of the machine with 3 people in its calls
        own, total = own + 36, total + 100
        guard.sample(Reading(k * 0.5, CpuTimes(total // 2, 0, total), {}, 0.0, own=own, people=3))
    assert guard.participant_share == pytest.approx(0.12, abs=0.005)
    for k in range(60, 70):  # everyone left: what was measured stays
        own, total = own + 1, total + 100
        guard.sample(Reading(k * 0.5, CpuTimes(total // 2, 0, total), {}, 0.0, own=own, people=0))
    assert guard.participant_share == pytest.approx(0.12, abs=0.005)
    # at 0.5 busy one more fits under 0.75, at 0.7 it does not
    assert guard.cpu_busy == pytest.approx(0.5) and guard.room_for_one_more()
    guard.people = lambda: 3
    assert not guard.full()
    for k in range(70, 80):
        total += 100
        guard.sample(Reading(k * 0.5, CpuTimes(total - 30, 0, total), {}, 0.0, own=own, people=3))
    assert not guard.room_for_one_more() and guard.full()  # 0.7 + 0.12 passes 0.75
    guard.people = lambda: 1
    assert not guard.full()  # the first call's two people are always let in


def test_one_persons_first_burst_does_not_stand_for_everyones_cost() -> None:
    guard = LoadGuard(LoadPolicy(), throttle=Throttle(), cores=2)
    guard.sample(Reading(0.0, CpuTimes(0, 0, 0), {}, 0.0, own=0, people=1))
    guard.sample(Reading(0.5, CpuTimes(90, 0, 100), {}, 0.0, own=90, people=1))  # a pre-render: 0.9 for one
    assert guard.participant_share < 0.15


def test_people_who_just_joined_count_at_the_measured_cost_until_the_readings_show_them() -> None:
    guard = LoadGuard(LoadPolicy(smooth_s=0.01), throttle=Throttle(), cores=2)  # 0.125 a person
    people = [2]
    guard.people = lambda: people[0]
    total = 0
    for k in range(30):  # 15 s at 0.4 with two people
        total += 100
        guard.sample(Reading(k * 0.5, CpuTimes(total * 4 // 10, 0, total), {}, 0.0, people=people[0]))
    assert guard.room_for_one_more()  # 0.4 + 0.125
    people[0] = 4  # two more just joined; the readings do not show them yet
    assert not guard.room_for_one_more()  # 0.4 + 3 x 0.125 = 0.775
    for k in range(30, 52):  # 11 s on, the readings hold all four (their load, say, 0.45)
        total += 100
        guard.sample(Reading(k * 0.5, CpuTimes(total * 45 // 100, 0, total), {}, 0.0, people=4))
    assert guard.room_for_one_more()  # 0.45 + 0.125


def test_a_partner_awaited_in_a_room_of_one_counts_as_if_already_here() -> None:
    guard = LoadGuard(LoadPolicy(smooth_s=0.01), throttle=Throttle(), cores=2)  # 0.125 a person
    guard.people = lambda: 4
    total = 0
    for k in range(30):  # 15 s at 0.4 with four people
        total += 100
        guard.sample(Reading(k * 0.5, CpuTimes(total * 4 // 10, 0, total), {}, 0.0, people=4))
    assert guard.room_for(2)  # 0.4 + 2 x 0.125
    guard.waiting = lambda: 1
    assert guard.room_for(1) and not guard.room_for(2)  # 0.4 + 3 x 0.125 = 0.775
    assert guard.full(0)  # a new call would come with its partner: refused
    assert not guard.full(1) and not guard.full(2)  # the awaited partner, or a third into a call of two
    guard.waiting = lambda: 2
    assert not guard.full(1) and guard.full(2)  # 0.4 + 3 x 0.125 for the third
