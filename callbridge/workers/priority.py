"""Thread priorities inside the relay: speech ahead of video transcoding.

The trigger-to-ad path runs through each participant's speech thread, whose
decodes take a whole core for 0.1-0.3 s. Video transcoding (aiortc's encoders
run in the event loop's default executor), ad frames, face harvesting and ad
pre-renders can each wait a few milliseconds without harm, so on a busy CPU
the kernel should serve the speech decode first. Threads are only ever made
nicer than the process, which needs no privilege; where that fails (not
Linux, a sandbox) the relay runs as before.

A thread inherits the nice value of the thread that starts it, and cannot
undo it. Work that starts long-lived threads (the speech worker, CTranslate2's
own compute thread, face workers) therefore goes through `in_normal_thread`,
never through the media executor.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)
MEDIA_NICE = 5  # transcoding, ad frames: real time, but each job is short
T = TypeVar("T")
# Its threads are started from the event loop's thread, so they keep its priority.
_NORMAL = ThreadPoolExecutor(thread_name_prefix="setup")


def lower_current_thread(by: int) -> bool:
    """Make the calling thread `by` steps nicer than it is; True if it took effect.

    On Linux the nice value is per thread, so this leaves the event loop and
    the speech threads where they are.
    """
    if by <= 0 or not hasattr(os, "setpriority"):
        return False
    tid = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, now + by))
    except OSError as exc:
        log.debug("cannot lower thread %d's priority: %s", tid, exc)
        return False
    return True


def media_executor() -> ThreadPoolExecutor:
    """The relay loop's default executor: its threads run at MEDIA_NICE."""
    return ThreadPoolExecutor(thread_name_prefix="media", initializer=lower_current_thread, initargs=(MEDIA_NICE,))


async def in_normal_thread(func: Callable[..., T], *args: object) -> T:
    """Run blocking `func` off the loop, in a thread at the process's own priority."""
    return await asyncio.get_running_loop().run_in_executor(_NORMAL, functools.partial(func, *args))
