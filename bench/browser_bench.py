"""Trigger-to-ad in a real browser: two headless Chromiums in a call through `callbridge serve`.

Alice's fake microphone loops a sentence with "dinner tonight" every 12 s; Bob's
page watches Alice's <video> with requestVideoFrameCallback and, on every frame
it presents, checks the disclosure label's glyph and box pixels (the same test as
DisclosureLabel.is_on, on a sample of its pixels). The latency is from the
relay's receipt of the packet that ends the phrase (`phrase_end_t`, within a few
tens of ms of the browser capturing it on loopback) to the expected display time
of the first labelled frame on Bob's page. Both clocks are this machine's.

Writes bench/results/relay_browser.json and adds its rows to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from adengine.label import DisclosureLabel
from bench.browser_priority import lower_browsers
from bench.report import machine_info, publish
from callbridge.media.adapt import encoder_trace
from tests.support.browser import media
from tests.support.browser.chromium import CHROMIUM, CHROMIUM_FLAGS, RECORD_PCS_JS
from tests.support.relayserver import start_relay

ROOT = Path(__file__).resolve().parent.parent

RESULTS = ROOT / "bench" / "results" / "relay_browser.json"
LOOP_S = 12.0
TARGETS = {"p50": 0.5, "p95": 0.8}  # mid-call trigger-to-ad on the listener's page, seconds
SIZES = [(640, 480), (480, 360), (320, 240)]  # Chrome may lower its send size under load

# Sent to the page verbatim; its one long line stays as it is (the noqa at the closing quotes).
WATCH_JS = """
(spec) => {
  window.__frames = [];
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const labelled = (video) => {
    const s = spec[video.videoWidth + 'x' + video.videoHeight];
    if (!s) return null;
    canvas.width = s.w; canvas.height = s.h;
    ctx.drawImage(video, s.x, s.y, s.w, s.h, 0, 0, s.w, s.h);
    const px = ctx.getImageData(0, 0, s.w, s.h).data;
    const near = (i, c, tol) => Math.abs(px[i] - c[0]) <= tol && Math.abs(px[i+1] - c[1]) <= tol && Math.abs(px[i+2] - c[2]) <= tol;
    let text = 0, box = 0;
    for (const k of s.text) if (near(4 * k, s.textColour, s.tol)) text++;
    for (const k of s.box) {
      const i = 4 * k; let ok = true;
      for (let c = 0; c < 3; c++) if (px[i+c] < s.lo[c] - s.tol || px[i+c] > s.hi[c] + s.tol) ok = false;
      if (ok) box++;
    }
    return text >= 0.9 * s.text.length && box >= 0.9 * s.box.length;
  };
  const attach = () => {
    const video = document.querySelector('video[data-participant="alice"]');
    if (!video || !video.requestVideoFrameCallback) { setTimeout(attach, 100); return; }
    const tick = (now, meta) => {
      const received = meta.receiveTime ? performance.timeOrigin + meta.receiveTime : null;
      window.__frames.push([performance.timeOrigin + meta.expectedDisplayTime, labelled(video), received]);
      video.requestVideoFrameCallback(tick);
    };
    video.requestVideoFrameCallback(tick);
  };
  attach();
}
"""  # noqa: E501


INBOUND_JS = """
async () => {
  const out = [];
  for (const pc of window.__e2ePcs) {
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') out.push(r);
    });
  }
  return out;
}
"""
INBOUND_KEYS = (
    "packetsReceived",
    "packetsLost",
    "nackCount",
    "pliCount",
    "firCount",
    "framesReceived",
    "framesDecoded",
    "framesDropped",
    "keyFramesDecoded",
    "freezeCount",
    "totalFreezesDuration",
    "jitterBufferDelay",
    "jitterBufferEmittedCount",
    "totalDecodeTime",
)


def label_spec() -> dict:
    """Where the label is, per frame size, and a sample of its glyph and box pixels."""
    label, rng = DisclosureLabel(), np.random.default_rng(0)
    spec = {}
    for w, h in SIZES:
        o = label.overlay(h, w)
        bh, bw = o.alpha.shape[:2]
        pick = lambda mask: sorted(rng.choice(np.flatnonzero(mask), min(400, int(mask.sum())), replace=False).tolist())  # noqa: E731
        lo = np.array(label.box_colour) * label.opacity
        spec[f"{w}x{h}"] = {
            "x": o.x, "y": o.y, "w": bw, "h": bh, "tol": 48,
            "text": pick(o.text_core), "box": pick(o.box_only),
            "textColour": list(label.text_colour), "lo": lo.tolist(), "hi": (lo + 255 * (1 - label.opacity)).tolist(),
        }  # fmt: skip
    return spec


def start_server(data: Path) -> tuple[subprocess.Popen, str]:
    return start_relay(data, log=(data / "serve.log").open("w"), log_path=data / "serve.log", timeout_s=100)


def run(seconds: float, tmp: Path, lead_s: float = 3.0, loop_s: float = LOOP_S, watch_js: str | None = None) -> dict:
    """One call: Alice says the phrase `lead_s` after joining and every `loop_s` after that; Bob's page watches.

    `watch_js` runs on Bob's page as well, and what it leaves in window.__watch comes back as "watch",
    with the relay's encodes (encoder_trace) as "encodes".
    """
    from playwright.sync_api import sync_playwright

    alice_y4m = media.write_y4m(tmp / "alice.y4m", media.face_video("hopper", 5.0))
    bob_y4m = media.write_y4m(tmp / "bob.y4m", media.face_video("astronaut", 5.0))
    alice_wav = media.speech_wav(
        tmp / "alice.wav", "Shall we have dinner tonight? I know a place.", total_s=loop_s, lead_s=lead_s
    )
    bob_wav = media.silence_wav(tmp / "bob.wav", 5.0)
    data = tmp / "data"
    data.mkdir()
    os.environ[encoder_trace.ENV] = str(tmp / "encodes.jsonl")
    try:
        proc, url = start_server(data)
    finally:
        del os.environ[encoder_trace.ENV]
    try:
        with sync_playwright() as pw:
            pages = []
            for name, y4m, wav in (("alice", alice_y4m, alice_wav), ("bob", bob_y4m, bob_wav)):
                flags = [
                    *CHROMIUM_FLAGS,
                    f"--use-file-for-fake-video-capture={y4m}",
                    f"--use-file-for-fake-audio-capture={wav}",
                ]
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=flags)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.add_init_script(RECORD_PCS_JS)  # keeps the peer connection reachable for getStats
                page.goto(f"{url}/room/bench?raw=1")
                page.fill("#name", name)
                page.check("#consent")
                page.click("#join")
                pages.append((browser, page))
            bob = pages[1][1]
            bob.evaluate(WATCH_JS, label_spec())
            if watch_js:
                bob.evaluate(watch_js)
            stop = threading.Event()
            nicer = threading.Thread(target=lower_browsers, args=(stop,), daemon=True)
            nicer.start()
            print(f"browser call through {url} for {seconds:g} s", file=sys.stderr, flush=True)
            time.sleep(seconds)
            stop.set()
            watched = bob.evaluate("() => window.__watch || null")
            frames = bob.evaluate("() => window.__frames")
            events = bob.evaluate("() => window.callbridge.events")
            inbound = [{k: r.get(k) for k in INBOUND_KEYS} for r in bob.evaluate(INBOUND_JS)]
            for browser, _ in pages:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    if keep := os.environ.get("BENCH_KEEP"):  # a folder to keep each call's relay log and encodes in
        kept = Path(keep) / datetime.now(UTC).strftime("%H%M%S")
        kept.mkdir(parents=True, exist_ok=True)
        for name in ("data/serve.log", "encodes.jsonl"):
            if (tmp / name).exists():
                (kept / Path(name).name).write_bytes((tmp / name).read_bytes())
    trace = tmp / "encodes.jsonl"
    encodes = [json.loads(line) for line in trace.read_text().splitlines()] if trace.exists() else []
    result = measure(frames, events, (data / "serve.log").read_text())
    return result | {"inbound": inbound, "watch": watched, "encodes": encodes, "events": events}


_LATENCY_LOG = re.compile(r"said '[^']*' .*; latency ([0-9.]+) s on the audio clock, ([0-9.]+) s wall")


def measure(frames: list, events: list, log: str) -> dict:
    """One call's samples of each part of the path, in seconds."""
    frames = [(t / 1000.0, on, (r or t) / 1000.0) for t, on, r in frames if on is not None]
    onsets = [t for (t, on, _), (_, before, _) in zip(frames[1:], frames[:-1]) if on and not before]
    arrivals = [r for (_, on, r), (_, before, _) in zip(frames[1:], frames[:-1]) if on and not before]
    triggers = [e for e in events if e["type"] == "trigger" and e["participant"] == "alice"]
    starts = [e["t"] for e in events if e["type"] == "ad-start" and e["participant"] == "alice"]
    lat = []
    for trig in triggers:
        after = [o - trig["phrase_end_t"] for o in onsets if 0 < o - trig["phrase_end_t"] < 5.0]
        if after:
            lat.append(after[0])
    # The relay's log splits the speech part: audio fed after the phrase before
    # the trigger (audio clock; it includes audio that came in during decodes),
    # and the rest of the wall time.
    logged = [(float(a), float(w)) for a, w in _LATENCY_LOG.findall(log)]
    return {
        "rows": _rows(triggers, logged, starts, arrivals, onsets, [t for t, _, _ in frames]),
        "frames_presented": [float(len(frames))],
        "triggers": [float(len(triggers))],
        "trigger_to_ad": lat,
        "speech": [t["t"] - t["phrase_end_t"] for t in triggers],
        "speech_audio_clock": [a for a, _ in logged],
        "speech_beyond_audio_clock": [w - a for a, w in logged],
        # the rest of the path: trigger -> first ad frame handed to the encoders -> shown
        "trigger_to_handed": _gaps([t["t"] for t in triggers], starts),
        "handed_to_shown": _gaps(starts, onsets),
        "handed_to_received": _gaps(starts, arrivals),  # the frame's last packet in the page
    }


