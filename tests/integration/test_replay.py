"""`callbridge replay` on a monologue made at test time: Grace Hopper's face saying the phrase.

The trigger is found at the phrase, the ad is in the output's frames right after it (the
"sponsored · AI-generated" banner on, the speaker's face on the actor), the live video comes
back, the same input gives the same output, and bad inputs get one line and exit 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from callbridge.replay.compose import BANNER
from tests.support.clips import faceless_clip, monologue

pytestmark = pytest.mark.integration
SENTENCE = "Shall we have dinner tonight? I know a nice place."


def replay(*args: str | Path) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "callbridge", "replay", *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


def decoded(path: Path) -> tuple[list[tuple[float, np.ndarray]], dict]:
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        info = {
            "video": video.codec_context.name,
            "size": (video.width, video.height),
            "fps": float(video.average_rate),
            "audio": audio.codec_context.name,
        }
        frames = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    return frames, info


@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> tuple[Path, list[dict], Path]:
    tmp = tmp_path_factory.mktemp("replay")
    source = monologue(tmp / "hopper.mp4", SENTENCE, lead_s=2.0, tail_s=8.0)
    done = replay(source, "--out", tmp / "out.mp4", "--data", tmp / "data", "--json", "--captions", "srt")
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp / "out.mp4", [json.loads(line) for line in done.stdout.splitlines()], source


def test_the_ad_plays_after_the_phrase_and_the_live_video_comes_back(replayed):
    out, records, _ = replayed
    (trigger,) = [r for r in records if r["event"] == "trigger"]
    (ad,) = [r for r in records if r["event"] == "ad"]
    (summary,) = [r for r in records if r["event"] == "replayed"]
    assert trigger["phrase"] == "dinner tonight" and 2.5 < trigger["phrase_end_s"] < 4.5
    assert ad["start_s"] == pytest.approx(trigger["emitted_at_s"], abs=1e-3) and ad["template"] == "default"
    assert ad["personalised"] is True and 6.0 < ad["end_s"] - ad["start_s"] <= 8.0
    assert summary["ads"] == 1 and summary["signed"] is True and summary["out"] == str(out)
    frames, info = decoded(out)
    assert info == {"video": "h264", "size": (1280, 720), "fps": 15.0, "audio": "aac"}
    banner = [(t, BANNER.is_on(f)) for t, f in frames]
    before = [on for t, on in banner if t < ad["start_s"] - 0.1]
    during = [on for t, on in banner if ad["start_s"] + 0.1 < t < ad["end_s"] - 0.1]
    after = [on for t, on in banner if t > ad["end_s"] + 0.1]
    assert before and not any(before), "live frames carry no banner"
    assert during and all(during), "every ad frame carries the banner"
    assert after and not any(after), "the live video comes back"
    assert out.with_suffix(".srt").read_text().startswith("1\n00:00:0")


def test_the_same_input_gives_the_same_triggers_and_frames(replayed, tmp_path):
    out, records, source = replayed
    again = replay(source, "--out", tmp_path / "again.mp4", "--data", tmp_path / "data", "--json", "--captions", "srt")
    assert again.returncode == 0, again.stderr[-3000:]
    first = [r for r in records if r["event"] in ("trigger", "ad")]
    second = [json.loads(line) for line in again.stdout.splitlines()]
    assert first == [r for r in second if r["event"] in ("trigger", "ad")]
    a, _ = decoded(out)
    b, _ = decoded(tmp_path / "again.mp4")
    assert len(a) == len(b) and all(np.array_equal(x, y) for (_, x), (_, y) in zip(a, b))


def test_bad_inputs_get_one_line_and_exit_2(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    newer, broken = tmp_path / "newer", tmp_path / "broken"
    for folder, manifest in ((newer, '{"version": 2, "participants": []}'), (broken, '{"version": 1,')):
        folder.mkdir()
        (folder / "manifest.json").write_text(manifest)
    cases = [
        ((tmp_path / "missing.mp4", "--out", tmp_path / "o.mp4"), "no such file"),
        ((text, "--out", tmp_path / "o.mp4"), "not a video file"),
        ((tmp_path, "--out", tmp_path / "o.mp4"), "not a recording (no manifest.json)"),
        ((newer, "--out", tmp_path / "o.mp4"), "made by a newer callbridge (manifest version 2"),
        ((broken, "--out", tmp_path / "o.mp4"), "manifest.json cannot be read"),
        ((text, "--out", tmp_path / "o.mov"), "--out must end in .mp4"),
        ((text, "--out", tmp_path / "nowhere" / "o.mp4"), "not a writable folder"),
    ]
    for args, says in cases:
        done = replay(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert says in done.stderr and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "o.mp4").exists()


def test_a_video_with_no_audio_and_no_face_is_still_rendered(tmp_path):
    source = faceless_clip(tmp_path / "silent.mp4", seconds=2.0)
    done = replay(source, "--out", tmp_path / "o.mp4", "--data", tmp_path / "data", "--json")
    assert done.returncode == 0, done.stderr
    assert "note: speaker has no audio" in done.stderr
    (summary,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert summary["triggers"] == summary["ads"] == 0
    frames, info = decoded(tmp_path / "o.mp4")
    assert len(frames) == 30 and info["size"] == (1280, 720)


def verify(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "callbridge", "verify", *map(str, args), "--json"], capture_output=True, text=True
    )


def test_the_replay_is_signed_and_a_changed_byte_reads_invalid(replayed, tmp_path):
    out, records, _ = replayed
    assert records[-1]["signed"] is True
    root = out.parent / "data" / "provenance" / "root.pem"
    trusted = verify(out, "--trust", root)
    assert trusted.returncode == 0, trusted.stderr
    verdict = json.loads(trusted.stdout)
    assert verdict["state"] == "Trusted" and verdict["templates"] == ["default"]
    assert verdict["digital_source_type"].endswith("/compositeWithTrainedAlgorithmicMedia")
    assert json.loads(verify(out).stdout)["state"] == "Valid"  # signed, but its root not given
    data = bytearray(out.read_bytes())
    data[data.find(b"mdat") + 20_000] ^= 0xFF
    (tmp_path / "changed.mp4").write_bytes(bytes(data))
    changed = verify(tmp_path / "changed.mp4", "--trust", root)
    assert changed.returncode == 1 and json.loads(changed.stdout)["state"] == "Invalid"
    plain = tmp_path / "plain.mp4"
    faceless_clip(plain)
    unsigned = verify(plain)
    assert unsigned.returncode == 1 and json.loads(unsigned.stdout)["state"] == "none"
    missing = verify(tmp_path / "missing.mp4")
    assert missing.returncode == 2 and missing.stderr.startswith("callbridge verify: error: cannot read")


def test_a_recordings_rate_is_counted_from_its_frames_not_the_writers_nominal_rate(tmp_path):
    """Recorded files are timed by arrival (1 ms ticks, nominal 30 fps); a 15 fps call replays at 15 fps."""
    from callbridge.replay.source import open_source
    from tests.support.clips import face_clip, recording

    folder = recording(tmp_path / "rec", "r", [("ann", face_clip(tmp_path / "a.mp4", seconds=3.0, fps=15))])
    source = open_source(folder)
    assert source.fps == 15.0 and 2.5 < source.duration_s < 3.5


def test_a_recorded_person_who_did_not_agree_to_face_use_gets_only_plain_ads(tmp_path):
    from tests.support.clips import recording

    source = monologue(tmp_path / "hopper.mp4", SENTENCE, lead_s=2.0, tail_s=8.0)
    folder = recording(tmp_path / "rec", "r", [("ann", source)], face_consent=False)
    done = replay(folder, "--out", tmp_path / "out.mp4", "--data", tmp_path / "data", "--json", "--captions", "none")
    assert done.returncode == 0, done.stderr[-3000:]
    ads = [json.loads(line) for line in done.stdout.splitlines() if '"event": "ad"' in line]
    assert ads and not any(a["personalised"] for a in ads)
    assert "ann did not agree to their face being used" in done.stderr


def test_a_recordings_ads_go_where_its_log_says_they_played_and_bad_log_lines_are_named(tmp_path):
    from tests.support.clips import recording

    source = monologue(tmp_path / "hopper.mp4", SENTENCE, lead_s=2.0, tail_s=8.0)
    folder = recording(tmp_path / "rec", "r", [("ann", source)])
    started = json.loads((folder / "manifest.json").read_text())["started_t"]
    live = [
        {"type": "ad-start", "participant": "ann", "t": started + 4.6},  # the relay was slow: 0.6-1 s after
        {"type": "ad-end", "participant": "ann", "t": started + 11.1},
    ]
    (folder / "events.jsonl").write_text("\n".join([json.dumps(live[0]), "garbage", json.dumps(live[1])]) + "\n")
    done = replay(folder, "--out", tmp_path / "out.mp4", "--data", tmp_path / "data", "--json", "--captions", "none")
    assert done.returncode == 0, done.stderr[-3000:]
    (ad,) = [json.loads(line) for line in done.stdout.splitlines() if '"event": "ad"' in line]
    assert (ad["start_s"], ad["end_s"]) == (4.6, 11.1)
    assert "events.jsonl line 2 is not a room event: skipped" in done.stderr
