"""Synthesised speech corpus for the trigger-engine benchmark.

Everything is generated at bench time with espeak-ng (nothing but this code is
committed) and cached in the output directory: when ``manifest.json`` exists and
its config hash matches (the hash covers the sources of the corpus modules listed
in ``CORPUS_SOURCES``, the seed and the espeak-ng version), the stored manifest is
returned as is.

Kinds of item:

* ``positive``     a trigger phrase said inside a natural sentence. The ground
                   truth ``phrase_end_s`` is exact: piece A (lead-in + phrase) is
                   synthesised on its own and its trailing silence trimmed by
                   energy, so the phrase ends where A's audio ends.
* ``near_miss``    one sound or one word of a phrase changed ("winner tonight",
                   "running shorts", "weekend get-together"); never a true mention.
* ``unrelated``    ordinary sentences, some holding one phrase word alone.
* ``conversation`` 60-75 s of everyday talk with no trigger, voices varying per
                   sentence.

About half of every kind is mixed with coloured noise (pink or brown, sometimes
with mains hum) at 10-20 dB SNR, measured against the speech RMS over voiced
frames. Output: 16 kHz mono 16-bit WAV files plus ``manifest.json``.

The pieces: ``corpus_text.py`` / ``corpus_conversation.py`` (text pools),
``corpus_plan.py`` (seeded planning), ``synth.py`` (espeak-ng, sox, noise, SNR);
this module renders the plans, caches and writes the manifest.

Usage: ``python -m bench.corpus OUT_DIR [--seed N]`` (from the repository root)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus_plan import plan_corpus
from bench.corpus_text import PHRASES
from bench.synth import (
    DEFAULT_WPM,
    SAMPLE_RATE,
    engine_versions,
    espeak_version,
    finish,
    silence,
    synth,
    trim,
    voiced_rms,
    write_wav,
)

HERE = Path(__file__).resolve().parent

# every module whose source shapes the corpus; editing any of them rebuilds it
CORPUS_SOURCES = ("corpus.py", "corpus_plan.py", "corpus_text.py", "corpus_conversation.py", "heldout.py", "synth.py")


def config_hash(seed: int, planner: str, engines: dict[str, str]) -> str:
    src = hashlib.sha256()
    for name in CORPUS_SOURCES:
        src.update(name.encode() + b"\0" + (HERE / name).read_bytes() + b"\0")
    blob = json.dumps({"seed": seed, "planner": planner, "source": src.hexdigest(), "engines": engines})
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- rendering

_KIND_DIR = {"positive": "positive", "near_miss": "near_miss", "unrelated": "unrelated", "conversation": "conversation"}


def render(plan: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    rel = Path(_KIND_DIR[plan["kind"]]) / f"{plan['id']}.wav"
    noise = plan["noise"]
    item: dict[str, Any] = {
        "id": plan["id"],
        "path": rel.as_posix(),
        "kind": plan["kind"],
        "phrase": plan["phrase"],
        "near_miss_of": plan["near_miss_of"],
    }
    if plan["kind"] == "conversation":
        parts = [silence(plan["lead_pad_s"])]
        segments = []
        t = plan["lead_pad_s"]
        for k, s in enumerate(plan["sentences"]):
            audio = trim(synth(s["text"], s["voice"], s["speed"], s["pitch"]))
            audio = audio / (voiced_rms(audio) + 1e-12) * 0.1 * 10 ** (s["level_db"] / 20)
            segments.append(
                {
                    "text": s["text"],
                    "voice": s["voice"],
                    "speed": s["speed"],
                    "pitch": s["pitch"],
                    "start_s": round(t, 3),
                    "end_s": round(t + len(audio) / SAMPLE_RATE, 3),
                }
            )
            parts.append(audio)
            t += len(audio) / SAMPLE_RATE
            if t + plan["tail_pad_s"] >= plan["target_s"] or k + 1 == len(plan["sentences"]):
                break
            parts.append(silence(s["pause_s"]))
            t += s["pause_s"]
        parts.append(silence(plan["tail_pad_s"]))
        speech = np.concatenate(parts)
        full = finish(speech, speech, plan)
        item.update(
            text=" ".join(s["text"] for s in segments),
            voice="mixed",
            voices=sorted({s["voice"] for s in segments}),
            speed=None,
            segments=segments,
        )
        phrase_end = None
    else:
        a = trim(synth(plan["piece_a"], plan["voice"], plan["speed"], plan["pitch"]))
        parts = [silence(plan["lead_pad_s"]), a]
        phrase_end = plan["lead_pad_s"] + len(a) / SAMPLE_RATE
        if plan["piece_b"]:
            b = trim(synth(plan["piece_b"], plan["voice"], plan["speed"], plan["pitch"]))
            parts += [silence(plan["gap_s"]), b]
        parts.append(silence(plan["tail_pad_s"]))
        speech = np.concatenate(parts)
        full = finish(speech, speech, plan)
        item.update(
            text=plan["piece_a"] + (" " + plan["piece_b"] if plan["piece_b"] else ""),
            voice=plan["voice"],
            pitch=plan["pitch"],
            speed=round(plan["speed"] / DEFAULT_WPM, 3),
            speed_wpm=plan["speed"],
        )
    write_wav(out_dir / rel, full)
    item.update(
        snr_db=noise["snr_db"] if noise else None,
        noise=({k: noise[k] for k in ("colour", "hum_hz")} if noise else None),
        duration_s=round(len(full) / SAMPLE_RATE, 3),
        phrase_end_s=round(phrase_end, 3) if plan["kind"] == "positive" else None,
    )
    return item


def _load_cached(out_dir: Path, digest: str) -> list[dict[str, Any]] | None:
    manifest = out_dir / "manifest.json"
    if not manifest.exists():
        return None
    try:
        data = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if data.get("config_hash") != digest:
        return None
    items = data.get("items", [])
    if not items or not all((out_dir / it["path"]).exists() for it in items):
        return None
    return items


def build_corpus(
    out_dir: Path,
    seed: int = 0,
    workers: int | None = None,
    planner: Callable[[int], list[dict[str, Any]]] = plan_corpus,
) -> list[dict[str, Any]]:
    """Build (or load from cache) the corpus in out_dir; return the manifest items.

    `planner` makes the plans: the main corpus, or the held-out one (heldout.py).
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    out_dir = Path(out_dir)
    plans = planner(seed)
    engines = {
        "espeak-ng": espeak_version(),
        **engine_versions(sorted({p.get("voice", "").rpartition(":")[0] for p in plans} - {""})),
    }
    digest = config_hash(seed, planner.__name__, engines)
    if (cached := _load_cached(out_dir, digest)) is not None:
        return cached
    if shutil.which("sox") is None:
        raise RuntimeError("sox is needed to build the bench corpus (apt-get install sox)")

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").unlink(missing_ok=True)
    for d in _KIND_DIR.values():
        shutil.rmtree(out_dir / d, ignore_errors=True)

    workers = workers or min(6, 2 * (os.cpu_count() or 1))
    # longest jobs (conversations) first so the pool drains evenly
    order = sorted(range(len(plans)), key=lambda i: plans[i]["kind"] != "conversation")
    items: list[dict[str, Any] | None] = [None] * len(plans)
    started = time.perf_counter()
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]corpus[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("", total=len(plans))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(render, plans[i], out_dir): i for i in order}
            for fut in as_completed(futures):
                i = futures[fut]
                items[i] = fut.result()
                progress.update(task, advance=1, description=plans[i]["id"])
    manifest = {
        "config_hash": digest,
        "seed": seed,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.perf_counter() - started, 1),
        "engines": engines,
        "sample_rate": SAMPLE_RATE,
        "phrases": list(PHRASES),
        "items": items,
    }
    tmp = out_dir / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, out_dir / "manifest.json")
    return items  # type: ignore[return-value]


def summarise(items: list[dict[str, Any]]) -> dict[str, Any]:
    by_kind: dict[str, dict[str, Any]] = {}
    for it in items:
        k = by_kind.setdefault(it["kind"], {"count": 0, "seconds": 0.0, "noisy": 0})
        k["count"] += 1
        k["seconds"] = round(k["seconds"] + it["duration_s"], 2)
        k["noisy"] += it["snr_db"] is not None
    voices = sorted({v for it in items for v in (it.get("voices") or [it["voice"]])})
    return {"by_kind": by_kind, "voices": voices, "base_voices": sorted({v.split("+")[0] for v in voices})}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    items = build_corpus(args.out_dir, args.seed)
    summary = summarise(items)
    for kind, s in summary["by_kind"].items():
        print(f"{kind:13s} {s['count']:4d} items  {s['seconds'] / 60:6.2f} min  {s['noisy']} noisy")
    print(f"{len(summary['voices'])} voices ({len(summary['base_voices'])} base): {', '.join(summary['voices'])}")
    print(f"done in {time.perf_counter() - started:.1f} s -> {args.out_dir / 'manifest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
