"""Fitting the trained swap for one participant during a call: a background job, in RAM only.

Once the face bank has seen enough usable crops over a few seconds, `FaceFitter` trains the
autoencoder's participant decoder (and the shared encoder, which starts from the template's
pretrained weights when there are some) on them. Every `check_every` steps it exports the
network to ONNX in memory, renders a few sampled ad frames, and scores them against `warp`'s
with `criterion`; only a clearly better swap is handed on. One crop in five is held back from
training, so the score compares against faces the network never saw. `close()` zeroes every
weight, crop and export; nothing is ever written to disk or logged.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adengine import criterion
from adengine.face import FaceTracker
from adengine.facebank import FaceCrop, crop_copy
from adengine.facebank import wipe as _wipe
from adengine.swapper import Swapper, WarpSwapper
from adengine.template import AdTemplate

log = logging.getLogger(__name__)
MIN_CROPS = 20  # usable crops before fitting starts
MIN_SPREAD_S = 3.0  # ... taken over at least this long: moments, not one frame twenty times
HOLD_BACK_EVERY = 5
MAX_CROPS = 300
SAMPLED_FRAMES = 8
Upgrade = Callable[[Swapper, criterion.SwapScore], None]


@dataclass(frozen=True)
class FitSettings:
    """How and where to fit: the network's size, the device, and how long to try."""

    device: str = "cpu"  # "cpu" (at nice 19, one thread) or "cuda"
    tiny: bool = False  # the tests' 32 px network
    budget_s: float = 600.0
    check_every: int = 200  # steps between scores
    batch: int = 16
    pretrained: dict[str, Any] | None = field(default=None, repr=False)  # encoder and decoder "a" weights


