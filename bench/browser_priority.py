"""The benches' browsers stand in for visitors' machines: every thread of theirs, and their autogroup, at nice 19."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

BROWSER_NICE = 19  # the lowest: the browsers stand in for visitors' own machines


def lower_browsers(stop: threading.Event) -> None:
    """Both browsers stand in for machines of their own: every thread of theirs runs at BROWSER_NICE, below the relay.

    Nice values are per thread on Linux, and Chromium sets its own: as root it
    puts its display and audio threads at nice -8, above every relay thread
    (0.8 of the 2 cores ran there). So each thread is lowered, and again every
    half second for threads started or raised since.

    With the kernel's autogroup scheduling on (as on these hosts), each
    browser runs in a session of its own, and sessions share the CPU equally
    whatever their threads' nice values: the relay got a third of it while
    both browsers were busy, and its event loop waited for a core 55-80% of
    the time during ads. So each browser's group is lowered as well.
    """
    while not stop.is_set():
        for pid in subprocess.run(
            ["pgrep", "-f", "/usr/lib/chromium/chromium"], capture_output=True, text=True
        ).stdout.split():
            lower_autogroup(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    if os.getpriority(os.PRIO_PROCESS, int(task.name)) < BROWSER_NICE:
                        os.setpriority(os.PRIO_PROCESS, int(task.name), BROWSER_NICE)
                except (ProcessLookupError, PermissionError, ValueError):
                    pass
        stop.wait(0.5)


def lower_autogroup(pid: str) -> None:
    """Put the process's autogroup (its session, where autogroup scheduling is on) at BROWSER_NICE."""
    group = Path(f"/proc/{pid}/autogroup")
    try:
        if f"nice {BROWSER_NICE}" not in group.read_text():
            group.write_text(str(BROWSER_NICE))
    except OSError:  # no autogroup scheduling here, or the process has gone
        pass
