"""What every room shares: recognisers, templates, the campaign store."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adengine import AdTemplate, DisclosureLabel, MediapipeFaceTracker, TemplateError, TemplateLibrary
from adengine.fitting import FitSettings
from callbridge.config import phrase_check
from callbridge.config.campaign import Campaign, CampaignError, TemplateRecord
from callbridge.config.pretrained import load_pretrained, resolve_fit_device
from callbridge.config.store import LogWriteError, Store
from callbridge.ingest import resolve_inside
from models.registry import ModelError, check_models
from triggers import WhisperRecognizer

log = logging.getLogger(__name__)
PLAIN_LABEL = DisclosureLabel(text="advertisement")  # the plain template shows nobody's face


class StartError(ValueError):
    """The relay cannot start as asked; the message names the fix."""


class RecognizerPool:
    """Whisper recognisers, one per speaking participant (each serves one caller at a time)."""

    def __init__(self, factory: Callable[[], WhisperRecognizer]) -> None:
        self._factory = factory
        self._idle: list[WhisperRecognizer] = []
        self._lock = threading.Lock()

    def warm(self) -> None:
        self.release(self._factory())

    def acquire(self) -> WhisperRecognizer:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._factory()

    def release(self, recognizer: WhisperRecognizer) -> None:
        with self._lock:
            self._idle.append(recognizer)


@dataclass
class Services:
    data_dir: Path
    model: str = "tiny.en"
    device: str = "auto"
    fit: str = "off"  # in-call fitting of the trained swap: off, auto (CUDA when present), cpu, cuda
    store: Store = field(init=False)
    templates: TemplateLibrary = field(init=False)
    recognizers: RecognizerPool = field(init=False)
    _plain: dict[str, list[np.ndarray]] = field(default_factory=dict, init=False)
    _opened: dict[str, tuple[int, AdTemplate]] = field(default_factory=dict, init=False)  # name -> (revision, it)
    _opening: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.store = Store(self.data_dir)
        self.templates = TemplateLibrary(self.data_dir, MediapipeFaceTracker)
        self.recognizers = RecognizerPool(lambda: WhisperRecognizer(self.model, self.device))

    def fit_settings(self, template: AdTemplate) -> FitSettings | None:
        """How to fit a participant's trained swap for `template` in a call, or None when not at all."""
        device = resolve_fit_device(self.fit)
        if device is None:
            return None
        return FitSettings(device=device, pretrained=load_pretrained(self.data_dir, template.clip_sha256))

    def check_start(self, models: bool = True, log_days: int | None = None) -> None:
        """Before serving: every model file the relay loads is there and as declared (with `models`),
        and the log retention is applied. StartError naming the fix otherwise."""
        try:
            if models:
                check_models(self.model)
            self.apply_retention(log_days)
        except (ModelError, CampaignError, LogWriteError, sqlite3.Error, OSError) as exc:
            raise StartError(str(exc)) from exc

    def apply_retention(self, days: int | None = None) -> int:
        """Set the log retention (days; None keeps the stored setting) and purge the consent-log and
        ad-play rows older than it now; how many were purged. The relay purges again every hour."""
        if days is not None:
            self.store.set_retention_days(days)
        purged = self.store.purge_expired()
        if purged:
            log.info("purged %d log rows older than %d days", purged, self.store.retention_days())
        return purged

    def load(self) -> None:
        """Load what the first call needs (models, the campaign's templates); blocking."""
        self.recognizers.warm()
        for name in self.store.templates():
            try:
                self.plain_frames(name)
            except Exception:
                log.exception("template %r could not be loaded", name)
        MediapipeFaceTracker().close()  # checks the face mesh weights once, before any call
        phrase_check.preload()  # the admin page's first phrase check would otherwise wait for the word lists

    def template(self, name: str) -> AdTemplate:
        """The campaign's template `name` as its record now stands (blocking: reads and tracks once)."""
        record = self.store.template(name)
        if record is None:
            known = ", ".join(t.name for t in self.store.campaign().templates)
            raise TemplateError(f"no template {name!r} (available: {known})")
        if record.status != "ready":
            raise TemplateError(f"template {name!r} is not ready ({record.status})")
        with self._opening:
            held = self._opened.get(name)
            if held is not None and held[0] == record.revision:
                return held[1]
            template = self._open(record)
            self._opened[name] = (record.revision, template)
            self._plain.pop(name, None)
            return template

    def _open(self, record: TemplateRecord) -> AdTemplate:
        meta = record.meta()
        if record.builtin:
            built = self.templates.get(record.name)  # generated on first use
            if built.meta == meta:
                return built
            return self.templates.open(meta, self.templates.root / record.name / "clip.mp4", built.clip_sha256)
        return self.templates.open(meta, resolve_inside(self.data_dir, record.clip), record.clip_sha256 or None)

    def forget_stale(self, campaign: Campaign) -> None:
        """Drop loaded templates that the campaign has changed or deleted (an ad playing keeps its frames)."""
        current = {t.name: t.revision for t in campaign.templates}
        with self._opening:
            for name in [n for n, (rev, _) in self._opened.items() if current.get(n) != rev]:
                del self._opened[name]
                self._plain.pop(name, None)
                if name not in current:
                    self.templates.forget(name)

    def plain_frames(self, name: str) -> list[np.ndarray]:
        """The template as it is, labelled as an advertisement (the no-face fallback)."""
        frames = self._plain.get(name)
        if frames is None:
            frames = self._plain[name] = [PLAIN_LABEL.apply(f) for f in self.template(name).frames]
        return frames
