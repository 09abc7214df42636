"""The `onnx` swap backend with real tiny models exported here: it swaps the actor's face through the
model in any declared convention, refuses a model that does not fit its swap.yaml with one line, and
runs end to end from `callbridge render --backend onnx`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml

from adengine.facebank import assess_image
from adengine.onnxswap import OnnxSwapper
from adengine.swapper import Swapper
from models.faceswap.align import alignment
from models.registry import ModelError
from tests.support.faces import HOPPER_FACE, hopper, portrait

pytestmark = pytest.mark.integration
torch = pytest.importorskip("torch")

PLAIN = {"layout": "NCHW", "range": [0, 1], "channels": "RGB"}


def export(folder: Path, fn: Callable[..., Any], shapes: dict[str, tuple[int, ...]], outputs: list[str]) -> Path:
    """`fn` over inputs of `shapes` as folder/swap.onnx, with a free batch axis."""

    class Model(torch.nn.Module):
        def forward(self, *inputs: Any) -> Any:
            return fn(*inputs)

    folder.mkdir(parents=True, exist_ok=True)
    names = [*shapes, *outputs]
    torch.onnx.export(
        Model(),
        tuple(torch.rand(*shape) for shape in shapes.values()),
        str(folder / "swap.onnx"),
        dynamo=False,  # as models/faceswap/export.py: the TorchScript exporter, no onnxscript needed
        input_names=list(shapes),
        output_names=outputs,
        dynamic_axes={name: {0: "n"} for name in names},
        opset_version=17,
    )
    return folder


def declare(folder: Path, size: int, target: dict, source: dict, image: dict, mask: dict | None = None) -> Path:
    outputs = {"image": image} | ({"mask": mask} if mask else {})
    spec = {"name": folder.name, "size": size, "inputs": {"target": target, "source": source}, "outputs": outputs}
    (folder / "swap.yaml").write_text(yaml.safe_dump(spec))
    return folder


def source_model(folder: Path, size: int = 128) -> Path:
    """A model whose swapped face is the participant's aligned face as it came in (target read, unused)."""
    export(
        folder,
        lambda t, s: s + 0.0 * t.mean(),
        {"target": (1, 3, size, size), "source": (1, 3, size, size)},
        ["output"],
    )
    return declare(folder, size, PLAIN | {"name": "target"}, PLAIN | {"name": "source"}, PLAIN | {"name": "output"})


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("face") / "hopper.png"
    cv2.imwrite(str(path), cv2.cvtColor(portrait(hopper(), HOPPER_FACE), cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="module")
def face():
    return assess_image(portrait(hopper(), HOPPER_FACE))


def _zone(template, i: int, grow: float) -> np.ndarray:
    """The actor's face hull in frame i, scaled about its centre by 1 + grow."""
    pts = template.track.landmarks[i][:468]
    centre = pts.mean(axis=0)
    zone = np.zeros(template.frames[i].shape[:2], np.uint8)
    cv2.fillConvexPoly(zone, cv2.convexHull(np.round(centre + (pts - centre) * (1 + grow)).astype(np.int32)), 1)
    return zone.astype(bool)


def test_it_puts_the_models_face_on_the_actor_and_leaves_far_pixels_alone(template, face, tmp_path):
    swapper = OnnxSwapper(source_model(tmp_path / "m"))
    assert isinstance(swapper, Swapper) and swapper.name == "onnx"
    swap = swapper.bind(face, template.track)
    for i in (0, len(template.frames) // 2):
        before = template.frames[i]
        after = swap(i, before)
        assert after.shape == before.shape and after.dtype == np.uint8
        changed = np.abs(after.astype(int) - before.astype(int))
        assert changed[_zone(template, i, -0.3)].mean() > 12
        assert not changed[~_zone(template, i, 0.15)].any()
        # Cut out again, the face's core is the participant's aligned face, as the model gave it.
        matrix = alignment(template.track.landmarks[i], 128)
        core = (slice(40, 88), slice(32, 96))
        again, actor = (cv2.warpAffine(f, matrix, (128, 128))[core].astype(int) for f in (after, before))
        source = cv2.warpAffine(face.image, alignment(face.landmarks, 128), (128, 128))[core].astype(int)
        assert np.abs(again - source).mean() < 6 < np.abs(actor - source).mean()


def test_declared_layouts_ranges_and_channel_orders_are_honoured(template, face, tmp_path):
    """A model taking NHWC BGR in [-1, 1] and giving NCHW RGB in [0, 1] swaps exactly as the plain one does."""
    plain = OnnxSwapper(source_model(tmp_path / "plain")).bind(face, template.track)
    odd = PLAIN | {"layout": "NHWC", "range": [-1, 1], "channels": "BGR"}
    folder = export(
        tmp_path / "odd",
        lambda t, s: ((s.flip(3).permute(0, 3, 1, 2) + 1.0) / 2.0 + 0.0 * t.mean(), torch.zeros(1, 1, 128, 128) - 1),
        {"target": (1, 128, 128, 3), "source": (1, 128, 128, 3)},
        ["output", "mask"],
    )
    full_mask = {"name": "mask", "range": [-1, -0.5]}  # -1 is 0 here: no blend at all
    declare(folder, 128, odd | {"name": "target"}, odd | {"name": "source"}, PLAIN | {"name": "output"}, full_mask)
    unblended = OnnxSwapper(folder).bind(face, template.track)
    i = len(template.frames) // 3
    assert np.array_equal(unblended(i, template.frames[i]), template.frames[i])
    declare(folder, 128, odd | {"name": "target"}, odd | {"name": "source"}, PLAIN | {"name": "output"})
    hull = OnnxSwapper(folder).bind(face, template.track)(i, template.frames[i])
    assert np.abs(hull.astype(int) - plain(i, template.frames[i]).astype(int)).max() <= 2


def _refusal(folder: Path) -> str:
    with pytest.raises(ModelError) as caught:
        OnnxSwapper(folder)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(folder)), message
    return message


def test_a_model_that_does_not_fit_its_yaml_is_refused_with_one_line(tmp_path):
    def case(name: str, shapes: dict[str, tuple[int, ...]], size: int = 128) -> Path:
        folder = export(tmp_path / name, lambda t, s: s + 0.0 * t.mean(), shapes, ["output"])
        return declare(folder, size, PLAIN | {"name": "target"}, PLAIN | {"name": "source"}, PLAIN | {"name": "output"})

    small = case("small", {"target": (1, 3, 64, 64), "source": (1, 3, 64, 64)})
    assert "swap.onnx: input 'target' is ?x3x64x64, swap.yaml says size 128" in _refusal(small)
    renamed = case("renamed", {"face": (1, 3, 128, 128), "source": (1, 3, 128, 128)})
    expected = "swap.onnx: no input 'target' (inputs.target.name in swap.yaml); it has face, source"
    assert expected in _refusal(renamed)
    grey = case("grey", {"target": (1, 1, 128, 128), "source": (1, 3, 128, 128)})
    assert "input 'target' is ?x1x128x128, swap.yaml says NCHW with 3 channels" in _refusal(grey)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "swap.onnx").write_bytes(b"not a model at all")
    (tmp_path / "junk" / "swap.yaml").write_text((small / "swap.yaml").read_text())
    assert "swap.onnx: ONNX Runtime cannot load it (" in _refusal(tmp_path / "junk")
    (small / "swap.yaml").unlink()
    assert f"no {small / 'swap.yaml'} beside it; it must declare the crop 'size'" in _refusal(small)


