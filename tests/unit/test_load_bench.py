"""The load bench's arithmetic: windows, step verdicts, rooms sustained, what broke first, soak flatness, merging."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench import load_parts as lp
from bench.load import parse_args
from bench.load_report import capacity_markdown, soak_markdown

SPEECH = lp.Speech(ends=(2.0,), loop_s=12.0)  # one phrase a loop, ending 2 s into it


def _log(fps: float = 15.0, ad_delay: float | None = 0.4, seconds: float = 60.0, started: float = 100.0) -> lp.RoomLog:
    """A room whose listeners receive `fps` from t=100 on, Alice's phrases ending at 102, 114, ...; each ad
    begins `ad_delay` after its phrase's end (None: never) and lasts 3 s."""
    frames = [100.0 + k / fps for k in range(int(seconds * fps))]
    ends = [started + 2.0 + 12.0 * k for k in range(int(seconds / 12) + 1)]
    ad = lambda t: ad_delay is not None and any(e + ad_delay <= t < e + ad_delay + 3 for e in ends)  # noqa: E731
    lines = [
        {"k": "joined", "who": "alice", "t": 99.0},
        {"k": "joined", "who": "bob", "t": 99.5},
        {"k": "audio", "t": 100.0, "started": started},
        {"k": "frames", "t": 160.0, "listener": "bob", "source": "alice", "rows": [[t, 0.02, ad(t)] for t in frames]},
        {"k": "frames", "t": 160.0, "listener": "alice", "source": "bob", "rows": [[t, 0.03, False] for t in frames]},
        {"k": "sent", "t": 100.0, "counts": {"alice": 0, "bob": 0}},
        {"k": "sent", "t": 160.0, "counts": {"alice": int(60 * fps), "bob": int(60 * fps)}},
    ]
    lines += [
        {"k": "event", "t": e, "to": "bob", "event": {"type": "trigger", "participant": "alice", "t": e}} for e in ends
    ]
    return lp.parse_log([json.dumps(x) for x in lines] + ['{"k": "frames", "t": 1'], "load1")  # a torn last line


def _step(rooms: int, **window: Any) -> dict[str, Any]:
    step = {"rooms": rooms, **lp.pool([lp.room_window(_log(**window), SPEECH, 100.0, 160.0)])}
    step["failures"] = lp.failures(step)
    return step


def test_a_room_at_full_rate_with_every_ad_holds() -> None:
    w = lp.room_window(_log(), SPEECH, 100.0, 160.0)
    assert w["listener_fps"] == {"bob<-alice": pytest.approx(15.0, abs=0.1), "alice<-bob": pytest.approx(15.0, abs=0.1)}
    # phrases ending at 102 ... 150; the one at 162 is past the window, and none within 5 s of its end counts
    assert w["phrases"] == 5 and w["triggers"] == 5
    assert all(x == pytest.approx(0.4, abs=0.07) for x in w["trigger_to_ad_s"])  # one frame time of slack
    assert w["sent_fps"] == {"alice": 15.0, "bob": 15.0}
    assert _step(1)["failures"] == []


def test_phrase_ends_follow_the_loop_and_the_roll() -> None:
    rolled = lp.Speech(ends=(2.0, 8.0), loop_s=12.0, shift_s=5.0)  # 2 -> 7, 8 -> 13 = 1 in the next loop
    assert lp.phrase_ends(100.0, rolled, 100.0, 125.0) == [101.0, 107.0, 113.0, 119.0, 125.0]
    assert lp.phrase_ends(None, rolled, 100.0, 125.0) == []  # Alice's audio never started


def test_trigger_to_ad_takes_the_first_onset_after_each_end_and_none_past_the_limit() -> None:
    rows = [(0.0, 0.02, False), (1.0, None, True), (2.0, None, True), (3.0, 0.02, False), (4.0, None, True)]
    rows += [(5.0, 0.02, False), (9.5, None, True)]
    assert lp.ad_onsets(rows) == [1.0, 4.0, 9.5]
    assert lp.trigger_to_ad([0.5, 3.0, 20.0], [1.0, 4.0, 9.5]) == [0.5, 1.0, None]


def test_a_slow_listener_fails_the_step_and_says_so_and_whether_the_senders_were_starved() -> None:
    step = _step(2, fps=12.0)
    assert len(step["failures"]) == 1
    assert (
        step["failures"][0].startswith("listener fps 12.0 (")
        and "senders themselves sent 12.0 fps" in step["failures"][0]
    )


