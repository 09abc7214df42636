"""Withdrawn consent racing the face worker, the renderer and the ad break: nothing of the face is kept
or aired after the withdrawal. A participant's real pipeline (ParticipantPipeline) over scripted
trackers, swaps and templates, and real AdBreaks into real Programs on a virtual clock."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import dataclass

import av
import numpy as np
import pytest

import adengine.facebank as facebank
import callbridge.workers.pipeline as pipeline_module
from adengine.criterion import SwapScore
from adengine.face import N_LANDMARKS, Face, HeadPose
from adengine.facebank import FaceBank
from adengine.media import Clip
from adengine.renderer import AdRenderer
from adengine.template import AdTemplate, TemplateMeta
from callbridge.config.campaign import Campaign, PhraseRule, TemplateRecord
from callbridge.media.adbreak import AdBreak, AdMedia
from callbridge.media.tracks import Program
from callbridge.workers.pipeline import ParticipantPipeline
from tests.support.clock import JumpingClock
from tests.unit.test_facework import good_quality

FACE_VALUE = 200  # the scripted swap paints the whole ad frame with the face's first pixel


class GatedTracker:
    """Finds one frontal face in every frame; while `hold` is set, waits in `track` until released."""

    def __init__(self) -> None:
        self.hold = False
        self.inside = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def track(self, frame: np.ndarray, timestamp_s: float | None = None) -> Face | None:
        self.calls += 1
        if self.hold:
            self.inside.set()
            assert self.release.wait(5)
        landmarks = np.random.default_rng(0).uniform((50, 30), (110, 90), (N_LANDMARKS, 2)).astype(np.float32)
        return Face(box=(50.0, 30.0, 60.0, 60.0), landmarks=landmarks, pose=HeadPose(0.0, 0.0, 0.0), confidence=0.9)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


class PaintSwapper:
    """Paints every ad frame with the face's first pixel; can be held at a frame while rendering."""

    name = "paint"

    def __init__(self) -> None:
        self.hold_at: int | None = None
        self.reached = threading.Event()
        self.release = threading.Event()

    def bind(self, face, track):
        value = int(face.image[0, 0, 0])

        def swap(i: int, frame: np.ndarray) -> np.ndarray:
            if i == self.hold_at:
                self.reached.set()
                self.release.wait(5)
            return np.full_like(frame, value)

        return swap


def _template(n: int = 20) -> AdTemplate:
    meta = TemplateMeta("t", "T", "", (), 8.0, "CC0", fallback="none")
    clip = Clip([np.zeros((48, 64, 3), np.uint8) for _ in range(n)], 10.0, None, None)
    return AdTemplate(meta, clip, track=None, clip_sha256="0")  # type: ignore[arg-type]


@dataclass
class Pool:
    released: int = 0

    def acquire(self) -> object:
        return object()

    def release(self, recognizer: object) -> None:
        self.released += 1


class FakeStore:
    def campaign(self) -> Campaign:
        record = TemplateRecord(name="t", status="ready", revision=1)
        return Campaign([PhraseRule("dinner tonight", "t")], [record], revision=1)


class FakeServices:
    def __init__(self) -> None:
        self.recognizers = Pool()
        self.store = FakeStore()
        self.the_template = _template()

    def template(self, name: str) -> AdTemplate:
        return self.the_template

    def fit_settings(self, template: AdTemplate) -> None:
        return None


@pytest.fixture
def made(monkeypatch):
    """A pipeline with consent whose tracker, swap and quality are scripted; closed after the test."""
    monkeypatch.setattr(facebank, "assess_quality", good_quality)
    tracker, swapper = GatedTracker(), PaintSwapper()
    monkeypatch.setattr(pipeline_module, "MediapipeFaceTracker", lambda: tracker)
    monkeypatch.setattr(
        pipeline_module, "AdRenderer", lambda template, trained, fallback: AdRenderer(template, swapper)
    )
    news: list[float | None] = []
    pipeline = ParticipantPipeline("ana", True, FakeServices(), on_speech=lambda *a: None, on_face=news.append)  # type: ignore[arg-type]
    yield pipeline, tracker, swapper, news
    pipeline.close()


