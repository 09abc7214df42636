"""`callbridge listen`: run the trigger engine over audio or video files."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from callbridge.config.campaign import active_phrases
from models import ModelError
from triggers import (
    CHUNK_SAMPLES,
    SAMPLE_RATE,
    AudioError,
    Event,
    PhraseError,
    TranscriptEvent,
    TriggerEngine,
    TriggerEvent,
    WhisperRecognizer,
    chunks,
    load_audio,
)
from triggers.stream import EngineThread

HELP = """Runs the trigger engine over audio or video files (anything PyAV decodes,
at any sample rate or channel count). Audio is fed in 20 ms chunks, in order, as in
a call: as fast as the engine takes them, or at wall-clock pace with --realtime.
Without --phrase, the active campaign's phrases are used."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("listen", help="hear trigger phrases in audio or video files", description=HELP)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--phrase", action="append", default=[], metavar="TEXT", help="a trigger phrase (repeatable)")
    p.add_argument("--realtime", action="store_true", help="feed audio at wall-clock pace and report wall latency")
    p.add_argument(
        "--model", default="tiny.en", metavar="NAME|PATH", help="bundled model name or a CTranslate2 directory"
    )
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--json", action="store_true", help="JSON lines on stdout")
    p.set_defaults(run=run)


@dataclass
class _Output:
    """Writes events as JSON lines or readable text."""

    as_json: bool
    out: TextIO = field(default_factory=lambda: sys.stdout)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, record: dict[str, Any]) -> None:
        with self.lock:
            if self.as_json:
                self.out.write(json.dumps(record) + "\n")
            else:
                self.out.write(_readable(record) + "\n")
            self.out.flush()


def _readable(r: dict[str, Any]) -> str:
    if r["event"] == "trigger":
        lat = "" if r["latency_ms"] is None else f", wall latency {r['latency_ms']:.0f} ms"
        return (
            f"{r['file']}: TRIGGER {r['phrase']!r} (heard {r['heard']!r}) ends at {r['phrase_end_s']:.2f} s, "
            f"emitted at {r['emitted_at_s']:.2f} s{lat}, confidence {r['confidence']:.2f}"
        )
    if r["event"] == "transcript":
        return f"{r['file']}: [{r['start_s']:7.2f}-{r['end_s']:7.2f}] {r['text']}"
    return f"{r['file']}: error: {r['message']}"


def run(args: argparse.Namespace) -> int:
    try:
        phrases = TriggerEngine.parse_phrases(args.phrase or active_phrases())
        _status(f"loading model {args.model} ({args.device})")
        recognizer = WhisperRecognizer(model=args.model, device=args.device)
    except (ModelError, PhraseError, ValueError) as exc:
        print(f"callbridge listen: {exc}", file=sys.stderr)
        return 2
    out = _Output(args.json)
    failed = False
    for path in args.files:
        try:
            audio = load_audio(path)
        except AudioError as exc:
            failed = True
            print(f"callbridge listen: {exc}", file=sys.stderr)
            out.write({"event": "error", "file": path, "message": str(exc)})
            continue
        _status(f"{path}: {len(audio) / SAMPLE_RATE:.1f} s of audio")
        engine = TriggerEngine(phrases, recognizer=recognizer)
        feeder = _feed_realtime if args.realtime else _feed_fast
        feeder(engine, audio, path, out)
    return 2 if failed else 0


def _record(event: Event, path: str, latency_ms: float | None) -> dict[str, Any]:
    if isinstance(event, TriggerEvent):
        return {
            "event": "trigger",
            "file": path,
            "phrase": event.phrase,
            "heard": event.heard,
            "phrase_end_s": event.phrase_end_s,
            "emitted_at_s": event.emitted_at_s,
            "latency_ms": latency_ms,
            "confidence": event.confidence,
        }
    assert isinstance(event, TranscriptEvent)
    return {
        "event": "transcript",
        "file": path,
        "text": event.text,
        "start_s": event.start_s,
        "end_s": event.end_s,
        "final": event.final,
    }


def _feed_fast(engine: TriggerEngine, audio: np.ndarray, path: str, out: _Output) -> None:
    for chunk in chunks(audio):
        for event in engine.feed(chunk):
            out.write(_record(event, path, None))
    for event in engine.flush():
        out.write(_record(event, path, None))


def _feed_realtime(engine: TriggerEngine, audio: np.ndarray, path: str, out: _Output) -> None:
    fed_at: list[float] = []  # wall time each chunk was handed to the engine

    def sink(event: Event, now: float) -> None:
        latency = None
        if isinstance(event, TriggerEvent):
            index = min(int(event.phrase_end_s * SAMPLE_RATE) // CHUNK_SAMPLES, len(fed_at) - 1)
            latency = round((now - fed_at[index]) * 1000, 1)
        out.write(_record(event, path, latency))

    runner = EngineThread(engine, sink)
    start = time.perf_counter()
    wall0 = time.time()
    for i, chunk in enumerate(chunks(audio)):
        due = start + (i + 1) * CHUNK_SAMPLES / SAMPLE_RATE  # a chunk exists once its 20 ms have passed
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        fed_at.append(wall0 + (time.perf_counter() - start))
        runner.push(chunk)
    runner.close()


def _status(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
