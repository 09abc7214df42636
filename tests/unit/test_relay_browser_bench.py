"""The browser bench's arithmetic: which frame counts as the ad's first, and how calls pool."""

from __future__ import annotations

from bench.browser_bench import markdown, measure, summarise

LOG = (
    "INFO callbridge.web.room: room bench: alice said 'dinner tonight' (heard 'dinner tonight?'); "
    "latency 0.30 s on the audio clock, 0.50 s wall\n"
)


def _call(offset: float) -> dict[str, list[float]]:
    # rVFC rows: [expected display ms, labelled?, receive ms]; the ad's first labelled frame is the third
    frames = [
        [1000 + offset, False, 990 + offset],
        [1100 + offset, False, None],
        [1900 + offset, True, 1850 + offset],
        [2000 + offset, True, 1950 + offset],
    ]
    t = offset / 1000
    events = [
        {"type": "trigger", "participant": "alice", "t": 1.5 + t, "phrase_end_t": 1.0 + t},
        {"type": "ad-start", "participant": "alice", "t": 1.6 + t},
        {"type": "trigger", "participant": "bob", "t": 1.5 + t, "phrase_end_t": 1.0 + t},  # not the watched speaker
    ]
    return measure(frames, events, LOG)


def test_measure_times_the_first_labelled_frame_after_each_trigger() -> None:
    m = _call(0)
    assert len(m["trigger_to_ad"]) == 1 and abs(m["trigger_to_ad"][0] - 0.9) < 1e-9
    assert abs(m["speech"][0] - 0.5) < 1e-9
    assert abs(m["handed_to_shown"][0] - 0.3) < 1e-9 and abs(m["handed_to_received"][0] - 0.25) < 1e-9
    assert m["speech_audio_clock"] == [0.3] and abs(m["speech_beyond_audio_clock"][0] - 0.2) < 1e-9
    # the same trigger, part by part from the phrase's end, for telling where a slow one lost its time
    assert m["rows"] == [
        {"speech": 0.5, "audio_clock": 0.3, "handed": 0.6, "received": 0.85, "shown": 0.9, "unlabelled_frames": 0}
    ]


def test_summarise_pools_the_calls_and_keeps_each_calls_p50() -> None:
    r = summarise([_call(0), _call(10_000)])
    assert r["calls"] == 2 and r["triggers"] == 2 and r["ads_seen"] == 2
    assert r["trigger_to_ad_p50_s"] == 0.9 and r["trigger_to_ad_p50_by_call_s"] == [0.9, 0.9]
    assert [len(rows) for rows in r["per_trigger_by_call"]] == [1, 1]
    assert r["listener_freezes"] is None  # no receive stats in these calls


def test_freezes_add_up_over_the_calls() -> None:
    calls = [
        _call(0) | {"inbound": [{"freezeCount": 3, "totalFreezesDuration": 1.25}]},
        _call(10_000) | {"inbound": [{"freezeCount": 2, "totalFreezesDuration": 0.5}]},
    ]
    r = summarise(calls)
    assert r["listener_freezes"] == 5 and r["listener_frozen_s"] == 1.8
    assert "5 freezes, 1.8 s in 2 calls" in markdown(r | {"machine": {"cpu": "x", "cores": 2}, "date": "2026-12-02"})


def test_a_call_without_ads_reports_none_not_zero() -> None:
    r = summarise([measure([], [], "")])
    assert r["trigger_to_ad_p50_s"] is None and r["ads_seen"] == 0
