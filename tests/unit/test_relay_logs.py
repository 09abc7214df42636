"""The relay's own log: it survives mediapipe's stderr muting, degrades on a full disk without disturbing
the program, and withholds recognised speech unless asked."""

from __future__ import annotations

import errno
import io
import logging
import subprocess
import sys
import textwrap
import time

import pytest

from callbridge.config import logs
from callbridge.config.logs import SafeStreamHandler, Speech, SpeechFilter


class FullDisk(io.StringIO):
    """A file whose writes fail with ENOSPC while `full` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.full = True
        self.attempts = 0

    def write(self, text: str) -> int:
        self.attempts += 1
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(text)


def _logger(handler: logging.Handler, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_a_full_disk_never_raises_into_the_caller_nor_prints_and_logging_resumes(capsys, monkeypatch):
    monkeypatch.setattr(logging, "raiseExceptions", True)  # logging's default: print a traceback for each failure
    disk = FullDisk()
    handler = SafeStreamHandler(disk, retry_s=0.2)
    log = _logger(handler, "test.fulldisk")
    for i in range(50):
        log.info("line %d", i)  # must not raise
    assert disk.attempts == 1  # one failed write; the next 49 lines were dropped without trying
    assert handler.dropped == 50 and handler.failures == 1
    assert capsys.readouterr().err == ""  # no "--- Logging error ---" traceback on stderr
    disk.full = False
    time.sleep(0.25)
    log.info("back")
    written = disk.getvalue().splitlines()
    assert written == ["50 log lines were dropped (No space left on device)", "back"]
    assert handler.dropped == 0


def test_an_unformattable_line_is_dropped_alone():
    out = io.StringIO()
    log = _logger(SafeStreamHandler(out), "test.badformat")
    log.info("two %s %s", "args?")  # a bug in one log call
    log.info("next")
    assert out.getvalue().splitlines() == ["1 log lines were dropped (TypeError)", "next"]


def test_the_relay_keeps_running_when_its_log_cannot_be_written(tmp_path):
    """The whole of serve's logging set-up, on a stream that fails: a caller in a worker thread is not hurt."""
    disk = FullDisk()
    handler = logs.setup(stream=disk)
    try:
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                for _ in range(20):
                    logging.getLogger("callbridge.web.room").info("room demo: ana joined")
            except BaseException as exc:  # pragma: no cover - the failure this test looks for
                errors.append(exc)

        import threading

        t = threading.Thread(target=worker)
        t.start()
        t.join(5)
        assert errors == [] and handler.dropped == 20
    finally:
        logging.getLogger().removeHandler(handler)


@pytest.mark.parametrize(
    ("message", "args", "shown"),
    [
        (
            "room %s: %s said %r (heard %r); latency %.2f s",
            ("demo", "ana", "dinner tonight", "shall we have dinner tonight", 0.5),
            "room demo: ana said 'dinner tonight' (heard '[speech: 5 words]'); latency 0.50 s",
        ),
        ("transcript: %s", ("I know a nice place",), "transcript: [speech: 5 words]"),
        ("%s: %s", ("ana", Speech("hello there")), "ana: [speech: 2 words]"),
        ("context %s, template %r", ("x", "default"), "context x, template 'default'"),
    ],
)
def test_recognised_speech_is_withheld_by_default(message, args, shown):
    record = logging.LogRecord("callbridge.web.room", logging.INFO, __file__, 1, message, args, None)
    SpeechFilter(allow=False).filter(record)
    assert record.getMessage() == shown
    allowed = logging.LogRecord("callbridge.web.room", logging.INFO, __file__, 1, message, args, None)
    SpeechFilter(allow=True).filter(allowed)
    assert allowed.getMessage() == message % args


_MUTED_CHILD = textwrap.dedent(
    """
    import logging, os, sys, threading
    from adengine.quiet import native_stderr_muted
    {setup}
    muted, done = threading.Event(), threading.Event()

    def tracker():  # a face being tracked: descriptor 2 is /dev/null meanwhile
        with native_stderr_muted():
            os.write(2, b"I0000 native mediapipe chatter\\n")
            muted.set()
            done.wait(5)

    t = threading.Thread(target=tracker)
    t.start()
    muted.wait(5)
    logging.getLogger("callbridge.web.room").warning("room demo: ana joined while faces were tracked")
    print("python stderr while muted", file=sys.stderr, flush=True)
    done.set()
    t.join()
    logging.getLogger("callbridge.web.room").warning("after muting")
    """
)


def _run_child(setup: str) -> str:
    code = _MUTED_CHILD.format(setup=setup)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_the_relays_log_lines_survive_mediapipes_muting_of_stderr():
    err = _run_child("from callbridge.config.logs import setup; setup()")
    assert "room demo: ana joined while faces were tracked" in err
    assert "python stderr while muted" in err
    assert "after muting" in err
    assert "native mediapipe chatter" not in err  # what the muting is for still holds


def test_without_the_fix_the_same_lines_are_lost():
    """The hazard the fix is for: a plain handler on sys.stderr writes into the muted descriptor."""
    err = _run_child("logging.basicConfig(stream=sys.stderr)")
    assert "after muting" in err
    assert "room demo: ana joined while faces were tracked" not in err