def face_frame(value: int = FACE_VALUE) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.full((120, 160, 3), value, np.uint8), format="rgb24")


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_crop_tracked_during_a_withdrawal_is_not_kept_even_when_consent_comes_back(made):
    pipeline, tracker, _, news = made
    tracker.hold = True
    pipeline.feed_video(face_frame(), 0.0)
    assert tracker.inside.wait(5)  # the face worker is tracking this frame now
    pipeline.set_consent(False)
    pipeline.set_consent(True)  # and given again at once: the frame in the tracker predates it
    tracker.release.set()
    time.sleep(0.3)  # what the worker does with its frame, it has done
    bank = pipeline.faces.bank
    assert len(bank) == 0 and bank.best() is None
    assert not pipeline._faces_held and pipeline._best is None and not pipeline._renderers
    assert [n for n in news if n is not None] == []


def test_withdrawal_during_the_bank_offer_itself_wipes_the_crop(monkeypatch):
    """FaceBank alone: the wipe comes between tracking and keeping; the crop made is zeroed."""
    monkeypatch.setattr(facebank, "assess_quality", good_quality)
    tracker = GatedTracker()
    handed: list = []
    bank = FaceBank("ana", tracker, consent=True, on_crop=handed.append)
    tracker.hold = True
    frame = np.full((120, 160, 3), FACE_VALUE, np.uint8)
    result: list = []
    worker = threading.Thread(target=lambda: result.append(bank.offer(frame, 0.0)))
    worker.start()
    assert tracker.inside.wait(5)
    bank.withdraw_consent()
    bank.grant_consent()
    tracker.release.set()
    worker.join(5)
    assert result == [None] and len(bank) == 0 and handed == []
    tracker.hold = False
    kept = bank.offer(frame, 1.0)  # the next frame, after consent was given again, is kept
    assert kept is not None and kept.generation == bank.generation and len(bank) == 1


def test_a_late_face_from_before_a_withdrawal_starts_no_render(made):
    pipeline, tracker, _, news = made
    pipeline.feed_video(face_frame(), 0.0)
    wait_until(lambda: pipeline._best is not None)
    old = pipeline.faces.bank.best()
    assert old is not None
    pipeline.set_consent(False)
    pipeline.set_consent(True)
    pipeline._on_face(old)  # the worker's hand-over of a face from before the withdrawal, arriving late
    assert not pipeline._renderers and pipeline._best is None and not pipeline._faces_held
    assert news[-1] is None


def test_a_swap_fitted_before_a_withdrawal_is_dropped_after_consent_comes_back(made):
    pipeline, *_ = made
    epoch = pipeline._epoch
    pipeline.set_consent(False)
    pipeline.set_consent(True)
    pipeline._on_fitted("t", PaintSwapper(), SwapScore(0.01, 0.01, 8), epoch=epoch)
    assert pipeline._trained is None


async def _play(ad: AdBreak, video: Program, on_frame=None) -> list[np.ndarray]:
    """Play `ad` into a subscribed program; the RGB of every ad frame that went out."""
    track = video.subscribe()
    got: list[np.ndarray] = []
    real_inject = video.inject

    def inject(frame):
        real_inject(frame)
        got.append(frame.to_ndarray(format="rgb24"))
        if on_frame is not None:
            on_frame(len(got))

    video.inject = inject  # type: ignore[method-assign]
    await asyncio.wait_for(ad.play(lambda t: None), 10.0)
    track.stop()
    return got


def _programs() -> tuple[Program, Program]:
    video, audio = Program("video"), Program("audio")
    video.live(av.VideoFrame.from_ndarray(np.full((48, 64, 3), 7, np.uint8), format="rgb24"))
    return video, audio


def test_withdrawal_between_the_trigger_and_airing_airs_nothing(made):
    pipeline, _, swapper, _ = made
    pipeline.feed_video(face_frame(), 0.0)
    wait_until(lambda: pipeline._renderers.get("t") is not None and pipeline._renderers["t"].ready)
    media = pipeline.ad_media("t")
    assert media is not None and media.personalised and media.allowed is not None
    video, audio = _programs()
    ad = AdBreak(media, video, audio, clock=JumpingClock())
    assert ad.prepare()  # the first frame, made from the face, is ready to go on air
    pipeline.set_consent(False)
    got = asyncio.run(_play(ad, video))
    assert got == [] and ad.first_frame_t is None and ad.cancelled
    assert not video.on_air and not audio.on_air