def render(photo: Path, data_dir: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "callbridge", "render", "--face", str(photo), "--backend", "onnx", *extra]
    argv += ["--out", str(out), "--data", str(data_dir), "--json"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


def test_render_backend_onnx_end_to_end(photo, data_dir, template, tmp_path):
    from adengine.media import read_clip

    done = render(photo, data_dir, tmp_path / "ad.mp4", "--model", str(source_model(tmp_path / "m")))
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert record["event"] == "rendered" and record["frames"] == len(template.frames)
    clip = read_clip(tmp_path / "ad.mp4")
    i = len(template.frames) // 2
    changed = np.abs(clip.frames[i].astype(int) - template.frames[i].astype(int))
    assert changed[_zone(template, i, -0.3)].mean() > 12

    (tmp_path / "m" / "swap.yaml").write_text("size: 64\ninputs: {}\n")
    for extra, expected in ((["--model", str(tmp_path / "m")], "'outputs' is missing"), ([], "needs --model")):
        bad = render(photo, data_dir, tmp_path / "bad.mp4", *extra)
        lines = bad.stderr.strip().splitlines()
        assert bad.returncode == 2 and len(lines) == 1 and expected in lines[0], bad.stderr[-2000:]
        assert not (tmp_path / "bad.mp4").exists()
