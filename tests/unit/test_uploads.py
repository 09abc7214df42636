"""Template uploads: the container sniffed from the first bytes, names, paths, the clip store, the caps."""

from __future__ import annotations

import os
import re
import shutil
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from adengine.encode import write_mp4
from adengine.template import TemplateError, TemplateMeta
from callbridge.ingest import (
    Caps,
    ClipHeader,
    UploadError,
    check_size,
    check_template_name,
    resolve_inside,
    sniff_container,
    sniff_file,
    store_clip,
)
from callbridge.ingest.header import check_caps
from callbridge.ingest.sniff import HEAD_BYTES


def _frames(n: int = 3, size: int = 64) -> list[np.ndarray]:
    return [np.full((size, size, 3), 40 * i, np.uint8) for i in range(n)]


def _webm(path: Path) -> Path:
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=25)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for i, image in enumerate(_frames()):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _refused(status: int, path: Path) -> str:
    with pytest.raises(UploadError) as caught:
        sniff_file(path)
    assert caught.value.status == status
    message = str(caught.value)
    assert "\n" not in message
    return message


# -- the container ---------------------------------------------------------------------------


def test_an_hls_playlist_renamed_mp4_is_refused(tmp_path: Path) -> None:
    playlist = tmp_path / "ad.mp4"
    playlist.write_text("#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10.0,\nhttp://example.invalid/a.ts\n#EXT-X-ENDLIST\n")
    message = _refused(415, playlist)
    assert "HLS playlist" in message and "not an MP4, MOV, WebM or MKV video" in message


def test_a_text_file_an_empty_file_and_a_png_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 20)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    png = tmp_path / "still.mp4"
    png.write_bytes(cv2.imencode(".png", np.zeros((32, 32, 3), np.uint8))[1].tobytes())
    assert "not an MP4, MOV, WebM or MKV video" in _refused(415, text)
    assert "empty" in _refused(415, empty)
    assert "PNG image" in _refused(415, png)


def test_lookalikes_are_refused() -> None:
    for head in (
        b"\x00\x00\x00\x04ftypisom",  # a box smaller than its own header
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84avif",  # EBML, but not Matroska or WebM
        b"ftypisom" + bytes(20),  # the box type where its size belongs
        b"GIF89a" + bytes(40),
        b"\xff\xd8\xff\xe0" + bytes(40),
    ):
        with pytest.raises(UploadError) as caught:
            sniff_container(head)
        assert caught.value.status == 415


def test_real_mp4_mov_webm_and_mkv_heads_are_recognised(tmp_path: Path) -> None:
    write_mp4(tmp_path / "a.mp4", _frames(), 25.0)
    assert sniff_file(tmp_path / "a.mp4") == "mp4"
    with av.open(str(tmp_path / "a.mov"), "w", format="mov") as out:
        stream = out.add_stream("mjpeg", rate=25)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuvj420p"
        out.mux(stream.encode(av.VideoFrame.from_ndarray(_frames(1)[0], format="rgb24").reformat(format="yuvj420p")))
        out.mux(stream.encode(None))
    assert sniff_file(tmp_path / "a.mov") == "mp4"
    assert sniff_file(_webm(tmp_path / "a.webm")) == "matroska"
    assert sniff_container((tmp_path / "a.webm").read_bytes()[:HEAD_BYTES]) == "matroska"
    # An old QuickTime file may open with another box than 'ftyp'.
    assert sniff_container(b"\x00\x00\x00\x08wide\x00\x00\x10\x00mdat") == "mp4"


# -- names and paths -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../etc/passwd", "demo\n", "A", "x" * 41, "", "pizza_1", "pizza night", "pîzza"])
def test_bad_template_names_are_refused(name: str) -> None:
    with pytest.raises(UploadError) as caught:
        check_template_name(name)
    assert caught.value.status == 422 and "lowercase letters, digits or -" in str(caught.value)


@pytest.mark.parametrize("name", ["pizza-1", "a", "x" * 40, "0"])
def test_good_template_names_pass(name: str) -> None:
    assert check_template_name(name) == name


def test_resolve_inside_refuses_every_way_out(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "clips").mkdir(parents=True)
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (data / "clips" / "link.mp4").symlink_to(outside)
    (data / "clips" / "away").symlink_to(tmp_path, target_is_directory=True)
    for escape in ("../secret.txt", "clips/../../secret.txt", str(outside), "clips/link.mp4", "clips/away/secret.txt"):
        with pytest.raises(UploadError) as caught:
            resolve_inside(data, escape)
        assert caught.value.status == 422 and "outside the data directory" in str(caught.value)
    for odd in (".", "", "clips/\x00.mp4"):
        with pytest.raises(UploadError):
            resolve_inside(data, odd)
    assert resolve_inside(data, "clips/a.mp4") == (data / "clips" / "a.mp4").resolve()


