"""Capacity and soak benchmark: scripted two-person rooms through `callbridge serve` on loopback.

Each room is a process of its own (bench/load_client.py) that stands in for
the participants' machines: it runs at nice 19 in an autogroup at nice 19, so
that it takes only the CPU the relay (at normal priority) leaves. In each room
Alice says a sentence with "dinner tonight" every 12 s (rooms staggered) and
Bob is silent; both send 640x480 15-fps face video stamped with its send time.

Ramp (the default): 1, 2, 3 ... rooms, one more at each step; each step is held
for --step-minutes after --warmup-s. A step holds when every listener receives
the other at 14 fps or more, trigger-to-ad p95 (the phrase's end in the audio
fed -> the first labelled ad frame the listener decodes) is 1.2 s or less, and
every phrase said brings its ad. The ramp stops at the first step that does not
hold; a join the relay refuses ("this server is full") fails the step too.
Reported: rooms_sustained, relay CPU and memory per participant, and what broke
first.

Soak (--minutes M): --rooms rooms for M minutes after the warm-up, the relay
sampled every --sample-s seconds (RSS, PSS, threads, open fds, CPU, and its
/api/load when it has one); the first and last 5 minutes compared, RSS's slope,
and, once everyone has left, whether a speech worker or thread was left behind.

Writes bench/results/load.json (a ramp keeps an earlier soak's results, and a
soak the ramp's) and the Capacity and Soak tables in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from bench import load_parts as lp
from bench.load_probe import api_load, relay_sample
from bench.load_report import capacity_markdown, soak_markdown
from bench.relay_bench import SLOT_S, speech_track
from bench.report import machine_info, publish
from callbridge.config.admin_token import ENV as ADMIN_TOKEN_ENV
from tests.support.relayserver import start_relay
from tests.support.rtcclient import AUDIO_RATE

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "load.json"
ARRIVAL_GAP_S = 15.0  # soak: between one room's joins and the next's (the guard counts the last 10 s' newcomers)
SETTLE_S = 10.0  # after everyone left, before looking for what was left behind


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (exit 2) instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Bench:
    """The relay, the room processes and the speech track of one run."""

    def __init__(self, tmp: Path, rooms_max: int, log: Path | None, full_at_cpu: float | None = None) -> None:
        self.tmp = tmp
        audio, ends = speech_track(3, tmp)  # looped: three sentences, one per 12-s slot
        self.speech_file = tmp / "speech.npy"
        np.save(self.speech_file, audio)
        self.ends, self.loop_s, self.rooms_max = tuple(ends), len(audio) / AUDIO_RATE, rooms_max
        self.token = secrets.token_urlsafe(24)
        os.environ[ADMIN_TOKEN_ENV] = self.token  # the relay's admin token, for /api/load
        data = tmp / "data"
        data.mkdir()
        log_path = log or data / "serve.log"
        self.relay, self.url = start_relay(
            data,
            *("--max-sockets", "64", "--max-rooms", str(max(20, rooms_max))),  # the rooms stand for many addresses
            *(() if full_at_cpu is None else ("--full-at-cpu", str(full_at_cpu))),
            log=log_path.open("a"),
            log_path=log_path,
            timeout_s=100,
        )
        os.nice(5)  # the relay keeps normal priority; this process's own sampling and arithmetic yield to it
        self.clients: dict[str, subprocess.Popen] = {}
        self.shifts: dict[str, float] = {}

    def sample(self, names: bool = False) -> dict[str, Any]:
        """The relay now, and its /api/load (asked after the fds are counted: the request is one)."""
        sample = relay_sample(self.relay.pid, [p.pid for p in self.clients.values()], names)
        return sample | {"api": api_load(self.url, self.token)}

    def add_room(self, k: int) -> str:
        room = f"load{k}"
        shift = (k - 1) * SLOT_S / self.rooms_max % SLOT_S
        argv = [sys.executable, "-m", "bench.load_client", self.url, room, str(self.speech_file)]
        argv += [str(self.tmp / f"{room}.jsonl"), "--shift-s", f"{shift:.2f}"]
        argv += ["--swap-faces"] if k % 2 == 0 else []  # a different face speaks in every other room
        out = (self.tmp / f"{room}.out").open("w")
        # a session of its own: its own autogroup, which the room process lowers
        self.clients[room] = subprocess.Popen(
            argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.shifts[room] = shift
        return room

    def logs(self) -> dict[str, lp.RoomLog]:
        out = {}
        for room in self.clients:
            path = self.tmp / f"{room}.jsonl"
            out[room] = lp.parse_log(path.read_text().splitlines() if path.exists() else [], room)
        return out

    def wait_joined(self, rooms: list[str], timeout_s: float = 120.0) -> None:
        """Until each room's two have joined or been refused (a room process that died is reported)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            logs = self.logs()
            if all(len(logs[r].joined) + len(logs[r].refused) >= 2 for r in rooms):
                return
            for room in rooms:
                if self.clients[room].poll() is not None:
                    tail = (self.tmp / f"{room}.out").read_text()[-2000:]
                    raise SystemExit(f"room {room}'s process ended (exit {self.clients[room].returncode}):\n{tail}")
            time.sleep(1.0)
        say(f"warning: not every join was answered within {timeout_s:.0f} s")

    def windows(self, t0: float, t1: float, logs: dict[str, lp.RoomLog] | None = None) -> list[dict[str, Any]]:
        """Each room over [t0, t1], from `logs` (default: read now)."""
        speech = {r: lp.Speech(self.ends, self.loop_s, s) for r, s in self.shifts.items()}
        return [lp.room_window(log, speech[r], t0, t1) for r, log in (logs or self.logs()).items()]

    def hold(self, seconds: float, every_s: float) -> list[dict[str, Any]]:
        """Samples of the relay every `every_s` over `seconds`, the first at once."""
        samples, end = [self.sample()], time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(every_s, left))
            samples.append(self.sample())
        return samples

    def leave_all(self, idle: dict[str, Any]) -> dict[str, Any]:
        """Everyone leaves; after SETTLE_S, what the relay still holds against its idle state before the call."""
        for proc in self.clients.values():
            proc.send_signal(signal.SIGTERM)
        for room, proc in self.clients.items():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                say(f"room {room}'s process did not leave in 30 s; killed")
                proc.kill()
                proc.wait()
        time.sleep(SETTLE_S)
        after = self.sample(names=True)
        api = after.get("api") or {}
        return {
            "settle_s": SETTLE_S,
            "idle_threads": idle["threads"],
            "idle_fds": idle["fds"],
            "idle_rss_mb": idle["rss_mb"],
            "threads": after["threads"],
            "fds": after["fds"],
            "rss_mb": after["rss_mb"],
            "speech_threads": after["speech_threads"],
            "face_threads": after["face_threads"],
            "thread_names": after["thread_names"],
            "speech_workers": api.get("speech_workers"),
            "face_workers": api.get("face_workers"),
            "speech_workers_in_memory": api.get("speech_workers_in_memory"),  # not yet freed, if the relay says
            "face_workers_in_memory": api.get("face_workers_in_memory"),
            "api": after.get("api"),
        }

    def close(self) -> None:
        for proc in self.clients.values():
            if proc.poll() is None:
                proc.kill()
        self.relay.terminate()
        try:
            self.relay.wait(15)
        except subprocess.TimeoutExpired:
            self.relay.kill()


