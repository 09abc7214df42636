"""swap.yaml, the declared contract of an `onnx` swap model: read, checked, and refused with one clear line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.faceswap.align import TEMPLATE
from models.onnxswap import swap_model_files
from models.onnxswap_spec import read_spec
from models.registry import ModelError

GOOD = """\
name: my-swapper
size: 128
alignment: callbridge-7
inputs:
  target: {name: target, layout: NCHW, range: [0, 1], channels: RGB}
  source: {name: source, layout: NHWC, range: [-1, 1], channels: BGR}
outputs:
  image: {name: output, range: [0, 1]}
  mask: {name: mask}
"""
POINTS = "[[0.3, 0.4], [0.4, 0.4], [0.6, 0.4], [0.7, 0.4], [0.5, 0.6], [0.4, 0.7], [0.6, 0.7]]"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "swap.yaml"
    path.write_text(text)
    return path


def _refusal(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(ModelError) as caught:
        read_spec(path, "fallback")
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message[len(f"{path}: ") :]


def test_a_full_declaration_is_read_into_its_fields(tmp_path):
    spec = read_spec(_write(tmp_path, GOOD), "fallback")
    assert (spec.name, spec.size) == ("my-swapper", 128)
    assert np.array_equal(spec.points, TEMPLATE)
    assert spec.source.layout == "NHWC" and spec.source.range == (-1.0, 1.0) and spec.source.channels == "BGR"
    assert spec.image.name == "output" and spec.mask is not None and spec.mask.name == "mask"


def test_the_smallest_declaration_takes_the_defaults(tmp_path):
    text = "size: 64\ninputs: {target: {name: a}, source: {name: b}}\noutputs: {image: {name: c}}\n"
    spec = read_spec(_write(tmp_path, text), "fallback")
    assert spec.name == "fallback" and spec.mask is None and np.array_equal(spec.points, TEMPLATE)
    assert (spec.target.layout, spec.target.range, spec.target.channels) == ("NCHW", (0.0, 1.0), "RGB")


def test_own_points_replace_the_built_in_template(tmp_path):
    spec = read_spec(_write(tmp_path, GOOD.replace("alignment: callbridge-7", f"points: {POINTS}")), "x")
    assert spec.points.shape == (7, 2) and spec.points[4].tolist() == pytest.approx([0.5, 0.6])


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("size: 128", "size: 128\ncolour: true", "unknown key 'colour' (known here: name, size, alignment"),
        ("channels: RGB}", "channels: RGB, scale: 2}", "unknown key 'inputs.target.scale'"),
        ("size: 128", "size: big", "'size' must be a whole number of pixels from 16 to 1024, not 'big'"),
        ("size: 128", "size: 8", "'size' must be a whole number of pixels from 16 to 1024, not 8"),
        ("range: [-1, 1]", "range: [1, -1]", "'inputs.source.range' must be [low, high] with low < high"),
        ("range: [0, 1]}", "range: [0, 1, 2]}", "'outputs.image.range' must be two numbers [low, high]"),
        ("range: [-1, 1]", "range: [a, 1]", "'inputs.source.range' must hold numbers, not 'a'"),
        ("layout: NCHW", "layout: CHW", "'inputs.target.layout' must be one of NCHW, NHWC, not 'CHW'"),
        ("channels: BGR", "channels: 3", "'inputs.source.channels' must be a non-empty string, not 3"),
        ("{name: output, range: [0, 1]}", "output", "'outputs.image' must be a mapping with keys name, layout"),
        ("  mask: {name: mask}", "  mask: {layout: NCHW}", "'outputs.mask.name' is missing"),
        ("  mask: {name: mask}", "  mask: {name: mask, channels: RGB}", "unknown key 'outputs.mask.channels'"),
        ("  source: {name: source,", "  source: {name: target,", "'inputs.source.name' and 'inputs.target.name'"),
        ("alignment: callbridge-7", "alignment: dlib-68", "'alignment' must be one of callbridge-7, not 'dlib-68'"),
        ("alignment: callbridge-7", "points: [[0.5, 0.5]]", "'points' must be 7 [x, y] pairs (eye corners"),
        ("alignment: callbridge-7", f"points: {POINTS.replace('0.3', '1.3')}", "every x and y from 0 to 1"),
        ("size: 128", f"size: 128\npoints: {POINTS}", "give 'alignment' or 'points', not both"),
        ("inputs:", "inputs_:", "unknown key 'inputs_'"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_key(tmp_path, old, new, expected):
    assert old in GOOD
    assert expected in _refusal(tmp_path, GOOD.replace(old, new, 1))


def test_a_missing_section_and_a_file_that_is_not_a_mapping_are_refused(tmp_path):
    assert _refusal(tmp_path, GOOD.split("outputs:")[0]) == "'outputs' is missing"
    assert _refusal(tmp_path, "") == "the file must be a mapping with keys name, size, alignment, points, " + (
        "inputs, outputs, not nothing"
    )


def test_broken_yaml_is_refused_with_its_line(tmp_path):
    message = _refusal(tmp_path, GOOD.replace("size: 128", "size: [128"))
    assert message.startswith("not valid YAML (") and "at line" in message


def test_the_files_are_found_beside_the_model_or_in_its_folder(tmp_path):
    (tmp_path / "swap.onnx").write_bytes(b"")
    (tmp_path / "swap.yaml").write_text(GOOD)
    assert swap_model_files(tmp_path) == (tmp_path / "swap.onnx", tmp_path / "swap.yaml")
    (tmp_path / "mine.onnx").write_bytes(b"")
    assert swap_model_files(tmp_path / "mine.onnx") == (tmp_path / "mine.onnx", tmp_path / "swap.yaml")
    (tmp_path / "mine.yaml").write_text(GOOD)
    assert swap_model_files(tmp_path / "mine.onnx") == (tmp_path / "mine.onnx", tmp_path / "mine.yaml")


def test_a_model_without_its_yaml_is_refused_saying_what_the_yaml_must_declare(tmp_path):
    (tmp_path / "swap.onnx").write_bytes(b"")
    with pytest.raises(ModelError) as caught:
        swap_model_files(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'swap.onnx'}: no {tmp_path / 'swap.yaml'} beside it; it must declare the crop 'size', "
        "'inputs' (target, source) and 'outputs' (image, optional mask): see docs/swap-models.md"
    )
    for path, expected in ((tmp_path / "nowhere", "no such file or folder"), (tmp_path / "e", "no swap.onnx")):
        path.mkdir() if path.name == "e" else None
        with pytest.raises(ModelError, match=expected):
            swap_model_files(path)