class FaceFitter:
    """One participant's trained swap, fitted in a thread of its own while the call goes on."""

    def __init__(
        self, template: AdTemplate, settings: FitSettings, on_better: Upgrade, make_tracker: Callable[[], FaceTracker]
    ) -> None:
        self.template = template
        self.settings = settings
        self._on_better = on_better
        self._make_tracker = make_tracker
        self._lock = threading.Lock()
        self._train: list[FaceCrop] = []  # copies, aligned on use; wiped on close
        self._held_back: list[np.ndarray] = []  # descriptors of crops never trained on
        self._first_t: float | None = None
        self._added = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._trainer: Any = None  # holds the person's weights and their optimiser moments
        self.checks: list[criterion.SwapScore] = []  # the trained swap's scores so far
        self.baseline: criterion.SwapScore | None = None  # warp's
        self.steps = 0
        self.upgrades = 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def add(self, crop: FaceCrop) -> None:
        """Take a copy of a kept crop; start fitting once there are enough in enough poses."""
        if self._stop.is_set():
            return
        copy = crop_copy(crop)
        with self._lock:
            if self._stop.is_set():  # closed while copying: close() has already wiped what it held
                _wipe(copy)
                return
            self._added += 1
            if self._added % HOLD_BACK_EVERY == 0:
                d = criterion.descriptor(copy.image, copy.landmarks)
                _wipe(copy)
                if d is not None:
                    self._held_back.append(d)
            else:
                self._train.append(copy)
                if len(self._train) > MAX_CROPS:
                    _wipe(self._train.pop(0))
            self._first_t = crop.timestamp_s if self._first_t is None else self._first_t
            spread = crop.timestamp_s - self._first_t
            ready = len(self._train) >= MIN_CROPS and spread >= MIN_SPREAD_S and self._held_back
            start = ready and self._thread is None
            if start:
                self._thread = threading.Thread(target=self._run, name="face-fit", daemon=True)
        if start and self._thread is not None:
            self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop, then zero the network's weights and every crop (leave, or withdrawn consent)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._lock:
            for crop in self._train:
                _wipe(crop)
            for d in self._held_back:
                d.fill(0)
            self._train, self._held_back = [], []
            trainer, self._trainer = self._trainer, None
        if trainer is not None:
            _zero(trainer)

    def _run(self) -> None:
        try:
            self._fit()
        except Exception:
            log.exception("fitting the trained swap failed; warp stays")
        finally:
            self._stop.set()

    def _fit(self) -> None:
        import torch

        from models.faceswap import AutoencoderConfig, FaceSwapNet, Trainer

        settings = self.settings
        if settings.device == "cpu":
            _lower_priority()
            torch.set_num_threads(1)
        config = AutoencoderConfig.tiny() if settings.tiny else AutoencoderConfig()
        net = FaceSwapNet(config)
        if settings.pretrained is not None and not settings.tiny:  # pretrained for the default network only
            net.load_state_dict(settings.pretrained, strict=False)
        trainer = Trainer(net, settings.device)
        with self._lock:
            if self._stop.is_set():
                _zero(trainer)
                return
            self._trainer = trainer
        actor = _actor_tensors(self.template, config.size)
        sampled = np.linspace(0, len(self.template.frames) - 1, SAMPLED_FRAMES).round().astype(int).tolist()
        tracker = self._make_tracker()
        try:
            self.baseline = self._score(WarpSwapper(), sampled, tracker)
            best = self.baseline
            deadline = time.monotonic() + settings.budget_s
            while not self._stop.is_set() and time.monotonic() < deadline:
                person = self._person_tensors(config.size)
                for _ in range(settings.check_every):
                    if self._stop.is_set():
                        return
                    trainer.step(actor, person, batch=settings.batch)
                    self.steps = trainer.steps
                swapper = self._exported(net)
                scored = self._score(swapper, sampled, tracker)
                self.checks.append(scored)
                if scored.beats(best) and not self._stop.is_set():
                    best = scored
                    self.upgrades += 1
                    self._on_better(swapper, scored)
        finally:
            tracker.close()

    def _score(self, swapper: Swapper, sampled: list[int], tracker: FaceTracker) -> criterion.SwapScore:
        with self._lock:
            face = max(self._train, key=lambda c: c.quality.score)
            reference = np.mean(self._held_back, axis=0)
        swap = swapper.bind(face, self.template.track)
        frames = [swap(i, self.template.frames[i]) for i in sampled]
        actor = [self.template.track.landmarks[i] for i in sampled]
        try:
            return criterion.score(frames, actor, reference / max(1e-6, float(np.linalg.norm(reference))), tracker)
        finally:
            for frame in frames:
                frame.fill(0)

    def _person_tensors(self, size: int) -> tuple[Any, Any]:
        from models.faceswap.align import aligned, as_tensors

        with self._lock:
            crops = list(self._train)
        pairs = [aligned(np.asarray(c.image), c.landmarks, size) for c in crops]
        return as_tensors([p[0] for p in pairs], [p[1] for p in pairs])

    def _exported(self, net: Any) -> Swapper:
        from adengine.trained import TrainedSwapper
        from models.faceswap import export_onnx, onnx_swap

        buffer = io.BytesIO()
        export_onnx(net, buffer)
        run = onnx_swap(buffer.getvalue(), self.settings.device)
        buffer.seek(0)
        buffer.write(bytes(buffer.getbuffer().nbytes))  # the export held this person's weights
        return TrainedSwapper.from_run(run, net.config.size)


def _actor_tensors(template: AdTemplate, size: int) -> tuple[Any, Any]:
    from models.faceswap.align import aligned, as_tensors

    pairs = [aligned(frame, template.track.landmarks[i], size) for i, frame in enumerate(template.frames)]
    return as_tensors([p[0] for p in pairs], [p[1] for p in pairs])


def _lower_priority() -> None:
    """The fit must never take CPU the call needs: this thread (and torch's, which inherit) at nice 19."""
    import os

    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, 19)
    except (OSError, AttributeError):
        log.debug("cannot lower the fitting thread's priority")


def _zero(trainer: Any) -> None:
    """Overwrite the weights and the optimiser's moments (both learnt from the person's face)."""
    import torch

    with torch.no_grad():
        for tensor in list(trainer.net.parameters()) + list(trainer.net.buffers()):
            tensor.zero_()
        for state in trainer.optimiser.state.values():
            for value in state.values():
                if isinstance(value, torch.Tensor):
                    value.zero_()
