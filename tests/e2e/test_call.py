"""End to end in real browsers: two people in a room, one says "dinner tonight", the other sees the ad.

The relay (`python -m callbridge serve`) and the browsers run in a network namespace of their own, so nothing leaves
the machine: loopback only for two Chromiums, and loopback plus a veth pair linked to itself when the listener is
Firefox, which gathers no ICE candidate on `lo` alone (see netns.py). When pytest runs outside such a namespace,
this test re-runs itself inside one (`unshare -n`, which needs root) and passes or fails with that run.

Alice (Chromium) has a fake camera of Grace Hopper, and her microphone says "Shall we have dinner tonight? I know a
place." then stays quiet, on a 16 s loop. Bob, the listener, is a second Chromium (camera: Eileen Collins,
microphone silent) or Debian's Firefox ESR over WebDriver BiDi (its own generated camera and tone). Bob's page must
show the ad in Alice's own tile, with the disclosure label on every ad frame, and live video (no label) before and
after.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import pytest

from adengine import DisclosureLabel
from tests.support.browser import media
from tests.support.browser.chromium import ChromiumParticipant, Failure, Participant
from tests.support.browser.firefox import FirefoxParticipant
from tests.support.browser.frames import any_label, label_on, labels, looks_like_video
from tests.support.browser.netns import in_loopback_namespace, interfaces, run_in_loopback_namespace
from tests.support.browser.report import dump, save_pages, tail
from tests.support.browser.waits import Budget, assert_same_tile, tile_state, wait_playing
from tests.support.relayserver import free_port

pytestmark = pytest.mark.e2e
Labels = tuple[DisclosureLabel, DisclosureLabel]  # the AI-generated label and the plain ad's

ROOT = Path(__file__).resolve().parents[2]
TEST_ID = "tests/e2e/test_call.py::test_two_participants_see_the_ad[{listener}]"
INNER_ENV = "CALLBRIDGE_E2E_INNER"
ROOM = "e2e"
PHRASE = "dinner tonight"

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
LABEL_SEEN_TIMEOUT_S = 6.0  # the ad lasts 7 s; a loaded Firefox showed the label up to 4.9 s after ad-start arrived
SETTLE_AFTER_AD_END_S = 0.7  # frames already in flight when ad-end arrives

BUDGET = Budget(INNER_BUDGET_S)  # every wait ends by then after the inner run started


def _run_outer(tmp_path: Path, listener: str) -> None:
    env = {
        **os.environ,
        INNER_ENV: "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    argv = [
        sys.executable, "-m", "pytest", "-q", "-x", "-s", "-p", "no:cacheprovider",
        "--basetemp", str(tmp_path / "inner"), TEST_ID.format(listener=listener),
    ]  # fmt: skip
    started = time.monotonic()
    result = run_in_loopback_namespace(argv, env=env, cwd=ROOT, timeout=OUTER_TIMEOUT_S, dummy=listener == "firefox")
    took = time.monotonic() - started
    output = (result.stdout or "") + ("\n--- stderr ---\n" + result.stderr if result.stderr else "")
    if result.returncode == 0:
        print(output)  # the timings of each step (shown with -s)
    print(f"inner run in an isolated network namespace took {took:.1f} s, exit {result.returncode}")
    if result.returncode != 0:
        pytest.fail(
            f"the browser test failed inside its isolated network namespace (exit {result.returncode}, {took:.0f} s);"
            f" files in {tmp_path / 'inner'}. Its output:\n{output[-20000:]}",
            pytrace=False,
        )


@pytest.mark.parametrize("listener", ["chromium", "firefox"])
def test_two_participants_see_the_ad(tmp_path: Path, listener: str) -> None:
    """Alice speaks in Chromium; Bob, who must see the ad, is in Chromium or in Firefox."""
    if not in_loopback_namespace(dummy=listener == "firefox"):
        if os.environ.get(INNER_ENV) == "1":
            pytest.fail(
                f"{INNER_ENV}=1 but this is not the test's isolated network namespace: interfaces {interfaces()}"
            )
        _run_outer(tmp_path, listener)
        return
    _run_inner(tmp_path, listener)


def _run_inner(tmp_path: Path, listener: str, server_argv: list[str] | None = None) -> None:
    """The test itself, in a loopback-only namespace. `server_argv` replaces the real relay (for debugging the test)."""
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    BUDGET.start()
    port = free_port()
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
            # the guard off: the browsers share this machine's cores at normal priority, a visitor's would not
            [*argv, "serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(data_dir),
             "--no-overload-guard"],
            cwd=ROOT, env=env, stdout=out, stderr=err,
        )  # fmt: skip
    people: list[Participant] = []
    try:
        # The media are made while the server loads its models.
        t0 = time.monotonic()
        alice_y4m = media.write_y4m(tmp_path / "alice.y4m", media.face_video("hopper", 5.0))
        bob_y4m = media.write_y4m(tmp_path / "bob.y4m", media.face_video("astronaut", 5.0))
        alice_wav = media.speech_wav(
            tmp_path / "alice.wav",
            "Shall we have dinner tonight? I know a place.",
            total_s=SPEECH_LOOP_S,
            lead_s=SPEECH_LEAD_S,
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
        BUDGET.wait(
            healthy,
            max(5.0, HEALTHZ_TIMEOUT_S - (time.monotonic() - started)),
            f"GET {base}/healthz answering 200",
            interval=0.3,
        )
        print(f"server healthy after {time.monotonic() - started:.1f} s")

        with sync_playwright() as pw:
            alice = ChromiumParticipant(pw, "alice", alice_y4m, alice_wav)
            people.append(alice)
            bob: Participant
            if listener == "firefox":
                bob = FirefoxParticipant("bob", tmp_path)  # Firefox's own fake camera and microphone
            else:
                bob = ChromiumParticipant(pw, "bob", bob_y4m, bob_wav)
            people.append(bob)
            try:
                _call(alice, bob, f"{base}/room/{ROOM}?raw=1", tmp_path)
            except BaseException:
                dump(people, tmp_path)
                raise
            finally:
                for p in people:
                    p.close()
        print(f"inner test took {time.monotonic() - started:.1f} s")
    except BaseException:
        print(f"--- server stderr (tail of {server_log}) ---\n{tail(server_log, 120)}")
        print(f"--- server stdout (tail) ---\n{tail(server_out, 20)}")
        raise
    finally:
        BUDGET.stop()
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)


def _call(alice: Participant, bob: Participant, url: str, tmp_path: Path) -> None:
    both = labels()
    t_join = time.monotonic()
    alice.join(url)
    bob.join(url)
    track_id = _live_both_ways(alice, bob, both, t_join, tmp_path)
    trig = _phrase_heard(alice, bob, t_join)
    ad_start = _labelled_ad_in_the_same_tile(alice, bob, both, trig, track_id, t_join, tmp_path)
    _live_again(alice, bob, both, ad_start, track_id, t_join, tmp_path)


def _live_both_ways(alice: Participant, bob: Participant, both: Labels, t_join: float, tmp_path: Path) -> str:
    """Both pages see both joins and each other's live video, unlabelled; alice's track id on bob's page."""
    # Both pages see both joins.
    for viewer in (alice, bob):
        for who in ("alice", "bob"):
            left_s = JOIN_TIMEOUT_S - (time.monotonic() - t_join)
            BUDGET.wait(
                lambda viewer=viewer, who=who: viewer.find("joined", who),
                left_s,
                f"{viewer.name}'s page never got a `joined` event for {who}",
            )
    print(f"both joined (seen on both pages) after {time.monotonic() - t_join:.1f} s")

    # Alice's live video plays in her tile on Bob's page; mark the element and stream.
    live = wait_playing(BUDGET, bob, "alice", VIDEO_TIMEOUT_S, mark="e2e")
    print(
        f"alice's video on bob's page after {time.monotonic() - t_join:.1f} s: "
        f"{live['videoWidth']}x{live['videoHeight']}"
    )
    if live["adStarted"]:
        raise Failure(
            "the ad for alice started before her live video reached bob's page: no live frame to compare with"
        )
    assert live["count"] == 1, f'bob\'s page has {live["count"]} <video data-participant="alice"> elements, expected 1'
    assert live["hasStream"] and live["trackId"], (
        f"alice's tile on bob's page has no srcObject video track: {tile_state(live)}"
    )
    cv2.imwrite(str(tmp_path / "bob_sees_alice_live.png"), cv2.cvtColor(live["frame"], cv2.COLOR_RGB2BGR))
    save_pages(tmp_path, "before", alice, bob)
    assert not any_label(both, live["frame"]), (
        "a disclosure label is on alice's LIVE video on bob's page, before any trigger"
    )
    track_id = live["trackId"]

    # Bob's tile on Alice's page too (a two-way call).
    wait_playing(BUDGET, alice, "bob", VIDEO_TIMEOUT_S)
    return track_id


