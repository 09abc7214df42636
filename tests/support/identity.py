"""The identity judge of tests and benches: dlib's face recogniser (a 128-d embedding per face).

The project never uses dlib to make a face, so the judge is independent of what it judges.
Distances below 0.6 read as the same person; the lower, the surer. Weights come from the
`face_recognition_models` package; nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

SAME_PERSON = 0.6


class NoFace(ValueError):
    """The judge found no face in the image."""


@lru_cache(maxsize=1)
def _models() -> tuple[Any, Any, Any]:
    import dlib

    # The package's own __init__ needs pkg_resources (setuptools), which a fresh venv lacks:
    # find its folder without running it.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("face_recognition_models is not installed (make install-test)")
    weights = Path(next(iter(spec.submodule_search_locations))) / "models"
    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(weights / "shape_predictor_5_face_landmarks.dat")),
        dlib.face_recognition_model_v1(str(weights / "dlib_face_recognition_resnet_model_v1.dat")),
    )


def embedding(rgb: np.ndarray, upsample: int = 1) -> np.ndarray:
    """The embedding of the largest face in an RGB uint8 image; NoFace if there is none."""
    detector, predictor, recogniser = _models()
    image = np.ascontiguousarray(rgb)
    faces = detector(image, upsample)
    if not faces:
        raise NoFace("the judge finds no face in the image")
    largest = max(faces, key=lambda r: r.width() * r.height())
    shape = predictor(image, largest)
    return np.asarray(recogniser.compute_face_descriptor(image, shape, 1), np.float32)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Distance between two faces, each an RGB image or an embedding."""
    ea = a if a.ndim == 1 else embedding(a)
    eb = b if b.ndim == 1 else embedding(b)
    return float(np.linalg.norm(ea - eb))
