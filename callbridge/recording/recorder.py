"""A call's recording directory: manifest.json, events.jsonl and one Matroska file per participant.

DATA/recordings/<UTC start>-<room>/ holds what `callbridge replay` needs to make
the call again: the media as the relay received it and the room's events on the
server clock. The ads are not written: replay renders them again.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import av

from callbridge.recording.writer import MediaWriter

log = logging.getLogger(__name__)
MANIFEST_VERSION = 1


class RecordingError(OSError):
    """The recording could not start or go on (a full disk, a folder that cannot be written)."""


class CallRecorder:
    """Records one room from `start` to `stop`; errors reach `on_error` once, from any thread."""

    def __init__(self, root: Path, room: str, campaign: dict[str, Any], on_error: Callable[[str], None]) -> None:
        self.started_t = time.time()
        stamp = datetime.fromtimestamp(self.started_t, UTC).strftime("%Y%m%dT%H%M%SZ")
        self.folder = root / f"{stamp}-{room}"  # made in _make_folder, with a suffix if a call took it
        self._room, self._campaign, self._on_error = room, campaign, on_error
        self._writers: dict[str, MediaWriter] = {}
        self._people: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._failed = False
        try:
            self.folder = _make_folder(self.folder)
            self._events = open(self.folder / "events.jsonl", "a", encoding="utf-8")  # noqa: SIM115 (closed in stop)
            self._write_manifest(ended_t=None)
        except OSError as exc:
            raise RecordingError(f"cannot record into {self.folder}: {exc.strerror or exc}") from exc

    def add(self, name: str, face_consent: bool) -> None:
        """Start writing a participant's media (once per participant and recording).

        `face_consent`: they agree to their face being used in ads. The manifest keeps it
        true only while they never withdrew during the recording: replays and exhibits
        use the face of those who agreed throughout, and no one else's.
        """
        if name in self._writers:
            return
        file = f"{_safe(name)}-{len(self._people) + 1}.mkv"
        self._writers[name] = MediaWriter(self.folder / file, self.started_t, self._error)
        entry = {"name": name, "file": file, "joined_t": round(time.time(), 4), "face_consent": face_consent}
        self._people.append(entry)
        self._try(lambda: self._write_manifest(ended_t=None))

    def withdrew_consent(self, name: str) -> None:
        """`name` withdrew face consent during the recording: their face is never used from it."""
        changed = False
        for entry in self._people:
            if entry["name"] == name and entry["face_consent"]:
                entry["face_consent"], changed = False, True
        if changed:
            self._try(lambda: self._write_manifest(ended_t=None))

    def push(self, name: str, frame: av.AudioFrame | av.VideoFrame, received_t: float) -> None:
        writer = self._writers.get(name)
        if writer is not None:
            writer.push(frame, received_t)

    def backlog(self, name: str) -> int:
        """Frames of `name` waiting to be written (a file-fed recording paces itself by it)."""
        writer = self._writers.get(name)
        return 0 if writer is None else writer.backlog

    def log(self, event: dict[str, Any]) -> None:
        def write() -> None:
            with self._lock:
                self._events.write(json.dumps(event) + "\n")
                self._events.flush()

        self._try(write)

    def stop(self) -> None:
        """Close every file (blocking: the writers finish their queues)."""
        for writer in self._writers.values():
            writer.close()
        with self._lock:
            self._events.close()
        self._try(lambda: self._write_manifest(ended_t=time.time()))

    def _write_manifest(self, ended_t: float | None) -> None:
        manifest = {
            "version": MANIFEST_VERSION,
            "room": self._room,
            "started_t": round(self.started_t, 4),
            "ended_t": None if ended_t is None else round(ended_t, 4),
            "participants": self._people,
            "campaign": self._campaign,
            "versions": {name: version(name) for name in ("callbridge", "aiortc", "av")},
        }
        tmp = self.folder / ".manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=2))
        tmp.replace(self.folder / "manifest.json")

    def _try(self, write: Callable[[], None]) -> None:
        try:
            write()
        except (OSError, ValueError) as exc:  # ValueError: writing to a file closed by an earlier failure
            self._error(f"writing the recording failed: {getattr(exc, 'strerror', None) or exc}")

    def _error(self, message: str) -> None:
        with self._lock:
            if self._failed:
                return
            self._failed = True
        log.warning("room %s: recording stopped: %s", self._room, message)
        self._on_error(message)


def _make_folder(wanted: Path) -> Path:
    """`wanted`, or `wanted-2`, `wanted-3`... when a recording of the same second has it."""
    wanted.parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        folder = wanted if n == 1 else wanted.with_name(f"{wanted.name}-{n}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"{wanted} and 999 more exist")


def _safe(name: str) -> str:
    """A participant's name as a file name: letters, digits and - only."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-")[:40] or "participant"
