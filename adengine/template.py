"""Ad templates: a clip plus what an exhibit says about it, and the actor's cached face track.

A template lives in `<data>/templates/<name>/` (template.json and the clip); the
actor's track is cached in `<data>/templates/.cache/<clip sha256>.npz`, so the
same clip is tracked once whatever it is called.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from adengine import track as tracks
from adengine.face import FaceTracker
from adengine.media import Clip, read_clip
from adengine.track import ActorTrack

StageProgress = Callable[[str, int, int], None]  # (stage, done, total)

# fullmatch, not `$`: `$` lets a trailing newline through into folder names.
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
MAX_CLIP_S = 30.0
# Ads are shown in call tiles (640x480 at most): a larger clip is scaled down as it is read,
# so a 1080p upload does not hold gigabytes of frames in the relay's memory.
MAX_SIDE = 960
DEFAULT_DURATION_S = 8.0


class TemplateError(ValueError):
    """A template that cannot be used; the message says why."""


@dataclass(frozen=True)
class TemplateMeta:
    """What an exhibit says about a template.

    Trigger phrases live in the campaign now; `phrases` stays, optional, for
    template.json files and callers that still pass them (in this position).
    `licence` has a default only so that the fields can keep their order; an
    empty one is refused.
    """

    name: str
    title: str
    tagline: str
    phrases: tuple[str, ...] = ()
    max_duration_s: float = DEFAULT_DURATION_S
    licence: str = ""  # licence of the clip and the actor's release
    fallback: str = "plain"  # without a usable face: "plain" (the clip as is) or "none" (no ad)

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise TemplateError(f"template name {self.name!r}: use 1-40 lowercase letters, digits, - or _")
        if not all(p.strip() for p in self.phrases):
            raise TemplateError(f"template {self.name!r}: a trigger phrase is blank")
        if not 0 < self.max_duration_s <= MAX_CLIP_S:
            raise TemplateError(f"template {self.name!r}: max duration must be in (0, {MAX_CLIP_S:.0f}] s")
        if not self.licence.strip():
            raise TemplateError(f"template {self.name!r} needs a licence / release note")
        if self.fallback not in ("plain", "none"):
            raise TemplateError(f"template {self.name!r}: fallback must be 'plain' or 'none'")

    @classmethod
    def from_dict(cls, data: dict) -> TemplateMeta:
        return cls(**{**data, "phrases": tuple(data.get("phrases", ()))})


@dataclass
class AdTemplate:
    """A template ready to render: frames and audio in memory, the actor's track beside them."""

    meta: TemplateMeta
    clip: Clip
    track: ActorTrack
    clip_sha256: str

    @property
    def fps(self) -> float:
        return self.clip.fps

    @property
    def frames(self) -> list[np.ndarray]:
        return self.clip.frames

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.clip.frames[0].shape[:2]
        return w, h


@dataclass
class TemplateLibrary:
    """Templates under one data directory; `default` is built on first use."""

    root: Path
    tracker_factory: Callable[[], FaceTracker]
    progress: StageProgress | None = None
    _loaded: dict[str, AdTemplate] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root) / "templates"

    def names(self) -> list[str]:
        built = {p.parent.name for p in self.root.glob("*/template.json")}
        return sorted(built | {"default"})

    def get(self, name: str) -> AdTemplate:
        if name not in self._loaded:
            self._loaded[name] = self._load(name)
        return self._loaded[name]

    def open(self, meta: TemplateMeta, clip_path: Path, sha256: str | None = None) -> AdTemplate:
        """Load `clip_path` as template `meta.name` (replacing a loaded one of that name), tracking
        the actor unless the track cache has it. `sha256` is the clip's, when the caller knows it."""
        clip_path = Path(clip_path)
        clip = self._read(clip_path, meta)
        sha = sha256 or _sha256(clip_path)
        template = AdTemplate(meta, clip, self._track(clip, sha), sha)
        self._loaded[meta.name] = template
        return template

    def forget(self, name: str) -> None:
        """Drop a loaded template from memory (its files and cached track stay)."""
        self._loaded.pop(name, None)

    def add(self, clip_path: Path, meta: TemplateMeta) -> AdTemplate:
        """Ingest a clip as template `meta.name`: check it, track the actor, cache, store."""
        template = self.open(meta, clip_path)
        sha = template.clip_sha256
        folder = self.root / meta.name
        folder.mkdir(parents=True, exist_ok=True)
        stored = folder / ("clip" + Path(clip_path).suffix.lower())
        if Path(clip_path).resolve() != stored.resolve():
            shutil.copyfile(clip_path, stored)
        info = {**asdict(meta), "phrases": list(meta.phrases), "clip": stored.name, "clip_sha256": sha}
        (folder / "template.json").write_text(json.dumps(info, indent=2))
        return template

    def _load(self, name: str) -> AdTemplate:
        info_path = self.root / name / "template.json"
        if not info_path.exists():
            if name == "default":
                return self._build_default()
            raise TemplateError(f"no template {name!r} (available: {', '.join(self.names())})")
        info = json.loads(info_path.read_text())
        clip_path = info_path.parent / info.pop("clip")
        sha = info.pop("clip_sha256")
        meta = TemplateMeta.from_dict(info)
        clip = self._read(clip_path, meta)
        return AdTemplate(meta, clip, self._track(clip, sha), sha)

    def _build_default(self) -> AdTemplate:
        from adengine.default_template import DEFAULT_META, build_default_clip

        folder = self.root / "default"
        folder.mkdir(parents=True, exist_ok=True)
        stage = self.progress
        clip_path = build_default_clip(
            folder / "clip.mp4", (lambda d, t: stage("building the default ad", d, t)) if stage else None
        )
        return self.add(clip_path, TemplateMeta.from_dict(dict(DEFAULT_META)))

    def _read(self, path: Path, meta: TemplateMeta) -> Clip:
        return read_clip(path, max_duration_s=MAX_CLIP_S, keep_s=meta.max_duration_s, max_side=MAX_SIDE)

    def _track(self, clip: Clip, sha: str) -> ActorTrack:
        h, w = clip.frames[0].shape[:2]
        cache = self.root / ".cache" / f"{sha}-{len(clip.frames)}-{w}x{h}.npz"
        track = tracks.load(cache)
        if track is not None and len(track) == len(clip.frames):
            return track
        tracker = self.tracker_factory()
        try:
            stage = self.progress
            track = tracks.track_actor(
                clip.frames, tracker, clip.fps, (lambda d, t: stage("tracking the actor", d, t)) if stage else None
            )
        finally:
            tracker.close()
        cache.parent.mkdir(parents=True, exist_ok=True)
        tracks.save(track, cache)
        return track


def ingest_clip(
    clip_path: Path,
    meta: TemplateMeta,
    cache_root: Path,
    tracker_factory: Callable[[], FaceTracker],
    progress: StageProgress | None = None,
) -> tuple[AdTemplate, str]:
    """Read and check a clip, track its actor and write the track to the cache a
    `TemplateLibrary(cache_root, ...)` reads (`cache_root/templates/.cache`).

    For a separate ingest process: the server then opens the template with
    `TemplateLibrary.open(meta, clip_path, sha256)` and finds the track cached.
    Returns the template and the clip's sha256.
    """
    template = TemplateLibrary(Path(cache_root), tracker_factory, progress).open(meta, Path(clip_path))
    return template, template.clip_sha256


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
