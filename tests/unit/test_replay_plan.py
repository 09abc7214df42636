"""Where replay puts a recording's ads: its own segments, moved to where the live log says they played."""

from __future__ import annotations

import json

from callbridge.replay.livelog import LiveAd, read_live_ads
from callbridge.replay.plan import AdSegment, on_live_times


def segment(who: str, start: float, end: float) -> AdSegment:
    return AdSegment(who, "dinner tonight", "default", start, end)


def test_a_segment_moves_to_its_live_ad_and_takes_its_length():
    moved = on_live_times([segment("ana", 4.0, 11.0)], [LiveAd("ana", 4.9, 11.8)], until_s=60)
    assert [(s.start_s, s.end_s) for s in moved] == [(4.9, 11.8)]


def test_only_the_same_speakers_ad_in_the_lag_window_matches():
    live = [LiveAd("bo", 4.5, 11.5), LiveAd("ana", 9.5, 16.5), LiveAd("ana", 2.0, 9.0)]
    moved = on_live_times([segment("ana", 4.0, 11.0)], live, until_s=60)
    assert [(s.start_s, s.end_s) for s in moved] == [(4.0, 11.0)]  # 9.5 is too late, 2.0 too early, bo is not ana


def test_an_ad_with_no_end_in_the_log_keeps_replays_length_and_the_call_cuts_it():
    moved = on_live_times([segment("ana", 50.0, 57.0)], [LiveAd("ana", 51.0, None)], until_s=55.0)
    assert [(s.start_s, s.end_s) for s in moved] == [(51.0, 55.0)]


def test_a_moved_segment_never_overlaps_the_speakers_next_one():
    segments = [segment("ana", 4.0, 11.0), segment("ana", 11.2, 18.2)]
    moved = on_live_times(segments, [LiveAd("ana", 6.0, 13.0)], until_s=60)
    assert [(s.start_s, s.end_s) for s in moved] == [(6.0, 13.0)]  # the second would start inside the first


def test_the_log_is_read_and_each_bad_line_is_skipped_and_named(tmp_path):
    events = tmp_path / "events.jsonl"
    lines = [
        {"type": "trigger", "participant": "ana", "t": 103.5},
        {"type": "ad-start", "participant": "ana", "t": 104.0},
        "{not json",
        {"type": "ad-end", "participant": "bo", "t": 104.5},  # no start: ignored
        ["a", "list"],
        {"type": "ad-end", "participant": "ana", "t": 111.0},
        {"type": "ad-start", "participant": "bo", "t": "soon"},
        {"type": "ad-start", "participant": "bo", "t": 120.0},  # the recording stopped during it
    ]
    events.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    ads, notes = read_live_ads(events, started_t=100.0)
    assert ads == [LiveAd("ana", 4.0, 11.0), LiveAd("bo", 20.0, None)]
    assert notes == [f"events.jsonl line {n} is not a room event: skipped" for n in (3, 5, 7)]


def test_a_missing_log_is_a_note_not_an_error(tmp_path):
    ads, notes = read_live_ads(tmp_path / "events.jsonl", 0.0)
    assert ads == [] and "no events.jsonl" in notes[0]
