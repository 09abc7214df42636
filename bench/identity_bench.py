"""Identity bench: whose face is the ad's, stage by stage from the photo to the listener's screen.

The judge is dlib's face recogniser (tests/support/identity.py), which the project never uses to
make a face; a distance below 0.6 reads as the same person. For each stage it reports the median
distance of the ad's face to the speaker (Grace Hopper) and to the actor (the default template's
astronaut), over sampled ad frames:

- offline: `render` from her photo;
- harvest: from a 640x480 moving webcam of her (face ~200 px), the face bank at 5 fps;
- sender: the same, after the webcam went through VP8 at 150/300/800 kb/s (a browser's encode);
- ad encode: the harvested ad through VP8 at 300/500/1500 kb/s (the relay's encode to the listener);
- scripted call: `callbridge serve` with two aiortc clients; the ad frames as the listener decodes them;
- browser call: two headless Chromiums (at nice 10 with their autogroups, standing in for other
  machines); the ad frames as bob's page decodes them (canvas grabs of the <video>).

Writes bench/results/identity.json and its table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import threading
import time
import wave
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from adengine import AdRenderer, AdTemplate, FaceBank, MediapipeFaceTracker
from adengine.facebank import assess_image
from adengine.label import DisclosureLabel
from bench.report import machine_info, publish, run_line
from callbridge.config.services import Services
from tests.support import faces, identity

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "identity.json"
SENTENCE = "Shall we have dinner tonight? I know a nice place."
TARGETS = {"speaker_max": 0.45, "nearer_by": 0.12}  # in a call, at 640x480


def judged(frames: list[np.ndarray], speaker: np.ndarray, actor: np.ndarray) -> dict:
    """Median distances of the faces in `frames` to the speaker and the actor (embeddings)."""
    to_speaker, to_actor = [], []
    for frame in frames:
        try:
            e = identity.embedding(frame)
        except identity.NoFace:
            continue
        to_speaker.append(identity.distance(e, speaker))
        to_actor.append(identity.distance(e, actor))
    if not to_speaker:
        return {"frames": 0}
    return {
        "frames": len(to_speaker),
        "speaker": round(statistics.median(to_speaker), 3),
        "actor": round(statistics.median(to_actor), 3),
    }


def vp8(frames: list[np.ndarray], kbps: int, fps: int = 15) -> list[np.ndarray]:
    """Frames through a realtime VP8 encode at `kbps` (as aiortc and browsers send), decoded again."""
    out = io.BytesIO()
    with av.open(out, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt, stream.bit_rate = 640, 480, "yuv420p", kbps * 1000
        rate = str(kbps * 1000)
        stream.options = {"deadline": "realtime", "cpu-used": "4", "minrate": rate, "maxrate": rate, "bufsize": rate}
        for k, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts, frame.time_base = k, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    out.seek(0)
    with av.open(out) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def offline_stages(template: AdTemplate, speaker: np.ndarray, actor_of: dict[int, np.ndarray]) -> dict:
    sample = sorted(actor_of)

    def ad_of(face) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
        frames = AdRenderer(template).render(face).frames
        return [frames[i] for i in sample]

    def judge(frames: list[np.ndarray]) -> dict:
        """As `judged`, but each frame against the actor's own face in that template frame."""
        to_speaker, to_actor = [], []
        for frame, i in zip(frames, sample, strict=True):
            try:
                e = identity.embedding(frame)
            except identity.NoFace:
                continue
            to_speaker.append(identity.distance(e, speaker))
            to_actor.append(identity.distance(e, actor_of[i]))
        return {
            "frames": len(to_speaker),
            "speaker": round(statistics.median(to_speaker), 3),
            "actor": round(statistics.median(to_actor), 3),
        }

    stages: dict[str, dict] = {"offline, from her photo": judge(ad_of(assess_image(faces.hopper())))}
    webcam = faces.animate(faces.hopper(), 90, spot=faces.HOPPER_FACE, face_width=200)
    tracker = MediapipeFaceTracker()
    try:
        for label, video in [("webcam, harvested", webcam)] + [
            (f"webcam sent at {k} kb/s, harvested", vp8(webcam, k)) for k in (150, 300, 800)
        ]:
            bank = FaceBank("speaker", tracker, consent=True)
            for k in range(0, len(video), 3):  # 5 fps, as the relay samples
                bank.offer(video[k], k / 15)
            best = bank.best()
            assert best is not None, f"{label}: no face harvested"
            frames = ad_of(best)
            stages[label] = {**judge(frames), "crop_to_speaker": round(identity.distance(best.image, speaker), 3)}
            if label == "webcam, harvested":
                full = AdRenderer(template).render(best).frames
                for kbps in (300, 500, 1500):
                    sent = vp8(full, kbps)
                    stages[f"ad sent at {kbps} kb/s"] = judge([sent[i] for i in sample])
    finally:
        tracker.close()
    return stages