def _rows(
    triggers: list[dict],
    logged: list[tuple[float, float]],
    starts: list[float],
    arrivals: list[float],
    onsets: list[float],
    shown: list[float],
) -> list[dict]:
    """Each trigger's path, part by part (seconds from the phrase's end), to tell where a slow one lost its time."""
    rows = []
    for k, trig in enumerate(triggers):
        end, fired = trig["phrase_end_t"], trig["t"]
        handed = _first_after(fired, starts)
        row = {"speech": fired - end, "audio_clock": logged[k][0] if k < len(logged) else None}
        if handed is not None:
            onset = _first_after(handed, onsets)
            row |= {
                "handed": handed - end,
                "received": _rel(_first_after(handed, arrivals), end),
                "shown": _rel(onset, end),
            }
            # frames the page showed between the hand-over and the first labelled one:
            # an unreadable label, not a late frame
            row["unlabelled_frames"] = None if onset is None else sum(handed < t < onset for t in shown)
        rows.append({key: None if v is None else round(v, 3) for key, v in row.items()})
    return rows


def _first_after(t: float, later: list[float], within_s: float = 5.0) -> float | None:
    after = [u for u in later if 0 <= u - t < within_s]
    return min(after) if after else None


def _rel(t: float | None, origin: float) -> float | None:
    return None if t is None else t - origin


