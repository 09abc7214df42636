"""The parent side: run the ingest child under a time and a memory limit and read its verdict."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from adengine.template import TemplateMeta
from callbridge.ingest.caps import DEFAULT_CAPS, Caps
from callbridge.ingest.errors import BREAKS_RULE, CRASHED, NEEDS_MEMORY, UploadError
from callbridge.ingest.header import ClipHeader
from callbridge.ingest.memory import FLOOR_MB, default_ceiling_mb

PROBE_MEMORY_MB = 2048  # measured peak: 0.9 GB for a 1080p clip
PROBE_TIMEOUT_S = 60.0
INGEST_TIMEOUT_S = 300.0
# The child's own threads stay few: calls run beside it.
_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
_MEMORY_SIGNS = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory")
_POLL_S = 0.2

ProgressCallback = Callable[[float], None]


@dataclass(frozen=True)
class IngestResult:
    sha256: str
    frames: int
    verdict: str  # "actor tracked in N of M frames, face W px wide"


def run_child(
    args: Sequence[str],
    progress_cb: ProgressCallback | None = None,
    timeout_s: float = INGEST_TIMEOUT_S,
    memory_mb: int = FLOOR_MB,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Run `python -m callbridge.ingest.child ARGS` and return its final record when it is ok.

    Progress lines go to `progress_cb` as they come. A refusal raises UploadError with the
    child's status and message; so do running past `timeout_s` (the child is killed), running
    out of memory, a crash (status 500) and `cancel` being set.
    """
    command = [sys.executable, "-m", "callbridge.ingest.child", "--memory-mb", str(memory_mb), *args]
    deadline = time.monotonic() + timeout_s
    too_long = UploadError(BREAKS_RULE, f"ingest took longer than {timeout_s:g} s")
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            env={**os.environ, **_THREADS},
            start_new_session=True,  # its own process group: a kill takes anything it started too
        )
        assert proc.stdout is not None
        try:
            try:
                final = _read_lines(proc.stdout, progress_cb, deadline, cancel, too_long)
                code = proc.wait(timeout=max(deadline - time.monotonic(), _POLL_S))
            except subprocess.TimeoutExpired:
                raise too_long from None
        except BaseException:
            _kill(proc)
            raise
        finally:
            proc.stdout.close()
        return _verdict(final, code, _tail(errors))


def _read_lines(
    stdout: IO[bytes],
    progress_cb: ProgressCallback | None,
    deadline: float,
    cancel: threading.Event | None,
    too_long: UploadError,
) -> dict[str, Any] | None:
    """Pass progress lines on until the child closes its stdout; its final record (None if none came)."""
    final: dict[str, Any] | None = None
    pending = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise too_long
            if cancel is not None and cancel.is_set():
                raise UploadError(BREAKS_RULE, "ingest was cancelled")
            if not selector.select(min(left, _POLL_S)):
                continue
            chunk = os.read(stdout.fileno(), 65536)
            if not chunk:
                return final
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                record = _parse(line)
                if record is None:
                    continue
                if "ok" in record:
                    final = record
                elif "progress" in record and progress_cb is not None:
                    progress_cb(float(record["progress"]))


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the child's whole process group and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _tail(errors: IO[bytes]) -> str:
    errors.seek(0, os.SEEK_END)
    errors.seek(max(0, errors.tell() - 4096))
    return errors.read().decode("utf-8", "replace")


def _verdict(final: dict[str, Any] | None, code: int, stderr: str) -> dict[str, Any]:
    if isinstance(final, dict) and code == 0:
        if final.get("ok"):
            return final
        raise UploadError(int(final.get("status", BREAKS_RULE)), str(final.get("error", "the clip was refused")))
    if (
        code < 0
        and -code in (signal.SIGKILL, signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS)
        or any(sign in stderr for sign in _MEMORY_SIGNS)
    ):
        # Past the address-space limit an allocation fails: Python says MemoryError, C++ aborts
        # with bad_alloc, C code may crash on the NULL it got; the kernel's OOM killer sends SIGKILL.
        raise UploadError(BREAKS_RULE, NEEDS_MEMORY)
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    raise UploadError(CRASHED, f"ingest failed (exit code {code}): {lines[-1] if lines else 'no message'}")


def _absolute(path: Path) -> str:
    """An absolute path: one starting with '-' would read as an option."""
    return os.path.abspath(path)


def probe(
    clip: Path,
    container: str,
    caps: Caps = DEFAULT_CAPS,
    timeout_s: float = PROBE_TIMEOUT_S,
    memory_mb: int = PROBE_MEMORY_MB,
) -> ClipHeader:
    """Check an upload in the child: its header against `caps`, and a face in a few frames."""
    args = ["--caps", json.dumps(asdict(caps)), "probe", _absolute(clip), "--container", container]
    final = run_child(args, None, timeout_s, memory_mb)
    return ClipHeader(**final["header"])


def ingest(
    clip: Path,
    meta: TemplateMeta,
    data_dir: Path,
    progress_cb: ProgressCallback | None = None,
    caps: Caps = DEFAULT_CAPS,
    timeout_s: float = INGEST_TIMEOUT_S,
    memory_mb: int | None = None,
    cancel: threading.Event | None = None,
) -> IngestResult:
    """Track the actor through `clip` in the child and cache the track under `data_dir`, where
    `TemplateLibrary(data_dir, ...).open(meta, clip, result.sha256)` finds it.

    The child's memory limit is what the clip's header says it needs (callbridge.ingest.memory),
    at most `memory_mb` (default: 12 GB, or half the machine's memory when less).
    """
    if memory_mb is None:
        memory_mb = default_ceiling_mb()
    meta_json = json.dumps({**asdict(meta), "phrases": list(meta.phrases)})
    args = ["--caps", json.dumps(asdict(caps)), "ingest", _absolute(clip), "--data", _absolute(data_dir)]
    args += ["--meta", meta_json]
    final = run_child(args, progress_cb, timeout_s, memory_mb, cancel)
    return IngestResult(sha256=final["sha256"], frames=int(final["frames"]), verdict=final["verdict"])