def _phrase_heard(alice: Participant, bob: Participant, t_join: float) -> dict:
    """Bob sees alice's transcript and her trigger, which reaches her own page too; the trigger event."""
    transcripts = BUDGET.wait(
        lambda: bob.find("transcript", "alice", lambda e: str(e.get("text", "")).strip()),
        TRANSCRIPT_TIMEOUT_S,
        "bob's page got no non-empty `transcript` event from alice",
    )
    print(f"first transcript from alice on bob's page: {transcripts[0].get('text')!r}")

    # The trigger, on both pages.
    def trigger_on(p: Participant) -> list[dict]:
        return p.find("trigger", "alice", lambda e: str(e.get("phrase", "")).lower() == PHRASE)

    triggers = BUDGET.wait(
        lambda: trigger_on(bob),
        TRIGGER_TIMEOUT_S,
        f"bob's page got no `trigger` event for alice with phrase {PHRASE!r}",
    )
    trig = triggers[0]
    print(f"trigger after {time.monotonic() - t_join:.1f} s: {trig}")
    assert trig.get("phrase") == PHRASE, f"trigger phrase should be written as configured ({PHRASE!r}): {trig}"
    for key in ("t", "phrase_end_t", "heard"):
        assert key in trig, f"trigger event lacks {key!r}: {trig}"
    assert float(trig["phrase_end_t"]) <= float(trig["t"]), f"trigger's phrase_end_t is later than its t: {trig}"
    assert float(trig["t"]) - float(trig["phrase_end_t"]) < 10.0, f"trigger came >10 s after the phrase ended: {trig}"
    assert abs(float(trig["t"]) - time.time()) < 120, f"trigger t is not the server's wall clock (time.time()): {trig}"
    BUDGET.wait(
        lambda: trigger_on(alice),
        5.0,
        "alice's own page got no `trigger` event for her phrase (events go to every page)",
    )
    assert not bob.find("trigger", "bob"), (
        f"a trigger for bob, whose microphone is silent: {bob.find('trigger', 'bob')}"
    )
    return trig