def summarise(calls: list[dict]) -> dict:
    """Percentiles over the triggers of all calls pooled, and each call's own p50."""
    skip = ("rows", "inbound", "watch", "encodes", "events")
    pooled = {k: [x for c in calls for x in c[k]] for k in calls[0] if k not in skip}
    q = lambda xs, p: round(float(np.percentile(xs, p)), 3) if xs else None  # noqa: E731
    lat = pooled["trigger_to_ad"]
    parts = (
        "speech",
        "speech_audio_clock",
        "speech_beyond_audio_clock",
        "trigger_to_handed",
        "handed_to_shown",
        "handed_to_received",
    )
    return {
        "calls": len(calls),
        "frames_presented": int(sum(pooled["frames_presented"])),
        "triggers": int(sum(pooled["triggers"])),
        "ads_seen": len(lat),
        "trigger_to_ad_s": [round(x, 3) for x in lat],
        "trigger_to_ad_p50_s": q(lat, 50),
        "trigger_to_ad_p95_s": q(lat, 95),
        "trigger_to_ad_p50_by_call_s": [q(c["trigger_to_ad"], 50) for c in calls],
        **{f"{k}_p50_s": q(pooled[k], 50) for k in parts},
        "per_trigger_by_call": [c["rows"] for c in calls],
        "listener_inbound_video_by_call": [c.get("inbound", []) for c in calls],  # Chrome's getStats on Bob's page
        **_freezes([r for c in calls for r in c.get("inbound", [])]),
    }


