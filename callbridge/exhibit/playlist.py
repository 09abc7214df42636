"""What an exhibition plays: the recordings (folders from `serve --record`) and videos in a folder, by name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from callbridge.replay.source import Person, SourceError, open_source
from callbridge.web.signalling import MAX_NAME

VIDEO_SUFFIXES = {".mp4", ".mkv", ".webm", ".mov", ".m4v"}
SUFFIX = " (recorded)"  # every page shows that this participant is a recording, not a visitor


class ExhibitError(ValueError):
    """A folder an exhibition cannot play; the message says why, in one line."""


@dataclass(frozen=True)
class Act:
    """One recorded call: its people (each shown as `name (recorded)`) and its length."""

    title: str
    people: list[Person]
    duration_s: float


def load_playlist(folder: Path) -> tuple[list[Act], list[str]]:
    """The acts in `folder` in name order, and a note for each entry left out (unreadable, empty)."""
    if not folder.is_dir():
        raise ExhibitError(f"--exhibit {folder}: not a folder")
    acts, notes = [], []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not (entry.is_dir() or entry.suffix.lower() in VIDEO_SUFFIXES):
            continue
        try:
            source = open_source(entry)
        except SourceError as exc:
            notes.append(f"{exc}; it is left out of the exhibition")
            continue
        if source.duration_s < 1.0:
            notes.append(f"{entry.name} is shorter than a second; it is left out of the exhibition")
            continue
        notes += [f"{entry.name}: {note}" for note in source.notes]
        people = source.people if entry.is_dir() else [Person(entry.stem, entry)]
        acts.append(Act(entry.name, [_shown(p) for p in people], source.duration_s))
    if not acts:
        raise ExhibitError(f"--exhibit {folder}: no recording or video in it can be played")
    return acts, notes


def _shown(person: Person) -> Person:
    name = person.name[: MAX_NAME - len(SUFFIX)].strip() or "someone"
    return Person(name + SUFFIX, person.path, person.face_consent)
