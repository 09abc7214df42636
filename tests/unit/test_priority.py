"""Thread priorities: media threads yield to speech; the caller's thread is untouched."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from callbridge.workers.priority import MEDIA_NICE, in_normal_thread, lower_current_thread, media_executor

pytestmark = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread nice values are a Linux feature")


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_lowers_only_the_calling_thread() -> None:
    before = _nice()
    seen: list[tuple[bool, int]] = []

    def worker() -> None:
        seen.append((lower_current_thread(3), _nice()))

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    took, worker_nice = seen[0]
    assert took == (before < 19)
    assert worker_nice == min(19, before + 3)
    assert _nice() == before  # the event loop's thread keeps its priority


def test_zero_or_negative_steps_change_nothing() -> None:
    before = _nice()
    assert lower_current_thread(0) is False
    assert lower_current_thread(-5) is False  # raising a priority needs privileges; never tried
    assert _nice() == before


def test_media_executor_threads_run_nicer() -> None:
    before = _nice()
    with media_executor() as pool:
        worker_nice = pool.submit(_nice).result(timeout=5)
    assert worker_nice == min(19, before + MEDIA_NICE)
    assert _nice() == before


def test_setup_work_keeps_the_loop_priority_when_media_is_the_default() -> None:
    """Threads started by setup work (speech, CTranslate2) would inherit a lowered priority."""
    before = _nice()

    async def main() -> tuple[int, int]:
        asyncio.get_running_loop().set_default_executor(media_executor())
        return await asyncio.to_thread(_nice), await in_normal_thread(_nice)

    media, setup = asyncio.run(main())
    assert media == min(19, before + MEDIA_NICE)
    assert setup == before
