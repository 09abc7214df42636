"""`replay()`: hear everyone, find their faces, place the ads, render them, write and sign the MP4."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import av
import c2pa
import numpy as np

from adengine import AdTemplate, ClipError, TemplateError, write_mp4
from adengine.encode import mux_audio, resample_audio
from callbridge.config.services import Services
from callbridge.provenance import ExhibitAuthority, sign_video
from callbridge.replay.admaker import AdMaker
from callbridge.replay.analysis import Faces, Speech, harvest, hear
from callbridge.replay.captions import Caption, captions_from, write_srt
from callbridge.replay.compose import AdFootage, PendingAd, pictures, soundtrack
from callbridge.replay.plan import AdSegment, on_live_times, plan_ads
from callbridge.replay.prefetch import prefetched
from callbridge.replay.source import Person, Source, SourceError, open_source, timed_audio, timed_frames
from callbridge.workers.pipeline import engine_phrases
from triggers import SAMPLE_RATE, Phrase, PhraseError, TriggerEvent, WhisperRecognizer

Stage = Callable[[str, int, int], None]  # (stage, done, total), as the CLI's progress bars take it
RATE = 48000


class ReplayError(ValueError):
    """An input or an output replay cannot use; the message says why, in one line."""


@dataclass(frozen=True)
class ReplayOptions:
    out: Path
    phrases: tuple[str, ...] = ()  # empty: the campaign's
    template: str | None = None  # forces one template for every phrase
    captions: str = "burn"  # "burn", "srt" or "none"
    layout: str = "grid"  # "grid" or "speaker" (the talker large): for several people
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
    """Replay a video file (a one-person call) or a recording folder; blocking.

    The work runs as a pipeline: each person's faces are looked for on a thread of their
    own while the speech is heard; each ad is made as soon as the faces have reached its
    start; frames are decoded and composed a few ahead of the encoder. The sound is put
    beside the pictures at the end, once it is known which ads could be made.
    """
    began = time.perf_counter()
    _check(options)
    try:
        call = open_source(source)
    except SourceError as exc:
        raise ReplayError(str(exc)) from None
    report = _serialised(stage)
    services = Services(options.data_dir, options.model, options.device)
    phrases, template_for = _campaign(services, options)
    notes = list(call.notes)
    voices = {p.name: v for p in call.people if (v := _voice(p, notes)) is not None}
    recognizer = WhisperRecognizer(options.model, options.device) if voices else None
    faces = {p.name: Faces() for p in call.people}
    templates: dict[str, AdTemplate] = {}
    maker = AdMaker(partial(_template, services, templates), faces, notes)
    try:
        with ThreadPoolExecutor(len(call.people), thread_name_prefix="replay-faces") as looking:
            try:
                harvests = [looking.submit(_faces, p, faces[p.name], call.duration_s, report) for p in call.people]
                speech = _hear_all(call, voices, phrases, recognizer, notes)
                segments = plan_ads(
                    speech.triggers, template_for, partial(_length_s, services, templates), call.duration_s
                )
                if call.live_ads is not None:  # a recording: each ad where its audience saw it
                    segments = on_live_times(segments, call.live_ads, call.duration_s)
                ads = maker.start(segments)
                captions = captions_from(speech.transcripts)
                srt = _srt(captions, options, named=len(call.people) > 1)
                count = int(call.duration_s * call.fps)
                streams = {p.name: _counted(timed_frames(p.path), call.duration_s, report) for p in call.people}
                burned = captions if options.captions == "burn" else []
                frames = prefetched(pictures(streams, call.fps, count, options.size, ads, burned, options.layout))
                footage, signed = _write(frames, call, voices, ads, maker, options, notes)
                for harvested in harvests:
                    harvested.result()  # a failure with no ad waiting on it is still a failure
            finally:
                for held in faces.values():
                    held.stop()
                maker.close()  # zeroes the renders
    finally:
        for held in faces.values():
            held.wipe()
    wall = time.perf_counter() - began
    played = [f.segment for f in footage]
    return ReplayResult(options.out, call.duration_s, wall, speech.triggers, played, srt, notes, signed)


def _write(
    frames: Iterator[np.ndarray],
    call: Source,
    voices: dict[str, tuple[np.ndarray, float]],
    ads: list[PendingAd],
    maker: AdMaker,
    options: ReplayOptions,
    notes: list[str],
) -> tuple[list[AdFootage], bool]:
    """Encode the pictures, put the sound beside them, sign into `options.out`; the ads made, and
    whether it is signed."""
    pictures_only = options.out.with_name(f".{options.out.stem}.pictures.mp4")
    unsigned = options.out.with_name(f".{options.out.stem}.unsigned.mp4")
    try:
        write_mp4(pictures_only, frames, call.fps)
        footage = [made for ad in ads if (made := ad.footage.result()) is not None]
        if maker.error is not None:
            raise ReplayError(f"an ad could not be rendered: {maker.error}")
        mux_audio(pictures_only, soundtrack(voices, footage, RATE, call.duration_s), RATE, unsigned)
        templates = [f.segment.template for f in footage]
        return footage, _signed(unsigned, options, templates, call.title, notes)
    except OSError as exc:
        raise ReplayError(f"cannot write {options.out}: {exc.strerror or exc}") from None
    except ValueError as exc:  # ClipError among them
        raise ReplayError(str(exc)) from None
    finally:
        pictures_only.unlink(missing_ok=True)
        unsigned.unlink(missing_ok=True)


def _serialised(stage: Stage | None) -> Stage:
    """The progress callback, safe to call from the pipeline's threads."""
    if stage is None:
        return lambda name, done, total: None
    lock = threading.Lock()

    def report(name: str, done: int, total: int) -> None:
        with lock:
            stage(name, done, total)

    return report


