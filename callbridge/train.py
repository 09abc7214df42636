"""Training the `autoencoder` backend for one person and one template: the job behind `callbridge train`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from adengine import AdTemplate, ClipError, MediapipeFaceTracker, TemplateError
from adengine.media import iter_frames, probe, read_image
from callbridge.cli.render import IMAGE_SUFFIXES
from callbridge.config.pretrained import PRETRAINED_SIZE, pretrained_path
from callbridge.config.services import Services

MIN_FACES = 20
MAX_FACES = 400  # more adds little and costs memory
CHECKPOINT_EVERY = 200
REPORT_EVERY = 50
Progress = Callable[[str, int, int], None]
Report = Callable[[dict[str, Any]], None]


class TrainError(ValueError):
    """An input training cannot use; the message says why, in one line."""


def train(
    faces: Path,
    template_name: str,
    out: Path,
    steps: int,
    device: str = "auto",
    tiny: bool = False,
    data_dir: Path = Path("data"),
    progress: Progress | None = None,
    report: Report | None = None,
) -> dict[str, Any]:
    """Fit, checkpoint and export; resumes from OUT/checkpoint.pt when there is one. Blocking."""

    from models.faceswap import AutoencoderConfig, FaceSwapNet, Trainer, export_onnx
    from models.faceswap.align import as_tensors

    progress = progress or (lambda stage, done, total: None)
    chosen = _device(device)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "checkpoint.pt"
    trainer = _resumed(checkpoint, chosen)
    config = trainer.net.config if trainer is not None else (AutoencoderConfig.tiny() if tiny else AutoencoderConfig())
    actor = as_tensors(*_actor_crops(_template(template_name, data_dir), config.size, progress))
    person = as_tensors(*_person_crops(faces, config.size, progress))
    trainer = trainer or Trainer(FaceSwapNet(config), chosen)
    loss = _fit(trainer, actor, person, steps, 8 if tiny else 16, checkpoint, progress, report)
    onnx = export_onnx(trainer.net, out / "swap.onnx")
    summary = {"template": template_name, "size": config.size, "steps": trainer.steps, "device": chosen}
    (out / "model.json").write_text(json.dumps(summary, indent=2))
    return {"out": str(out), "onnx": str(onnx), "steps": trainer.steps, "final_loss": round(loss, 5), "device": chosen}


def pretrain(
    template_name: str,
    steps: int,
    device: str = "auto",
    data_dir: Path = Path("data"),
    progress: Progress | None = None,
    report: Report | None = None,
) -> dict[str, Any]:
    """Fit the encoder and the actor's decoder on a template alone, into the cache in-call fitting starts from."""
    from models.faceswap import AutoencoderConfig, FaceSwapNet, Trainer
    from models.faceswap.align import as_tensors

    progress = progress or (lambda stage, done, total: None)
    chosen = _device(device)
    template = _template(template_name, data_dir)
    config = AutoencoderConfig(size=PRETRAINED_SIZE)
    path = pretrained_path(data_dir, template.clip_sha256, config.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    trainer = _resumed(path, chosen) or Trainer(FaceSwapNet(config), chosen)
    actor = as_tensors(*_actor_crops(template, config.size, progress))
    loss = _fit(trainer, actor, actor, steps, 16, path, progress, report)
    return {
        "template": template_name,
        "out": str(path),
        "steps": trainer.steps,
        "final_loss": round(loss, 5),
        "device": chosen,
    }


def _fit(
    trainer: Any, a: Any, b: Any, steps: int, batch: int, checkpoint: Path, progress: Progress, report: Report | None
) -> float:
    """Train to `steps`, reporting and checkpointing as it goes; the last loss."""
    loss = float("nan")
    while trainer.steps < steps:
        loss = trainer.step(a, b, batch=batch)
        progress("training", trainer.steps, steps)
        if report is not None and (trainer.steps % REPORT_EVERY == 0 or trainer.steps == steps):
            report({"event": "progress", "step": trainer.steps, "loss": round(loss, 5)})
        if trainer.steps % CHECKPOINT_EVERY == 0:
            trainer.save(checkpoint)
    trainer.save(checkpoint)
    return loss


def _resumed(checkpoint: Path, device: str) -> Any:
    """The trainer `checkpoint` saved, or None when there is none yet."""
    from models.faceswap import Trainer
    from models.faceswap.training import CheckpointError

    try:
        return Trainer.resume(checkpoint, device) if checkpoint.exists() else None
    except CheckpointError as exc:
        raise TrainError(f"{exc} (delete it to start again)") from None


def _device(device: str) -> str:
    import torch

    chosen = "cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device)
    if chosen == "cuda" and not torch.cuda.is_available():
        raise TrainError("--device cuda: no CUDA device is available")
    return chosen


def _template(name: str, data_dir: Path) -> AdTemplate:
    try:
        return Services(data_dir).template(name)
    except (TemplateError, ClipError) as exc:
        raise TrainError(f"template {name!r}: {exc}") from None


def _actor_crops(template: AdTemplate, size: int, progress: Progress) -> tuple[list, list]:
    from models.faceswap.align import aligned

    crops, masks = [], []
    for i, frame in enumerate(template.frames):
        crop, mask = aligned(frame, template.track.landmarks[i], size)
        crops.append(crop)
        masks.append(mask)
        progress("aligning the actor's faces", i + 1, len(template.frames))
    return crops, masks


def _person_crops(source: Path, size: int, progress: Progress) -> tuple[list, list]:
    from models.faceswap.align import aligned

    if not source.exists():
        raise TrainError(f"--faces {source}: no such file or folder")
    tracker = MediapipeFaceTracker(static=source.is_dir())
    crops, masks = [], []
    try:
        for i, (t, image) in enumerate(_images(source)):
            face = tracker.track(image, t)
            if face is not None:
                crop, mask = aligned(image, face.landmarks, size)
                crops.append(crop)
                masks.append(mask)
            progress("finding the person's faces", i + 1, 0)
            if len(crops) >= MAX_FACES:
                break
    finally:
        tracker.close()
    if len(crops) < MIN_FACES:
        raise TrainError(f"too few faces: {len(crops)} usable in {source.name}, at least {MIN_FACES} are needed")
    return crops, masks


def _images(source: Path) -> Iterator[tuple[float | None, np.ndarray]]:
    """(time, RGB) of a folder's photos (no time) or a video's frames."""
    try:
        if source.is_dir():
            for path in sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
                yield None, read_image(path)
            return
        fps = probe(source).fps or 25.0
        for i, frame in enumerate(iter_frames(source)):
            yield i / fps, frame
    except ClipError as exc:
        raise TrainError(str(exc)) from None
