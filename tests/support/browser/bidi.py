"""A small WebDriver BiDi client for Debian's Firefox ESR.

Playwright drives stock Firefox only through its `moz-firefox` BiDi channel, and
Playwright 1.65 sends `emulation.setMediaFeaturesOverride` when it opens a
context, which Firefox ESR 153 does not know ("unknown command"). Firefox's own
Remote Agent speaks WebDriver BiDi, so the test talks to it directly: a
websocket, a handful of commands, and BiDi's value (de)serialisation.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import threading
from collections.abc import Callable
from typing import Any

import aiohttp


class BiDiError(RuntimeError):
    pass


class BiDiConnection:
    """Commands and events over one websocket, from synchronous code (a loop runs on a thread)."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="bidi", daemon=True)
        self._thread.start()
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        try:
            self._call(self._connect(url), timeout_s)
        except BaseException:
            self._stop_loop()
            raise

    def on_event(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        self._listeners.append(listener)

    def send(self, method: str, params: dict[str, Any] | None = None, timeout_s: float = 30.0) -> dict[str, Any]:
        """Run one command; its result, or BiDiError with the browser's message."""
        return self._call(self._send(method, params or {}), timeout_s)

    def close(self) -> None:
        try:
            self._call(self._close(), 5.0)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5.0)

    def _call(self, coro: Any, timeout_s: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    async def _connect(self, url: str) -> None:
        self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(url, max_msg_size=0)
        except BaseException:
            await self._session.close()  # the caller retries until Firefox listens
            raise
        asyncio.ensure_future(self._read())

    async def _send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        assert self._ws is not None
        command_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        self._waiting[command_id] = future
        await self._ws.send_str(json.dumps({"id": command_id, "method": method, "params": params}))
        reply = await future
        if reply.get("type") == "error":
            raise BiDiError(f"{method}: {reply.get('error')}: {reply.get('message')}")
        return reply.get("result", {})

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
            elif data.get("type") == "event":
                for listener in self._listeners:
                    listener(data.get("method", ""), data.get("params", {}))
        for future in self._waiting.values():
            if not future.done():
                future.set_result({"type": "error", "error": "closed", "message": "the browser closed the connection"})

    async def _close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()


def to_remote(value: Any) -> dict[str, Any]:
    """A Python value as a BiDi LocalValue (for script.callFunction arguments)."""
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool):
        return {"type": "boolean", "value": value}
    if isinstance(value, (int, float)):
        return {"type": "number", "value": value}
    if isinstance(value, str):
        return {"type": "string", "value": value}
    if isinstance(value, (list, tuple)):
        return {"type": "array", "value": [to_remote(v) for v in value]}
    if isinstance(value, dict):
        return {"type": "object", "value": [[str(k), to_remote(v)] for k, v in value.items()]}
    raise TypeError(f"cannot pass {type(value).__name__} to the page")


_NUMBERS = {"NaN": math.nan, "-0": -0.0, "Infinity": math.inf, "-Infinity": -math.inf}


def from_remote(value: dict[str, Any]) -> Any:
    """A BiDi RemoteValue as plain Python (objects -> dict, arrays -> list; DOM nodes -> None)."""
    kind = value.get("type")
    if kind in ("string", "boolean"):
        return value["value"]
    if kind == "number":
        number = value["value"]
        return _NUMBERS.get(number, number) if isinstance(number, str) else number
    if kind in ("array", "set"):
        return [from_remote(v) for v in value.get("value", [])]
    if kind in ("object", "map"):
        return {(k if isinstance(k, str) else str(from_remote(k))): from_remote(v) for k, v in value.get("value", [])}
    return None