def _hear_all(
    call: Source,
    voices: dict[str, tuple[np.ndarray, float]],
    phrases: list[Phrase],
    recognizer: WhisperRecognizer | None,
    notes: list[str],
) -> Speech:
    """Everyone's speech, one after another (the faces are being looked for meanwhile)."""
    notes += [
        f"{p.name} did not agree to their face being used: no personalised ads of them"
        for p in call.people
        if not p.face_consent
    ]
    speech = Speech()
    for person in call.people:
        heard = _hear(person, voices.get(person.name), phrases, recognizer, notes)
        speech.triggers += heard.triggers
        speech.transcripts += heard.transcripts
    return speech


def _voice(person: Person, notes: list[str]) -> tuple[np.ndarray, float] | None:
    try:
        voice = timed_audio(person.path, RATE)
    except av.FFmpegError as exc:
        notes.append(f"{person.name}'s audio cannot be read ({exc}): no triggers or captions from them")
        return None
    if voice is None:
        notes.append(f"{person.name} has no audio: no triggers or captions from them")
    return voice


def _hear(
    person: Person,
    voice: tuple[np.ndarray, float] | None,
    phrases: list[Phrase],
    recognizer: WhisperRecognizer | None,
    notes: list[str],
) -> Speech:
    if voice is None or recognizer is None:
        return Speech()
    audio, start_s = voice
    mono16k = resample_audio(audio, RATE, SAMPLE_RATE, to_channels=1)[0]
    return hear(mono16k, phrases, recognizer, person.name, start_s)


def _faces(person: Person, faces: Faces, duration_s: float, report: Stage) -> None:
    if not person.face_consent:
        faces.end()  # never looked at: their ads fall back as a live call's do
        return
    total = max(1, int(duration_s))
    frames = timed_frames(person.path)
    harvest(frames, person.name, faces, lambda i, t: report(f"finding {person.name}'s face", int(t), total))


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


def _check(options: ReplayOptions) -> None:
    if options.out.suffix.lower() != ".mp4":
        raise ReplayError(f"--out must end in .mp4, not {options.out.name!r}")
    folder = options.out.resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ReplayError(f"cannot write {options.out}: {folder} is not a writable folder")
    if options.captions not in ("burn", "srt", "none"):
        raise ReplayError("--captions is burn, srt or none")
    if options.layout not in ("grid", "speaker"):
        raise ReplayError("--layout is grid or speaker")


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


def _length_s(services: Services, templates: dict[str, AdTemplate], name: str) -> float:
    template = _template(services, templates, name)
    return len(template.frames) / template.fps


def _template(services: Services, templates: dict[str, AdTemplate], name: str) -> AdTemplate:
    if name not in templates:
        try:
            templates[name] = services.template(name)
        except (TemplateError, ClipError) as exc:
            raise ReplayError(f"template {name!r}: {exc}") from None
    return templates[name]


def _srt(captions: list[Caption], options: ReplayOptions, named: bool) -> Path | None:
    if options.captions != "srt":
        return None
    path = options.out.with_suffix(".srt")
    write_srt(captions, path, named)
    return path


Timed = Iterator[tuple[float, np.ndarray]]


def _counted(frames: Timed, duration_s: float, report: Stage) -> Timed:
    """Frames on their way to the output, with the progress bar following their time."""
    total = max(1, int(duration_s))
    for t, frame in frames:
        report("writing the replay", min(total, int(t)), total)
        yield t, frame
    report("writing the replay", total, total)
