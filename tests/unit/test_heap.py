"""workers/heap.py: freeing a leaver's cycles at once, the C heap's figures, and the periodic trim."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import weakref

import numpy as np
import pytest

from callbridge.workers import heap


class Holder:
    """Stands for a participant's pipeline: a big array in a cycle through a bound method."""

    def __init__(self) -> None:
        self.frames = np.ones((64, 640, 480), np.uint8)  # ~20 MB, as an ad render's frames would be
        self.callback = self.on_face

    def on_face(self) -> None:
        pass


def test_release_frees_objects_that_only_a_full_collection_would_free():
    gc.disable()  # no automatic pass may free it first: only release() can
    try:
        holder = Holder()
        ref = weakref.ref(holder)
        del holder
        assert ref() is not None  # a cycle: reference counting alone keeps it
        took = heap.release()
        assert ref() is None and 0.0 <= took < 5.0
    finally:
        gc.enable()


def test_the_heap_figures_follow_an_allocation_in_the_c_heap():
    before = heap.heap_mb()
    assert before is not None and set(before) == {"in_use_mb", "free_mb", "mapped_mb"}
    blocks = [np.ones(100_000, np.uint8) for _ in range(200)]  # ~20 MB in blocks small enough for the arenas
    during = heap.heap_mb()
    assert during is not None
    grown = during["in_use_mb"] + during["mapped_mb"] - before["in_use_mb"] - before["mapped_mb"]
    assert grown >= 15.0, (before, during)
    del blocks
    assert isinstance(heap.trim(), bool)


def test_the_trimmer_trims_every_period_and_stops_cleanly(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(heap, "trim", lambda: calls.append(1) or True)

    async def scenario() -> int:
        trimmer = heap.HeapTrimmer(every_s=0.02)
        trimmer.start()
        await asyncio.sleep(0.2)
        await trimmer.stop()
        stopped_at = len(calls)
        await asyncio.sleep(0.06)
        assert len(calls) == stopped_at  # nothing after stop
        return trimmer.trims

    trims = asyncio.run(scenario())
    assert trims >= 3 and trims == len(calls)


def test_a_failing_trim_is_logged_and_the_trimmer_goes_on(monkeypatch, caplog):
    def broken() -> bool:
        raise OSError("no heap")

    monkeypatch.setattr(heap, "trim", broken)

    async def scenario() -> int:
        trimmer = heap.HeapTrimmer(every_s=0.02)
        trimmer.start()
        await asyncio.sleep(0.15)
        await trimmer.stop()
        return trimmer.trims

    assert asyncio.run(scenario()) >= 2
    assert "the heap could not be trimmed" in caplog.text


PROBE = """
import ctypes, sys
from callbridge.workers import heap
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.free(libc.malloc(4 * 2**20))  # freeing a mapped 4 MB block raises glibc's own threshold past 0.6 MB
if sys.argv[1] == "map":
    assert heap.map_large_blocks()
before = heap.heap_mb()["mapped_mb"]
blocks = [libc.malloc(600_000) for _ in range(20)]  # twenty ad-frame-sized blocks
print(heap.heap_mb()["mapped_mb"] - before)
"""


@pytest.mark.parametrize("setting, mapped", [("map", True), ("default", False)])
def test_large_blocks_get_pages_of_their_own_in_a_fresh_process(setting: str, mapped: bool) -> None:
    if heap.heap_mb() is None:  # not glibc: there is nothing to set, and the relay is told so
        assert not heap.map_large_blocks()
        return
    out = subprocess.run([sys.executable, "-c", PROBE, setting], capture_output=True, text=True, check=True)
    grew = float(out.stdout)
    assert (grew >= 11) is mapped, grew  # 20 x 0.57 MB mapped on their own, or carved from an arena
