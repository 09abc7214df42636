"""End to end in real browsers: two people in a room, one says "dinner tonight", the other sees the ad.

The relay (`python -m callbridge serve`) and two Chromiums run in a loopback-only
network namespace, so ICE has only 127.0.0.1 and nothing leaves the machine.
When pytest runs outside such a namespace, this test re-runs itself inside one
(`unshare -n`, which needs root) and passes or fails with that run.

Alice's fake camera is Grace Hopper and her microphone says "Shall we have dinner
tonight? I know a place." then stays quiet, on a 16 s loop; Bob's camera is Eileen Collins and his
microphone is silent. Bob's page must show the ad in Alice's own tile, with the
disclosure label on every ad frame, and live video (no label) before and after.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
import pytest

from tests.e2e import media
from tests.e2e.netns import in_loopback_namespace, interfaces, run_in_loopback_namespace

ROOT = Path(__file__).resolve().parents[2]
TEST_ID = "tests/e2e/test_call.py::test_two_participants_see_the_ad"
INNER_ENV = "CALLBRIDGE_E2E_INNER"
ROOM = "e2e"
PHRASE = "dinner tonight"
CHROMIUM = "/usr/bin/chromium"

# Bounds for each step, in seconds. Besides these, every wait ends by INNER_BUDGET_S after the
# inner run started, so the whole test takes at most about 2 minutes, failing or not.
INNER_BUDGET_S = 110.0
OUTER_TIMEOUT_S = 150.0
HEALTHZ_TIMEOUT_S = 60.0
JOIN_TIMEOUT_S = 20.0
VIDEO_TIMEOUT_S = 20.0
# Alice's microphone: SPEECH_LEAD_S of silence, the sentence (about 3 s), silence to SPEECH_LOOP_S, looped.
# The lead gives the relay time to harvest her face and pre-render her ad before the first phrase
# (else it shows the plain template); the loop is long enough that a 7 s ad ends well before the
# phrase comes round again.
SPEECH_LEAD_S = 6.0
SPEECH_LOOP_S = 16.0
TRANSCRIPT_TIMEOUT_S = 25.0
TRIGGER_TIMEOUT_S = 36.0  # two loops of the speech plus ASR: a phrase cut by the call's start is not heard
AD_START_TIMEOUT_S = 20.0
AD_END_TIMEOUT_S = 25.0  # an ad lasts at most 20 s
LABEL_SEEN_TIMEOUT_S = 3.0
SETTLE_AFTER_AD_END_S = 0.7  # frames already in flight when ad-end arrives

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]

# Draws <video data-participant=NAME> at its intrinsic size and reports what the
# contract promises about it. `mark` (when given) is stored on the element and its
# srcObject, so a later call can tell whether they are still the same objects.
GRAB_JS = """
([name, mark]) => {
  const events = (window.callbridge && window.callbridge.events) || [];
  const adStarted = events.some(e => e.type === 'ad-start' && e.participant === name);
  const adEnded = events.some(e => e.type === 'ad-end' && e.participant === name);
  const all = document.querySelectorAll('video[data-participant="' + CSS.escape(name) + '"]');
  const el = all[0];
  if (!el) return {found: false, count: 0, adStarted, adEnded};
  const stream = el.srcObject;
  const tracks = stream && stream.getVideoTracks ? stream.getVideoTracks() : [];
  const track = tracks[0];
  if (mark) {
    if (el.__e2eMark === undefined) el.__e2eMark = mark;
    if (stream && stream.__e2eMark === undefined) stream.__e2eMark = mark;
  }
  const r = el.getBoundingClientRect();
  const out = {
    found: true, count: all.length, adStarted, adEnded,
    elMark: el.__e2eMark === undefined ? null : el.__e2eMark,
    streamMark: stream && stream.__e2eMark !== undefined ? stream.__e2eMark : null,
    hasStream: !!stream,
    trackId: track ? track.id : null, trackState: track ? track.readyState : null,
    videoTracks: tracks.length,
    rect: {w: r.width, h: r.height},
    videoWidth: el.videoWidth, videoHeight: el.videoHeight,
    readyState: el.readyState, paused: el.paused, currentTime: el.currentTime,
    decoded: el.getVideoPlaybackQuality ? el.getVideoPlaybackQuality().totalVideoFrames : null,
    png: null,
  };
  if (el.videoWidth > 0 && el.videoHeight > 0 && el.readyState >= 2) {
    const c = document.createElement('canvas');
    c.width = el.videoWidth; c.height = el.videoHeight;
    c.getContext('2d').drawImage(el, 0, 0, c.width, c.height);
    out.png = c.toDataURL('image/png');
  }
  return out;
}
"""

# Keeps every RTCPeerConnection the page makes, so a failure can print its RTP stats.
RECORD_PCS_JS = """
(() => {
  const Original = window.RTCPeerConnection;
  if (!Original || Original.__e2e) return;
  window.__e2ePcs = [];
  const Wrapped = function (...args) { const pc = new Original(...args); window.__e2ePcs.push(pc); return pc; };
  Wrapped.prototype = Original.prototype;
  Wrapped.__e2e = true;
  Object.setPrototypeOf(Wrapped, Original);
  window.RTCPeerConnection = Wrapped;
})();
"""

RTP_STATS_JS = """
async () => {
  const keys = ['kind', 'mid', 'packetsReceived', 'packetsLost', 'framesReceived', 'framesDecoded', 'keyFramesDecoded',
                'framesDropped', 'pliCount', 'nackCount', 'frameWidth', 'frameHeight', 'framesEncoded', 'framesSent',
                'bytesReceived', 'bytesSent'];
  const out = [];
  for (const pc of window.__e2ePcs || []) {
    const row = {connectionState: pc.connectionState, iceConnectionState: pc.iceConnectionState, signalingState: pc.signalingState, rtp: []};
    try {
      (await pc.getStats()).forEach(v => {
        if (v.type !== 'inbound-rtp' && v.type !== 'outbound-rtp') return;
        const r = {type: v.type};
        for (const k of keys) if (v[k] !== undefined) r[k] = v[k];
        row.rtp.push(r);
      });
    } catch (e) { row.error = String(e); }
    out.push(row);
  }
  return out;
}
"""

EVENTS_JS = "() => ((window.callbridge && window.callbridge.events) || []).map(e => Object.assign({}, e))"


class Failure(AssertionError):
    pass


_deadline: float | None = None  # monotonic time by which the inner run must be over


def _decode_png(data_url: str) -> np.ndarray:
    """A canvas data: URL -> RGB uint8 HxWx3."""
    raw = base64.b64decode(data_url.split(",", 1)[1])
    bgr = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    assert bgr is not None, "could not decode the canvas PNG"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    return "\n".join(text.splitlines()[-lines:])


def _wait(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.2, deadline: float | None = None) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` s."""
    start = time.monotonic()
    end = time.monotonic() + timeout
    for limit in (deadline, _deadline):
        if limit is not None and limit < end:
            end = limit
            what += f" (and the test's {INNER_BUDGET_S:.0f} s budget is spent)"
    last_error: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except Failure:
            raise
        except Exception as e:  # a page mid-navigation, a server not yet listening...
            last_error = e
        if time.monotonic() >= end:
            extra = f" (last error: {last_error!r})" if last_error else ""
            raise Failure(f"timed out after {min(timeout, end - start):.0f} s: {what}{extra}")
        time.sleep(interval)


