"""The campaign API against a real SQLite file: the token, every route, JSON errors, restarts.

Uploads, which run a child process on real clips, are in tests/integration/test_admin_uploads.py.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from callbridge.config.campaign import PhraseRule, TemplateRecord
from callbridge.config.store import Store
from tests.support.adminapi import AUTH, TOKEN, admin_client, answer

CHANGES = [
    ("POST", "/api/phrases", {"phrase": "pizza night", "template": "default"}),
    ("PATCH", "/api/phrases/dinner%20tonight", {"enabled": False}),
    ("DELETE", "/api/phrases/dinner%20tonight", None),
    ("POST", "/api/phrases/check", {"phrase": "see you"}),
    ("POST", "/api/templates", None),
    ("PATCH", "/api/templates/default", {"max_duration_s": 5}),
    ("DELETE", "/api/templates/travel", None),
    ("POST", "/api/templates/default/preview", None),
    ("GET", "/api/logs?kind=consent", None),
    ("DELETE", "/api/logs?kind=all", None),
    ("GET", "/api/settings", None),
    ("PUT", "/api/settings", {"retention_days": 3}),
    ("GET", "/api/auth", None),
]


def run(coro):
    return asyncio.run(coro)


def ready_template(data: Path, name: str) -> None:
    store = Store(data)
    store.reserve_template(TemplateRecord(name, title="Travel", licence="CC0"))
    store.mark_ready(name, f"clips/{name}.mp4", "0" * 64, "tracked in 10 of 10 frames")


@pytest.mark.parametrize("method,path,body", CHANGES)
@pytest.mark.parametrize("header", [None, "Bearer wrong-token-000000000", f"Basic {TOKEN}", "Bearer "])
def test_every_change_and_private_read_needs_the_token(tmp_path, method, path, body, header):
    ready_template(tmp_path, "travel")
    before = Store(tmp_path).campaign()

    async def go():
        async with admin_client(tmp_path) as (client, _):
            headers = {} if header is None else {"Authorization": header}
            return await answer(await client.request(method, path, json=body, headers=headers))

    status, reply = run(go())
    assert status == 401 and reply == {"error": "the admin token is missing or wrong"}
    assert Store(tmp_path).campaign() == before


def test_the_campaign_is_public_and_lists_phrases_with_warnings_and_templates(tmp_path):
    async def go():
        async with admin_client(tmp_path) as (client, _):
            return await answer(await client.get("/api/campaign"))

    status, body = run(go())
    assert status == 200 and body["revision"] == 0
    assert body["phrases"] == [
        {
            "phrase": "dinner tonight",
            "template": "default",
            "enabled": True,
            "cooldown_s": 0.0,
            "warnings": [],
            "live": True,
        }
    ]
    (default,) = body["templates"]
    assert default["name"] == "default" and default["status"] == "ready" and default["builtin"] is True
    assert "clip" not in default  # where clips are stored is not the public's business


def test_phrase_routes_add_change_and_delete(tmp_path):
    ready_template(tmp_path, "travel")

    async def go():
        async with admin_client(tmp_path) as (client, relay):
            added = await answer(
                await client.post("/api/phrases", json={"phrase": "  Road  TRIP ", "template": "travel"}, headers=AUTH)
            )
            changed = await answer(
                await client.patch("/api/phrases/road%20trip", json={"cooldown_s": 20, "enabled": False}, headers=AUTH)
            )
            renamed = await answer(
                await client.patch("/api/phrases/road%20trip", json={"phrase": "long road trip"}, headers=AUTH)
            )
            checked = await answer(await client.post("/api/phrases/check", json={"phrase": "see you"}, headers=AUTH))
            deleted = await answer(await client.delete("/api/phrases/dinner%20tonight", headers=AUTH))
            return added, changed, renamed, checked, deleted, relay.applied_revision

    added, changed, renamed, checked, deleted, applied = run(go())
    assert added[0] == 201 and added[1]["phrase"] == "road trip" and added[1]["template"] == "travel"
    assert any("short" in w for w in added[1]["warnings"])
    assert changed == (200, {**added[1], "cooldown_s": 20.0, "enabled": False})
    assert renamed[0] == 200 and renamed[1]["phrase"] == "long road trip" and renamed[1]["cooldown_s"] == 20.0
    assert checked[0] == 200 and len(checked[1]["warnings"]) == 2
    assert deleted == (204, None)
    store = Store(tmp_path)
    assert [(r.phrase, r.enabled, r.cooldown_s) for r in store.rules()] == [("long road trip", False, 20.0)]
    assert applied == store.revision()  # the relay applied each change before answering


@pytest.mark.parametrize(
    "method,path,body,status,message",
    [
        ("POST", "/api/phrases", {"phrase": "pizza night", "template": "nope"}, 404, "no template 'nope'"),
        ("POST", "/api/phrases", {"phrase": "dinner tonight", "template": "default"}, 409, "already"),
        ("POST", "/api/phrases", {"phrase": "", "template": "default"}, 422, "at least one word"),
        ("POST", "/api/phrases", {"phrase": "x" * 81, "template": "default"}, 422, "at most 80"),
        ("POST", "/api/phrases", {"phrase": 7, "template": "default"}, 422, "text"),
        ("POST", "/api/phrases", {"phrase": "a b", "template": "../etc"}, 422, "template name"),
        ("POST", "/api/phrases", {"phrase": "a b", "template": "default", "cooldown_s": -1}, 422, "cooldown"),
        ("POST", "/api/phrases", {"phrase": "a b", "template": "default", "enabled": "yes"}, 400, "true or false"),
        ("POST", "/api/phrases", {"phrase": "a b", "template": "default", "owner": "me"}, 400, "unknown field"),
        ("POST", "/api/phrases", [1, 2], 400, "JSON object"),
        ("PATCH", "/api/phrases/nothing%20here", {"enabled": False}, 404, "no phrase"),
        ("DELETE", "/api/phrases/nothing%20here", None, 404, "no phrase"),
        ("GET", "/api/templates/nope", None, 404, "no template"),
        ("PATCH", "/api/templates/default", {"max_duration_s": 90}, 422, "between 1 and 30"),
        ("PATCH", "/api/templates/default", {"fallback": "maybe"}, 422, "fallback"),
        ("PATCH", "/api/templates/default", {"clip": "/etc/passwd"}, 400, "unknown field"),
        ("DELETE", "/api/templates/default", None, 422, "built in"),
        ("DELETE", "/api/templates/nope", None, 404, "no template"),
        ("GET", "/api/logs?kind=faces", None, 400, "kind"),
        ("GET", "/api/logs?kind=ads&limit=many", None, 400, "whole number"),
        ("PUT", "/api/settings", {"retention_days": 0}, 422, "retention_days"),
        ("PUT", "/api/settings", {"retention_days": True}, 422, "retention_days"),
    ],
)
def test_bad_requests_get_a_json_error_and_change_nothing(tmp_path, method, path, body, status, message):
    before = Store(tmp_path).campaign()

    async def go():
        async with admin_client(tmp_path) as (client, _):
            return await answer(await client.request(method, path, json=body, headers=AUTH))

    got_status, reply = run(go())
    assert got_status == status and message in reply["error"]
    assert Store(tmp_path).campaign() == before


def test_a_body_that_is_not_json_or_too_deep_or_too_big(tmp_path):
    async def go():
        async with admin_client(tmp_path) as (client, _):
            url = "/api/phrases"
            return [
                await answer(await client.post(url, data=b"{not json", headers=AUTH)),
                await answer(await client.post(url, data=b"[" * 10_000, headers=AUTH)),
                await answer(await client.post(url, data=b" " * 20_000, headers=AUTH)),
            ]

    assert [s for s, _ in run(go())] == [400, 400, 413]


def test_template_routes_change_and_delete(tmp_path):
    ready_template(tmp_path, "travel")
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "travel.mp4").write_bytes(b"x")
    track = tmp_path / "templates" / ".cache" / f"{'0' * 64}-10.npz"  # the actor's cached track
    track.parent.mkdir(parents=True)
    track.write_bytes(b"x")
    Store(tmp_path).add_phrase(PhraseRule("road trip", "travel"))

    async def go():
        async with admin_client(tmp_path) as (client, _):
            got = await answer(await client.get("/api/templates/travel"))
            changed = await answer(
                await client.patch(
                    "/api/templates/travel", json={"max_duration_s": 4.5, "fallback": "none"}, headers=AUTH
                )
            )
            deleted = await answer(await client.delete("/api/templates/travel", headers=AUTH))
            return got, changed, deleted

    got, changed, deleted = run(go())
    assert got[0] == 200 and got[1]["verdict"] == "tracked in 10 of 10 frames"
    assert changed[0] == 200 and (changed[1]["max_duration_s"], changed[1]["fallback"]) == (4.5, "none")
    assert deleted == (204, None)
    assert Store(tmp_path).template("travel") is None and Store(tmp_path).template_for("road trip") is None
    assert not (tmp_path / "clips" / "travel.mp4").exists() and not track.exists()  # its files go with it


def test_logs_settings_and_purge(tmp_path):
    store = Store(tmp_path)
    store.log_consent("lobby", "ana", True)
    ten_days_ago = time.time() - 10 * 86400
    store.log_ad("lobby", "ana", "default", "dinner tonight", True, ten_days_ago, ten_days_ago + 8)

    async def go():
        async with admin_client(tmp_path) as (client, _):
            return [
                await answer(await client.get("/api/logs?kind=consent", headers=AUTH)),
                await answer(await client.get("/api/logs?kind=ads", headers=AUTH)),
                await answer(await client.put("/api/settings", json={"retention_days": 7}, headers=AUTH)),
                await answer(await client.get("/api/logs?kind=ads", headers=AUTH)),  # past the new retention
                await answer(await client.delete("/api/logs?kind=consent", headers=AUTH)),
                await answer(await client.get("/api/settings", headers=AUTH)),
            ]

    consent, ads, put, ads_after, purged, settings = run(go())
    assert consent[1]["rows"][0] | {"t": 0} == {"t": 0, "room": "lobby", "participant": "ana", "consent": True}
    assert ads[1]["rows"][0]["personalised"] is True and ads[1]["retention_days"] == 30
    assert put == (200, {"retention_days": 7}) and ads_after[1]["rows"] == []
    assert purged == (200, {"deleted": 1}) and settings == (200, {"retention_days": 7})


def test_everything_survives_a_restart(tmp_path):
    ready_template(tmp_path, "travel")

    async def change():
        async with admin_client(tmp_path) as (client, _):
            await client.post("/api/phrases", json={"phrase": "road trip", "template": "travel"}, headers=AUTH)
            await client.patch("/api/templates/travel", json={"fallback": "none"}, headers=AUTH)
            await client.put("/api/settings", json={"retention_days": 9}, headers=AUTH)
            return await answer(await client.get("/api/campaign"))

    async def read():
        async with admin_client(tmp_path) as (client, _):
            return await answer(await client.get("/api/campaign")), await answer(
                await client.get("/api/settings", headers=AUTH)
            )

    before = run(change())
    after, settings = run(read())
    assert after == before and settings[1] == {"retention_days": 9}


def test_the_admin_page_is_served_without_the_token(tmp_path):
    async def go():
        async with admin_client(tmp_path) as (client, _):
            response = await client.get("/admin")
            return response.status, await response.text(), response.headers.get("Cache-Control")

    status, html, cache = run(go())
    assert status == 200 and "/static/admin/main.js" in html and cache == "no-store"