def scripted_call(tmp: Path, speaker: np.ndarray, actor: np.ndarray) -> dict:
    from tests.support.relayserver import serving
    from tests.support.rtcclient import in_call, talker_and_listener
    from tests.support.speech import say

    with wave.open(str(say(tmp / "s.wav", SENTENCE, lead_s=2.0, tail_s=9.0))) as w:
        talk = np.repeat(np.frombuffer(w.readframes(w.getnframes()), np.int16), 3)
    decoded: list[np.ndarray] = []

    async def call(url: str) -> None:
        alice, bob = talker_and_listener(url, "identity", talk, frames=60)
        async with in_call(alice, bob):
            label = DisclosureLabel()

            async def watch() -> None:
                async for _, rgb in bob.frames_of("alice", 90):
                    if label.is_on(rgb):
                        decoded.append(rgb)

            watcher = asyncio.ensure_future(watch())
            await bob.wait_event("ad-start", "alice", 60)
            await bob.wait_event("ad-end", "alice", 25)
            watcher.cancel()

    data = tmp / "scripted"
    data.mkdir()
    with serving(data) as url:
        asyncio.run(call(url))
    return judged(decoded[5::10][:10], speaker, actor)


def browser_call(tmp: Path, speaker: np.ndarray, actor: np.ndarray) -> dict:
    from playwright.sync_api import sync_playwright

    from bench.browser_priority import lower_browsers
    from tests.support.browser import media
    from tests.support.browser.chromium import ChromiumParticipant
    from tests.support.relayserver import serving

    y4m = [media.write_y4m(tmp / f"{k}.y4m", media.face_video(k, 3.0)) for k in ("hopper", "astronaut")]
    talk = media.speech_wav(tmp / "alice.wav", SENTENCE, 16.0, 4.0)
    quiet = media.silence_wav(tmp / "bob.wav", 3.0)
    label, grabbed = DisclosureLabel(), []
    data = tmp / "browser"
    data.mkdir()
    stop = threading.Event()
    threading.Thread(target=lower_browsers, args=(stop,), daemon=True).start()
    try:
        with serving(data) as url, sync_playwright() as pw:
            alice = ChromiumParticipant(pw, "alice", y4m[0], talk)
            bob = ChromiumParticipant(pw, "bob", y4m[1], quiet)
            try:
                alice.join(f"{url}/room/identity?raw=1")
                bob.join(f"{url}/room/identity?raw=1")
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not bob.grab("alice").get("adStarted"):
                    time.sleep(0.1)
                for _ in range(14):
                    grab = bob.grab("alice")
                    if grab["frame"] is not None and label.is_on(grab["frame"]):
                        grabbed.append(grab["frame"])
                    time.sleep(0.45)
            finally:
                alice.close()
                bob.close()
    finally:
        stop.set()
    return judged(grabbed, speaker, actor)


def markdown(result: dict) -> str:
    lines = [
        run_line(result, "bench.identity_bench"),
        "",
        "Distance of the ad's face (median over sampled frames) by dlib's recogniser; below 0.6 reads as",
        "the same person. Speaker: Grace Hopper; actor: the default template's astronaut.",
        "",
        "| stage | to the speaker | to the actor | frames judged |",
        "|---|---|---|---|",
    ]
    for name, s in result["stages"].items():
        lines.append(f"| {name} | {s.get('speaker', '-')} | {s.get('actor', '-')} | {s['frames']} |")
    for kind in ("scripted", "browser"):
        for i, s in enumerate(result[kind], 1):
            name = f"{kind} call {i}, as the listener decodes it"
            lines.append(f"| {name} | {s.get('speaker', '-')} | {s.get('actor', '-')} | {s['frames']} |")
    t, b = TARGETS, result["browser_median"]
    lines += [
        "",
        f"Target in a call: at most {t['speaker_max']} from the speaker and at least {t['nearer_by']} nearer the "
        f"speaker than the actor. Browser calls, median: {b['speaker']} from the speaker, {b['actor']} from the actor.",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=3, help="browser calls (default 3); scripted calls: 2")
    args = ap.parse_args()
    speaker, actor = identity.embedding(faces.hopper()), identity.embedding(faces.astronaut())
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        template = Services(tmp / "data").template("default")
        actor_of = {}
        for i in range(10, len(template.frames), max(1, len(template.frames) // 8)):
            try:
                actor_of[i] = identity.embedding(template.frames[i])
            except identity.NoFace:
                continue
        stages = offline_stages(template, speaker, actor_of)
        scripted = [scripted_call(Path(tempfile.mkdtemp(dir=tmp)), speaker, actor) for _ in range(2)]
        browser = [browser_call(Path(tempfile.mkdtemp(dir=tmp)), speaker, actor) for _ in range(args.calls)]
    judged_calls = [b for b in browser if b["frames"]]
    result = {
        "date": datetime.now(UTC).isoformat(),
        "machine": machine_info(),
        "targets": TARGETS,
        "stages": stages,
        "scripted": scripted,
        "browser": browser,
        "browser_median": {
            "speaker": statistics.median(b["speaker"] for b in judged_calls) if judged_calls else None,
            "actor": statistics.median(b["actor"] for b in judged_calls) if judged_calls else None,
        },
    }
    publish(RESULTS, result, markdown(result), "identity")


if __name__ == "__main__":
    main()
