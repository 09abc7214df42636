"""The relay's own log: where it goes, what it may say, and what happens when it cannot be written.

- Where: stderr, through a private duplicate of file descriptor 2 taken before
  any face is tracked (`adengine.quiet.real_stderr`). mediapipe's native log lines
  are silenced by pointing descriptor 2 at /dev/null around its calls, for the
  whole process; the relay's own lines, and Python's `sys.stderr`, go to the
  duplicate and are never lost that way. The relay writes no log file of its own:
  whoever captures its stderr (a terminal, systemd's journal, a file) keeps it,
  and that is where its retention is set.
- What: no face data, ever (landmarks, crops and pixels are never passed to a log
  call). No recognised speech by default (`serve --log-speech` turns it on): an
  argument wrapped in `Speech`, or placed right after the word "heard",
  "transcript" or "text" in a message (`"... (heard %r)"`), is written as
  "[speech: N words]". Participant names are logged: the log's retention covers them.
- Failure: a write that fails (a full disk: ENOSPC, a closed pipe, an I/O error)
  never raises into the relay and never prints a traceback. The handler drops
  lines for `RETRY_S`, then tries again, and its first line that gets through
  says how many were dropped. The call goes on.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
RETRY_S = 30.0  # after a failed write, lines are dropped this long before the next try
# A %-placeholder right after one of these words holds recognised speech.
_SPEECH_LABEL = re.compile(r"\b(?:heard|transcript|text)\W{0,3}$", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])")


class Speech(str):
    """Recognised speech passed to a log call: written only with `serve --log-speech`."""


def redacted(text: str) -> str:
    words = len(str(text).split())
    return f"[speech: {words} word{'s' if words != 1 else ''}]"


class SpeechFilter(logging.Filter):
    """Replaces recognised speech in a record's arguments unless speech logging is on."""

    def __init__(self, allow: bool = False) -> None:
        super().__init__()
        self.allow = allow

    def filter(self, record: logging.LogRecord) -> bool:
        if self.allow or not record.args or not isinstance(record.args, tuple):
            return True
        speech = _speech_positions(record.msg) if isinstance(record.msg, str) else set()
        if speech or any(isinstance(a, Speech) for a in record.args):
            record.args = tuple(
                redacted(a) if isinstance(a, Speech) or (i in speech and isinstance(a, str)) else a
                for i, a in enumerate(record.args)
            )
        return True


def _speech_positions(message: str) -> set[int]:
    """Indexes of the arguments that follow a speech label in a %-format message."""
    found, index = set(), 0
    for match in _PLACEHOLDER.finditer(message):
        if match.group(1) == "%":
            continue
        if _SPEECH_LABEL.search(message[: match.start()]):
            found.add(index)
        index += 1
    return found


class SafeStreamHandler(logging.StreamHandler):
    """A stream handler whose failed writes degrade logging instead of disturbing the program.

    `logging.Handler.handle` holds the handler's lock around `emit`, so the counters
    below are only ever touched by one thread at a time.
    """

    def __init__(self, stream: TextIO | None = None, retry_s: float = RETRY_S) -> None:
        super().__init__(stream)
        self.retry_s = retry_s
        self.dropped = 0  # lines not written since the last line that was
        self.failures = 0  # failed writes, all told
        self._quiet_until = 0.0
        self._why = ""

    def emit(self, record: logging.LogRecord) -> None:
        if time.monotonic() < self._quiet_until:
            self.dropped += 1
            return
        pending = self.dropped
        if pending:
            note = logging.LogRecord(
                "callbridge.logs",
                logging.WARNING,
                __file__,
                0,
                "%d log lines were dropped (%s)",
                (pending, self._why),
                None,
            )
            if not self._write(note):
                self.dropped += 1
                return
            self.dropped -= pending
        if not self._write(record):
            self.dropped += 1

    def _write(self, record: logging.LogRecord) -> bool:
        before = self.failures
        super().emit(record)  # a failure comes back through handleError
        return self.failures == before

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        """A write failed: drop lines for a while; never raise, never print a traceback."""
        exc = sys.exc_info()[1]
        self.failures += 1
        if isinstance(exc, OSError) or (isinstance(exc, ValueError) and "closed file" in str(exc)):  # rest it
            self._quiet_until = time.monotonic() + self.retry_s
            self._why = getattr(exc, "strerror", None) or f"{type(exc).__name__}: {exc}"
        else:  # this one line could not be formatted: only it is lost (reported with the next one)
            self._why = type(exc).__name__ if exc is not None else "write failed"


def setup(speech: bool = False, level: int = logging.INFO, stream: TextIO | None = None) -> SafeStreamHandler:
    """The relay's log handler on the root logger (replacing any earlier one of ours), writing to
    `stream` or else to the real stderr. `sys.stderr` is pointed there too, unless something (a test
    harness) has already replaced it, so that Python's own messages survive the muting as well."""
    from adengine.quiet import real_stderr

    out = stream if stream is not None else real_stderr()
    if stream is None and sys.stderr is sys.__stderr__:
        sys.stderr = out
    handler = SafeStreamHandler(out)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(SpeechFilter(allow=speech))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, SafeStreamHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def days(text: str) -> int:
    """`--log-days N`: a whole number of days from 1 to 3650 (argparse type)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 1 <= value <= 3650:
        raise argparse.ArgumentTypeError(f"{value} is not in 1-3650 days")
    return value