def _labelled_ad_in_the_same_tile(
    alice: Participant, bob: Participant, both: Labels, trig: dict, track_id: str, t_join: float, tmp_path: Path
) -> dict:
    """The ad plays labelled and enlarged in alice's own tile on bob's page; the ad-start event."""
    ai_label, plain_label = both
    starts = BUDGET.wait(
        lambda: bob.find("ad-start", "alice"),
        AD_START_TIMEOUT_S,
        "bob's page got no `ad-start` event for alice after the trigger",
    )
    ad_start = starts[0]
    t_ad_seen = time.monotonic()
    print(f"ad-start after {t_ad_seen - t_join:.1f} s: {ad_start}")
    assert float(ad_start["t"]) >= float(trig["t"]), f"ad-start is earlier than its trigger: {ad_start} vs {trig}"
    assert ad_start.get("template"), f"ad-start lacks a template: {ad_start}"
    personalised = ad_start.get("personalised", True) is not False
    label = ai_label if personalised else plain_label
    if not personalised:
        print(
            "NOTE: the ad was the plain template (personalised=false) although alice consented; "
            f"checking for {label.text!r}"
        )

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
            if label_on(label, info["frame"]):
                labelled = info
                break
        time.sleep(0.08)
    assert during, "could not sample alice's tile on bob's page between ad-start and ad-end"
    if labelled is None:
        last = during[-1]
        cv2.imwrite(str(tmp_path / "bob_sees_alice_ad_unlabelled.png"), cv2.cvtColor(last["frame"], cv2.COLOR_RGB2BGR))
        raise Failure(
            f"no disclosure label {label.text!r} on alice's tile on bob's page "
            f"within {LABEL_SEEN_TIMEOUT_S} s of ad-start"
            f" ({len(during)} frames sampled; last saved as bob_sees_alice_ad_unlabelled.png)"
        )
    cv2.imwrite(str(tmp_path / "bob_sees_alice_ad.png"), cv2.cvtColor(labelled["frame"], cv2.COLOR_RGB2BGR))
    save_pages(tmp_path, "during", alice, bob)
    how = (
        ""
        if label.is_on(labelled["frame"])
        else " (only when scaled to 640x480: the relay drew it before scaling the ad down)"
    )
    print(
        f"label seen on bob's page {time.monotonic() - t_ad_seen:.2f} s after ad-start arrived,"
        f" frame {labelled['videoWidth']}x{labelled['videoHeight']}{how}"
    )
    assert_same_tile(labelled, track_id, "during the ad")

    # The page may enlarge the tile when ad-start arrives; give it a moment.
    def enlarged_or_over() -> dict | None:
        tile = bob.grab("alice")
        return tile if tile["adEnded"] or (tile["rect"]["w"] >= 480 and tile["rect"]["h"] >= 360) else None

    big = BUDGET.wait(enlarged_or_over, 1.0, "alice's tile on bob's page never reached 480x360 CSS px during the ad")
    assert big["rect"]["w"] >= 480 and big["rect"]["h"] >= 360, (
        f"alice's tile on bob's page was {big['rect']} CSS px when the ad ended; "
        "it needs at least 480x360 during the ad"
    )
    print(f"tile during the ad: {big['rect']} CSS px")
    return ad_start