def test_late_ads_fail_on_p95_and_missing_ads_on_the_phrase_count() -> None:
    late = _step(1, ad_delay=1.5)["failures"]  # the first ad frame after 1.5 s, at 15 fps
    assert len(late) == 1 and late[0].startswith("trigger-to-ad p95 1.5")
    assert _step(1, ad_delay=None)["failures"] == ["no ad seen", "5 of 5 phrases brought no ad"]


def test_a_refused_join_fails_the_step_first() -> None:
    log = _log()
    log.refused["bob"] = "this server is full, try again later"
    step = lp.pool([lp.room_window(log, SPEECH, 100.0, 160.0)])
    assert lp.failures(step)[0] == "join refused (load1 bob): this server is full, try again later"


def test_rooms_sustained_and_what_broke_first() -> None:
    steps = [_step(1), _step(2), _step(3, fps=11.5), _step(4, fps=5.0)]
    assert lp.rooms_sustained(steps) == 2
    assert lp.breaks_first(steps) == "at 3 rooms: " + steps[2]["failures"][0]
    assert lp.rooms_sustained([_step(1, ad_delay=2.0)]) == 0
    assert lp.breaks_first([_step(1), _step(2)]) is None
    assert lp.rooms_sustained([]) == 0
    assert lp.rooms_sustained([_step(1), _step(2, fps=9.0), _step(3)]) == 1  # only up to the first failure


def test_per_participant_cost_comes_from_the_largest_step_that_held() -> None:
    steps = [
        {"rooms": 1, "failures": [], "relay_cpu_cores": 0.5, "relay_rss_mb": 1300.0},
        {"rooms": 2, "failures": [], "relay_cpu_cores": 1.2, "relay_rss_mb": 1700.0},
        {"rooms": 3, "failures": ["x"], "relay_cpu_cores": 1.9, "relay_rss_mb": 2100.0},
    ]
    assert lp.per_participant(steps, idle_rss_mb=900.0) == {"at_rooms": 2, "cpu_cores": 0.3, "rss_mb": 200.0}
    assert lp.per_participant(steps[2:], idle_rss_mb=900.0)["at_rooms"] == 3  # none held: the first tried
    assert lp.per_participant([], 900.0) is None


FIRST = {
    "rss_mb": 1400.0,
    "threads": 48.0,
    "fds": 20.0,
    "frame_latency_p50_s": 0.03,
    "trigger_to_ad_p50_s": 0.4,
    "listener_fps_min": 14.8,
    "phrases": 25,
    "ads_seen": 25,
}
AFTER = {"threads": 18, "idle_threads": 7, "speech_threads": 0, "speech_workers": 0, "face_workers": 0}


def test_a_flat_soak_passes_within_the_tolerances() -> None:
    last = FIRST | {"rss_mb": 1440.0, "threads": 50.0, "fds": 24.0, "frame_latency_p50_s": 0.07}
    assert lp.soak_verdict(FIRST, last, AFTER) == []


@pytest.mark.parametrize(
    ("last", "after", "expected"),
    [
        ({"rss_mb": 1500.0}, {}, "RSS grew 100 MB (1400 -> 1500)"),
        ({"threads": 51.0}, {}, "threads 48 -> 51"),
        ({"fds": 25.0}, {}, "open fds 20 -> 25"),
        ({"frame_latency_p50_s": 0.09}, {}, "frame latency p50 0.030 -> 0.090 s"),
        ({"trigger_to_ad_p50_s": 0.7}, {}, "trigger-to-ad p50 0.40 -> 0.70 s"),
        ({"listener_fps_min": 0.0}, {}, "listener fps 0.0 in the last window"),
        ({"listener_fps_min": None}, {}, "listener fps 0.0 in the last window"),
        ({"ads_seen": 23}, {}, "2 of 25 phrases brought no ad (last)"),
        ({}, {"speech_workers": 2}, "/api/load: 2 speech worker(s) left after everyone left"),
        ({}, {"face_workers": 1}, "/api/load: 1 face worker(s) left after everyone left"),
        (
            {},
            {"speech_workers_in_memory": 2, "face_workers_in_memory": 2},
            "/api/load: 4 closed worker(s) still in memory after everyone left",
        ),
    ],
)
def test_each_kind_of_drift_or_leftover_fails_the_soak(last: dict, after: dict, expected: str) -> None:
    assert lp.soak_verdict(FIRST, FIRST | last, AFTER | after) == [expected]