def test_withdrawal_mid_ad_stops_it_at_once(made):
    pipeline, *_ = made
    pipeline.feed_video(face_frame(), 0.0)
    wait_until(lambda: pipeline._renderers.get("t") is not None and pipeline._renderers["t"].ready)
    media = pipeline.ad_media("t")
    assert media is not None
    video, audio = _programs()
    ad = AdBreak(media, video, audio, clock=JumpingClock())
    withdrawn_after: list[int] = []

    def on_frame(n: int) -> None:
        if n == 3 and not withdrawn_after:
            withdrawn_after.append(n)
            pipeline.set_consent(False)  # nobody told the break: it finds out itself

    got = asyncio.run(_play(ad, video, on_frame))
    assert withdrawn_after == [3] and len(got) == 3, "no frame after the withdrawal"
    assert ad.cancelled and not video.on_air and not audio.on_air
    assert all(int(np.median(f)) > 150 for f in got)  # those three were the face's frames


def test_withdrawal_during_a_render_stops_the_stream_and_what_was_rendered_is_zeroed(made):
    pipeline, _, swapper, _ = made
    swapper.hold_at = 8
    pipeline.feed_video(face_frame(), 0.0)
    wait_until(swapper.reached.is_set)  # rendering, 8 frames made
    renderer = pipeline._renderers["t"]
    made_so_far = list(renderer._job.frames)
    epoch = pipeline._epoch
    media = AdMedia("t", renderer.stream(), 10.0, 20, None, None, True, allowed=lambda: pipeline.airing_allowed(epoch))
    video, audio = _programs()
    ad = AdBreak(media, video, audio, clock=JumpingClock())

    def on_frame(n: int) -> None:
        if n == 2:
            pipeline.set_consent(False)
            swapper.release.set()  # the render thread goes on to the next frame, after the wipe

    got = asyncio.run(_play(ad, video, on_frame))
    assert len(got) == 2 and ad.cancelled
    assert made_so_far and all(not f.any() for f in made_so_far)
    time.sleep(0.2)
    assert renderer._job is None and not pipeline._renderers


def test_consent_granted_again_does_not_revive_an_ad_chosen_before_the_withdrawal(made):
    pipeline, *_ = made
    pipeline.feed_video(face_frame(), 0.0)
    wait_until(lambda: pipeline._renderers.get("t") is not None and pipeline._renderers["t"].ready)
    media = pipeline.ad_media("t")
    assert media is not None and media.allowed is not None and media.allowed()
    pipeline.set_consent(False)
    pipeline.set_consent(True)
    assert not media.allowed()
    pipeline.close()
    assert not media.allowed()


def test_a_plain_ad_is_not_stopped_by_consent():
    frames = itertools.repeat(np.full((48, 64, 3), 50, np.uint8))
    media = AdMedia("t", frames, 10.0, 15, None, None, personalised=False)
    video, audio = _programs()
    ad = AdBreak(media, video, audio, clock=JumpingClock())
    got = asyncio.run(_play(ad, video))
    assert len(got) == 15 and not ad.cancelled


def test_a_crop_reaching_the_fitter_as_it_closes_is_wiped_not_kept(monkeypatch):
    """The in-call fitter closed (withdrawal) while it was copying a crop: the copy is zeroed, not trained on."""
    import adengine.fitting as fitting
    from adengine.facebank import crop_copy
    from adengine.fitting import FaceFitter, FitSettings

    fitter = FaceFitter(_template(), FitSettings(tiny=True), lambda s, score: None, GatedTracker)  # type: ignore[arg-type]
    copies = []

    def copy_while_closing(crop):
        fitter.close()  # the withdrawal lands while the crop is being copied
        copies.append(crop_copy(crop))
        return copies[-1]

    monkeypatch.setattr(fitting, "crop_copy", copy_while_closing)
    tracker, frame = GatedTracker(), np.full((120, 160, 3), FACE_VALUE, np.uint8)
    monkeypatch.setattr(facebank, "assess_quality", good_quality)
    crop = FaceBank("ana", tracker, consent=True).offer(frame, 0.0)
    assert crop is not None
    fitter.add(crop)
    assert fitter._train == [] and fitter._added == 0
    assert copies and not copies[0].image.any() and not copies[0].landmarks.any()
