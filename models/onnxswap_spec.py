"""`swap.yaml`: what a user-supplied one-shot swap model takes and gives, read and checked at the edge.

Every problem is a `ModelError` of one line naming the file and the key. The
contract is described for people in docs/swap-models.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import yaml

from models.faceswap.align import ANCHORS, TEMPLATE
from models.registry import ModelError

ALIGNMENTS = {"callbridge-7": TEMPLATE}  # built-in anchor templates, by the name a YAML file gives
LAYOUTS = ("NCHW", "NHWC")
ORDERS = ("RGB", "BGR")
MIN_SIZE, MAX_SIZE = 16, 1024
_TOP = ("name", "size", "alignment", "points", "inputs", "outputs")
_IMAGE_KEYS = ("name", "layout", "range", "channels")
_MASK_KEYS = ("name", "layout", "range")  # one channel: no colour order


@dataclass(frozen=True)
class TensorSpec:
    """One declared tensor: its name in the graph, axis order, value range and colour order."""

    name: str
    layout: str = "NCHW"
    range: tuple[float, float] = (0.0, 1.0)
    channels: str = "RGB"  # "RGB" or "BGR"; a mask's is unused


@dataclass(frozen=True, eq=False)  # eq=False: == on the points array is no answer
class SwapModelSpec:
    """A swap model's declared contract: crop side, alignment template, inputs and outputs."""

    name: str
    size: int  # side of the aligned crops, pixels
    points: np.ndarray  # (7, 2) float32: where models.faceswap.align.ANCHORS go, in a unit crop
    target: TensorSpec  # the actor's aligned face
    source: TensorSpec  # the participant's aligned face
    image: TensorSpec  # the swapped face
    mask: TensorSpec | None  # where to blend it; None: the aligned face's hull, feathered


def read_spec(file: Path, default_name: str) -> SwapModelSpec:
    """The spec in `file`; ModelError with one line when it cannot be read or is not valid."""
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise ModelError(f"{file}: not valid YAML ({exc.problem}{mark})") from None
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{file}: cannot be read ({type(exc).__name__})") from None
    return _Reader(file).spec(data, default_name)


class _Reader:
    """Checks one parsed YAML document, naming `file` and the dotted key in every error."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, message: str) -> NoReturn:
        raise ModelError(f"{self.file}: {message}")

    def spec(self, data: Any, default_name: str) -> SwapModelSpec:
        top = self.mapping(data, "", _TOP, ("size", "inputs", "outputs"))
        if "alignment" in top and "points" in top:
            self.fail("give 'alignment' or 'points', not both")
        inputs = self.mapping(top["inputs"], "inputs", ("target", "source"), ("target", "source"))
        outputs = self.mapping(top["outputs"], "outputs", ("image", "mask"), ("image",))
        spec = SwapModelSpec(
            name=self.text(top.get("name", default_name), "name"),
            size=self.size(top["size"]),
            points=self.points(top["points"]) if "points" in top else self.alignment(top.get("alignment")),
            target=self.tensor(inputs["target"], "inputs.target", _IMAGE_KEYS),
            source=self.tensor(inputs["source"], "inputs.source", _IMAGE_KEYS),
            image=self.tensor(outputs["image"], "outputs.image", _IMAGE_KEYS),
            mask=self.tensor(outputs["mask"], "outputs.mask", _MASK_KEYS) if "mask" in outputs else None,
        )
        if spec.source.name == spec.target.name:
            self.fail(f"'inputs.source.name' and 'inputs.target.name' are both {spec.source.name!r}")
        return spec

    def mapping(self, value: Any, key: str, known: tuple[str, ...], required: tuple[str, ...]) -> dict[str, Any]:
        where = f"'{key}'" if key else "the file"
        if not isinstance(value, dict):
            self.fail(f"{where} must be a mapping with keys {', '.join(known)}, not {_kind(value)}")
        for name in value:
            if name not in known:
                self.fail(f"unknown key '{_join(key, name)}' (known here: {', '.join(known)})")
        for name in required:
            if name not in value:
                self.fail(f"'{_join(key, name)}' is missing")
        return value

    def text(self, value: Any, key: str, choices: tuple[str, ...] = ()) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(f"'{key}' must be a non-empty string, not {_kind(value)}")
        if choices and value not in choices:
            self.fail(f"'{key}' must be one of {', '.join(choices)}, not {value!r}")
        return value

    def size(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_SIZE <= value <= MAX_SIZE:
            self.fail(f"'size' must be a whole number of pixels from {MIN_SIZE} to {MAX_SIZE}, not {value!r}")
        return value

    def alignment(self, value: Any) -> np.ndarray:
        name = self.text("callbridge-7" if value is None else value, "alignment", tuple(ALIGNMENTS))
        return ALIGNMENTS[name]

    def points(self, value: Any) -> np.ndarray:
        pairs = value if isinstance(value, list) else []
        if len(pairs) != len(ANCHORS) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            self.fail(f"'points' must be {len(ANCHORS)} [x, y] pairs (eye corners, nose tip, mouth corners)")
        flat = [self.number(v, "points") for pair in pairs for v in pair]
        if not all(0.0 <= v <= 1.0 for v in flat):
            self.fail("'points' must lie inside the crop: every x and y from 0 to 1")
        return np.array(flat, np.float32).reshape(len(ANCHORS), 2)

    def tensor(self, value: Any, key: str, known: tuple[str, ...]) -> TensorSpec:
        fields = self.mapping(value, key, known, ("name",))
        return TensorSpec(
            name=self.text(fields["name"], f"{key}.name"),
            layout=self.text(fields.get("layout", "NCHW"), f"{key}.layout", LAYOUTS),
            range=self.range(fields.get("range", [0.0, 1.0]), f"{key}.range"),
            channels=self.text(fields.get("channels", "RGB"), f"{key}.channels", ORDERS),
        )

    def range(self, value: Any, key: str) -> tuple[float, float]:
        if not isinstance(value, list) or len(value) != 2:
            self.fail(f"'{key}' must be two numbers [low, high], not {value!r}")
        low, high = self.number(value[0], key), self.number(value[1], key)
        if not low < high:
            self.fail(f"'{key}' must be [low, high] with low < high, not {value!r}")
        return low, high

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.fail(f"'{key}' must hold numbers, not {value!r}")
        return float(value)


def _join(key: str, name: Any) -> str:
    return f"{key}.{name}" if key else str(name)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return repr(value) if isinstance(value, str | int | float) else f"a {type(value).__name__}"