# -- the clip store --------------------------------------------------------------------------


def test_store_clip_leaves_only_the_final_file_under_a_random_name(tmp_path: Path) -> None:
    data = tmp_path / "data"
    upload = tmp_path / "upload.bin"
    upload.write_bytes(os.urandom(3 * (1 << 20) + 17))
    first = store_clip(data, upload, "mp4")
    second = store_clip(data, upload, "matroska")
    assert re.fullmatch(r"clips/[0-9a-f]{32}\.mp4", first) and re.fullmatch(r"clips/[0-9a-f]{32}\.mkv", second)
    assert first[:-4] != second[:-4]
    assert sorted(p.name for p in (data / "clips").iterdir()) == sorted([Path(first).name, Path(second).name])
    assert (data / first).read_bytes() == upload.read_bytes() and upload.exists()
    assert resolve_inside(data, first) == (data / first).resolve()


def test_a_failed_store_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"\x00" * 100_000)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(shutil, "copyfileobj", broken)
    with pytest.raises(OSError, match="disk full"):
        store_clip(data, upload, "mp4")
    assert list((data / "clips").iterdir()) == []
    monkeypatch.undo()
    with pytest.raises(UploadError):
        store_clip(data, upload, "hls")
    assert list((data / "clips").iterdir()) == []


# -- sizes and caps --------------------------------------------------------------------------


def test_the_size_cap() -> None:
    check_size(200_000_000)
    with pytest.raises(UploadError) as caught:
        check_size(200_000_001)
    assert caught.value.status == 413 and "at most 200 MB" in str(caught.value)


def _header(**changes: float) -> ClipHeader:
    fields: dict = {"width": 1280, "height": 720, "fps": 30.0, "duration_s": 10.0, "frames": 300, "has_audio": True}
    return ClipHeader(**{**fields, **changes})


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"fps": 240.0}, "the clip is 240 fps; at most 60 fps"),
        ({"fps": 0.00001}, "at least 1 fps"),
        ({"fps": 0.0}, "no usable frame rate"),
        ({"width": 3840, "height": 2160}, "the clip is 3840x2160; at most 1920x1080"),
        ({"width": 1921, "height": 1080}, "the clip is 1921x1080; at most 1920x1080"),
        ({"width": 0}, "no picture size"),
        ({"duration_s": 31.0}, "the clip is 31.0 s long; at most 30 s"),
        ({"duration_s": 1e10}, "the clip is 10000000000.0 s long; at most 30 s"),
        ({"frames": 1801}, "the clip has 1801 frames; at most 1800"),
    ],
)
def test_a_header_over_a_cap_is_refused_naming_the_value_and_the_cap(changes: dict, message: str) -> None:
    with pytest.raises(UploadError) as caught:
        check_caps(_header(**changes), Caps())
    assert caught.value.status == 422 and message in str(caught.value)


def test_headers_within_the_caps_pass() -> None:
    for changes in (
        {},
        {"width": 1920, "height": 1080, "fps": 60.0, "duration_s": 30.0, "frames": 1800},
        {"width": 1080, "height": 1920},  # portrait
        {"fps": 60000 / 1001},
        {"duration_s": 0.0, "frames": 0},  # a live recording that does not say its length
    ):
        check_caps(_header(**changes), Caps())


# -- template metadata without phrases -------------------------------------------------------


def test_template_meta_needs_no_phrases_now() -> None:
    meta = TemplateMeta("pizza-1", "Pizza", "", max_duration_s=8.0, licence="CC0")
    assert meta.phrases == ()
    assert TemplateMeta.from_dict({"name": "p", "title": "P", "tagline": "", "max_duration_s": 8, "licence": "CC0"})
    old = TemplateMeta.from_dict(
        {"name": "p", "title": "P", "tagline": "", "phrases": ["dinner tonight"], "max_duration_s": 8, "licence": "CC0"}
    )
    assert old.phrases == ("dinner tonight",)
    assert TemplateMeta("t", "T", "", ("dinner tonight",), 8.0, "CC0").licence == "CC0"  # the old positional form


@pytest.mark.parametrize("name", ["demo\n", "../x", "", "x" * 41])
def test_template_meta_refuses_bad_names(name: str) -> None:
    with pytest.raises(TemplateError):
        TemplateMeta(name, "T", "", licence="CC0")


def test_template_meta_still_needs_a_licence() -> None:
    with pytest.raises(TemplateError, match="licence"):
        TemplateMeta("pizza", "Pizza", "")
