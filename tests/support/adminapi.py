"""An in-process relay (passthrough: no models) on a real SQLite file, with an aiohttp test client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from callbridge.config.admin_token import AdminToken
from callbridge.config.services import Services
from callbridge.web.relay import Relay
from callbridge.web.server import build_app

TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@asynccontextmanager
async def admin_client(data: Path) -> AsyncIterator[tuple[TestClient, Relay]]:
    relay = Relay(Services(data), passthrough=True, token=AdminToken(TOKEN, "environment"))
    async with TestClient(TestServer(build_app(relay))) as client:
        assert relay.loading is not None
        await relay.loading
        yield client, relay


async def answer(response: ClientResponse) -> tuple[int, Any]:
    """Status and JSON body (None for an empty one)."""
    text = await response.text()
    if not text:
        return response.status, None
    assert response.content_type == "application/json", text
    return response.status, await response.json()


async def upload_and_wait(
    session: aiohttp.ClientSession, url: str, clip: Path, token: str, **fields: str
) -> tuple[dict[str, Any], float]:
    """Upload `clip` as a template through a running server's API; its record once ingested, and the seconds taken."""
    form = aiohttp.FormData()
    for key, value in {"licence": "test clip, made at test time", **fields}.items():
        form.add_field(key, value)
    form.add_field("file", clip.read_bytes(), filename=clip.name, content_type="video/mp4")
    began = time.monotonic()
    async with session.post(f"{url}/api/templates", data=form, headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 202, await r.text()
    while time.monotonic() - began < 300:
        async with session.get(f"{url}/api/templates/{fields['name']}") as r:
            record = await r.json()
        if record["status"] != "ingesting":
            return record, time.monotonic() - began
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{fields['name']} still ingesting after 300 s")
