"""The first-ad bench's arithmetic: the first trigger's path, part by part, and the pooled figures."""

from __future__ import annotations

from bench.browser_bench import measure
from bench.first_ad_bench import first_trigger, markdown, summarise
from bench.report import machine_info

LOG = (
    "room bench: alice said 'dinner tonight' (heard 'dinner tonight'); latency 0.20 s on the audio clock, 0.25 s wall\n"
)


def _call(slow_s: float = 0.0) -> dict:
    """A call: Alice joins at 100 s, her phrase ends at 105 s, the ad is handed over at 105.3 s."""
    shown_ms = 105_400 + 1000 * slow_s
    frames = [[105_000, False, 104_990], [105_200, False, 105_190], [shown_ms, True, shown_ms - 20]]
    events = [
        {"type": "joined", "participant": "alice", "t": 100.0},
        {"type": "trigger", "participant": "alice", "t": 105.25, "phrase_end_t": 105.0},
        {"type": "ad-start", "participant": "alice", "t": 105.3},
    ]
    encodes = [
        {"t": 102.0, "encoder": 1, "bytes": 3000, "packets": 3, "key": True, "target": 500_000, "ms": 9.0},
        {"t": 102.0, "encoder": 2, "bytes": 3000, "packets": 3, "key": True, "target": 500_000, "ms": 9.0},
        {"t": 105.31, "encoder": 2, "bytes": 40_000, "packets": 32, "key": True, "target": 500_000, "ms": 3.0},
        {
            "t": 105.32,
            "encoder": 1,
            "bytes": 30_000,
            "packets": 25,
            "key": False,
            "target": 500_000,
            "ms": 20.0,
            "ad": True,
        },
        {"t": 105.33, "sent": 1},
    ]
    watch = [
        {"t": 102_500, "framesDecoded": 1, "bytesReceived": 3000, "pliCount": 0, "nackCount": 0},
        {"t": 105_250, "framesDecoded": 40, "bytesReceived": 50_000, "pliCount": 0, "nackCount": 0},
        {"t": shown_ms + 50, "framesDecoded": 42, "bytesReceived": 81_000, "pliCount": 1, "nackCount": 2},
    ]
    return measure(frames, events, LOG) | {"encodes": encodes, "watch": watch, "events": events, "inbound": []}


def test_the_first_trigger_is_split_into_speech_relay_encoder_and_page() -> None:
    row = first_trigger(_call())
    assert row is not None
    assert row["speech"] == 0.25 and row["handed"] == 0.3 and row["shown"] == 0.4
    assert row["joined_to_phrase_end"] == 5.0
    # the encoder that coded the ad's first frame is Bob's, not the other one (a bigger keyframe at that moment)
    assert row["first_ad_frame_kb"] == 30.0 and row["first_ad_frame_packets"] == 25
    assert row["target_kbps"] == 500 and row["first_ad_frame_sent"] == 0.03
    assert row["page_kb_received"] == 31.0 and row["page_plis"] == 1 and row["page_nacks"] == 2
    assert row["page_first_decoded"] == -2.5


def test_a_call_without_a_trigger_counts_as_not_fired() -> None:
    call = _call()
    call["rows"] = []
    assert first_trigger(call) is None
    r = summarise([call, _call()])
    assert r["calls"] == 2 and r["fired"] == 1


def test_median_and_max_over_calls_and_the_table_flags_a_slow_one() -> None:
    r = summarise([_call(), _call(0.2), _call(0.9)])
    assert r["first_trigger_to_ad_s"] == [0.4, 0.6, 1.3]
    assert r["first_trigger_to_ad_median_s"] == 0.6 and r["first_trigger_to_ad_max_s"] == 1.3
    table = markdown(r | {"date": "2026-12-03T00:00:00", "machine": machine_info()})
    assert "| 0.60 s | ≤ 0.7 s | pass |" in table and "| 1.30 s | ≤ 1.0 s | FAIL |" in table
