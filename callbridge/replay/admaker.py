"""A replay's ads, made one after another on a thread of their own as their faces become known.

Each ad is handed to the pictures as soon as its render starts, and streams to them frame by
frame: the encoder never waits for a whole ad. The renders show a face, so `close()` zeroes them.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future

from adengine import AdRenderer, AdTemplate
from adengine.encode import resample_audio
from callbridge.config.services import PLAIN_LABEL
from callbridge.replay.analysis import Faces
from callbridge.replay.compose import AdFootage, PendingAd
from callbridge.replay.plan import AdSegment

RATE = 48000


class AdMaker:
    """Makes the footage of `segments` in order: the speaker's face held at the start, else the fallback."""

    def __init__(self, template_of: Callable[[str], AdTemplate], faces: Mapping[str, Faces], notes: list[str]) -> None:
        self._template_of, self._faces, self._notes = template_of, faces, notes
        self._renderers: list[AdRenderer] = []
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None  # a render that failed after its footage was handed over

    def start(self, segments: Sequence[AdSegment]) -> list[PendingAd]:
        ads = [PendingAd(s, Future()) for s in segments]
        self._thread = threading.Thread(target=self._run, args=(ads,), name="replay-ads", daemon=True)
        self._thread.start()
        return ads

    def close(self) -> None:
        """Stop (an unfinished ad fails whoever waits for it), then zero every render."""
        self._stopping = True
        for renderer in list(self._renderers):
            renderer.clear()
        if self._thread is not None:
            self._thread.join()
        for renderer in self._renderers:
            renderer.clear()

    def _run(self, ads: list[PendingAd]) -> None:
        for ad in ads:
            if self._stopping:
                ad.footage.set_exception(RuntimeError("the replay stopped"))
                continue
            try:
                footage, renderer = self._make(ad.segment)
            except BaseException as exc:
                ad.footage.set_exception(exc)
                continue
            ad.footage.set_result(footage)
            if renderer is not None:  # one render at a time, in the order they play
                try:
                    renderer.wait()
                except BaseException as exc:
                    self.error = self.error or exc

    def _make(self, segment: AdSegment) -> tuple[AdFootage | None, AdRenderer | None]:
        template = self._template_of(segment.template)
        face = self._faces[segment.participant].at(segment.start_s)
        clip = template.clip
        audio = None if clip.audio is None else resample_audio(clip.audio, clip.sample_rate or RATE, RATE)
        if face is not None:
            renderer = AdRenderer(template)
            self._renderers.append(renderer)
            renderer.offer(face)
            personalised = dataclasses.replace(segment, personalised=True)
            return AdFootage(personalised, renderer.stream(), template.fps, audio), renderer
        if template.meta.fallback == "plain":
            self._notes.append(
                f"no usable face before {segment.start_s:.1f} s: the plain {segment.template!r} ad plays"
            )
            plain = (PLAIN_LABEL.apply(f) for f in template.frames)
            return AdFootage(segment, plain, template.fps, audio), None
        self._notes.append(
            f"no usable face before {segment.start_s:.1f} s and {segment.template!r} has no plain fallback"
        )
        return None, None
