"""The load bench's arithmetic (bench/load.py), kept free of processes and sockets so it can be tested.

A room's log is what bench/load_client.py wrote; a window is a span of wall
time. Targets: every listener receives the other at 14 fps or more, trigger-to-ad
p95 is 1.2 s or less, and every phrase said brings its ad.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIN_FPS = 14.0
MAX_P95_S = 1.2
AD_WITHIN_S = 5.0  # an ad onset later than this after a phrase's end is not that phrase's
# Soak tolerances: last window against first (medians), and after everyone left.
RSS_TOL_MB, RSS_TOL_FRAC = 30.0, 0.05
THREAD_TOL, FD_TOL = 2, 4
LEVELS = ("normal", "busy", "full")  # /api/load's levels, least loaded first
FRAME_LATENCY_TOL_S, TRIGGER_TOL_S = 0.05, 0.25
# a relay that runs for weeks cannot grow 1 GB a day; 30 min of ad renders swing RSS by about 250 MB,
# so a fitted slope is only good to a few tens of MB an hour
RSS_SLOPE_TOL_MB_H = 50.0

Row = tuple[float, float | None, bool]  # arrival time, frame latency (None: no stamp), ad frame


@dataclass
class RoomLog:
    """One room's JSON-lines log, parsed."""

    room: str = ""
    joined: dict[str, float] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    audio_started: float | None = None
    frames: dict[tuple[str, str], list[Row]] = field(default_factory=dict)  # (listener, source) -> rows
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (received by, event)
    errors: list[tuple[float, str, str]] = field(default_factory=list)  # (t, who, message)
    sent: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    left: bool = False


@dataclass(frozen=True)
class Speech:
    """Alice's looped track: where each phrase ends in it, its length, and how far it was rolled (seconds)."""

    ends: tuple[float, ...]
    loop_s: float
    shift_s: float = 0.0


def parse_log(lines: Iterable[str], room: str = "") -> RoomLog:
    """A RoomLog from load_client's lines; a torn last line (the file being written) is skipped."""
    log = RoomLog(room=room)
    for line in lines:
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        kind = r.get("k")
        if kind == "joined":
            log.joined[r["who"]] = r["t"]
        elif kind == "refused":
            log.refused[r["who"]] = r.get("message", "")
        elif kind == "audio":
            log.audio_started = r["started"]
        elif kind == "frames":
            rows = log.frames.setdefault((r["listener"], r["source"]), [])
            rows.extend((t, lat, bool(ad)) for t, lat, ad in r["rows"])
        elif kind == "event":
            log.events.append((r["to"], r["event"]))
        elif kind == "error":
            log.errors.append((r["t"], r.get("who", ""), r.get("message", "")))
        elif kind == "sent":
            log.sent.append((r["t"], r["counts"]))
        elif kind == "left":
            log.left = True
    return log


def quantile(xs: Sequence[float], p: float) -> float | None:
    return float(np.percentile(xs, p)) if len(xs) else None


def phrase_ends(started: float | None, speech: Speech, t0: float, t1: float) -> list[float]:
    """Wall times in [t0, t1] at which a phrase ended in the audio fed, the loop and the roll counted."""
    if started is None or speech.loop_s <= 0:
        return []
    out = []
    for end in speech.ends:
        first = started + (end + speech.shift_s) % speech.loop_s
        k = max(0, int(np.ceil((t0 - first) / speech.loop_s)))
        while first + k * speech.loop_s <= t1:
            out.append(first + k * speech.loop_s)
            k += 1
    return sorted(out)


def ad_onsets(rows: Sequence[Row]) -> list[float]:
    """Arrival times of ad frames whose previous frame was not an ad: where each ad begins."""
    return [t for (t, _, ad), (_, _, before) in zip(rows[1:], rows[:-1]) if ad and not before]


def trigger_to_ad(ends: Sequence[float], onsets: Sequence[float], within_s: float = AD_WITHIN_S) -> list[float | None]:
    """For each phrase end, the time to the first ad onset after it (None: no ad within `within_s`)."""
    out: list[float | None] = []
    for end in ends:
        after = [o - end for o in onsets if 0 < o - end <= within_s]
        out.append(min(after) if after else None)
    return out


def _rate(rows: Sequence[Row], t0: float, t1: float) -> float:
    return sum(t0 <= t <= t1 for t, _, _ in rows) / (t1 - t0) if t1 > t0 else 0.0


def _sent_fps(sent: Sequence[tuple[float, dict[str, int]]], t0: float, t1: float) -> dict[str, float]:
    inside = [(t, c) for t, c in sent if t0 <= t <= t1]
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return {}
    (ta, a), (tb, b) = inside[0], inside[-1]
    return {who: round((b.get(who, 0) - n) / (tb - ta), 2) for who, n in a.items()}


