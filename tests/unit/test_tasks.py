"""callbridge/tasks.py: background tasks stopped with cancel_and_wait have ended, and nothing is raised."""

from __future__ import annotations

import asyncio

from callbridge.tasks import cancel_and_wait


def test_pending_tasks_are_cancelled_and_have_ended_when_it_returns():
    async def scenario() -> None:
        waiting = [asyncio.ensure_future(asyncio.Event().wait()) for _ in range(3)]
        await asyncio.sleep(0)
        await cancel_and_wait(*waiting, None)
        assert all(task.done() and task.cancelled() for task in waiting)

    asyncio.run(scenario())


def test_tasks_already_done_or_failed_are_waited_without_raising():
    async def boom() -> None:
        raise ValueError("boom")

    async def scenario() -> None:
        done = asyncio.ensure_future(asyncio.sleep(0))
        failed = asyncio.ensure_future(boom())
        await asyncio.sleep(0.01)
        await cancel_and_wait(done, failed)
        await cancel_and_wait()
        assert done.done() and isinstance(failed.exception(), ValueError)

    asyncio.run(scenario())
