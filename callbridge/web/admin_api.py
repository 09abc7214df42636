"""The campaign's HTTP API (docs/campaigns.md): phrases, template records, logs and settings.

Uploads and previews live in template_upload.py. Every change needs the admin
token and is applied to running rooms before the answer goes out.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiohttp import web

from callbridge.config.campaign import (
    CampaignError,
    PhraseRule,
    TemplateRecord,
    campaign_json,
    check_cooldown,
    check_fallback,
    check_max_duration,
    check_phrase,
    check_template_name,
    check_text,
    phrase_json,
)
from callbridge.config.intake import forget_removed
from callbridge.config.phrase_check import phrase_warnings
from callbridge.ingest import UploadError
from callbridge.web.relay import RELAY, Relay
from callbridge.workers.priority import in_normal_thread

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_JSON_BYTES = 16 * 1024


class ApiError(Exception):
    """An API refusal: a 4xx status and a plain message, answered as JSON."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under /api/, every refusal is `{"error": ...}` with its 4xx status."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except (ApiError, CampaignError, UploadError) as exc:
        return web.json_response({"error": str(exc)}, status=getattr(exc, "status", 422))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return web.json_response({"error": exc.reason if exc.text is None else exc.text}, status=exc.status)


def require_admin(request: web.Request) -> Relay:
    relay = request.app[RELAY]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not relay.token.matches(given.strip()):
        raise ApiError(401, "the admin token is missing or wrong")
    return relay


async def read_json(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise ApiError(413, f"the body is over {MAX_JSON_BYTES // 1024} KB")
    raw = await request.content.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise ApiError(413, f"the body is over {MAX_JSON_BYTES // 1024} KB")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        raise ApiError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


async def campaign(request: web.Request) -> web.Response:
    found = await in_normal_thread(request.app[RELAY].services.store.campaign)
    return web.json_response(campaign_json(found))


async def auth(request: web.Request) -> web.Response:
    require_admin(request)
    return web.Response(status=204)


async def add_phrase(request: web.Request) -> web.Response:
    relay = require_admin(request)
    body = await read_json(request)
    _only(body, {"phrase", "template", "enabled", "cooldown_s"})
    rule = PhraseRule(
        check_phrase(body.get("phrase")),
        check_template_name(body.get("template", "")),
        _flag(body.get("enabled", True), "enabled"),
        check_cooldown(body.get("cooldown_s", 0.0)),
    )
    await in_normal_thread(relay.services.store.add_phrase, rule)
    await relay.apply_campaign()
    return web.json_response(phrase_json(rule), status=201)


async def change_phrase(request: web.Request) -> web.Response:
    relay = require_admin(request)
    body = await read_json(request)
    _only(body, {"phrase", "template", "enabled", "cooldown_s"})
    checks: dict[str, Callable[[Any], Any]] = {
        "phrase": check_phrase,
        "template": check_template_name,
        "enabled": lambda v: _flag(v, "enabled"),
        "cooldown_s": check_cooldown,
    }
    changes = {key: checks[key](value) for key, value in body.items()}
    rule = await in_normal_thread(partial(relay.services.store.update_phrase, _phrase_of(request), **changes))
    await relay.apply_campaign()
    return web.json_response(phrase_json(rule))


async def remove_phrase(request: web.Request) -> web.Response:
    relay = require_admin(request)
    await in_normal_thread(relay.services.store.remove_phrase, _phrase_of(request))
    await relay.apply_campaign()
    return web.Response(status=204)


async def check_phrase_text(request: web.Request) -> web.Response:
    require_admin(request)
    phrase = check_phrase((await read_json(request)).get("phrase"))
    return web.json_response({"phrase": phrase, "warnings": phrase_warnings(phrase)})


async def template(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    record = await in_normal_thread(request.app[RELAY].services.store.template, name)
    if record is None:
        raise ApiError(404, f"no template {name[:60]!r}")
    return web.json_response(record.to_dict())


async def change_template(request: web.Request) -> web.Response:
    relay = require_admin(request)
    body = await read_json(request)
    _only(body, {"title", "tagline", "licence", "max_duration_s", "fallback"})
    checks: dict[str, Callable[[Any], Any]] = {
        "title": lambda v: check_text(v, "title"),
        "tagline": lambda v: check_text(v, "tagline"),
        "licence": lambda v: check_text(v, "licence"),
        "max_duration_s": check_max_duration,
        "fallback": check_fallback,
    }
    changes = {key: checks[key](value) for key, value in body.items()}
    record = await in_normal_thread(
        partial(relay.services.store.update_template, request.match_info["name"], **changes)
    )
    await relay.apply_campaign()
    return web.json_response(record.to_dict())


async def remove_template(request: web.Request) -> web.Response:
    relay = require_admin(request)
    record: TemplateRecord = await in_normal_thread(relay.services.store.remove_template, request.match_info["name"])
    await relay.apply_campaign()
    await in_normal_thread(forget_removed, relay.services.store, [record])  # an ad playing it keeps its frames
    return web.Response(status=204)


async def logs(request: web.Request) -> web.Response:
    relay = require_admin(request)
    kind = request.query.get("kind", "consent")
    if kind not in ("consent", "ads"):
        raise ApiError(400, "kind is 'consent' or 'ads'")
    try:
        limit = max(1, min(1000, int(request.query.get("limit", "200"))))
    except ValueError:
        raise ApiError(400, "limit is a whole number") from None
    store = relay.services.store
    rows = await in_normal_thread(store.log, kind, limit)
    days = await in_normal_thread(store.retention_days)
    return web.json_response({"kind": kind, "rows": rows, "retention_days": days})


async def purge_logs(request: web.Request) -> web.Response:
    relay = require_admin(request)
    kind = request.query.get("kind", "all")
    if kind not in ("consent", "ads", "all"):
        raise ApiError(400, "kind is 'consent', 'ads' or 'all'")
    deleted = await in_normal_thread(relay.services.store.purge, kind)
    return web.json_response({"deleted": deleted})


async def settings(request: web.Request) -> web.Response:
    relay = require_admin(request)
    store = relay.services.store
    if request.method == "PUT":
        body = await read_json(request)
        _only(body, {"retention_days"})
        await in_normal_thread(store.set_retention_days, body.get("retention_days"))
        await in_normal_thread(store.purge_expired)
    return web.json_response({"retention_days": await in_normal_thread(store.retention_days)})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/campaign", campaign)
    r.add_get("/api/auth", auth)
    r.add_post("/api/phrases", add_phrase)
    r.add_post("/api/phrases/check", check_phrase_text)
    r.add_patch("/api/phrases/{phrase}", change_phrase)
    r.add_delete("/api/phrases/{phrase}", remove_phrase)
    r.add_get("/api/templates/{name}", template)
    r.add_patch("/api/templates/{name}", change_template)
    r.add_delete("/api/templates/{name}", remove_template)
    r.add_get("/api/logs", logs)
    r.add_delete("/api/logs", purge_logs)
    r.add_get("/api/settings", settings)
    r.add_put("/api/settings", settings)


def _phrase_of(request: web.Request) -> str:
    return " ".join(request.match_info["phrase"].lower().split())


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(400, f"unknown field {unknown[0][:40]!r}; expected {', '.join(sorted(allowed))}")


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ApiError(400, f"{what} is true or false")
    return value
