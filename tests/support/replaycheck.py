"""A recording replayed with `callbridge replay` against what happened live, as its events.jsonl logged it.

Live times are on the server clock; the replay's are seconds on the output's timeline, which starts at
the recording's start (`started_t` in the manifest): the media files time each frame from there.

Replay hears the phrases itself (the trigger times must match the live ones), and puts each ad
where the log says the audience saw it (callbridge/replay/livelog.py): a live ad starts once the relay
has heard the phrase and made the first frame, 0.3 to 3.5 s after the trigger on a loaded machine.
So each live ad's start and end must come back within 0.5 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

from callbridge.replay.compose import BANNER

TOLERANCE_S = 0.5
Pairs = list[tuple[float, float]]  # (live, replayed), in seconds from the recording's start


@dataclass
class Matches:
    """What the live call logged and where the replay put it."""

    phrase_ends: Pairs = field(default_factory=list)
    ad_starts: Pairs = field(default_factory=list)
    ad_ends: Pairs = field(default_factory=list)  # live ads that were not cut short

    def summary(self) -> str:
        def pairs(name: str, rows: Pairs) -> str:
            shown = ", ".join(f"live {a:.2f} replay {b:.2f} (diff {b - a:+.2f})" for a, b in rows)
            return f"{name}: {shown or 'none'}"

        return "; ".join(
            [pairs("phrase ends", self.phrase_ends), pairs("ad starts", self.ad_starts), pairs("ad ends", self.ad_ends)]
        )


def replay_matches_the_live_call(folder: Path, data: Path, out: Path, speaker: str = "alice") -> Matches:
    """The recording replayed: the same triggers as the live call (phrase ends within 0.5 s); each live ad
    of the speaker replayed where it played (start and end within 0.5 s); the banner in the speaker's
    tile (the left one). Returns the times."""
    argv = [sys.executable, "-m", "callbridge", "replay", str(folder), "--out", str(out), "--data", str(data), "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in done.stdout.splitlines()]
    started = json.loads((folder / "manifest.json").read_text())["started_t"]
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    seen = Matches()

    live = [e["phrase_end_t"] - started for e in events if _is(e, "trigger", speaker)]
    replayed = [r["phrase_end_s"] for r in records if r["event"] == "trigger" and r["participant"] == speaker]
    assert live and replayed, f"phrase ends of {speaker}: live {live}, replayed {replayed}"
    seen.phrase_ends = [(t, min(replayed, key=lambda r: abs(r - t))) for t in live]
    assert all(abs(a - b) < TOLERANCE_S for a, b in seen.phrase_ends), seen.summary()

    ads = [r for r in records if r["event"] == "ad" and r["participant"] == speaker]
    assert ads and records[-1]["signed"] is True, records
    live_ads = [(*times, min(ads, key=lambda r: abs(r["start_s"] - times[1]))) for times in _live_ads(events, speaker)]
    seen.ad_starts = [(start - started, ad["start_s"]) for _, start, _, ad in live_ads]
    seen.ad_ends = [(end - started, ad["end_s"]) for _, _, end, ad in live_ads if end is not None]
    print(f"live vs replayed, s from the recording's start: {seen.summary()}")
    assert live_ads, f"no live ad-start of {speaker} in {folder / 'events.jsonl'}"
    assert all(abs(a - b) < TOLERANCE_S for a, b in seen.ad_starts + seen.ad_ends), seen.summary()

    with av.open(str(out)) as container:
        frames = [(float(f.time), f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    assert frames[0][1].shape == (720, 1280, 3)
    ad = ads[0]
    during = [f[:, :640] for t, f in frames if ad["start_s"] + 0.2 < t < ad["end_s"] - 0.2]  # the speaker's tile
    assert during and all(BANNER.is_on(np.ascontiguousarray(tile)) for tile in during[::5])
    return seen


def _is(event: dict[str, Any], kind: str, speaker: str) -> bool:
    return event["type"] == kind and event["participant"] == speaker


def _live_ads(events: list[dict[str, Any]], speaker: str) -> list[tuple[float, float, float | None]]:
    """Each live ad of the speaker (server clock): the end of the phrase that started it, its start, and its
    end (None when the log has none or the ad was cut short)."""
    ads: list[tuple[float, float, float | None]] = []
    phrase_end: float | None = None
    for i, e in enumerate(events):
        if _is(e, "trigger", speaker):
            phrase_end = e["phrase_end_t"]
        elif _is(e, "ad-start", speaker):
            assert phrase_end is not None, f"a live ad-start with no trigger before it: {e}"
            end = next((x for x in events[i + 1 :] if _is(x, "ad-end", speaker)), None)
            ads.append((phrase_end, e["t"], end["t"] if end and not end.get("interrupted") else None))
    return ads