def _live_again(
    alice: Participant, bob: Participant, both: Labels, ad_start: dict, track_id: str, t_join: float, tmp_path: Path
) -> None:
    """The ad ends within 1.5-20 s and live, moving, unlabelled video comes back in the same tile."""
    ends = BUDGET.wait(
        lambda: bob.find("ad-end", "alice"), AD_END_TIMEOUT_S, "bob's page got no `ad-end` event for alice"
    )
    ad_end = ends[0]
    length = float(ad_end["t"]) - float(ad_start["t"])
    print(f"ad-end after {time.monotonic() - t_join:.1f} s; the ad lasted {length:.2f} s by the server's clock")
    assert 1.4 <= length <= 20.1, f"the ad lasted {length:.2f} s (server clock); it must stay 1.5 to 20 s"
    assert len(bob.find("ad-start", "alice")) >= 1 and len(bob.find("ad-end", "alice")) >= 1
    BUDGET.wait(
        lambda: alice.find("ad-start", "alice"),
        2.0,
        "alice's own page got no `ad-start` event (events go to every page)",
    )
    time.sleep(SETTLE_AFTER_AD_END_S)
    after = []
    for _ in range(4):
        info = bob.grab("alice")
        assert info["found"], "alice's tile is gone from bob's page after the ad"
        assert info["frame"] is not None, f"alice's tile on bob's page shows no frame after the ad: {tile_state(info)}"
        after.append(info)
        time.sleep(0.2)
    cv2.imwrite(str(tmp_path / "bob_sees_alice_after.png"), cv2.cvtColor(after[-1]["frame"], cv2.COLOR_RGB2BGR))
    save_pages(tmp_path, "after", alice, bob)
    still = [i for i, a in enumerate(after) if any_label(both, a["frame"])]
    if still and bob.find("ad-start", "alice", lambda e: float(e["t"]) > float(ad_end["t"])):
        raise Failure("a second ad started right after the first; cannot check the return to live video")
    assert not still, (
        f"the disclosure label is still on alice's tile on bob's page {SETTLE_AFTER_AD_END_S} s after ad-end"
        f" (samples {still} of {len(after)}; saved bob_sees_alice_after.png)"
    )
    for a in after:
        assert looks_like_video(a["frame"]), "alice's tile on bob's page is blank after the ad"
        assert_same_tile(a, track_id, "after the ad")
    if after[0]["decoded"] is not None:
        assert after[-1]["decoded"] > after[0]["decoded"], (
            f"alice's video on bob's page is frozen after the ad: {tile_state(after[-1])}"
        )
    else:  # no frame count (Firefox): the playback clock must move
        assert after[-1]["currentTime"] > after[0]["currentTime"], (
            f"alice's video on bob's page is frozen after the ad: {tile_state(after[-1])}"
        )
