"""Starts `callbridge serve` as a subprocess on a free port and waits until it is healthy.

Shared by the relay's integration tests and benchmarks.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


class RelayNotHealthy(RuntimeError):
    """The relay did not answer /healthz with 200 in time; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_relay(
    data: Path,
    *extra: str,
    log: TextIO,
    log_path: Path | None = None,
    timeout_s: float = 90.0,
    preexec_fn: Callable[[], None] | None = None,
    port: int | None = None,
) -> tuple[subprocess.Popen, str]:
    """`callbridge serve --data DATA EXTRA...` with ICE on loopback, on `port` or a free one;
    (process, base URL) once healthy."""
    port = port or free_port()
    argv = [sys.executable, "-m", "callbridge", "serve", "--port", str(port), "--data", str(data), *extra]
    env = {**os.environ, "CALLBRIDGE_ICE_LOOPBACK": "1"}
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=preexec_fn)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.25)
    proc.kill()
    tail = log_path.read_text()[-3000:] if log_path and log_path.exists() else ""
    raise RelayNotHealthy(f"relay not healthy within {timeout_s:.0f} s\n{tail}")


@contextmanager
def serving(
    data: Path, *extra: str, env: dict[str, str] | None = None, port: int | None = None, guard: bool = False
) -> Iterator[str]:
    """`callbridge serve` for a test module: its URL; on exit it is stopped and its log must hold no traceback.

    The overload guard is off unless `guard`: a test's browsers and clients share this machine's cores at
    normal priority, where a visitor's would run on their own, and the guard would count them as the relay's load.
    """
    extra = extra if guard else (*extra, "--no-overload-guard")
    log_path = data / "serve.log"
    saved = {key: os.environ.get(key) for key in env or {}}
    os.environ.update(env or {})
    try:
        proc, url = start_relay(data, *extra, log=log_path.open("w"), log_path=log_path, port=port)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
    assert "Traceback" not in log_path.read_text(), log_path.read_text()[-4000:]