def test_a_refused_join_fails_the_soak() -> None:
    refused = {"load2 alice": "this server is full, try again later"}
    assert lp.soak_verdict(FIRST, FIRST, AFTER, refused=refused) == [
        "join refused (load2 alice): this server is full, try again later"
    ]


def test_a_steep_rss_slope_is_not_flat_even_inside_the_window_tolerance() -> None:
    assert lp.soak_verdict(FIRST, FIRST, AFTER, slope_mb_h=249.4) == ["RSS slope 249 MB/h"]
    assert lp.soak_verdict(FIRST, FIRST, AFTER, slope_mb_h=20.0) == []


def test_rss_slope_is_megabytes_an_hour() -> None:
    samples = [{"t": 60.0 * k, "rss_mb": 1000.0 + 0.5 * k} for k in range(10)]  # 0.5 MB a minute
    assert lp.rss_slope_mb_per_h(samples) == 30.0
    assert lp.rss_slope_mb_per_h(samples[:1]) is None


def test_a_ramp_keeps_the_last_soak_and_a_soak_keeps_the_ramp() -> None:
    ramp = {"date": "d1", "rooms_sustained": 2, "steps": [{"rooms": 1}]}
    soak = {"soak": {"flat": True}}
    assert lp.merge(ramp, soak) == ramp | soak
    again = {"date": "d2", "rooms_sustained": 3, "steps": []}
    assert lp.merge(ramp | soak, again) == again | soak
    assert lp.merge({}, again) == again


def test_api_summary_keeps_the_worst_level_and_the_most_of_each_number() -> None:
    samples = [
        {"api": {"level": "busy", "cpu_busy": 0.8, "speech_lag_s": 0.1}},
        {"api": {"level": "normal", "cpu_busy": 0.6, "speech_lag_s": 0.3}},
        {"api": None},  # no /api/load (404)
    ]
    assert lp.api_summary(samples) == {"level": "busy", "cpu_busy": 0.8, "speech_lag_s": 0.3}
    assert lp.api_summary([{"api": None}, {"api": {"error": "HTTP 500"}}]) is None


def test_the_tables_carry_the_figures() -> None:
    step = _step(1) | {"participants": 2, "relay_cpu_cores": 0.6, "relay_rss_mb": 1400.0, "relay_pss_mb": 1300.0}
    step |= {"clients_cpu_cores": 0.4, "load_api": {"cpu_busy": 0.7, "speech_lag_s": 0.1, "level": "normal"}}
    ramp = {"steps": [step], "rooms_sustained": 1, "breaks_first": None, "max_rooms_tried": 1}
    ramp |= {"per_participant": {"at_rooms": 1, "cpu_cores": 0.3, "rss_mb": 250.0}, "idle": {"rss_mb": 900.0}}
    text = capacity_markdown(ramp)
    assert "| Two-person rooms sustained, AI on (`rooms_sustained`) | 1 | ≥ 2 | FAIL |" in text
    assert "0.30 cores" in text and "250 MB" in text and "nothing up to 1 rooms" in text
    window = FIRST | {"pss_mb": 1300.0, "relay_cpu_cores": 0.9, "trigger_to_ad_p95_s": 0.6}
    window |= {"ads_seen": 20, "phrases": 20, "listener_fps_min": 14.9}
    soak = {"rooms": 2, "minutes": 30, "window_minutes": 5, "first": window, "last": window | {"rss_mb": 1410.0}}
    soak |= {"rss_slope_mb_per_h": 2.0, "after_leave": AFTER | {"fds": 11, "idle_fds": 11}, "flat": True}
    soak |= {"failures": [], "tolerances": {k: "+1" for k in ("rss_mb", "threads", "fds", "frame_latency_p50_s")}}
    soak["tolerances"]["trigger_to_ad_p50_s"] = "+0.25"
    text = soak_markdown(soak)
    assert "| Relay RSS, median | 1400 MB | 1410 MB | +1 |" in text and "Verdict: flat." in text


@pytest.mark.parametrize("argv", [["--max-rooms", "0"], ["--minutes", "-1"], ["--step-minutes", "0"], ["--nope"]])
def test_bad_flags_give_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bench.load: error: ")