class Participant:
    """One Chromium with its own fake camera and microphone, and its room page."""

    def __init__(self, playwright, name: str, y4m: Path, wav: Path) -> None:
        self.name = name
        self.console: list[str] = []
        self.browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={y4m}", f"--use-file-for-fake-audio-capture={wav}"],
        )
        self.context = self.browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console.append(f"[{m.type}] {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"[pageerror] {e}"))
        self.page.on("response", lambda r: r.status >= 400 and self.console.append(f"[http {r.status}] {r.request.method} {r.url}"))
        self.page.on("websocket", self._watch_socket)
        self.page.add_init_script(RECORD_PCS_JS)

    def _watch_socket(self, ws) -> None:
        self.console.append(f"[ws] open {ws.url}")
        ws.on("close", lambda _ws: self.console.append(f"[ws] closed {ws.url}"))
        ws.on("framereceived", lambda payload: self._server_message(payload))

    def _server_message(self, payload) -> None:
        # Signalling other than room events (which are in window.callbridge.events): errors, offers.
        text = payload if isinstance(payload, str) else payload.decode(errors="replace")
        if '"type": "event"' in text or '"type":"event"' in text:
            return
        kind = text[:200].split('"sdp"')[0]
        self.console.append(f"[ws <-] {kind}")

    def rtp_stats(self) -> list[dict]:
        return self.page.evaluate(RTP_STATS_JS)

    def join(self, url: str) -> None:
        self.page.goto(url, wait_until="load", timeout=20_000)
        self.page.fill("#name", self.name)
        self.page.check("#consent")
        self.page.click("#join")

    def events(self) -> list[dict]:
        return self.page.evaluate(EVENTS_JS)

    def find(self, type_: str, participant: str | None = None, pred: Callable[[dict], bool] | None = None) -> list[dict]:
        return [
            e
            for e in self.events()
            if e.get("type") == type_ and (participant is None or e.get("participant") == participant) and (pred is None or pred(e))
        ]

    def grab(self, participant: str, mark: str | None = None) -> dict:
        info = self.page.evaluate(GRAB_JS, [participant, mark])
        png = info.pop("png", None)
        info["frame"] = _decode_png(png) if png else None
        return info

    def close(self) -> None:
        try:
            self.browser.close()
        except Exception:
            pass


def _run_outer(tmp_path: Path) -> None:
    env = {**os.environ, INNER_ENV: "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    argv = [
        sys.executable, "-m", "pytest", "-q", "-x", "-s", "-p", "no:cacheprovider",
        "--basetemp", str(tmp_path / "inner"), TEST_ID,
    ]  # fmt: skip
    started = time.monotonic()
    result = run_in_loopback_namespace(argv, env=env, cwd=ROOT, timeout=OUTER_TIMEOUT_S)
    took = time.monotonic() - started
    output = (result.stdout or "") + ("\n--- stderr ---\n" + result.stderr if result.stderr else "")
    if result.returncode == 0:
        print(output)  # the timings of each step (shown with -s)
    print(f"inner run in a loopback-only namespace took {took:.1f} s, exit {result.returncode}")
    if result.returncode != 0:
        pytest.fail(
            f"the browser test failed inside the loopback-only network namespace (exit {result.returncode}, {took:.0f} s);"
            f" files in {tmp_path / 'inner'}. Its output:\n{output[-20000:]}",
            pytrace=False,
        )


@pytest.mark.integration
def test_two_participants_see_the_ad(tmp_path: Path) -> None:
    if not in_loopback_namespace():
        if os.environ.get(INNER_ENV) == "1":
            pytest.fail(f"{INNER_ENV}=1 but this is not a loopback-only network namespace: interfaces {interfaces()}")
        _run_outer(tmp_path)
        return
    _run_inner(tmp_path)


def _run_inner(tmp_path: Path, server_argv: list[str] | None = None) -> None:
    """The test itself, in a loopback-only namespace. `server_argv` replaces the real relay (for debugging the test)."""
    from playwright.sync_api import sync_playwright

    global _deadline
    started = time.monotonic()
    _deadline = started + INNER_BUDGET_S
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server_log = tmp_path / "server.stderr.log"
    server_out = tmp_path / "server.stdout.log"
    env = {**os.environ, "CALLBRIDGE_ICE_LOOPBACK": "1", "PYTHONUNBUFFERED": "1"}
    env.pop(INNER_ENV, None)
    with open(server_log, "wb") as err, open(server_out, "wb") as out:
        argv = server_argv or [sys.executable, "-m", "callbridge"]
        server = subprocess.Popen(
            [*argv, "serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(data_dir)],
            cwd=ROOT, env=env, stdout=out, stderr=err,
        )  # fmt: skip
    people: list[Participant] = []
    try:
        # The media are made while the server loads its models.
        t0 = time.monotonic()
        alice_y4m = media.write_y4m(tmp_path / "alice.y4m", media.face_video("hopper", 5.0))
        bob_y4m = media.write_y4m(tmp_path / "bob.y4m", media.face_video("astronaut", 5.0))
        alice_wav = media.speech_wav(
            tmp_path / "alice.wav", "Shall we have dinner tonight? I know a place.", total_s=SPEECH_LOOP_S, lead_s=SPEECH_LEAD_S
        )
        bob_wav = media.silence_wav(tmp_path / "bob.wav", 5.0)
        print(f"media made in {time.monotonic() - t0:.1f} s")

        def healthy() -> bool:
            if server.poll() is not None:
                raise Failure(f"the server exited with status {server.returncode} before /healthz said 200")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    return r.status == 200
            except urllib.error.HTTPError:
                return False

        # The contract: healthy within 60 s of the server's start (the media were made meanwhile).
        _wait(healthy, max(5.0, HEALTHZ_TIMEOUT_S - (time.monotonic() - started)), f"GET {base}/healthz answering 200", interval=0.3)
        print(f"server healthy after {time.monotonic() - started:.1f} s")

        with sync_playwright() as pw:
            alice = Participant(pw, "alice", alice_y4m, alice_wav)
            people.append(alice)
            bob = Participant(pw, "bob", bob_y4m, bob_wav)
            people.append(bob)
            try:
                _call(alice, bob, f"{base}/room/{ROOM}?raw=1", tmp_path)
            except BaseException:
                _dump(people, tmp_path)
                raise
            finally:
                for p in people:
                    p.close()
        print(f"inner test took {time.monotonic() - started:.1f} s")
    except BaseException:
        print(f"--- server stderr (tail of {server_log}) ---\n{_tail(server_log, 120)}")
        print(f"--- server stdout (tail) ---\n{_tail(server_out, 20)}")
        raise
    finally:
        _deadline = None
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)


def _dump(people: list[Participant], tmp_path: Path) -> None:
    """On failure: screenshots, every page's events and console."""
    for p in people:
        try:
            shot = tmp_path / f"{p.name}.png"
            p.page.screenshot(path=str(shot), full_page=True, timeout=5000)
            print(f"screenshot of {p.name}'s page: {shot}")
        except Exception as e:
            print(f"no screenshot of {p.name}'s page: {e!r}")
        try:
            events = p.events()
            print(f"--- window.callbridge.events on {p.name}'s page ({len(events)}) ---")
            for e in events:
                print(f"  {e}")
        except Exception as e:
            print(f"cannot read {p.name}'s events: {e!r}")
        print(f"--- {p.name}'s console, HTTP errors and signalling (last 60) ---")
        for line in p.console[-60:]:
            print(f"  {line}")
        try:
            print(f"--- {p.name}'s peer connections and RTP stats ---")
            for row in p.rtp_stats():
                print(f"  {row}")
        except Exception as e:
            print(f"cannot read {p.name}'s RTP stats: {e!r}")


def _call(alice: Participant, bob: Participant, url: str, tmp_path: Path) -> None:
    ai_label, plain_label = labels = _labels()
    t_join = time.monotonic()
    alice.join(url)
    bob.join(url)

    # Both pages see both joins.
    for viewer in (alice, bob):
        for who in ("alice", "bob"):
            _wait(lambda: viewer.find("joined", who), JOIN_TIMEOUT_S - (time.monotonic() - t_join),
                  f"{viewer.name}'s page never got a `joined` event for {who}")  # fmt: skip
    print(f"both joined (seen on both pages) after {time.monotonic() - t_join:.1f} s")

    # Alice's live video plays in her tile on Bob's page; mark the element and stream.
    live = _wait_playing(bob, "alice", mark="e2e")
    print(f"alice's video on bob's page after {time.monotonic() - t_join:.1f} s: {live['videoWidth']}x{live['videoHeight']}")
    if live["adStarted"]:
        raise Failure("the ad for alice started before her live video reached bob's page: no live frame to compare with")
    assert live["count"] == 1, f"bob's page has {live['count']} <video data-participant=\"alice\"> elements, expected 1"
    assert live["hasStream"] and live["trackId"], f"alice's tile on bob's page has no srcObject video track: {_info(live)}"
    cv2.imwrite(str(tmp_path / "bob_sees_alice_live.png"), cv2.cvtColor(live["frame"], cv2.COLOR_RGB2BGR))
    assert not _any_label(labels, live["frame"]), "a disclosure label is on alice's LIVE video on bob's page, before any trigger"
    track_id = live["trackId"]

    # Bob's tile on Alice's page too (a two-way call).
    _wait_playing(alice, "bob")

    # Bob sees what Alice says.
    transcripts = _wait(lambda: bob.find("transcript", "alice", lambda e: str(e.get("text", "")).strip()),
                        TRANSCRIPT_TIMEOUT_S, "bob's page got no non-empty `transcript` event from alice")  # fmt: skip
    print(f"first transcript from alice on bob's page: {transcripts[0].get('text')!r}")

    # The trigger, on both pages.
    def trigger_on(p: Participant) -> list[dict]:
        return p.find("trigger", "alice", lambda e: str(e.get("phrase", "")).lower() == PHRASE)

    triggers = _wait(lambda: trigger_on(bob), TRIGGER_TIMEOUT_S,
                     f"bob's page got no `trigger` event for alice with phrase {PHRASE!r}")  # fmt: skip
    trig = triggers[0]
    print(f"trigger after {time.monotonic() - t_join:.1f} s: {trig}")
    assert trig.get("phrase") == PHRASE, f"trigger phrase should be written as configured ({PHRASE!r}): {trig}"
    for key in ("t", "phrase_end_t", "heard"):
        assert key in trig, f"trigger event lacks {key!r}: {trig}"
    assert float(trig["phrase_end_t"]) <= float(trig["t"]), f"trigger's phrase_end_t is later than its t: {trig}"
    assert float(trig["t"]) - float(trig["phrase_end_t"]) < 10.0, f"trigger came >10 s after the phrase ended: {trig}"
    assert abs(float(trig["t"]) - time.time()) < 120, f"trigger t is not the server's wall clock (time.time()): {trig}"
    _wait(lambda: trigger_on(alice), 5.0, "alice's own page got no `trigger` event for her phrase (events go to every page)")
    assert not bob.find("trigger", "bob"), f"a trigger for bob, whose microphone is silent: {bob.find('trigger', 'bob')}"

    # The ad starts in Alice's own tile on Bob's page.
    starts = _wait(lambda: bob.find("ad-start", "alice"), AD_START_TIMEOUT_S, "bob's page got no `ad-start` event for alice after the trigger")
    ad_start = starts[0]
    t_ad_seen = time.monotonic()
    print(f"ad-start after {t_ad_seen - t_join:.1f} s: {ad_start}")
    assert float(ad_start["t"]) >= float(trig["t"]), f"ad-start is earlier than its trigger: {ad_start} vs {trig}"
    assert ad_start.get("template"), f"ad-start lacks a template: {ad_start}"
    personalised = ad_start.get("personalised", True) is not False
    label = ai_label if personalised else plain_label
    if not personalised:
        print(f"NOTE: the ad was the plain template (personalised=false) although alice consented; checking for {label.text!r}")

    # Sample frames while the ad is on: the label must show, the tile must be big,
    # and the element, stream and track must be the ones from before.
    during: list[dict] = []
    labelled: dict | None = None
    while time.monotonic() - t_ad_seen < LABEL_SEEN_TIMEOUT_S:
        info = bob.grab("alice")
        if info["adEnded"]:
            break
        if info["frame"] is not None:
            during.append(info)
            if _label_on(label, info["frame"]):
                labelled = info
                break
        time.sleep(0.08)
    assert during, "could not sample alice's tile on bob's page between ad-start and ad-end"
    if labelled is None:
        last = during[-1]
        cv2.imwrite(str(tmp_path / "bob_sees_alice_ad_unlabelled.png"), cv2.cvtColor(last["frame"], cv2.COLOR_RGB2BGR))
        raise Failure(
            f"no disclosure label {label.text!r} on alice's tile on bob's page within {LABEL_SEEN_TIMEOUT_S} s of ad-start"
            f" ({len(during)} frames sampled; last saved as bob_sees_alice_ad_unlabelled.png)"
        )
    cv2.imwrite(str(tmp_path / "bob_sees_alice_ad.png"), cv2.cvtColor(labelled["frame"], cv2.COLOR_RGB2BGR))
    how = "" if label.is_on(labelled["frame"]) else " (only when scaled to 640x480: the relay drew it before scaling the ad down)"
    print(
        f"label seen on bob's page {time.monotonic() - t_ad_seen:.2f} s after ad-start arrived,"
        f" frame {labelled['videoWidth']}x{labelled['videoHeight']}{how}"
    )
    _same_tile(labelled, track_id, "during the ad")
    # The page may enlarge the tile when ad-start arrives; give it a moment.
    big = _wait(lambda: (lambda i: i if i["adEnded"] or (i["rect"]["w"] >= 480 and i["rect"]["h"] >= 360) else None)(bob.grab("alice")),
                1.0, "alice's tile on bob's page never reached 480x360 CSS px during the ad")  # fmt: skip
    assert big["rect"]["w"] >= 480 and big["rect"]["h"] >= 360, (
        f"alice's tile on bob's page was {big['rect']} CSS px when the ad ended; it needs at least 480x360 during the ad"
    )
    print(f"tile during the ad: {big['rect']} CSS px")

    # The ad ends; live video comes back in the same tile.
    ends = _wait(lambda: bob.find("ad-end", "alice"), AD_END_TIMEOUT_S, "bob's page got no `ad-end` event for alice")
    ad_end = ends[0]
    length = float(ad_end["t"]) - float(ad_start["t"])
    print(f"ad-end after {time.monotonic() - t_join:.1f} s; the ad lasted {length:.2f} s by the server's clock")
    assert 1.4 <= length <= 20.1, f"the ad lasted {length:.2f} s (server clock); it must stay 1.5 to 20 s"
    assert len(bob.find("ad-start", "alice")) >= 1 and len(bob.find("ad-end", "alice")) >= 1
    _wait(lambda: alice.find("ad-start", "alice"), 2.0, "alice's own page got no `ad-start` event (events go to every page)")
    time.sleep(SETTLE_AFTER_AD_END_S)
    after = []
    for _ in range(4):
        info = bob.grab("alice")
        assert info["found"], "alice's tile is gone from bob's page after the ad"
        assert info["frame"] is not None, f"alice's tile on bob's page shows no frame after the ad: {_info(info)}"
        after.append(info)
        time.sleep(0.2)
    cv2.imwrite(str(tmp_path / "bob_sees_alice_after.png"), cv2.cvtColor(after[-1]["frame"], cv2.COLOR_RGB2BGR))
    still = [i for i, a in enumerate(after) if _any_label(labels, a["frame"])]
    if still and bob.find("ad-start", "alice", lambda e: float(e["t"]) > float(ad_end["t"])):
        raise Failure("a second ad started right after the first; cannot check the return to live video")
    assert not still, (
        f"the disclosure label is still on alice's tile on bob's page {SETTLE_AFTER_AD_END_S} s after ad-end"
        f" (samples {still} of {len(after)}; saved bob_sees_alice_after.png)"
    )
    for a in after:
        assert _looks_like_video(a["frame"]), "alice's tile on bob's page is blank after the ad"
        _same_tile(a, track_id, "after the ad")
    if after[0]["decoded"] is not None:
        assert after[-1]["decoded"] > after[0]["decoded"], f"alice's video on bob's page is frozen after the ad: {_info(after[-1])}"


def _wait_playing(viewer: Participant, who: str, mark: str | None = None, need: int = 8) -> dict:
    """Wait until `who`'s tile on `viewer`'s page shows real, moving video: `need` more frames decoded
    since it first showed one. Returns the last sample."""
    first: dict = {}
    last: dict = {}

    def playing() -> dict | None:
        info = viewer.grab(who, mark=mark)
        last.clear()
        last.update(info)
        if not info["found"] or info["frame"] is None or not _looks_like_video(info["frame"]):
            return None
        if info["decoded"] is None:  # no playback-quality API: trust currentTime
            info["decoded"] = int(info["currentTime"] * 15)
        first.setdefault("decoded", info["decoded"])
        return info if info["decoded"] - first["decoded"] >= need else None

    try:
        return _wait(playing, VIDEO_TIMEOUT_S, f"{viewer.name}'s page never played {who}'s video")
    except Failure as e:
        state = _info(last) if last else {}
        if not state.get("found"):
            why = f'there is no <video data-participant="{who}">'
        elif "decoded" in first:
            why = f"it froze: {state.get('decoded')} frames decoded in all, {first['decoded']} when it first showed"
        else:
            why = "it never showed a frame with a picture"
        raise Failure(f"{e}: {why}; last state {state}") from None


def _labels():
    """The disclosure on personalised ads ("AI-generated face · advertisement") and on plain ones.

    A plain ad (ad-start's personalised=false: the template with nobody's face)
    carries the relay's plain label ("advertisement") instead.
    """
    from adengine.label import DisclosureLabel

    try:
        from callbridge.services import PLAIN_LABEL
    except ImportError:
        PLAIN_LABEL = DisclosureLabel(text="advertisement")
    return DisclosureLabel(), PLAIN_LABEL


def _label_on(label, frame: np.ndarray) -> bool:
    """Whether `frame` carries `label`, drawn at the frame's own size or at the camera's 640x480.

    The browser's encoder may lower the resolution under load (to 480x360 or 320x240), and the
    relay then sends its ad at that size: if it labelled the ad before scaling it, the label is a
    scaled copy of the 640x480 one, which DisclosureLabel.is_on only recognises at 640x480.
    """
    if label.is_on(frame):
        return True
    height, width = frame.shape[:2]
    if (width, height) == (media.WIDTH, media.HEIGHT):
        return False
    return label.is_on(cv2.resize(frame, (media.WIDTH, media.HEIGHT), interpolation=cv2.INTER_LINEAR))


def _any_label(labels, frame: np.ndarray) -> bool:
    return any(_label_on(label, frame) for label in labels)


def _looks_like_video(frame: np.ndarray) -> bool:
    """Not a black or flat placeholder frame."""
    return float(frame.mean()) > 15.0 and float(frame.std()) > 15.0


def _info(info: dict) -> dict:
    return {k: v for k, v in info.items() if k != "frame"}


def _same_tile(info: dict, track_id: str, when: str) -> None:
    assert info["found"] and info["count"] == 1, f"{when}: bob's page has {info['count']} <video data-participant=\"alice\"> (expected 1)"
    assert info["elMark"] == "e2e", f"{when}: alice's <video> on bob's page is not the element it was before the ad"
    assert info["streamMark"] == "e2e", f"{when}: alice's tile on bob's page has a different srcObject than before the ad"
    assert info["trackId"] == track_id, (
        f"{when}: alice's video track on bob's page changed ({track_id} -> {info['trackId']}); the ad must come in the same track"
    )
    assert info["trackState"] == "live", f"{when}: alice's video track on bob's page is {info['trackState']}"