def _idle(bench: Bench) -> dict[str, Any]:
    time.sleep(3.0)
    return bench.sample(names=True)


def ramp(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    idle, steps = _idle(bench), []
    for m in range(1, args.max_rooms + 1):
        bench.wait_joined([bench.add_room(m)])
        time.sleep(args.warmup_s)
        samples = bench.hold(args.step_minutes * 60, every_s=5.0)
        t0, t1 = samples[0]["t"], samples[-1]["t"]
        windows = bench.windows(t0, t1)
        a, b = samples[0], samples[-1]
        step: dict[str, Any] = {
            "rooms": m,
            "participants": 2 * m,
            "seconds": round(t1 - t0, 1),
            **lp.pool(windows),
            "relay_cpu_cores": round((b["cpu_s"] - a["cpu_s"]) / (t1 - t0), 3),
            "relay_rss_mb": float(np.median([s["rss_mb"] for s in samples])),
            "relay_pss_mb": float(np.median([s["pss_mb"] for s in samples])),
            "relay_threads": max(s["threads"] for s in samples),
            "relay_fds": max(s["fds"] for s in samples),
            "clients_cpu_cores": round((b["clients_cpu_s"] - a["clients_cpu_s"]) / (t1 - t0), 3),
            "load_api": lp.api_summary(samples),
            "by_room": [{k: v for k, v in w.items() if k != "frame_latency"} for w in windows],
        }
        step["failures"] = lp.failures(step)
        steps.append(step)
        say(_progress(step))
        if step["failures"]:
            break
    after = bench.leave_all(idle)
    return {
        "rooms_sustained": lp.rooms_sustained(steps),
        "per_participant": lp.per_participant(steps, idle["rss_mb"]),
        "breaks_first": lp.breaks_first(steps),
        "max_rooms_tried": args.max_rooms,
        "step_minutes": args.step_minutes,
        "warmup_s": args.warmup_s,
        "full_at_cpu": args.full_at_cpu,  # the relay's threshold; null: its default
        "idle": {k: idle[k] for k in ("rss_mb", "pss_mb", "threads", "fds")} | {"api": idle["api"]},
        "steps": steps,
        "after_leave": after,
    }


def _progress(step: dict[str, Any]) -> str:
    f = lambda v, fmt=".2f": "n/a" if v is None else format(v, fmt)  # noqa: E731
    return (
        f"{step['rooms']} room(s): listener fps min {f(step['listener_fps_min'], '.1f')}, "
        f"trigger-to-ad p50 {f(step['trigger_to_ad_p50_s'])} / p95 {f(step['trigger_to_ad_p95_s'])} s, "
        f"{step['ads_seen']}/{step['phrases']} ads, relay {step['relay_cpu_cores']:.2f} cores "
        f"{step['relay_rss_mb']:.0f} MB, clients {step['clients_cpu_cores']:.2f} cores: "
        + ("held" if not step["failures"] else "FAILED: " + "; ".join(step["failures"]))
    )


def soak(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    idle = _idle(bench)
    for k in range(1, args.rooms + 1):  # rooms fill one after another, as visitors arrive
        bench.wait_joined([bench.add_room(k)])
        time.sleep(ARRIVAL_GAP_S)
    refused = {f"{room} {who}": msg for room, log in bench.logs().items() for who, msg in log.refused.items()}
    time.sleep(args.warmup_s)
    seconds = args.minutes * 60
    every = min(args.sample_s, seconds / 6)
    say(f"soak: {args.rooms} room(s) for {args.minutes:g} min, a sample every {every:.0f} s")
    samples = bench.hold(seconds, every_s=every)
    t0, t1 = samples[0]["t"], samples[-1]["t"]
    span = min(300.0, (t1 - t0) / 3)
    logs = bench.logs()
    first = lp.soak_window([s for s in samples if s["t"] <= t0 + span], bench.windows(t0, t0 + span, logs))
    last = lp.soak_window([s for s in samples if s["t"] >= t1 - span], bench.windows(t1 - span, t1, logs))
    series = []
    for a, b in zip(samples[:-1], samples[1:]):
        pooled = lp.pool(bench.windows(a["t"], b["t"], logs))
        keep = ("rss_mb", "pss_mb", "threads", "fds")
        series.append(
            {"t_s": round(b["t"] - t0, 1), **{k: b[k] for k in keep}}
            | {"relay_cpu_cores": round((b["cpu_s"] - a["cpu_s"]) / (b["t"] - a["t"]), 3), "api": _short(b["api"])}
            | {k: pooled[k] for k in ("frame_latency_p50_s", "trigger_to_ad_p50_s", "listener_fps_min")}
        )
    after = bench.leave_all(idle)
    slope = lp.rss_slope_mb_per_h([s for s in samples if s["t"] >= t0 + span])
    verdict = lp.soak_verdict(first, last, after, slope, refused)
    say(f"soak: {'flat' if not verdict else 'NOT flat: ' + '; '.join(verdict)}")
    return {
        "date": datetime.now(UTC).isoformat(),
        "machine": machine_info(),
        "rooms": args.rooms,
        "minutes": args.minutes,
        "window_minutes": round(span / 60, 2),
        "first": first,
        "last": last,
        "rss_slope_mb_per_h": slope,
        "after_leave": after,
        "refused": refused,
        "arrival_gap_s": ARRIVAL_GAP_S,
        "full_at_cpu": args.full_at_cpu,  # the relay's threshold; null: its default
        "flat": not verdict,
        "failures": verdict,
        "tolerances": {
            "rss_mb": f"+{lp.RSS_TOL_MB:g} MB or +{lp.RSS_TOL_FRAC:.0%}, whichever is more",
            "rss_slope_mb_per_h": f"{lp.RSS_SLOPE_TOL_MB_H:g}",
            "threads": f"+{lp.THREAD_TOL}",
            "fds": f"+{lp.FD_TOL}",
            "frame_latency_p50_s": f"+{lp.FRAME_LATENCY_TOL_S:g}",
            "trigger_to_ad_p50_s": f"+{lp.TRIGGER_TOL_S:g}",
        },
        "series": series,
    }


def _short(api: dict[str, Any] | None) -> dict[str, Any] | None:
    """/api/load's answer without what does not change (its thresholds)."""
    return None if api is None else {k: v for k, v in api.items() if k != "thresholds"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = Parser(prog="bench.load", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-rooms", type=int, default=4, metavar="N", help="ramp: most rooms to try (default 4)")
    ap.add_argument(
        "--step-minutes", type=float, default=2.0, metavar="M", help="ramp: each step's measured length (default 2)"
    )
    ap.add_argument(
        "--warmup-s", type=float, default=20.0, metavar="S", help="after the joins, before measuring (default 20)"
    )
    ap.add_argument("--minutes", type=float, metavar="M", help="run a soak of M minutes instead of the ramp")
    ap.add_argument("--rooms", type=int, default=2, metavar="N", help="soak: rooms held (default 2)")
    ap.add_argument("--sample-s", type=float, default=30.0, metavar="S", help="soak: seconds between samples (30)")
    ap.add_argument(
        "--out",
        type=Path,
        default=RESULTS,
        metavar="FILE",
        help="results file (default bench/results/load.json); any other leaves docs/benchmarks.md alone",
    )
    ap.add_argument("--log", type=Path, metavar="FILE", help="keep the relay's log in FILE")
    ap.add_argument(
        "--full-at-cpu",
        type=float,
        metavar="SHARE",
        help="the relay's --full-at-cpu (default: its own); a soak past the guard on a slower machine",
    )
    args = ap.parse_args(argv)
    if args.max_rooms < 1 or args.rooms < 1:
        ap.error("--max-rooms and --rooms must be at least 1")
    if args.step_minutes <= 0 or args.warmup_s < 0 or args.sample_s <= 0:
        ap.error("--step-minutes and --sample-s must be above 0, --warmup-s 0 or more")
    if args.minutes is not None and args.minutes <= 0:
        ap.error("--minutes must be above 0")
    if args.full_at_cpu is not None and not 0 < args.full_at_cpu <= 1:
        ap.error("--full-at-cpu must be above 0 and at most 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    date = datetime.now(UTC).isoformat()
    with tempfile.TemporaryDirectory() as tmpdir:
        bench = Bench(Path(tmpdir), args.rooms if args.minutes else args.max_rooms, args.log, args.full_at_cpu)
        say(f"relay at {bench.url}")
        try:
            if args.minutes:
                new = {"soak": soak(bench, args)}
            else:
                new = {"date": date, "machine": machine_info(), **ramp(bench, args)}
        finally:
            bench.close()
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    result = lp.merge(old, new)
    section, table = ("soak", soak_markdown(result["soak"])) if args.minutes else ("load", capacity_markdown(result))
    if args.out.resolve() == RESULTS.resolve():
        publish(args.out, result, table, section)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
        print(table)


if __name__ == "__main__":
    main()
