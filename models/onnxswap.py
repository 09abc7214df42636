"""A user-supplied one-shot swap model: an ONNX file and the `swap.yaml` beside it that declares its contract.

`load_swap_model(path)` finds both files, reads the YAML (models/onnxswap_spec.py), opens
the model with ONNX Runtime and checks the graph's tensors against the YAML, so that a
model that does not fit fails at load with one line, not mid-render. The returned `run`
speaks one convention whatever the model's: RGB, (S, S, C) float32 in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from models.onnxswap_spec import SwapModelSpec, TensorSpec, read_spec
from models.registry import ModelError

MODEL_FILE, SPEC_FILE = "swap.onnx", "swap.yaml"
_FLOATS = {"tensor(float)": np.float32, "tensor(float16)": np.float16}

# (target, source) aligned crops -> the swapped face and its mask (None when the model gives none)
SwapRun = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray | None]]


def swap_model_files(path: Path) -> tuple[Path, Path]:
    """The model and its YAML for PATH: a folder holding swap.onnx and swap.yaml, or the .onnx file itself
    (its YAML has the same stem, or is swap.yaml in the same folder)."""
    if path.is_dir():
        model, candidates = path / MODEL_FILE, [path / SPEC_FILE]
        if not model.is_file():
            raise ModelError(f"{path}: no {MODEL_FILE} in this folder")
    elif path.is_file():
        model, candidates = path, [path.with_suffix(".yaml"), path.parent / SPEC_FILE]
    else:
        raise ModelError(f"{path}: no such file or folder")
    for spec in candidates:
        if spec.is_file():
            return model, spec
    raise ModelError(
        f"{model}: no {candidates[0]} beside it; it must declare the crop 'size', 'inputs' (target, source) "
        "and 'outputs' (image, optional mask): see docs/swap-models.md"
    )


def load_swap_model(path: Path, device: str = "auto") -> tuple[SwapModelSpec, SwapRun]:
    """The declared spec and a function running the model once; ModelError when they do not fit together."""
    model, spec_file = swap_model_files(path)
    spec = read_spec(spec_file, default_name=model.stem)
    session = _session(model, device)
    check = _Checker(model, spec_file.name, spec.size)
    inputs = {arg.name: arg for arg in session.get_inputs()}
    for key, tensor in (("target", spec.target), ("source", spec.source)):
        check.tensor("input", key, tensor, inputs, 3)
    for name in inputs.keys() - {spec.target.name, spec.source.name}:
        check.fail(f"input {name!r} is not declared in {check.spec_name} (callbridge feeds only target and source)")
    outputs = {arg.name: arg for arg in session.get_outputs()}
    check.tensor("output", "image", spec.image, outputs, 3)
    if spec.mask is not None:
        check.tensor("output", "mask", spec.mask, outputs, 1)
    dtypes = {name: _FLOATS[arg.type] for name, arg in inputs.items()}
    wanted = [spec.image.name] + ([spec.mask.name] if spec.mask is not None else [])

    def run(target: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        feeds = {t.name: _to_model(x, t, dtypes[t.name]) for t, x in ((spec.target, target), (spec.source, source))}
        found = session.run(wanted, feeds)
        image = _from_model(check.came_out(found[0], spec.image, 3), spec.image)
        if spec.mask is None:
            return image, None
        return image, _from_model(check.came_out(found[1], spec.mask, 1), spec.mask)[..., 0]

    return spec, run


def _session(model: Path, device: str) -> Any:
    """An ONNX Runtime session: CUDA's provider when there is one (and asked), else the CPU."""
    import onnxruntime as ort

    wanted = ["CUDAExecutionProvider"] if device in ("auto", "cuda") else []
    providers = [p for p in wanted if p in ort.get_available_providers()] + ["CPUExecutionProvider"]
    try:
        return ort.InferenceSession(str(model), providers=providers)
    except Exception as exc:  # onnxruntime raises its own types, many lines long, for a file that is no model
        first = (str(exc).strip().splitlines() or [""])[0][:160]
        raise ModelError(f"{model}: ONNX Runtime cannot load it ({type(exc).__name__}: {first})") from None


class _Checker:
    """Compares graph tensors with their declarations; every mismatch is one line naming both files."""

    def __init__(self, model: Path, spec_name: str, size: int) -> None:
        self.model, self.spec_name, self.size = model, spec_name, size

    def fail(self, message: str) -> NoReturn:
        raise ModelError(f"{self.model}: {message}")

    def tensor(self, kind: str, key: str, spec: TensorSpec, found: dict[str, Any], channels: int) -> None:
        where = f"{kind}s.{key}.name"
        if spec.name not in found:
            self.fail(f"no {kind} {spec.name!r} ({where} in {self.spec_name}); it has {', '.join(sorted(found))}")
        arg = found[spec.name]
        if arg.type not in _FLOATS:
            self.fail(f"{kind} {spec.name!r} is {arg.type}, callbridge works in float (tensor(float) or float16)")
        self.shape(kind, spec, list(arg.shape), channels)

    def shape(self, kind: str, spec: TensorSpec, dims: list[Any], channels: int) -> None:
        shown = "x".join(str(d) if isinstance(d, int) else "?" for d in dims)
        if len(dims) != 4:
            self.fail(f"{kind} {spec.name!r} is {shown}, {self.spec_name} says {spec.layout} (4 axes)")
        c_axis, spatial = (1, (2, 3)) if spec.layout == "NCHW" else (3, (1, 2))
        if isinstance(dims[c_axis], int) and dims[c_axis] != channels:
            self.fail(f"{kind} {spec.name!r} is {shown}, {self.spec_name} says {spec.layout} with {channels} channels")
        if any(isinstance(dims[a], int) and dims[a] != self.size for a in spatial):
            self.fail(f"{kind} {spec.name!r} is {shown}, {self.spec_name} says size {self.size}")
        if isinstance(dims[0], int) and dims[0] != 1:
            self.fail(f"{kind} {spec.name!r} is {shown}, callbridge runs one face at a time (batch 1 or free)")

    def came_out(self, value: np.ndarray, spec: TensorSpec, channels: int) -> np.ndarray:
        """`value` when its actual shape is the declared one (free axes are checked only now)."""
        self.shape("output", spec, list(value.shape), channels)
        return value


def _to_model(image: np.ndarray, spec: TensorSpec, dtype: Any) -> np.ndarray:
    """(S, S, 3) RGB in [0, 1] -> the declared order, range and layout, with a batch axis."""
    x = image[..., ::-1] if spec.channels == "BGR" else image
    low, high = spec.range
    x = low + x * (high - low)
    return np.ascontiguousarray((x.transpose(2, 0, 1) if spec.layout == "NCHW" else x)[None], dtype)


def _from_model(value: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """One declared output -> (S, S, C) float32 in [0, 1], RGB for an image."""
    y = value[0].astype(np.float32)
    y = y.transpose(1, 2, 0) if spec.layout == "NCHW" else y
    low, high = spec.range
    y = (y - low) / (high - low)
    y = y[..., ::-1] if spec.channels == "BGR" and y.shape[-1] == 3 else y
    return np.ascontiguousarray(np.clip(y, 0.0, 1.0), np.float32)