def _freezes(inbound: list[dict]) -> dict:
    """Chrome's freezes of the listener's view of the speaker (a frame late by 3 frame times or 150 ms), all calls."""
    if not inbound:
        return {"listener_freezes": None, "listener_frozen_s": None}
    return {
        "listener_freezes": sum(r.get("freezeCount") or 0 for r in inbound),
        "listener_frozen_s": round(sum(r.get("totalFreezesDuration") or 0.0 for r in inbound), 1),
    }


def _gaps(earlier: list[float], later: list[float]) -> list[float]:
    """For each time in `earlier`, how long until the first time in `later` after it."""
    return [u - t for t in earlier if (u := _first_after(t, later)) is not None]


def markdown(r: dict) -> str:
    f = lambda v: "n/a" if v is None else f"{v:.2f} s"  # noqa: E731
    ok = lambda v, t: "" if v is None else ("pass" if v <= t else "FAIL")  # noqa: E731
    rows = [
        "| Metric (two headless Chromiums, `bench/browser_bench.py`) | Value | Target | |",
        "|---|---|---|---|",
        "| Trigger-to-ad p50 (phrase end received → first labelled frame displayed on the listener's page) | "
        f"{f(r['trigger_to_ad_p50_s'])} over {r['ads_seen']}/{r['triggers']} triggers in {r['calls']} calls | "
        f"≤ {TARGETS['p50']} s | {ok(r['trigger_to_ad_p50_s'], TARGETS['p50'])} |",
        f"| &nbsp;&nbsp;p50 of each call | {', '.join(f(v) for v in r['trigger_to_ad_p50_by_call_s'])} | | |",
        f"| Trigger-to-ad p95 | {f(r['trigger_to_ad_p95_s'])} | ≤ {TARGETS['p95']} s | "
        f"{ok(r['trigger_to_ad_p95_s'], TARGETS['p95'])} |",
        f"| &nbsp;&nbsp;of which: phrase end received → trigger (speech), p50 | {f(r['speech_p50_s'])} | | |",
        "| &nbsp;&nbsp;&nbsp;&nbsp;of which on the audio clock (audio fed after the phrase) / beyond it, p50 | "
        f"{f(r.get('speech_audio_clock_p50_s'))} / {f(r.get('speech_beyond_audio_clock_p50_s'))} | | |",
        "| &nbsp;&nbsp;trigger → first ad frame handed to the encoders, p50 | "
        f"{f(r.get('trigger_to_handed_p50_s'))} | | |",
        f"| &nbsp;&nbsp;first ad frame handed → displayed, p50 | {f(r.get('handed_to_shown_p50_s'))} | | |",
        "| &nbsp;&nbsp;&nbsp;&nbsp;of which handed → received by the page, p50 | "
        f"{f(r.get('handed_to_received_p50_s'))} | | |",
        f"| Listener's view of the speaker frozen (Chrome's freezeCount / totalFreezesDuration) | {_frozen(r)} | | |",
        "",
        "_Relay and both browsers (their threads and autogroups at nice 19, standing in for machines of their own) "
        f"on one {r['machine']['cpu']} ({r['machine']['cores']} cores), {r['date'][:10]}._",
    ]
    return "\n".join(rows)


def _frozen(r: dict) -> str:
    if r.get("listener_freezes") is None:
        return "n/a"
    return f"{r['listener_freezes']} freezes, {r['listener_frozen_s']:.1f} s in {r['calls']} calls"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=2.5, help="length of the call (default 2.5: at least 10 triggers)")
    ap.add_argument(
        "--calls", type=int, default=3, help="calls in a row, triggers pooled (default 3: this host is noisy)"
    )
    args = ap.parse_args()
    if args.calls < 1 or args.minutes <= 0:
        ap.error("--calls must be at least 1 and --minutes above 0")
    date, calls = datetime.now(UTC).isoformat(), []
    for k in range(args.calls):
        print(f"call {k + 1} of {args.calls}", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory() as tmpdir:
            calls.append(run(args.minutes * 60, Path(tmpdir)))
    result = {"date": date, "machine": machine_info(), **summarise(calls)}
    publish(RESULTS, result, markdown(result), "relay-browser")


if __name__ == "__main__":
    main()
