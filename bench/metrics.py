"""Scoring for the trigger-engine benchmark: per-item hits / false triggers /
latency against the corpus ground truth, and the aggregate metrics (recall,
false triggers per hour, near misses, latency percentiles, real-time factor).
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from bench.corpus_text import PHRASES

MATCH_TOLERANCE_S = 1.0  # a trigger counts for a positive when its phrase_end_s is this close


def pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def score_item(item: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "id": item["id"],
        "kind": item["kind"],
        "phrase": item["phrase"],
        "near_miss_of": item.get("near_miss_of"),
        "text": item["text"] if item["kind"] != "conversation" else None,
        "voice": item["voice"],
        "snr_db": item["snr_db"],
        "duration_s": item["duration_s"],
        "cpu_s": round(run["cpu_s"], 3),
        "wall_s": round(run["wall_s"], 3),
        "triggers": run["triggers"],
        "heard": run["heard"],
    }
    if item["kind"] != "positive":
        res.update(detected=bool(run["triggers"]), false_triggers=len(run["triggers"]))
        return res
    gt = item["phrase_end_s"]
    hit = None
    for t in run["triggers"]:
        if t["phrase"] == item["phrase"] and abs(t["phrase_end_s"] - gt) <= MATCH_TOLERANCE_S:
            hit = t
            break
    extra = [t for t in run["triggers"] if t is not hit]
    res.update(
        phrase_end_gt_s=gt,
        detected=hit is not None,
        latency_s=round(hit["emitted_at_s"] - gt, 3) if hit else None,
        end_error_s=round(hit["phrase_end_s"] - gt, 3) if hit else None,
        # wrong phrase, wrong place or a repeat: each counts as a false trigger
        false_triggers=len(extra),
        wrong_phrase_triggers=sum(t["phrase"] != item["phrase"] for t in extra),
    )
    return res


def metrics(results: list[dict[str, Any]], passes: list[list[dict[str, Any]]]) -> dict[str, Any]:
    by = lambda kind: [r for r in results if r["kind"] == kind]  # noqa: E731
    pos, near, unrel, conv = by("positive"), by("near_miss"), by("unrelated"), by("conversation")
    m: dict[str, Any] = {}

    hits = [r for r in pos if r["detected"]]
    m["positives"] = len(pos)
    m["recall"] = rate(len(hits), len(pos))
    m["recall_by_phrase"] = {
        p: rate(sum(r["detected"] for r in pos if r["phrase"] == p), sum(r["phrase"] == p for r in pos))
        for p in PHRASES
    }
    m["recall_clean"] = rate(
        sum(r["detected"] for r in pos if r["snr_db"] is None), sum(r["snr_db"] is None for r in pos)
    )
    m["recall_noisy"] = rate(
        sum(r["detected"] for r in pos if r["snr_db"] is not None), sum(r["snr_db"] is not None for r in pos)
    )
    m["missed_positives"] = [r["id"] for r in pos if not r["detected"]]
    m["false_triggers_on_positives"] = sum(r["false_triggers"] for r in pos)
    m["wrong_phrase_triggers_on_positives"] = sum(r["wrong_phrase_triggers"] for r in pos)

    lat = [r["latency_s"] for r in hits]
    m["latency_p50_s"], m["latency_p95_s"] = pct(lat, 50), pct(lat, 95)
    m["latency_max_s"] = round(max(lat), 3) if lat else None
    m["latency_by_phrase_p50_s"] = {p: pct([r["latency_s"] for r in hits if r["phrase"] == p], 50) for p in PHRASES}
    errs = [r["end_error_s"] for r in hits]
    m["phrase_end_abs_error_median_s"] = round(float(np.median(np.abs(errs))), 3) if errs else None
    m["phrase_end_error_median_s"] = round(float(np.median(errs)), 3) if errs else None

    m["near_misses"] = len(near)
    m["near_miss_false_triggers"] = sum(r["false_triggers"] for r in near)
    m["near_miss_items_triggered"] = sum(r["detected"] for r in near)
    m["near_miss_rate_per_item"] = rate(m["near_miss_false_triggers"], len(near))
    m["near_miss_by_phrase"] = {
        p: {
            "items": sum(r["near_miss_of"] == p for r in near),
            "false_triggers": sum(r["false_triggers"] for r in near if r["near_miss_of"] == p),
        }
        for p in PHRASES
    }
    m["near_miss_triggered"] = [r["id"] for r in near if r["detected"]]

    m["unrelated"] = len(unrel)
    m["unrelated_false_triggers"] = sum(r["false_triggers"] for r in unrel)
    m["conversations"] = len(conv)
    m["conversation_false_triggers"] = sum(r["false_triggers"] for r in conv)
    hours = sum(r["duration_s"] for r in unrel + conv) / 3600
    m["non_trigger_speech_hours"] = round(hours, 4)
    ft = m["unrelated_false_triggers"] + m["conversation_false_triggers"]
    m["false_triggers_per_hour"] = round(ft / hours, 2) if hours else None
    m["unrelated_triggered"] = [r["id"] for r in unrel + conv if r["detected"]]

    cpu_rtfs, wall_rtfs = [], []
    for runs in passes:
        audio = sum(r["audio_s"] for r in runs)
        cpu_rtfs.append(sum(r["cpu_s"] for r in runs) / audio)
        wall_rtfs.append(sum(r["wall_s"] for r in runs) / audio)
    m["audio_hours"] = round(sum(r["audio_s"] for r in passes[0]) / 3600, 4)
    m["rtf_cpu"] = round(statistics.median(cpu_rtfs), 4)
    m["rtf_wall"] = round(statistics.median(wall_rtfs), 4)
    m["rtf_runs"] = {"cpu": [round(x, 4) for x in cpu_rtfs], "wall": [round(x, 4) for x in wall_rtfs]}
    return m
