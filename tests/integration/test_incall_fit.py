"""In-call fitting of the trained swap, tiny and on the CPU, with the real face mesh and the default template:
it starts once the bank has seen enough of the face, scores itself against warp with the criterion, hands on
only what beats it, and zeroes the person's weights and crops when closed."""

from __future__ import annotations

import time

import av
import numpy as np
import pytest
import torch

from adengine import FaceBank, MediapipeFaceTracker
from adengine.criterion import SwapScore
from adengine.fitting import FaceFitter, FitSettings
from adengine.trained import TrainedSwapper
from callbridge.config.services import Services
from callbridge.workers.pipeline import ParticipantPipeline
from tests.support import faces

pytestmark = pytest.mark.integration


def _feed(fitter: FaceFitter, n: int, seed: int = 0) -> None:
    """A moving webcam of Hopper at 15 fps, looked at 5 times a second, as the relay's face worker does."""
    bank = FaceBank("hopper", MediapipeFaceTracker(), consent=True, on_crop=fitter.add)
    try:
        for i, frame in enumerate(faces.animate(faces.hopper(), n, seed=seed)):
            bank.offer(frame, i / 15.0)
    finally:
        bank.clear()
        bank.tracker.close()


def test_it_fits_scores_against_warp_and_zeroes_everything_on_close(template):
    upgrades: list[tuple[TrainedSwapper, SwapScore]] = []
    settings = FitSettings(tiny=True, budget_s=40.0, check_every=40, batch=8)
    fitter = FaceFitter(template, settings, lambda s, score: upgrades.append((s, score)), _static)
    _feed(fitter, 30)  # 2 s of video: too little to start
    assert not fitter.running and fitter.steps == 0
    _feed(fitter, 6 * 15, seed=1)  # 6 s more
    assert fitter.running
    deadline = time.monotonic() + 120
    while len(fitter.checks) < 2 and time.monotonic() < deadline and fitter.running:
        time.sleep(0.5)
    assert fitter.baseline is not None and fitter.baseline.frames >= 6  # warp's face is found in the sampled frames
    assert len(fitter.checks) >= 2 and fitter.steps >= 80
    # only swaps that beat the best so far were handed on, each with its winning score
    best = fitter.baseline
    expected = []
    for score in fitter.checks:
        if score.beats(best):
            best = score
            expected.append(score)
    assert [score for _, score in upgrades] == expected
    trainer = fitter._trainer
    fitter.close()
    assert not fitter.running
    weights = list(trainer.net.parameters())
    moments = [v for state in trainer.optimiser.state.values() for v in state.values() if torch.is_tensor(v)]
    assert weights and all(float(w.detach().abs().max()) == 0.0 for w in weights + moments)
    assert fitter._train == [] and fitter._held_back == []


def test_an_upgrade_swaps_the_actors_face_for_the_persons(template):
    """The swap the fitter hands on is a working Swapper over the in-memory model."""
    settings = FitSettings(tiny=True, budget_s=30.0, check_every=20, batch=8)
    fitter = FaceFitter(template, settings, lambda s, _: None, _static)
    _feed(fitter, 8 * 15)
    deadline = time.monotonic() + 60
    while not fitter.checks and time.monotonic() < deadline:
        time.sleep(0.5)
    fitted = fitter._exported(fitter._trainer.net)
    face = max(fitter._train, key=lambda c: c.quality.score)
    swap = fitted.bind(face, template.track)
    frame = template.frames[10]
    out = swap(10, frame)
    fitter.close()
    changed = np.abs(out.astype(int) - frame.astype(int)).max(axis=2) > 8
    ys, xs = np.nonzero(changed)
    x0, x1 = template.track.landmarks[10][:, 0].min(), template.track.landmarks[10][:, 0].max()
    assert changed.sum() > 200 and x0 - 20 <= np.median(xs) <= x1 + 20  # the face changed, and only around it


def test_the_relay_pipeline_fits_upgrades_its_render_and_wipes_on_withdrawal(tmp_path):
    """A participant's pipeline with fitting on: the fitted swap replaces warp's render; withdrawal zeroes it."""
    services = Services(tmp_path / "data", fit="cpu")
    services.fit_settings = lambda template: FitSettings(tiny=True, budget_s=60.0, check_every=20, batch=8)
    pipeline = ParticipantPipeline("ana", True, services, on_speech=lambda *a: None)
    try:
        # once it holds a good face the face worker looks once a second: fitting starts after about 25 s
        video = faces.animate(faces.hopper(), 150)
        for i in range(45 * 15):
            frame = av.VideoFrame.from_ndarray(video[i % len(video)], format="rgb24")
            pipeline.feed_video(frame, i / 15.0)
            time.sleep(1 / 15.0)
            if pipeline._fitter is not None and pipeline._fitter.running:
                break
        fitter = pipeline._fitter
        assert fitter is not None and fitter.running
        deadline = time.monotonic() + 60
        while not fitter.checks and time.monotonic() < deadline:
            time.sleep(0.5)
        renderer = pipeline._renderers["default"]
        assert renderer.wait(30) is not None and renderer.swapper.name == "warp"
        trainer = fitter._trainer
        fitted = fitter._exported(trainer.net)
        pipeline._on_fitted("default", fitted, SwapScore(0.01, 0.01, 8))  # as if it had beaten warp
        assert renderer.swapper is fitted and renderer.wait(30) is not None
        assert pipeline.ad_media("default").personalised
        pipeline.set_consent(False)
        assert pipeline._fitter is None and pipeline._trained is None and not pipeline._renderers
        assert all(float(w.detach().abs().max()) == 0.0 for w in trainer.net.parameters())
        pipeline._on_fitted("default", fitted, SwapScore(0.01, 0.01, 8))  # a late hand-on after withdrawal
        assert not pipeline._renderers and pipeline._trained is None
    finally:
        pipeline.close()


def _static() -> MediapipeFaceTracker:
    return MediapipeFaceTracker(static=True)
