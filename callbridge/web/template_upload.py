"""Template uploads and previews over HTTP (docs/campaigns.md, "Uploads").

An upload is streamed to a hidden file in DATA/clips with a size cap, checked
(container, header caps, a face) in a child process, renamed to a random name,
answered 202, and then ingested in the background while the admin page polls
its progress. Any refusal deletes what was written and frees the name.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import secrets
from dataclasses import replace
from pathlib import Path

from aiohttp import BodyPartReader, MultipartReader, web

from adengine import AdRenderer, AdTemplate, ClipError, FaceError, assess_image, decode_image, encode_webm
from callbridge.config.campaign import (
    CampaignError,
    NotFound,
    TemplateRecord,
    new_template,
)
from callbridge.config.intake import CAPS, check_upload, ingest_stored
from callbridge.ingest import UploadError, store_clip
from callbridge.web.admin_api import ApiError, require_admin
from callbridge.web.limits import LIMITS, TOO_MANY_UPLOADS, client_key
from callbridge.web.relay import Relay
from callbridge.workers.priority import in_normal_thread

log = logging.getLogger(__name__)
MAX_BODY = CAPS.max_bytes + 64 * 1024  # the clip plus its form fields
MAX_FIELD = 2048
MAX_PHOTO = 10 * 1024 * 1024
PREVIEW_S = 4.0
CHUNK = 256 * 1024


async def _multipart(request: web.Request) -> MultipartReader:
    """The body's parts; 400 for a body that is not multipart (aiohttp would assert)."""
    if not request.content_type.startswith("multipart/"):
        raise ApiError(400, "send the upload as multipart/form-data")
    try:
        return await request.multipart()
    except (AssertionError, ValueError) as exc:
        raise ApiError(400, f"the multipart body cannot be read ({type(exc).__name__})") from None


def _rate_limited(request: web.Request) -> None:
    """429 past the uploads' rate for this client address (limits.py)."""
    limits = request.app.get(LIMITS)
    if limits is not None and not limits.uploads.allow(client_key(request.remote)):
        raise ApiError(429, TOO_MANY_UPLOADS)


async def upload_template(request: web.Request) -> web.Response:
    relay = require_admin(request)
    _rate_limited(request)
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, f"the upload is over {CAPS.max_bytes // 1_000_000} MB")
    reader = await _multipart(request)
    fields: dict[str, str] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise ApiError(400, "nested multipart is not accepted")
        if part.name == "file":
            if "name" not in fields:
                raise ApiError(400, "send the form fields (name, licence, ...) before the file")
            record = _record(fields)
            return await _receive(relay, part, record)
        fields[str(part.name)] = await _field(part)
    raise ApiError(400, "no file in the upload (field 'file')")


async def _receive(relay: Relay, part: BodyPartReader, record: TemplateRecord) -> web.Response:
    store, data_dir = relay.services.store, relay.services.data_dir
    await in_normal_thread(store.reserve_template, record)  # a second upload of this name gets 409 here
    folder = data_dir / "clips"
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".upload-{secrets.token_hex(8)}.part"
    try:
        await _save(part, temp)
        container = await in_normal_thread(check_upload, temp)
        clip = await in_normal_thread(store_clip, data_dir, temp, container)
    except BaseException:
        await in_normal_thread(store.remove_template, record.name)
        raise
    finally:
        temp.unlink(missing_ok=True)
    relay.spawn(_ingest(relay, clip, record), f"ingest of {record.name}")
    reserved = await in_normal_thread(store.template, record.name)
    return web.json_response((reserved or record).to_dict(), status=202)


async def _save(part: BodyPartReader, temp: Path) -> None:
    size = 0
    with open(temp, "wb") as fh:
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size > CAPS.max_bytes:
                raise UploadError(413, f"the file is over {CAPS.max_bytes // 1_000_000} MB")
            fh.write(chunk)
    if size == 0:
        raise UploadError(415, "the file is empty (0 bytes)")


async def _ingest(relay: Relay, clip: str, record: TemplateRecord) -> None:
    store = relay.services.store

    def progress(fraction: float) -> None:
        store.set_progress(record.name, fraction)

    try:
        ready = await in_normal_thread(ingest_stored, relay.services.data_dir, clip, record, progress)
        await in_normal_thread(store.mark_ready, record.name, ready.clip, ready.clip_sha256, ready.verdict or "")
    except (UploadError, CampaignError) as exc:
        log.info("template %r refused: %s", record.name, exc)
        try:
            await in_normal_thread(store.mark_failed, record.name, str(exc))
        except NotFound:
            pass  # deleted while it was ingesting
    await relay.apply_campaign()


def _record(fields: dict[str, str]) -> TemplateRecord:
    keys = ("name", "title", "tagline", "licence", "max_duration_s", "fallback")
    record = new_template(*(fields.get(key, "") for key in keys))
    return dataclasses.replace(record, status="ingesting", progress=0.0)


async def _field(part: BodyPartReader) -> str:
    raw = await part.read_chunk(MAX_FIELD + 1)
    if len(raw) > MAX_FIELD or await part.read_chunk(1):
        raise ApiError(413, f"the field {str(part.name)[:40]!r} is over {MAX_FIELD} bytes")
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise ApiError(400, f"the field {str(part.name)[:40]!r} is not UTF-8 text") from None


async def preview(request: web.Request) -> web.Response:
    """A short render of the template with the face in an uploaded photo, as WebM (labelled like every ad)."""
    relay = require_admin(request)
    _rate_limited(request)
    name = request.match_info["name"]
    reader = await _multipart(request)
    photo = b""
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.name == "photo":
            photo = await _photo(part)
            break
    if not photo:
        raise ApiError(400, "no photo in the upload (field 'photo')")
    loop = asyncio.get_running_loop()
    video = await loop.run_in_executor(None, _render_preview, relay, name, photo)  # the low-priority media pool
    return web.Response(body=video, content_type="video/webm", headers={"Cache-Control": "no-store"})


async def _photo(part: BodyPartReader) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > MAX_PHOTO:
            raise ApiError(413, f"the photo is over {MAX_PHOTO // 1_000_000} MB")
    return bytes(data)


def _render_preview(relay: Relay, name: str, photo: bytes) -> bytes:
    """Blocking. The photo and its face stay in this call's memory; nothing is written."""
    try:
        template = relay.services.template(name)
    except Exception as exc:
        raise ApiError(404 if relay.services.store.template(name) is None else 409, str(exc)) from None
    try:
        face = assess_image(decode_image(io.BytesIO(photo), "the photo"))
    except (ClipError, FaceError) as exc:
        raise ApiError(422, f"the photo cannot be used: {exc}") from None
    ad = AdRenderer(_first_seconds(template, PREVIEW_S)).render(face)
    try:
        return encode_webm(ad.frames, template.fps)
    finally:
        for frame in ad.frames:
            frame.fill(0)


def _first_seconds(template: AdTemplate, seconds: float) -> AdTemplate:
    n = max(1, min(len(template.frames), int(seconds * template.fps)))
    track = template.track
    short = replace(
        track, landmarks=track.landmarks[:n], maps=track.maps[:n], alphas=track.alphas[:n], colours=track.colours[:n]
    )
    return replace(template, clip=template.clip.truncated(n), track=short)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/templates", upload_template)
    app.router.add_post("/api/templates/{name}/preview", preview)
