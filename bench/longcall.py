"""A long call through one engine: does cost or latency grow with call length?

The bench corpus's conversations (no trigger) are played back to back, with a
positive item spliced in every `every_s` seconds, into a single TriggerEngine,
as one participant's 30-minute call would be. Per segment of `segment_s` it
reports CPU-seconds per audio second, and for each spliced phrase the latency
on the audio clock, so growth over the call shows as a trend.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.metrics import MATCH_TOLERANCE_S, pct

SAMPLE_RATE = 16_000


def build_stream(
    items: list[dict[str, Any]], corpus_dir: Path, minutes: float, every_s: float
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Conversations looped to `minutes`, a positive spliced in every `every_s`."""
    from triggers import load_audio

    conversations = [load_audio(corpus_dir / i["path"]) for i in items if i["kind"] == "conversation"]
    positives = [i for i in items if i["kind"] == "positive"]
    total = int(minutes * 60 * SAMPLE_RATE)
    parts: list[np.ndarray] = []
    truth: list[dict[str, Any]] = []
    length, next_phrase, k, j = 0, every_s * SAMPLE_RATE, 0, 0
    gap = np.zeros(SAMPLE_RATE // 2, np.float32)
    while length < total:
        if length >= next_phrase:
            item = positives[k % len(positives)]
            audio = load_audio(corpus_dir / item["path"])
            truth.append(
                {
                    "id": item["id"],
                    "phrase": item["phrase"],
                    "phrase_end_s": (length + len(gap)) / SAMPLE_RATE + item["phrase_end_s"],
                }
            )
            parts += [gap, audio, gap]
            length += len(audio) + 2 * len(gap)
            next_phrase += every_s * SAMPLE_RATE
            k += 1
        conv = conversations[j % len(conversations)]
        j += 1
        parts.append(conv)
        length += len(conv)
    return np.concatenate(parts)[:total], [t for t in truth if t["phrase_end_s"] * SAMPLE_RATE < total]


def long_call(
    rec: Any,
    items: list[dict[str, Any]],
    corpus_dir: Path,
    phrases: list[str],
    minutes: float = 30.0,
    every_s: float = 120.0,
    segment_s: float = 300.0,
    progress: Any = None,
) -> dict[str, Any]:
    from triggers import TriggerEngine, TriggerEvent, chunks

    audio, truth = build_stream(items, corpus_dir, minutes, every_s)
    engine = TriggerEngine(phrases, recognizer=rec)
    seg_samples = int(segment_s * SAMPLE_RATE)
    segments: list[dict[str, float]] = []
    fired: list[Any] = []
    cpu0, fed = time.process_time(), 0
    for chunk in chunks(audio):
        fired += [e for e in engine.feed(chunk) if isinstance(e, TriggerEvent)]
        fed += len(chunk)
        if fed % seg_samples == 0 or fed == len(audio):
            cpu = time.process_time() - cpu0
            start = segments[-1]["end_min"] if segments else 0.0
            dur = fed / SAMPLE_RATE - start * 60
            segments.append({"end_min": round(fed / SAMPLE_RATE / 60, 2), "rtf_cpu": round(cpu / dur, 4)})
            cpu0 = time.process_time()
            if progress is not None:
                progress(fed / len(audio))
    fired += [e for e in engine.flush() if isinstance(e, TriggerEvent)]
    latencies = []
    for t in truth:
        hit = next(
            (
                e
                for e in fired
                if e.phrase == t["phrase"] and abs(e.phrase_end_s - t["phrase_end_s"]) <= MATCH_TOLERANCE_S
            ),
            None,
        )
        t["latency_s"] = None if hit is None else round(hit.emitted_at_s - t["phrase_end_s"], 3)
        latencies.append(t["latency_s"])
    found = [x for x in latencies if x is not None]
    half = len(truth) // 2
    first = [x for x in latencies[:half] if x is not None]
    second = [x for x in latencies[half:] if x is not None]
    rtfs = [s["rtf_cpu"] for s in segments]
    return {
        "minutes": minutes,
        "segments": segments,
        "rtf_first_segment": rtfs[0] if rtfs else None,
        "rtf_last_segment": rtfs[-1] if rtfs else None,
        "rtf_growth": round(rtfs[-1] / rtfs[0], 3) if rtfs and rtfs[0] else None,
        "phrases_spliced": len(truth),
        "phrases_detected": len(found),
        "latency_p50_first_half_s": pct(first, 50),
        "latency_p50_second_half_s": pct(second, 50),
        "other_triggers": len(fired) - len(found),
        "phrases": truth,
    }
