"""Template ingest in a child process: header caps, a face check, tracking with progress, time and memory limits."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from adengine.encode import write_mp4
from adengine.template import TemplateLibrary, TemplateMeta
from callbridge.ingest import UploadError, check_header, ingest, probe, run_child
from callbridge.ingest.errors import NEEDS_MEMORY
from tests.support.faces import HOPPER_FACE, animate, hopper

pytestmark = pytest.mark.integration

FPS = 15.0


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="module")
def face_clip(clips: Path) -> Path:
    """2 s of a moving, camera-like face, 320x240."""
    frames = animate(hopper(), int(2 * FPS), size=(320, 240), spot=HOPPER_FACE, face_width=110, fps=FPS)
    write_mp4(clips / "face.mp4", frames, FPS)
    return clips / "face.mp4"


@pytest.fixture(scope="module")
def gradient_clip(clips: Path) -> Path:
    """2 s of a moving colour gradient: no face anywhere."""
    x = np.linspace(0, 1, 320)[None, :, None]
    y = np.linspace(0, 1, 240)[:, None, None]
    frames = [
        (255 * np.concatenate([(x + t) % 1 * np.ones_like(y), y * np.ones_like(x), (x + y) / 2], axis=2)).astype(
            np.uint8
        )
        for t in np.linspace(0, 1, int(2 * FPS))
    ]
    write_mp4(clips / "gradient.mp4", frames, FPS)
    return clips / "gradient.mp4"


def _meta(name: str = "pizza") -> TemplateMeta:
    return TemplateMeta(name, "Pizza Palace", "Hot and fresh", max_duration_s=8.0, licence="CC0")


def _refusal(call, *args, **kwargs) -> UploadError:
    with pytest.raises(UploadError) as caught:
        call(*args, **kwargs)
    assert "\n" not in str(caught.value)
    return caught.value


# -- the header ------------------------------------------------------------------------------


def test_a_240_fps_1080p_clip_is_refused_from_its_header(clips: Path) -> None:
    path = clips / "fast.mp4"
    write_mp4(path, [np.full((1080, 1920, 3), 30 * i, np.uint8) for i in range(6)], 240.0)
    assert path.stat().st_size < 100_000
    error = _refusal(check_header, path, "mp4")
    assert error.status == 422 and str(error) == "the clip is 240 fps; at most 60 fps"


def test_a_clip_over_the_resolution_cap_is_refused_and_a_portrait_one_is_not(clips: Path) -> None:
    wide = clips / "wide.mp4"
    write_mp4(wide, [np.zeros((1440, 2560, 3), np.uint8)] * 2, 25.0)
    error = _refusal(check_header, wide, "mp4")
    assert error.status == 422 and str(error) == "the clip is 2560x1440; at most 1920x1080"
    tall = clips / "tall.mp4"
    write_mp4(tall, [np.zeros((1920, 1080, 3), np.uint8)] * 2, 25.0)
    header = check_header(tall, "mp4")
    assert (header.width, header.height, header.fps, header.frames) == (1080, 1920, 25.0, 2)


def test_a_header_claiming_an_enormous_duration_is_refused(clips: Path) -> None:
    path = clips / "small.mkv"
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 40 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert check_header(path, "matroska").frames == 5
    data = bytearray(path.read_bytes())
    at = data.find(b"\x44\x89")  # the segment's Duration element, a float in milliseconds
    assert at > 0 and data[at + 2] in (0x84, 0x88)
    struct.pack_into(">f" if data[at + 2] == 0x84 else ">d", data, at + 3, 1e13)
    (clips / "forever.mkv").write_bytes(data)
    error = _refusal(check_header, clips / "forever.mkv", "matroska")
    assert error.status == 422 and "10000000000.0 s long; at most 30 s" in str(error)


def test_a_file_whose_header_cannot_be_read_is_refused(clips: Path, face_clip: Path) -> None:
    garbage = clips / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x13" * 500)
    cut = clips / "cut.mp4"
    cut.write_bytes(face_clip.read_bytes()[:300])  # faststart: the index is cut off
    for path, container in ((garbage, "mp4"), (cut, "mp4"), (face_clip, "matroska")):  # the demuxer is forced
        error = _refusal(check_header, path, container)
        assert error.status == 422
        assert "header cannot be read" in str(error) or str(error) == "the clip has no video stream"


# -- probe -----------------------------------------------------------------------------------


def test_probe_refuses_a_clip_without_a_face(gradient_clip: Path) -> None:
    error = _refusal(probe, gradient_clip, "mp4")
    assert error.status == 422 and "no face found in the clip" in str(error)


def test_probe_accepts_a_clip_with_a_face(face_clip: Path) -> None:
    header = probe(face_clip, "mp4")
    assert (header.width, header.height, header.fps, header.frames) == (320, 240, FPS, 30)
    assert abs(header.duration_s - 2.0) < 0.01 and not header.has_audio


def test_probe_refuses_what_is_not_a_video_before_opening_it(clips: Path) -> None:
    playlist = clips / "list.mp4"
    playlist.write_text("#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n")
    error = _refusal(probe, playlist, "mp4")
    assert error.status == 415 and "HLS playlist" in str(error)


def test_the_child_writes_only_json_lines_and_no_traceback(clips: Path, face_clip: Path) -> None:
    text = clips / "text.mp4"
    text.write_text("hello\n" * 100)
    for clip in (text, face_clip):
        done = subprocess.run(
            [sys.executable, "-m", "callbridge.ingest.child", "probe", str(clip)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stdout + done.stderr
        record = json.loads(lines[0])
        assert record["ok"] is (clip == face_clip)


# -- ingest ----------------------------------------------------------------------------------


def test_ingest_reports_rising_progress_and_a_verdict_and_caches_the_track(tmp_path: Path, face_clip: Path) -> None:
    seen: list[float] = []
    result = ingest(face_clip, _meta(), tmp_path, seen.append)
    assert result.frames == 30 and len(result.sha256) == 64
    assert result.verdict.startswith("actor tracked in 30 of 30 frames, face ") and result.verdict.endswith(" px wide")
    assert seen[0] == 0.0 and seen[-1] == 1.0 and len(seen) > 5
    assert all(a <= b for a, b in zip(seen, seen[1:]))
    assert len(list((tmp_path / "templates" / ".cache").glob(f"{result.sha256}-30-*.npz"))) == 1
    # The server then opens the template without tracking anything itself.
    library = TemplateLibrary(tmp_path, lambda: pytest.fail("the child's cached track should be used"))
    template = library.open(_meta(), face_clip, result.sha256)
    assert len(template.track) == 30 and library.get("pizza") is template
    library.forget("pizza")
    assert "pizza" not in library._loaded


def test_ingest_refuses_a_clip_whose_actor_cannot_be_tracked(tmp_path: Path, gradient_clip: Path) -> None:
    error = _refusal(ingest, gradient_clip, _meta(), tmp_path)
    assert error.status == 422 and "no face found in frames 0-29" in str(error)
    assert not (tmp_path / "templates" / ".cache").exists()


def _children_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode("utf-8", "replace"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_the_time_limit_kills_the_child_and_leaves_no_process(tmp_path: Path, face_clip: Path) -> None:
    marker = str(tmp_path / "slow-data")
    error = _refusal(ingest, face_clip, _meta(), Path(marker), timeout_s=0.5)
    assert error.status == 422 and str(error) == "ingest took longer than 0.5 s"
    assert _children_with(marker) == []
    assert not list((tmp_path / "slow-data").glob("**/*.npz"))


def test_the_memory_limit_refuses_with_a_plain_message(tmp_path: Path, face_clip: Path) -> None:
    error = _refusal(ingest, face_clip, _meta(), tmp_path, memory_mb=700)
    assert error.status == 422 and str(error) == NEEDS_MEMORY


def test_a_crash_in_the_child_is_a_500_not_a_hang(tmp_path: Path) -> None:
    error = _refusal(run_child, ["ingest", str(tmp_path / "missing.mp4"), "--data", str(tmp_path), "--meta", "{}"])
    assert error.status == 500 and "FileNotFoundError" in str(error)


def test_the_child_runs_at_low_priority(face_clip: Path, tmp_path: Path) -> None:
    seen: list[int] = []

    def look(progress: float) -> None:
        if not seen:
            (pid,) = _children_with(str(tmp_path / "nice-data"))
            seen.append(int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[16]))

    ingest(face_clip, _meta(), tmp_path / "nice-data", look)
    assert seen and seen[0] >= min(19, os.nice(0) + 10)
