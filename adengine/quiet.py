"""Silence the native (C++) log lines mediapipe and TensorFlow Lite write to stderr.

They print INFO and WARNING lines on every model load and first inference
("Created TensorFlow Lite XNNPACK delegate", "Feedback manager requires ..."),
which would bury a CLI's one-line errors. Environment variables do not reach
those loggers, so file descriptor 2 is pointed at /dev/null around the calls.
Python exceptions are unaffected: they are raised, not printed, inside.

Descriptor 2 belongs to the whole process, so anything else written to it while
another thread is muted is lost too: a server's log lines among them. `real_stderr()`
is a text stream on a private duplicate of the real stderr, taken once (never the
muted one): a program's log handler and `sys.stderr` point there
(callbridge/config/logs.py) and keep writing whoever mutes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_lock = threading.Lock()
_depth = 0
_saved_fd: int | None = None
_real: TextIO | None = None


def real_stderr() -> TextIO:
    """A line-buffered text stream on the process's real stderr, which muting never redirects."""
    global _real
    with _lock:
        if _real is None:
            # while muted, descriptor 2 is /dev/null and the saved one is the real stderr
            fd = os.dup(_saved_fd if _depth > 0 and _saved_fd is not None else 2)
            _real = open(fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=True)  # noqa: SIM115
        return _real


@contextmanager
def native_stderr_muted() -> Iterator[None]:
    """Re-entrant and thread-safe: the first caller in mutes, the last one out restores."""
    global _depth, _saved_fd
    with _lock:
        if _depth == 0:
            _saved_fd = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved_fd is not None:
                os.dup2(_saved_fd, 2)
                os.close(_saved_fd)
                _saved_fd = None
