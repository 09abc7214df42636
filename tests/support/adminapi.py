"""An in-process relay (passthrough: no models) on a real SQLite file, with an aiohttp test client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

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
