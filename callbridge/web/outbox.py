"""Messages to one page's websocket: queued at once, written in order by one task.

Putting a message never waits on the network, so a page that stops reading
holds up no join and no broadcast. A write that takes longer than
`write_timeout_s`, or a queue past `limit` messages, means the page is not
reading: its connection is cut (the session then leaves the room).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)
LIMIT = 512  # messages waiting; transcripts come a few a second per speaker
WRITE_TIMEOUT_S = 5.0


class Outbox:
    """One websocket's outgoing messages; `abort` cuts the connection without a closing handshake."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        abort: Callable[[], None],
        limit: int = LIMIT,
        write_timeout_s: float = WRITE_TIMEOUT_S,
    ) -> None:
        self.ws = ws
        self._abort = abort
        self.limit = limit
        self.write_timeout_s = write_timeout_s
        self.stalled = False
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._task = asyncio.ensure_future(self._write())

    def put(self, message: dict[str, Any]) -> None:
        """Queue one message (JSON); a page past `limit` waiting messages is cut off."""
        if self.stalled or self.ws.closed:
            return
        if self._queue.qsize() >= self.limit:
            self.cut(f"{self.limit} messages were waiting")
            return
        self._queue.put_nowait(json.dumps(message))

    def cut(self, why: str) -> None:
        """The page is not reading: drop what waits and cut the connection."""
        if self.stalled:
            return
        self.stalled = True
        log.warning("a page stopped reading (%s); its connection is cut", why)
        self._task.cancel()
        with contextlib.suppress(Exception):
            self._abort()

    async def close(self) -> None:
        """Send what is queued (within the write timeout), then close the websocket cleanly."""
        if not self.stalled and not self._task.done():
            self._queue.put_nowait(None)
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), self.write_timeout_s + 1.0)
        self._task.cancel()
        if not self.ws.closed and not self.stalled:
            try:
                await asyncio.wait_for(self.ws.close(), self.write_timeout_s)
            except (TimeoutError, ConnectionError, RuntimeError):
                self.cut("the closing handshake did not finish")

    async def _write(self) -> None:
        while (text := await self._queue.get()) is not None:
            if self.ws.closed:
                return
            try:
                await asyncio.wait_for(self.ws.send_str(text), self.write_timeout_s)
            except TimeoutError:
                self.cut(f"a message took over {self.write_timeout_s:.0f} s to send")
                return
            except (ConnectionError, RuntimeError):
                return  # the page has gone: its session cleans up
