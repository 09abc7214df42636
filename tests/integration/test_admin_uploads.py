"""Template uploads through the API, for real: child-process checks, mediapipe, the data directory.

Each attack is refused with a 4xx and a reason, and leaves no file and no record behind.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import aiohttp
import av
import numpy as np
import pytest
from PIL import Image

from adengine import DisclosureLabel
from callbridge.config.store import Store
from tests.support import faces
from tests.support.adminapi import AUTH, admin_client, answer
from tests.support.clips import face_clip, faceless_clip, fast_clip, hls_playlist

pytestmark = pytest.mark.integration


def form(name: str, data: bytes, filename: str = "clip.mp4", **fields: str) -> aiohttp.FormData:
    body = aiohttp.FormData()
    body.add_field("name", name)
    body.add_field("licence", fields.pop("licence", "CC0, actor's release on file"))
    for key, value in fields.items():
        body.add_field(key, value)
    body.add_field("file", data, filename=filename, content_type="video/mp4")
    return body


def leftovers(data: Path) -> list[str]:
    clips = data / "clips"
    return sorted(p.name for p in clips.iterdir()) if clips.exists() else []


async def wait_ready(client, name: str, timeout_s: float = 120.0) -> tuple[dict, list[float]]:
    seen: list[float] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        _, record = await answer(await client.get(f"/api/templates/{name}"))
        seen.append(record["progress"])
        if record["status"] != "ingesting":
            return record, seen
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{name} still ingesting after {timeout_s} s")


@pytest.mark.parametrize(
    "attack,status,reason",
    [
        ("hls", 415, "not an MP4, MOV, WebM or MKV"),
        ("text", 415, "not an MP4, MOV, WebM or MKV"),
        ("empty", 415, "empty"),
        ("fast", 422, "240 fps"),
        ("faceless", 422, "face"),
        ("name", 422, "template name"),
    ],
)
def test_an_attack_is_refused_with_a_reason_and_leaves_nothing(tmp_path, attack, status, reason):
    data = tmp_path / "data"
    made = {
        "hls": lambda: hls_playlist(tmp_path / "x.mp4").read_bytes(),
        "text": lambda: b"just some text, not a video\n" * 50,
        "empty": lambda: b"",
        "fast": lambda: fast_clip(tmp_path / "fast.mp4").read_bytes(),
        "faceless": lambda: faceless_clip(tmp_path / "none.mp4").read_bytes(),
        "name": lambda: face_clip(tmp_path / "ok.mp4").read_bytes(),
    }[attack]()
    name = "../../etc/passwd" if attack == "name" else "attack"

    async def go():
        async with admin_client(data) as (client, _):
            return await answer(await client.post("/api/templates", data=form(name, made), headers=AUTH))

    got, reply = asyncio.run(go())
    assert got == status and reason in reply["error"], reply
    assert leftovers(data) == []
    assert [t.name for t in Store(data).campaign().templates] == ["default"]


def test_a_file_that_claims_4_gb_is_refused_before_it_is_read(tmp_path):
    async def go():
        async with admin_client(tmp_path) as (client, _):
            reader, writer = await asyncio.open_connection(client.host, client.port)
            head = (
                "POST /api/templates HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # a host the server answers to
                f"Authorization: {AUTH['Authorization']}\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 4294967296\r\n\r\n"
            )
            writer.write(head.encode() + b"--b\r\n")
            await writer.drain()
            reply = await asyncio.wait_for(reader.read(4096), 10)
            writer.close()
            return reply.decode(errors="replace")

    reply = asyncio.run(go())
    assert reply.startswith("HTTP/1.1 413") and "the upload is over 200 MB" in reply
    assert leftovers(tmp_path) == []


def test_two_uploads_of_one_name_at_once(tmp_path):
    clip = face_clip(tmp_path / "a.mp4").read_bytes()
    data = tmp_path / "data"

    async def go():
        async with admin_client(data) as (client, relay):
            replies = await asyncio.gather(
                *(client.post("/api/templates", data=form("twin", clip), headers=AUTH) for _ in range(2))
            )
            answers = [await answer(r) for r in replies]
            await relay.idle()
            return answers

    answers = asyncio.run(go())
    assert sorted(status for status, _ in answers) == [202, 409]
    assert "already exists" in next(body["error"] for status, body in answers if status == 409)
    assert len(leftovers(data)) == 1  # the one accepted clip, under a random name
    assert Store(data).template("twin").status == "ready"


def test_a_clip_is_ingested_with_progress_and_previewed_with_a_photo(tmp_path):
    clip = face_clip(tmp_path / "pizza.mp4", seconds=3.0).read_bytes()
    data = tmp_path / "data"
    photo = io.BytesIO()
    Image.fromarray(faces.portrait(faces.hopper(), faces.HOPPER_FACE, face_width=200)).save(photo, "PNG")

    async def go():
        async with admin_client(data) as (client, relay):
            accepted = await answer(
                await client.post("/api/templates", data=form("pizza", clip, title="Pizza Palace"), headers=AUTH)
            )
            record, seen = await wait_ready(client, "pizza")
            body = aiohttp.FormData()
            body.add_field("photo", photo.getvalue(), filename="me.png", content_type="image/png")
            preview = await client.post("/api/templates/pizza/preview", data=body, headers=AUTH)
            video = await preview.read()
            bad = aiohttp.FormData()
            bad.add_field("photo", b"not an image", filename="me.png", content_type="image/png")
            refused = await answer(await client.post("/api/templates/pizza/preview", data=bad, headers=AUTH))
            return accepted, record, seen, preview.status, preview.content_type, video, refused

    accepted, record, seen, status, kind, video, refused = asyncio.run(go())
    assert accepted[0] == 202 and accepted[1]["status"] == "ingesting" and accepted[1]["title"] == "Pizza Palace"
    assert record["status"] == "ready" and record["error"] is None and "tracked in" in record["verdict"]
    assert seen == sorted(seen) and seen[-1] == 1.0
    stored = leftovers(data)
    assert len(stored) == 1 and len(Path(stored[0]).stem) == 32  # a random name
    assert status == 200 and kind == "video/webm" and video[:4] == b"\x1a\x45\xdf\xa3"
    with av.open(io.BytesIO(video)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) >= 30 and all(DisclosureLabel().is_on(f) for f in frames)
    assert not np.array_equal(frames[0], frames[-1])
    assert refused[0] == 422 and "photo cannot be used" in refused[1]["error"]
