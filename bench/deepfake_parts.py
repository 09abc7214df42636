"""The pieces of bench/deepfake_bench.py: the scene (template, speaker, judge), face crops, the two
backends' ads as the judge sees them, and the speed of training and of the exported swap."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from adengine import AdRenderer, AdTemplate, FaceBank, MediapipeFaceTracker, criterion
from adengine.face import Face
from adengine.facebank import FaceCrop
from adengine.trained import TrainedSwapper
from callbridge.config.services import Services
from models.faceswap import AutoencoderConfig, FaceSwapNet, Trainer, export_onnx, onnx_swap
from models.faceswap.align import aligned, as_tensors
from tests.support import faces, identity

Crops = tuple[torch.Tensor, torch.Tensor]  # faces (N, 3, S, S) and masks (N, 1, S, S), on the training device
Marks = list[tuple[int, np.ndarray]]  # (webcam frame index, face-mesh landmarks)
FPS = 15.0  # the webcam's frame rate
UPPER_LIP, LOWER_LIP, EYE_L, EYE_R = 13, 14, 33, 263  # face-mesh landmarks: inner lips, outer eye corners


@dataclass
class Scene:
    """What every judgement shares: the default template, Hopper's webcam and best face, the judge's references."""

    template: AdTemplate
    webcam: list[np.ndarray]  # 640x480 moving webcam of Grace Hopper
    best: FaceCrop  # her best face harvested from it at 5 fps (what `warp` swaps in)
    speaker: np.ndarray  # dlib embedding of her photo
    actor_of: dict[int, np.ndarray]  # sampled template frame -> dlib embedding of the actor in it
    actor_lips: dict[int, float]  # sampled template frame -> the actor's lip gap (lips_apart)
    reference: np.ndarray  # the relay's own criterion: her mean descriptor from webcam frames warp never saw


def scene(data_dir: Path, webcam_frames: int) -> Scene:
    """Build (or open) the default template in `data_dir`, film Hopper's webcam and harvest her best face."""
    template = Services(data_dir).template("default")
    actor_of = {}
    for i in range(10, len(template.frames), max(1, len(template.frames) // 8)):  # as bench.identity_bench
        try:
            actor_of[i] = identity.embedding(template.frames[i])
        except identity.NoFace:
            continue
    webcam = faces.animate(faces.hopper(), webcam_frames, spot=faces.HOPPER_FACE, face_width=200)
    tracker = MediapipeFaceTracker()
    try:
        bank = FaceBank("speaker", tracker, consent=True)
        for k in range(0, min(90, len(webcam)), 3):  # the first 6 s at 5 fps, as bench.identity_bench
            bank.offer(webcam[k], k / FPS)
    finally:
        tracker.close()
    best = bank.best()
    if best is None:
        raise RuntimeError("no face harvested from the webcam")
    lips = {i: lips_apart(template.track.landmarks[i]) for i in actor_of}
    held_back = [(f, face.landmarks) for f in webcam[91::10] if (face := _still_face(f)) is not None]
    speaker = identity.embedding(faces.hopper())
    return Scene(template, webcam, best, speaker, actor_of, lips, criterion.reference(held_back))


def _still_face(frame: np.ndarray) -> Face | None:
    tracker = MediapipeFaceTracker(static=True)
    try:
        return tracker.track(frame)
    finally:
        tracker.close()


def lips_apart(landmarks: np.ndarray) -> float:
    """The gap between the inner lips over the eyes' span: the actor smiles with parted lips, Hopper's are shut."""
    eyes = np.linalg.norm(landmarks[EYE_L] - landmarks[EYE_R])
    return float(np.linalg.norm(landmarks[UPPER_LIP] - landmarks[LOWER_LIP]) / eyes)


def person_landmarks(webcam: list[np.ndarray]) -> Marks:
    """(frame index, face-mesh landmarks) of every webcam frame with a face, tracked as a video."""
    tracker = MediapipeFaceTracker()
    try:
        found = [(i, tracker.track(frame, i / FPS)) for i, frame in enumerate(webcam)]
    finally:
        tracker.close()
    return [(i, face.landmarks) for i, face in found if face is not None]


def person_crops(webcam: list[np.ndarray], marks: Marks, size: int, device: str) -> Crops:
    """The speaker's aligned crops and masks, as callbridge/train.py makes them from a video."""
    pairs = [aligned(webcam[i], points, size) for i, points in marks]
    return _on(as_tensors([c for c, _ in pairs], [m for _, m in pairs]), device)


def actor_crops(template: AdTemplate, size: int, device: str) -> Crops:
    """The actor's aligned crops and masks from every template frame, as callbridge/train.py makes them."""
    pairs = [aligned(frame, template.track.landmarks[i], size) for i, frame in enumerate(template.frames)]
    return _on(as_tensors([c for c, _ in pairs], [m for _, m in pairs]), device)


def _on(crops: tuple, device: str) -> Crops:
    """On the training device: the trainer draws its batch indices there."""
    return crops[0].to(device), crops[1].to(device)


def judge(frames: list[np.ndarray], sc: Scene) -> dict[str, Any]:
    """Median dlib distances of the ad's face to the speaker and to the actor of the same template frame,
    and whether it keeps the actor's expression: its lip gap over the actor's (1 kept, 0 shut)."""
    to_speaker, to_actor, mouth = [], [], []
    tracker = MediapipeFaceTracker(static=True)
    try:
        for i in sorted(sc.actor_of):
            face = tracker.track(frames[i])
            if face is not None:
                mouth.append(lips_apart(face.landmarks) / max(sc.actor_lips[i], 1e-3))
            try:
                e = identity.embedding(frames[i])
            except identity.NoFace:
                continue
            to_speaker.append(identity.distance(e, sc.speaker))
            to_actor.append(identity.distance(e, sc.actor_of[i]))
    finally:
        tracker.close()
    sampled = sorted(sc.actor_of)
    tracker = MediapipeFaceTracker(static=True)
    try:  # what the relay's in-call fitter would decide on, from the same frames
        own = criterion.score(
            [frames[i] for i in sampled], [sc.template.track.landmarks[i] for i in sampled], sc.reference, tracker
        )
    finally:
        tracker.close()
    return {
        "frames": len(to_speaker),
        "speaker": round(statistics.median(to_speaker), 3) if to_speaker else None,
        "actor": round(statistics.median(to_actor), 3) if to_actor else None,
        "mouth": round(statistics.median(mouth), 2) if mouth else None,
        "appearance": round(own.appearance, 4),
        "motion": round(own.motion, 4),
        "criterion_frames": own.frames,
        "criterion_mouth": None if np.isnan(own.mouth) else round(own.mouth, 3),
    }


def warp_ad(sc: Scene) -> dict[str, Any]:
    """The judged ad of the default `warp` backend with Hopper's best harvested face."""
    return judge(AdRenderer(sc.template).render(sc.best).frames, sc)


def export_model(net: FaceSwapNet, out: Path, steps: int, device: str) -> Path:
    """A model directory as `callbridge train` writes it (swap.onnx, model.json)."""
    out.mkdir(parents=True, exist_ok=True)
    export_onnx(net, out / "swap.onnx")
    meta = {"template": "default", "size": net.config.size, "steps": steps, "device": device}
    (out / "model.json").write_text(json.dumps(meta, indent=2))
    return out


def autoencoder_ad(net: FaceSwapNet, sc: Scene, out: Path, steps: int, device: str) -> dict[str, Any]:
    """The judged ad of the `autoencoder` backend with `net` exported as it stands."""
    swapper = TrainedSwapper(export_model(net, out, steps, device), device)
    return judge(AdRenderer(sc.template, swapper).render(sc.best).frames, sc)


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _median_rate(run: Callable[[], int], window_s: float, repeats: int) -> float:
    """Median over `repeats` windows of about `window_s` of the items per second `run` (one call) gets done."""
    rates = []
    for _ in range(repeats):
        done, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < window_s or done == 0:
            done += run()
        rates.append(done / elapsed)
    return statistics.median(rates)


def training_rate(
    config: AutoencoderConfig, a: Crops, b: Crops, device: str, batch: int, window_s: float, repeats: int = 3
) -> dict[str, Any]:
    """Optimiser steps per second (`batch` crops of each identity a step) after a short warm-up."""
    trainer = Trainer(FaceSwapNet(config), device)
    for _ in range(3):
        trainer.step(a, b, batch)  # float(loss) waits for the device, so every step is timed whole
    _sync(device)

    def run() -> int:
        trainer.step(a, b, batch)
        return 1

    rate = _median_rate(run, window_s, repeats)
    params = sum(p.numel() for p in trainer.net.parameters())
    return {"batch": batch, "steps_per_s": round(rate, 2), "params_m": round(params / 1e6, 2)}


def onnx_providers(path: Path, device: str) -> list[str]:
    """The providers ONNX Runtime really uses for the swap when onnx_swap is asked for `device`."""
    import onnxruntime as ort

    wanted = ["CUDAExecutionProvider"] if device in ("auto", "cuda") else []
    available = ort.get_available_providers()
    asked = [p for p in wanted if p in available] + ["CPUExecutionProvider"]
    return list(ort.InferenceSession(str(path), providers=asked).get_providers())


def inference_rate(
    path: Path, size: int, batches: tuple[int, ...], device: str, window_s: float, repeats: int = 3
) -> dict[str, float]:
    """Frames per second of the exported swap through onnx_swap, per batch size (random crops: speed only)."""
    swap = onnx_swap(path, device)
    rates = {}
    for batch in batches:
        x = np.random.default_rng(0).random((batch, 3, size, size), dtype=np.float32)

        def run(x: np.ndarray = x) -> int:
            swap(x)
            return len(x)

        for _ in range(5):
            run()
        rates[f"batch {batch}"] = round(_median_rate(run, window_s, repeats), 1)
    return rates
