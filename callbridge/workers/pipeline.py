"""Everything the relay does with one participant's media, apart from WebRTC.

Audio goes to the trigger engine; with consent, video goes to the face bank,
whose best face is pre-rendered into each campaign template in the background,
so that an ad is ready before the phrase is even finished. All face data lives
here, in RAM, and `close()` (leave, disconnect) or withdrawn consent wipes it.

While the relay is busy (workers/load.py), a face is pre-rendered only into the
template likeliest to play: the one this participant's last ad played, else the
campaign's first live phrase's. The others wait until the relay is calm again.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable

import av
import numpy as np

from adengine import BETTER_BY, AdRenderer, FaceBank, FaceCrop, MediapipeFaceTracker, RenderedAd, wipe
from adengine.criterion import SwapScore
from adengine.facebank import crop_copy
from adengine.fitting import FaceFitter
from adengine.swapper import Swapper, WarpSwapper
from callbridge.config.campaign import Campaign
from callbridge.config.services import PLAIN_LABEL, Services
from callbridge.media.adbreak import MAX_AD_S, AdMedia
from callbridge.workers.faces import FaceWorker
from callbridge.workers.load import THROTTLE, Throttle
from triggers import Phrase, TriggerEngine
from triggers.worker import SpeechSink, SpeechWorker

log = logging.getLogger(__name__)
# A render just begun is worth waiting this long for rather than showing the plain ad.
READY_WAIT_S = 1.0
# Audio arrives every 20 ms in a call, and the engine takes new phrases with the next chunk.
PHRASES_WAIT_S = 0.5
# Consent epochs, unique in the process: a withdrawal or a close starts a new one, and anything
# made from the face before it (an ad about to air, a fitted swap handed on late) is void.
_EPOCHS = itertools.count(1)


class ParticipantPipeline:
    """Speech, faces and ad renders of one participant."""

    def __init__(
        self,
        name: str,
        consent: bool,
        services: Services,
        on_speech: SpeechSink,
        on_face: Callable[[float | None], None] = lambda quality: None,
        throttle: Throttle = THROTTLE,
    ) -> None:
        self.name = name
        self._throttle = throttle
        self._face_news = on_face  # quality of the face now held, or None once wiped
        self._services = services
        self._recognizer = services.recognizers.acquire()
        self._lock = threading.Lock()
        self._renderers: dict[str, AdRenderer] = {}
        self._faces_held: list[FaceCrop] = []  # copies handed to renderers; wiped on close
        self._previous: dict[str, RenderedAd] = {}  # the last finished render, while a better one renders
        self._retired: list[tuple[float, AdRenderer]] = []  # renders of changed templates; an ad may still play one
        self._best: FaceCrop | None = None  # the latest face offered to the renderers (a copy in _faces_held)
        self._rendering = threading.RLock()  # the face worker and campaign changes both start renders
        self._closed = False  # set before the wipe: a render started late must not keep a face
        campaign = services.store.campaign()
        self._templates = campaign.live_templates()  # name -> revision of its last change
        # likeliest to play until this participant has triggered an ad: the first live phrase's
        self._lead = next((r.template for r in campaign.live_rules()), None)
        self._last_played: str | None = None
        self._put_off = False  # a pre-render was skipped while busy: done once the relay is calm
        self._fitter: FaceFitter | None = None  # the trained swap being fitted in RAM, for one template
        self._fit_checked = False  # whether fitting is on has been decided
        self._trained: tuple[str, Swapper] | None = None  # (template, swap) once it beat warp
        self._epoch = next(_EPOCHS)  # changes at every withdrawal and at close, before anything is wiped
        try:
            self.speech = SpeechWorker(self._make_engine, on_speech, name=f"speech-{name}")
            try:
                self.faces = FaceWorker(self._make_bank, self._on_face, name=f"faces-{name}", throttle=throttle)
                self.faces.set_consent(consent)
            except BaseException:
                self.speech.close()  # a face worker that cannot start must not leave the speech thread running
                raise
        except BaseException:
            services.recognizers.release(self._recognizer)
            raise
        throttle.subscribe(self)

    @property
    def consent(self) -> bool:
        return self.faces.consent

    def feed_audio(self, frame: av.AudioFrame, received_t: float) -> None:
        self.speech.push(frame, received_t)

    def feed_video(self, frame: av.VideoFrame, received_t: float) -> None:
        self.faces.offer(frame, received_t)

    def set_consent(self, consent: bool) -> None:
        if not consent:
            self._epoch = next(_EPOCHS)  # first: an ad of this face checks it before every frame it airs
        self.faces.set_consent(consent)
        if not consent:
            had = self._wipe_renders()
            if had:
                self._face_news(None)

    def airing_allowed(self, epoch: int) -> bool:
        """True while nothing has withdrawn (or closed) since `epoch`: a personalised frame may still air."""
        return epoch == self._epoch and not self._closed

    def set_campaign(self, campaign: Campaign) -> None:
        """Listen for the new phrases; render new or changed templates with the face already held."""
        self.speech.set_phrases(engine_phrases(campaign), wait_s=PHRASES_WAIT_S)
        templates = campaign.live_templates()
        now = time.monotonic()
        with self._rendering, self._lock:
            changed = [n for n in self._renderers if templates.get(n) != self._templates.get(n)]
            for name in changed:
                self._retired.append((now, self._renderers.pop(name)))
                self._previous.pop(name, None)
            self._templates = templates
            self._lead = next((r.template for r in campaign.live_rules()), None)
            # an ad plays at most MAX_AD_S: a render retired longer ago than that plays nowhere
            old = [r for t, r in self._retired if now - t > MAX_AD_S + 1.0]
            self._retired = [(t, r) for t, r in self._retired if now - t <= MAX_AD_S + 1.0]
        for renderer in old:
            renderer.clear()
        self._render_again()

    def on_calm(self) -> None:
        """The relay is calm again: render the templates put off while it was busy (returns at once)."""
        if self._put_off:
            self._render_again()

    def _render_again(self) -> None:
        best = self._best
        if best is not None and self.consent:  # loading a new template takes a while: not on the caller's time
            threading.Thread(target=self._on_face, args=(best,), name=f"prerender-{self.name}", daemon=True).start()

    def ad_media(self, template_name: str) -> AdMedia | None:
        """What to play for a trigger: this person's render, else the template's fallback."""
        epoch = self._epoch  # before looking at any render: a withdrawal from now on voids this ad
        template = self._services.template(template_name)
        self._last_played = template_name  # the likeliest to play next while busy
        meta = template.meta
        renderer = self._renderers.get(template_name) if self.consent else None
        previous = self._previous.get(template_name) if self.consent else None
        if renderer is not None and _ready_soon(renderer, 0.0 if previous else READY_WAIT_S):
            frames: Iterable[np.ndarray] = renderer.stream()
            personalised, label = True, renderer.label
        elif previous is not None and renderer is not None:  # a better face is rendering: play the last finished one
            frames, personalised, label = previous.frames, True, renderer.label
        elif meta.fallback == "plain":
            label = PLAIN_LABEL
            log.info("%s: plain %r ad (%s)", self.name, template_name, self._why_plain(renderer))
            frames = self._services.plain_frames(template_name)
            personalised = False
        else:
            return None
        clip = template.clip
        return AdMedia(
            template=template_name,
            frames=frames,
            fps=clip.fps,
            frame_count=len(clip.frames),
            audio=clip.audio,
            sample_rate=clip.sample_rate,
            personalised=personalised,
            title=meta.title,
            tagline=meta.tagline,
            label=label,
            allowed=functools.partial(self.airing_allowed, epoch) if personalised else None,
        )

    def _why_plain(self, renderer: AdRenderer | None) -> str:
        if not self.consent:
            return "no consent"
        if renderer is None:
            return "no usable face yet: " + self.faces.bank.coverage().summary()
        return "the render is not far enough ahead yet"

    def close(self) -> None:
        """Stop the workers and wipe every face, crop and render of this participant."""
        with self._lock:
            self._closed = True
            self._epoch = next(_EPOCHS)
        self._throttle.unsubscribe(self)
        try:
            self.speech.close()
            self.faces.close()
        finally:
            self._wipe_renders()
            self._services.recognizers.release(self._recognizer)

    def _make_engine(self) -> TriggerEngine:
        return TriggerEngine(engine_phrases(self._services.store.campaign()), self._recognizer, participant=self.name)

    def _make_bank(self) -> FaceBank:
        return FaceBank(self.name, MediapipeFaceTracker(), on_crop=self._on_crop)

    def _on_face(self, best: FaceCrop) -> None:
        """Pre-render every campaign template (the likeliest only, while busy) with a private copy of the best face."""
        if best is not self._best and not self._harvested_now(best):
            return  # a face from before a withdrawal (or from a face bank since replaced)
        with self._rendering:
            names = list(self._templates)
            if self._throttle.busy:
                likely = self.likeliest_template()
                self._put_off = any(name != likely for name in names)
                names = [name for name in names if name == likely]
            else:
                self._put_off = False
            for name in names:
                self._prerender(name, best)

    def likeliest_template(self) -> str | None:
        """The template this participant's last ad played, else the campaign's lead (its first live phrase's)."""
        if self._last_played in self._templates:
            return self._last_played
        return self._lead if self._lead in self._templates else next(iter(self._templates), None)

    def _on_crop(self, crop: FaceCrop) -> None:
        if not self._harvested_now(crop):
            return  # tracked before a withdrawal: never handed to a fitter made after it
        fitter = self._fitter_now()
        if fitter is not None:
            fitter.add(crop)  # a fitter closed meanwhile refuses it

    def _harvested_now(self, crop: FaceCrop) -> bool:
        """True when `crop` comes from the face bank as it is now (no wipe since it was tracked)."""
        return not self._closed and self.consent and crop.generation == self.faces.bank.generation

    def _fitter_now(self) -> FaceFitter | None:
        """The fitter of this participant's trained swap, made at the first kept crop if fitting is on."""
        with self._lock:
            if self._fit_checked or self._closed:
                return self._fitter
            self._fit_checked = True
            names = list(self._templates)
            epoch = self._epoch
        if not names:
            return None
        try:
            template = self._services.template(names[0])
            settings = self._services.fit_settings(template)
        except Exception:
            log.exception("in-call fitting cannot start; warp stays")
            return None
        if settings is None:
            return None
        on_better = functools.partial(self._on_fitted, names[0], epoch=epoch)
        fitter = FaceFitter(template, settings, on_better, _static_tracker)
        with self._lock:
            if self._closed or not self.consent or self._fitter is not None or epoch != self._epoch:
                fitter.close()
                return self._fitter
            self._fitter = fitter
        return fitter

    def _on_fitted(self, name: str, swapper: Swapper, score: SwapScore, epoch: int | None = None) -> None:
        """The trained swap beat warp on the criterion: render this template's ad with it.

        `epoch` is the consent epoch the fitter was made in: a swap fitted before a withdrawal is
        dropped, even when consent has been given again since.
        """
        with self._rendering:
            with self._lock:
                if self._closed or not self.consent or (epoch is not None and epoch != self._epoch):
                    return
                self._trained = (name, swapper)
                renderer = self._renderers.get(name)
            if renderer is None:
                return
            finished = renderer.wait(0) if renderer.ready else None
            if renderer.upgrade(swapper):
                if finished is not None:
                    self._previous[name] = finished
                log.info(
                    "%s: the trained swap beats warp for %r (appearance %.3f, motion %.3f); re-rendering",
                    self.name,
                    name,
                    score.appearance,
                    score.motion,
                )

    def _prerender(self, name: str, best: FaceCrop) -> None:
        renderer = self._renderer(name)
        if renderer is None:
            return
        current = renderer.wait(0) if renderer.ready else None
        if current is not None and best.quality.score < current.face_quality + BETTER_BY:
            return
        copy = crop_copy(best)
        with self._lock:
            # Checked, started and held in one step: a withdrawal either comes before (and the face
            # is dropped here) or after (and its wipe finds the copy and the render).
            live = (
                not self._closed
                and self.consent
                and self._renderers.get(name) is renderer
                and (best is self._best or best.generation == self.faces.bank.generation)
            )
            finished = renderer.wait(0) if live and renderer.ready else None
            started = live and renderer.offer(copy)
            if started:
                if finished is not None:
                    self._previous[name] = finished
                self._faces_held.append(copy)
                self._best = copy
                self._face_news(copy.quality.score)  # in order with a withdrawal's "no face"
        if not started:
            wipe(copy)
            return
        log.info("%s: pre-rendering %r with a face of quality %.2f", self.name, name, copy.quality.score)

    def _renderer(self, name: str) -> AdRenderer | None:
        with self._lock:
            if self._closed:
                return None
            if name in self._renderers:
                return self._renderers[name]
        try:
            template = self._services.template(name)  # may read and track a clip: not under the lock
        except Exception:
            log.exception("template %r cannot be rendered", name)
            return None
        with self._lock:
            if self._closed:
                return None
            if name not in self._renderers:
                trained = self._trained[1] if self._trained is not None and self._trained[0] == name else None
                # a render that fails is restarted once; a failing trained swap falls back to warp
                self._renderers[name] = AdRenderer(template, trained, fallback=WarpSwapper())
            return self._renderers[name]

    def _wipe_renders(self) -> bool:
        with self._lock:
            renderers, self._renderers = list(self._renderers.values()), {}
            renderers += [r for _, r in self._retired]
            self._retired, self._best = [], None
            held, self._faces_held = self._faces_held, []
            previous, self._previous = list(self._previous.values()), {}
            fitter, self._fitter, self._trained, self._fit_checked = self._fitter, None, None, False
        if fitter is not None:
            fitter.close()
        for ad in previous:
            for frame in ad.frames:
                frame.fill(0)
        for renderer in renderers:
            renderer.clear()
        for crop in held:
            wipe(crop)
        return bool(held)


def engine_phrases(campaign: Campaign) -> list[Phrase]:
    """The phrases a trigger engine listens for, each with its cooldown."""
    return [Phrase.parse(r.phrase, r.cooldown_s) for r in campaign.live_rules()]


def _static_tracker() -> MediapipeFaceTracker:
    return MediapipeFaceTracker(static=True)


def _ready_soon(renderer: AdRenderer, wait_s: float = READY_WAIT_S) -> bool:
    """True when the render can be played now, or can after a short wait."""
    deadline = time.monotonic() + wait_s
    while not renderer.can_stream():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True
