"""`replay()`: hear the input, find the speaker's faces, place the ads, render them, write the MP4."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import c2pa
import numpy as np

from adengine import AdRenderer, AdTemplate, ClipError, TemplateError, iter_frames, probe, write_mp4
from adengine.media import ClipInfo, read_audio, resample_audio
from callbridge.config.services import PLAIN_LABEL, Services
from callbridge.provenance import ExhibitAuthority, sign_video
from callbridge.replay.analysis import Faces, Speech, harvest, hear
from callbridge.replay.captions import Caption, captions_from, write_srt
from callbridge.replay.compose import AdFootage, pictures, soundtrack
from callbridge.replay.plan import AdSegment, plan_ads
from callbridge.workers.pipeline import engine_phrases
from triggers import AudioError, Phrase, PhraseError, TriggerEvent, WhisperRecognizer, load_audio

Stage = Callable[[str, int, int], None]  # (stage, done, total), as the CLI's progress bars take it
RATE = 48000
SPEAKER = "speaker"


class ReplayError(ValueError):
    """An input or an output replay cannot use; the message says why, in one line."""


@dataclass(frozen=True)
class ReplayOptions:
    out: Path
    phrases: tuple[str, ...] = ()  # empty: the campaign's
    template: str | None = None  # forces one template for every phrase
    captions: str = "burn"  # "burn", "srt" or "none"
    size: tuple[int, int] = (1280, 720)
    data_dir: Path = Path("data")
    model: str = "tiny.en"
    device: str = "auto"


@dataclass
class ReplayResult:
    out: Path
    duration_s: float
    wall_s: float
    triggers: list[TriggerEvent] = field(default_factory=list)
    ads: list[AdSegment] = field(default_factory=list)
    srt: Path | None = None
    notes: list[str] = field(default_factory=list)  # what could not be done, said plainly
    signed: bool = False


def replay(source: Path, options: ReplayOptions, stage: Stage | None = None) -> ReplayResult:
    """Replay one video file (a monologue is a one-person call); blocking."""
    began = time.perf_counter()
    info = _check(source, options)
    report = stage or (lambda name, done, total: None)
    services = Services(options.data_dir, options.model, options.device)
    phrases, template_for = _campaign(services, options)
    notes: list[str] = []
    speech = _hear(source, phrases, options, notes)
    faces = harvest(source, info.fps, info.n_frames, SPEAKER, lambda d, t: report("finding the speaker's face", d, t))
    try:
        templates: dict[str, AdTemplate] = {}
        duration = info.duration_s or info.n_frames / info.fps
        segments = plan_ads(speech.triggers, template_for, lambda n: _length_s(services, templates, n), duration)
        footage = [f for s in segments if (f := _footage(s, services, templates, faces, notes)) is not None]
        captions = captions_from(speech.transcripts)
        srt = _srt(captions, options)
        audio = _speaker_audio(source, notes)
        frames = pictures(
            _counted(iter_frames(source), info.n_frames, report, notes),
            info.fps,
            options.size,
            footage,
            captions if options.captions == "burn" else [],
        )
        unsigned = options.out.with_name(f".{options.out.stem}.unsigned.mp4")
        try:
            write_mp4(unsigned, frames, info.fps, soundtrack(audio, footage, RATE, duration), RATE)
            signed = _signed(unsigned, options, [f.segment.template for f in footage], source.name, notes)
        except OSError as exc:
            raise ReplayError(f"cannot write {options.out}: {exc.strerror or exc}") from None
        except ClipError as exc:
            raise ReplayError(str(exc)) from None
        finally:
            unsigned.unlink(missing_ok=True)
    finally:
        faces.wipe()
    ads = [f.segment for f in footage]
    wall = time.perf_counter() - began
    return ReplayResult(options.out, duration, wall, speech.triggers, ads, srt, notes, signed)


def _signed(unsigned: Path, options: ReplayOptions, templates: list[str], title: str, notes: list[str]) -> bool:
    """The output with its C2PA manifest; unsigned, with a note, if signing fails (the video is not lost)."""
    try:
        authority = ExhibitAuthority.load_or_create(options.data_dir)
        sign_video(unsigned, options.out, authority, templates, f"callbridge replay of {title}")
        return True
    except (c2pa.C2paError, ValueError) as exc:
        notes.append(f"the video could not be signed ({exc}); it is written without a C2PA manifest")
        os.replace(unsigned, options.out)
        return False


def _check(source: Path, options: ReplayOptions) -> ClipInfo:
    if source.is_dir():
        raise ReplayError(f"{source}: recording directories are not replayed yet; give a video file")
    if options.out.suffix.lower() != ".mp4":
        raise ReplayError(f"--out must end in .mp4, not {options.out.name!r}")
    folder = options.out.resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ReplayError(f"cannot write {options.out}: {folder} is not a writable folder")
    if options.captions not in ("burn", "srt", "none"):
        raise ReplayError("--captions is burn, srt or none")
    try:
        info = probe(source)
    except ClipError as exc:
        raise ReplayError(str(exc)) from None
    if not info.fps:
        raise ReplayError(f"{source.name}: its frame rate is unknown")
    return info


def _campaign(services: Services, options: ReplayOptions) -> tuple[list[Phrase], Callable[[str], str | None]]:
    """The phrases to listen for, and the template each one plays."""
    mapping = {r.phrase: r.template for r in services.store.live_rules()}
    if not options.phrases:
        phrases = engine_phrases(services.store.campaign())
        return phrases, lambda p: options.template or mapping.get(p)
    try:
        phrases = [Phrase.parse(p) for p in options.phrases]
    except PhraseError as exc:
        raise ReplayError(str(exc)) from None
    return phrases, lambda p: options.template or mapping.get(p) or "default"


def _hear(source: Path, phrases: list[Phrase], options: ReplayOptions, notes: list[str]) -> Speech:
    try:
        audio = load_audio(source)
    except AudioError as exc:
        notes.append(f"no speech to hear ({exc}): no triggers, no captions")
        return Speech()
    return hear(audio, phrases, WhisperRecognizer(options.model, options.device), SPEAKER)


def _length_s(services: Services, templates: dict[str, AdTemplate], name: str) -> float:
    template = _template(services, templates, name)
    return 0.0 if template is None else len(template.frames) / template.fps


def _template(services: Services, templates: dict[str, AdTemplate], name: str) -> AdTemplate | None:
    if name not in templates:
        try:
            templates[name] = services.template(name)
        except (TemplateError, ClipError) as exc:
            raise ReplayError(f"template {name!r}: {exc}") from None
    return templates[name]


def _footage(
    segment: AdSegment, services: Services, templates: dict[str, AdTemplate], faces: Faces, notes: list[str]
) -> AdFootage | None:
    """The segment's ad: rendered with the face held at its start, else the template's fallback."""
    template = _template(services, templates, segment.template)
    assert template is not None
    face = faces.at(segment.start_s)
    audio = (
        None
        if template.clip.audio is None
        else resample_audio(template.clip.audio, template.clip.sample_rate or RATE, RATE)
    )
    if face is not None:
        frames = AdRenderer(template).render(face).frames
        segment = dataclasses.replace(segment, personalised=True)
    elif template.meta.fallback == "plain":
        notes.append(f"no usable face before {segment.start_s:.1f} s: the plain {segment.template!r} ad plays")
        frames = [PLAIN_LABEL.apply(f) for f in template.frames]
    else:
        notes.append(f"no usable face before {segment.start_s:.1f} s and {segment.template!r} has no plain fallback")
        return None
    return AdFootage(segment, frames, template.fps, audio)


def _srt(captions: list[Caption], options: ReplayOptions) -> Path | None:
    if options.captions != "srt":
        return None
    path = options.out.with_suffix(".srt")
    write_srt(captions, path)
    return path


def _speaker_audio(source: Path, notes: list[str]) -> np.ndarray | None:
    try:
        return read_audio(source, RATE)
    except ClipError as exc:
        notes.append(f"the audio could not be read ({exc}): the output is silent outside the ads")
        return None


def _counted(frames: Iterator[np.ndarray], total: int, report: Stage, notes: list[str]) -> Iterator[np.ndarray]:
    """The source frames, reporting progress; a video that breaks off ends the replay there, with a note."""
    i = 0
    try:
        for i, frame in enumerate(frames):
            if i % 10 == 0:
                report("writing the replay", i, total)
            yield frame
    except ClipError as exc:
        notes.append(f"the video breaks off after frame {i}: the replay ends there ({exc})")
    report("writing the replay", total, total)
