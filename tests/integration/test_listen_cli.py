"""`callbridge listen` end to end: formats, rates, layouts and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support.speech import convert, say, write_wav

pytestmark = pytest.mark.integration


def cli(*args: str) -> tuple[int, list[dict], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "callbridge", "listen", "--json", "--device", "cpu", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, events, proc.stderr


@pytest.fixture(scope="module")
def utterance(speech_dir) -> Path:
    return say(speech_dir / "cli.wav", "Okay everyone, how about dinner tonight at eight?")


@pytest.fixture(scope="module")
def variants(utterance, speech_dir) -> list[Path]:
    out = []
    for rate in (8000, 16000, 44100, 48000):
        for channels in (1, 2):
            out.append(
                convert(utterance, speech_dir / f"v{rate}-{channels}.wav", "-ar", str(rate), "-ac", str(channels))
            )
    out.append(convert(utterance, speech_dir / "v.mp3", "-ar", "44100", "-ac", "2"))
    out.append(convert(utterance, speech_dir / "v.webm", "-c:a", "libopus", "-ar", "48000", "-ac", "2"))
    return out


def test_every_rate_layout_and_container_triggers(variants):
    code, events, _ = cli(*map(str, variants))
    assert code == 0
    by_file = {str(v): [e for e in events if e["file"] == str(v) and e["event"] == "trigger"] for v in variants}
    for path, triggers in by_file.items():
        assert len(triggers) == 1, path
        t = triggers[0]
        assert t["phrase"] == "dinner tonight" and t["latency_ms"] is None
        assert 1.0 < t["phrase_end_s"] < t["emitted_at_s"] < t["phrase_end_s"] + 1.5


def test_phrase_option_overrides_the_campaign_and_keeps_its_spelling(utterance):
    code, events, _ = cli("--phrase", "Dinner To-Night", str(utterance))
    assert code == 0
    assert [e["phrase"] for e in events if e["event"] == "trigger"] == ["Dinner To-Night"]
    transcripts = [e for e in events if e["event"] == "transcript"]
    assert transcripts and transcripts[-1]["final"] and "dinner" in transcripts[-1]["text"].lower()


def test_realtime_reports_wall_latency(utterance):
    code, events, _ = cli("--realtime", str(utterance))
    (trigger,) = [e for e in events if e["event"] == "trigger"]
    assert code == 0 and 0 < trigger["latency_ms"] < 3000


def _bad_inputs(tmp: Path, good: Path) -> dict[str, Path]:
    empty = tmp / "empty.wav"
    empty.write_bytes(b"")
    text = tmp / "notes.wav"
    text.write_text("this is not audio\n")
    truncated = tmp / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    silent_video = tmp / "video-only.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=d=1:s=64x48",
            "-pix_fmt",
            "yuv420p",
            str(silent_video),
        ],
        check=True,
    )
    return {
        "missing": tmp / "nope.wav",
        "empty": empty,
        "non-audio": text,
        "truncated": truncated,
        "no-audio-stream": silent_video,
    }


def test_bad_inputs_get_one_line_errors_and_exit_2_while_others_run(utterance, tmp_path):
    bad = _bad_inputs(tmp_path, utterance)
    files = [str(bad["missing"]), str(utterance), *(str(p) for k, p in bad.items() if k != "missing")]
    code, events, stderr = cli(*files)
    assert code == 2
    errors = {e["file"]: e["message"] for e in events if e["event"] == "error"}
    assert set(errors) == {str(p) for p in bad.values()}
    for message in errors.values():
        assert "\n" not in message and len(message) < 200
    assert "no such file" in errors[str(bad["missing"])]
    assert "empty" in errors[str(bad["empty"])]
    assert "truncated" in errors[str(bad["truncated"])]
    assert "no audio stream" in errors[str(bad["no-audio-stream"])]
    assert [e["file"] for e in events if e["event"] == "trigger"] == [str(utterance)]
    assert "Traceback" not in stderr


def test_unknown_model_and_empty_phrase_exit_2(utterance):
    code, _, stderr = cli("--model", "no-such-model", str(utterance))
    assert code == 2 and "unknown model" in stderr and "Traceback" not in stderr
    code, _, stderr = cli("--phrase", "  ?! ", str(utterance))
    assert code == 2 and "no words" in stderr


def test_silence_only_gives_no_events(tmp_path):
    path = write_wav(tmp_path / "quiet.wav", np.zeros(16000 * 3, np.float32))
    code, events, _ = cli(str(path))
    assert code == 0 and events == []
