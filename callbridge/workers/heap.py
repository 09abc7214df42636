"""Giving memory back: a leaver's objects freed at once, and the C heap's free pages returned to the system.

A participant's pipeline, face bank and renders sit in reference cycles (bound methods held both ways), so
they would wait for the cycle collector's rare full pass; `release()` runs it when someone leaves. glibc
keeps the pages of freed blocks in its arenas; `trim()` (malloc_trim) returns them, after a leave and
every `TRIM_EVERY_S` (`HeapTrimmer`). Pages with one live block among freed ones stay, so video frames
are kept out of the arenas altogether (`map_large_blocks`). Elsewhere than glibc, these do nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from callbridge.tasks import cancel_and_wait

log = logging.getLogger(__name__)
TRIM_EVERY_S = 60.0
MB = 2**20
# A 640x480 frame is 0.45-0.9 MB: at this size a block gets pages of its own, unmapped when it is freed.
MMAP_THRESHOLD = 256 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def _glibc(name: str, restype: type[Any] = ctypes.c_int) -> Callable[..., Any] | None:
    try:
        function = getattr(ctypes.CDLL("libc.so.6"), name)
    except (OSError, AttributeError):
        return None
    function.restype = restype
    return function


_MALLOC_TRIM = _glibc("malloc_trim")
_MALLINFO2 = _glibc("mallinfo2", _MallInfo2)
_MALLOPT = _glibc("mallopt")


def map_large_blocks(threshold: int = MMAP_THRESHOLD) -> bool:
    """Give blocks of `threshold` bytes or more their own pages, for good; False where it cannot be set.

    glibc otherwise raises its threshold each time such a block is freed, up to 32 MB, after which every
    video frame is carved from the arenas and leaves them fragmented (docs/experiments.md, the soak).
    """
    return bool(_MALLOPT(_M_MMAP_THRESHOLD, threshold)) if _MALLOPT is not None else False


def trim() -> bool:
    """Return the C heap's free pages to the system; False where nothing was returned (or not glibc)."""
    return bool(_MALLOC_TRIM(0)) if _MALLOC_TRIM is not None else False


def heap_mb() -> dict[str, float] | None:
    """The C heap (all arenas): MB in use, MB free but kept, MB in blocks mapped on their own; None if unknown."""
    if _MALLINFO2 is None:
        return None
    info = _MALLINFO2()
    return {
        "in_use_mb": round(info.uordblks / MB, 1),
        "free_mb": round(info.fordblks / MB, 1),
        "mapped_mb": round(info.hblkhd / MB, 1),
    }


def release() -> float:
    """A full cycle collection, then a trim (call it when someone has left); the collection's seconds."""
    start = time.perf_counter()
    gc.collect()
    took = time.perf_counter() - start
    trim()
    return took


class HeapTrimmer:
    """Trims the C heap every `every_s` seconds, in a thread (malloc_trim walks every arena)."""

    def __init__(self, every_s: float = TRIM_EVERY_S) -> None:
        self.every_s = every_s
        self.trims = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await asyncio.to_thread(trim)
            except Exception:  # never fatal: the relay only keeps more pages
                log.exception("the heap could not be trimmed")
            self.trims += 1
