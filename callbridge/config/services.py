"""What every room shares: recognisers, templates, the campaign store."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adengine import DisclosureLabel, MediapipeFaceTracker, TemplateLibrary
from callbridge.config.store import Store
from triggers import WhisperRecognizer

log = logging.getLogger(__name__)
PLAIN_LABEL = DisclosureLabel(text="advertisement")  # the plain template shows nobody's face


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
    store: Store = field(init=False)
    templates: TemplateLibrary = field(init=False)
    recognizers: RecognizerPool = field(init=False)
    _plain: dict[str, list[np.ndarray]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.store = Store(self.data_dir)
        self.templates = TemplateLibrary(self.data_dir, MediapipeFaceTracker)
        self.recognizers = RecognizerPool(lambda: WhisperRecognizer(self.model, self.device))

    def load(self) -> None:
        """Load what the first call needs (models, the campaign's templates); blocking."""
        self.recognizers.warm()
        for name in self.store.templates():
            try:
                self.plain_frames(name)
            except Exception:
                log.exception("template %r could not be loaded", name)
        MediapipeFaceTracker().close()  # checks the face mesh weights once, before any call

    def plain_frames(self, name: str) -> list[np.ndarray]:
        """The template as it is, labelled as an advertisement (the no-face fallback)."""
        if name not in self._plain:
            template = self.templates.get(name)
            self._plain[name] = [PLAIN_LABEL.apply(f) for f in template.frames]
        return self._plain[name]