def room_window(log: RoomLog, speech: Speech, t0: float, t1: float) -> dict[str, Any]:
    """One room over [t0, t1]: each listener's received fps, the phrases said in it and how soon their ads came.

    Phrases ending after t1 - AD_WITHIN_S are left to the next window: their ad may still be coming.
    """
    listeners = {f"{lis}<-{src}": round(_rate(rows, t0, t1), 2) for (lis, src), rows in log.frames.items()}
    for lis, src in (("bob", "alice"), ("alice", "bob")):
        listeners.setdefault(f"{lis}<-{src}", 0.0)  # never received: 0 fps
    ends = phrase_ends(log.audio_started, speech, t0, t1 - AD_WITHIN_S)
    lat = trigger_to_ad(ends, ad_onsets(log.frames.get(("bob", "alice"), [])))
    triggers = [
        e for to, e in log.events if to == "bob" and e.get("type") == "trigger" and e.get("participant") == "alice"
    ]
    frame_lat = [lag for rows in log.frames.values() for t, lag, _ in rows if lag is not None and t0 <= t <= t1]
    return {
        "room": log.room,
        "listener_fps": listeners,
        "sent_fps": _sent_fps(log.sent, t0, t1),
        "phrases": len(ends),
        "triggers": sum(t0 <= e.get("t", 0.0) <= t1 for e in triggers),
        "trigger_to_ad_s": [None if x is None else round(x, 3) for x in lat],
        "frame_latency": frame_lat,
        "refused": dict(log.refused),
        "errors": [f"{who}: {msg}" for t, who, msg in log.errors if t <= t1],
    }


