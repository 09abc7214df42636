"""`callbridge train` for real, tiny: Hopper's webcam against the default template's actor. It reports
progress, checkpoints, exports an ONNX swap that runs, goes on from its checkpoint, and refuses what
it cannot use with one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adengine import write_mp4
from tests.support import faces
from tests.support.clips import faceless_clip

pytestmark = pytest.mark.integration


def train(*args: str | Path) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "callbridge", "train", *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def webcam(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("train") / "hopper.mp4"
    write_mp4(path, faces.animate(faces.hopper(), 45, spot=faces.HOPPER_FACE, face_width=170), 15.0)
    return path


def test_it_trains_exports_and_goes_on_from_its_checkpoint(webcam, tmp_path):
    from models.faceswap import onnx_swap

    common = ("--faces", webcam, "--template", "default", "--out", tmp_path / "m", "--tiny", "--json")
    done = train(*common, "--steps", "60", "--data", tmp_path / "data")
    assert done.returncode == 0, done.stderr[-2000:]
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["step"] for e in events if e["event"] == "progress"] == [50, 60]
    trained = events[-1]
    assert trained["event"] == "trained" and trained["steps"] == 60 and trained["device"] == "cpu"
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["checkpoint.pt", "model.json", "swap.onnx"]
    colour, mask = onnx_swap(Path(trained["onnx"]), device="cpu")(np.zeros((2, 3, 32, 32), np.float32))
    assert colour.shape == (2, 3, 32, 32) and mask.shape == (2, 1, 32, 32)
    again = train(*common, "--steps", "70", "--data", tmp_path / "data")
    assert again.returncode == 0, again.stderr[-2000:]
    steps = [json.loads(line)["step"] for line in again.stdout.splitlines() if '"progress"' in line]
    assert steps == [70]  # on from 60, not from 0

    rendered_with_the_model(webcam, tmp_path / "m", tmp_path)


def rendered_with_the_model(webcam: Path, model: Path, tmp_path: Path) -> None:
    """`render --backend autoencoder --model DIR`: the trained swap in the actor's place, labelled."""
    import av

    from adengine.label import DisclosureLabel

    argv = [sys.executable, "-m", "callbridge", "render", "--face", str(webcam), "--backend", "autoencoder"]
    done = subprocess.run(
        [*argv, "--model", str(model), "--out", str(tmp_path / "ae.mp4"), "--data", str(tmp_path / "data"), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with av.open(str(tmp_path / "ae.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert frames and all(DisclosureLabel().is_on(f) for f in frames[::25])
    from callbridge.config.services import Services

    template = Services(tmp_path / "data").template("default")
    x0, y0 = template.track.landmarks[10].min(axis=0).astype(int)
    x1, y1 = template.track.landmarks[10].max(axis=0).astype(int)
    changed = np.abs(frames[10].astype(int) - template.frames[10].astype(int))
    assert changed[y0:y1, x0:x1].mean() > 8  # the actor's face is the network's now
    assert changed[: y0 - 20].mean() < 6  # and nothing above it moved (the encode's noise aside)
    missing = subprocess.run([*argv, "--out", str(tmp_path / "x.mp4")], capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "needs --model DIR" in missing.stderr


def test_what_it_cannot_use_gets_one_line_and_exit_2(webcam, tmp_path):
    data = ("--data", tmp_path / "data", "--tiny", "--steps", "5")
    faceless = faceless_clip(tmp_path / "nobody.mp4", seconds=2.0)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "checkpoint.pt").write_bytes(b"not a checkpoint")
    cases = {
        "too few faces": ("--faces", faceless, "--template", "default", "--out", tmp_path / "a"),
        "no such file": ("--faces", tmp_path / "missing.mp4", "--template", "default", "--out", tmp_path / "b"),
        "not a usable checkpoint": ("--faces", webcam, "--template", "default", "--out", broken),
        "template 'nope'": ("--faces", webcam, "--template", "nope", "--out", tmp_path / "c"),
    }
    for expected, args in cases.items():
        done = train(*args, *data)
        lines = [line for line in done.stderr.splitlines() if "error" in line]
        assert done.returncode == 2 and len(lines) == 1 and expected in lines[0], (expected, done.stderr[-1500:])


def test_pretrain_fits_the_actor_side_into_the_cache_that_in_call_fitting_starts_from(tmp_path):
    from callbridge.config.pretrained import load_pretrained
    from callbridge.config.services import Services

    data = tmp_path / "data"
    done = train("--pretrain", "--template", "default", "--steps", "3", "--data", data, "--json")
    assert done.returncode == 0, done.stderr[-1500:]
    record = json.loads(done.stdout.splitlines()[-1])
    assert record["event"] == "pretrained" and record["steps"] == 3
    sha = Services(data).template("default").clip_sha256
    assert Path(record["out"]).name.startswith(sha)
    state = load_pretrained(data, sha)
    assert state and all(k.startswith(("encoder.", "decoders.a.")) for k in state)  # no participant's decoder
    again = train("--pretrain", "--template", "default", "--steps", "5", "--data", data, "--json")
    assert json.loads(again.stdout.splitlines()[-1])["steps"] == 5  # went on from the cache
    Path(record["out"]).write_bytes(b"damaged")
    assert load_pretrained(data, sha) is None  # a damaged cache costs time, never the call
    refused = train("--pretrain", "--faces", tmp_path / "x.mp4", "--template", "default", "--data", data)
    assert refused.returncode == 2 and "--pretrain takes no --faces" in refused.stderr
    neither = train("--template", "default", "--data", data)
    assert neither.returncode == 2 and "--faces and --out are needed" in neither.stderr
