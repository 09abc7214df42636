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

from callbridge.cli.exits import EXIT_BAD_INPUT
from callbridge.config.campaign import active_phrases
from models import ModelError
from triggers import (
    CHUNK_SAMPLES,
    SAMPLE_RATE,
    AudioError,
    Event,
    PhraseError,
    TriggerEngine,
    TriggerEvent,
    WhisperRecognizer,
    chunks,
    load_audio,
)
from triggers.worker import EngineFactory, SpeechWorker

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
        return EXIT_BAD_INPUT

    def make_engine() -> TriggerEngine:
        return TriggerEngine(phrases, recognizer=recognizer)

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
        feeder = _feed_realtime if args.realtime else _feed_fast
        feeder(make_engine, audio, path, out)
    return EXIT_BAD_INPUT if failed else 0


def _record(event: Event, path: str, latency_ms: float | None) -> dict[str, Any]:
    if isinstance(event, TriggerEvent):
        return event.to_dict(file=path, latency_ms=latency_ms)
    return event.to_dict(file=path)


def _feed_fast(make_engine: EngineFactory, audio: np.ndarray, path: str, out: _Output) -> None:
    engine = make_engine()
    for chunk in chunks(audio):
        for event in engine.feed(chunk):
            out.write(_record(event, path, None))
    for event in engine.flush():
        out.write(_record(event, path, None))


def _feed_realtime(make_engine: EngineFactory, audio: np.ndarray, path: str, out: _Output) -> None:
    """Feed 20 ms chunks at wall-clock pace into the relay's own speech worker.

    The worker's receive clock holds the wall time each chunk was fed, so a
    trigger's latency is measured exactly as the relay measures `phrase_end_t`.
    """

    def sink(event: Event, emitted_t: float, phrase_end_t: float | None) -> None:
        latency = None
        if isinstance(event, TriggerEvent) and phrase_end_t is not None:
            latency = round((emitted_t - phrase_end_t) * 1000, 1)
        out.write(_record(event, path, latency))

    worker = SpeechWorker(make_engine, sink, name="speech-listen")
    start = time.perf_counter()
    wall0 = time.time()
    for i, chunk in enumerate(chunks(audio)):
        due = start + (i + 1) * CHUNK_SAMPLES / SAMPLE_RATE  # a chunk exists once its 20 ms have passed
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        worker.push_samples(chunk, wall0 + (time.perf_counter() - start))
    worker.close(timeout=None, drain=True)
    if worker.restarts:
        _status(f"{path}: the trigger engine failed {worker.restarts} time(s) and was restarted; see the log above")


def _status(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