def pool(windows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The rooms of one window together: the figures a verdict is made on."""
    lat = [x for w in windows for x in w["trigger_to_ad_s"] if x is not None]
    frame = [x for w in windows for x in w["frame_latency"]]
    fps = [(v, w["room"], who) for w in windows for who, v in w["listener_fps"].items()]
    sent = [v for w in windows for v in w["sent_fps"].values()]
    r = lambda v, n=3: None if v is None else round(v, n)  # noqa: E731
    return {
        "phrases": sum(w["phrases"] for w in windows),
        "triggers": sum(w["triggers"] for w in windows),
        "ads_seen": len(lat),
        "trigger_to_ad_p50_s": r(quantile(lat, 50)),
        "trigger_to_ad_p95_s": r(quantile(lat, 95)),
        "frame_latency_p50_s": r(quantile(frame, 50)),
        "frame_latency_p95_s": r(quantile(frame, 95)),
        "listener_fps_min": min(fps)[0] if fps else None,
        "listener_fps_min_at": f"{min(fps)[2]} in {min(fps)[1]}" if fps else None,
        "sent_fps_min": min(sent) if sent else None,
        "refused": {f"{w['room']} {who}": msg for w in windows for who, msg in w["refused"].items()},
    }


def failures(step: dict[str, Any]) -> list[str]:
    """What a step missed, plainly, most basic first; [] when it held."""
    out = [f"join refused ({where}): {msg}" for where, msg in step["refused"].items()]
    fps = step["listener_fps_min"]
    if fps is None or fps < MIN_FPS:
        sent = step.get("sent_fps_min")
        starved = f"; the senders themselves sent {sent:.1f} fps" if sent is not None and sent < MIN_FPS else ""
        out.append(f"listener fps {fps or 0:.1f} ({step['listener_fps_min_at']}){starved}")
    p95 = step["trigger_to_ad_p95_s"]
    if p95 is None:
        out.append("no ad seen" if step["phrases"] else "no phrase said in the measured window")
    elif p95 > MAX_P95_S:
        out.append(f"trigger-to-ad p95 {p95:.2f} s")
    if step["phrases"] and step["ads_seen"] < step["phrases"]:
        out.append(f"{step['phrases'] - step['ads_seen']} of {step['phrases']} phrases brought no ad")
    return out


def rooms_sustained(steps: Sequence[dict[str, Any]]) -> int:
    """The most rooms of a step that held, counting only the steps before the first that did not."""
    held = 0
    for step in sorted(steps, key=lambda s: s["rooms"]):
        if step["failures"]:
            break
        held = step["rooms"]
    return held


def breaks_first(steps: Sequence[dict[str, Any]]) -> str | None:
    """What failed at the first step that did not hold, or None when every step held."""
    for step in sorted(steps, key=lambda s: s["rooms"]):
        if step["failures"]:
            return f"at {step['rooms']} room{'s' if step['rooms'] > 1 else ''}: " + "; ".join(step["failures"])
    return None


def per_participant(steps: Sequence[dict[str, Any]], idle_rss_mb: float) -> dict[str, Any] | None:
    """Relay CPU and memory (above the idle relay's) per participant, at the largest step that held (else the first)."""
    if not steps:
        return None
    held = [s for s in steps if not s["failures"] and s["rooms"] <= rooms_sustained(steps)]
    step = max(held, key=lambda s: s["rooms"]) if held else min(steps, key=lambda s: s["rooms"])
    n = 2 * step["rooms"]
    return {
        "at_rooms": step["rooms"],
        "cpu_cores": round(step["relay_cpu_cores"] / n, 3),
        "rss_mb": round((step["relay_rss_mb"] - idle_rss_mb) / n, 1),
    }


def rss_slope_mb_per_h(samples: Sequence[dict[str, Any]]) -> float | None:
    """Least-squares slope of the relay's RSS over the samples, MB an hour."""
    if len(samples) < 2:
        return None
    t = np.array([s["t"] for s in samples], float)
    rss = np.array([s["rss_mb"] for s in samples], float)
    if np.ptp(t) == 0:
        return None
    return round(float(np.polyfit(t - t[0], rss, 1)[0]) * 3600, 1)


def soak_verdict(
    first: dict[str, Any],
    last: dict[str, Any],
    after: dict[str, Any],
    slope_mb_h: float | None = None,
    refused: dict[str, str] | None = None,
) -> list[str]:
    """Joins refused, windows below the targets, how the last window drifted from the first, RSS's slope,
    and what was left once everyone left; [] when flat."""
    out = [f"join refused ({where}): {msg}" for where, msg in (refused or {}).items()]
    for name, window in (("first", first), ("last", last)):
        fps = window.get("listener_fps_min")
        if fps is None or fps < MIN_FPS:
            out.append(f"listener fps {fps or 0:.1f} in the {name} window")
        if window.get("ads_seen", 0) < window.get("phrases", 0):
            out.append(
                f"{window['phrases'] - window['ads_seen']} of {window['phrases']} phrases brought no ad ({name})"
            )
    grew = last["rss_mb"] - first["rss_mb"]
    if grew > max(RSS_TOL_MB, RSS_TOL_FRAC * first["rss_mb"]):
        out.append(f"RSS grew {grew:.0f} MB ({first['rss_mb']:.0f} -> {last['rss_mb']:.0f})")
    if slope_mb_h is not None and slope_mb_h > RSS_SLOPE_TOL_MB_H:
        out.append(f"RSS slope {slope_mb_h:.0f} MB/h")
    if last["threads"] > first["threads"] + THREAD_TOL:
        out.append(f"threads {first['threads']:g} -> {last['threads']:g}")
    if last["fds"] > first["fds"] + FD_TOL:
        out.append(f"open fds {first['fds']:g} -> {last['fds']:g}")
    a, b = first.get("frame_latency_p50_s"), last.get("frame_latency_p50_s")
    if a is not None and b is not None and b > a + FRAME_LATENCY_TOL_S:
        out.append(f"frame latency p50 {a:.3f} -> {b:.3f} s")
    a, b = first.get("trigger_to_ad_p50_s"), last.get("trigger_to_ad_p50_s")
    if a is not None and b is not None and b > a + TRIGGER_TOL_S:
        out.append(f"trigger-to-ad p50 {a:.2f} -> {b:.2f} s")
    if after.get("speech_threads"):
        out.append(f"{after['speech_threads']} speech worker thread(s) left after everyone left")
    if after.get("speech_workers"):
        out.append(f"/api/load: {after['speech_workers']} speech worker(s) left after everyone left")
    if after.get("face_threads"):
        out.append(f"{after['face_threads']} face worker thread(s) left after everyone left")
    if after.get("face_workers"):
        out.append(f"/api/load: {after['face_workers']} face worker(s) left after everyone left")
    held = (after.get("speech_workers_in_memory") or 0) + (after.get("face_workers_in_memory") or 0)
    if held:
        out.append(f"/api/load: {held} closed worker(s) still in memory after everyone left")
    return out


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The results file after a run: a ramp replaces the ramp's keys and keeps the soak, and a soak the reverse."""
    if "soak" in new and "steps" not in new:
        return {**old, "soak": new["soak"]}
    return {**new, **({"soak": old["soak"]} if "soak" in old else {})}


def soak_window(samples: Sequence[dict[str, Any]], windows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the relay's samples over one stretch of the soak, and the rooms' figures pooled over it."""
    med = lambda key: float(np.median([s[key] for s in samples])) if samples else None  # noqa: E731
    pooled = pool(windows)
    span = samples[-1]["t"] - samples[0]["t"] if len(samples) > 1 else 0.0
    return {
        "samples": len(samples),
        "rss_mb": med("rss_mb"),
        "pss_mb": med("pss_mb"),
        "threads": med("threads"),
        "fds": med("fds"),
        "relay_cpu_cores": round((samples[-1]["cpu_s"] - samples[0]["cpu_s"]) / span, 3) if span else None,
        **{k: pooled[k] for k in ("phrases", "ads_seen", "listener_fps_min", "sent_fps_min")},
        **{k: v for k, v in pooled.items() if k.endswith("_s")},
    }


def api_summary(samples: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The relay's /api/load over a window: the most of each number, the last of anything else; None if never served."""
    answers = [s["api"] for s in samples if isinstance(s.get("api"), dict) and "error" not in s["api"]]
    if not answers:
        return None
    out: dict[str, Any] = {}
    for answer in answers:
        for key, value in answer.items():
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and isinstance(out.get(key, value), int | float):
                out[key] = max(value, out.get(key, value))
            elif value in LEVELS and out.get(key) in LEVELS:
                out[key] = max(value, out[key], key=LEVELS.index)  # the most loaded level seen
            else:
                out[key] = value
    return out
