"""`callbridge serve`'s access flags: bad values are exit 2 with one line, before anything is served."""

from __future__ import annotations

import argparse

import pytest

from callbridge.cli import main
from callbridge.web.exposure import read_arguments


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--room-key", "short"], "--room-key must be 8-200 characters"),
        (["--room-key", "has spaces in it"], "--room-key must be 8-200 characters"),
        (["--allow-origin", "gallery.example.org"], "--allow-origin 'gallery.example.org' is not an origin"),
        (["--max-per-room", "0"], "--max-per-room must be 1 or more"),
        (["--max-rooms", "-3"], "--max-rooms must be 1 or more"),
        (["--max-sockets", "0"], "--max-sockets must be 1 or more"),
    ],
)
def test_bad_access_flags_are_refused(capsys, tmp_path, argv, message):
    assert main(["serve", "--data", str(tmp_path / "data"), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("callbridge serve: error: ") and message in err


def args(tmp_path, **given) -> argparse.Namespace:
    values = dict(
        host="127.0.0.1", port=8080, data=tmp_path, room_key=None, allow_origin=[], tls=False,
        max_per_room=6, max_rooms=20, max_sockets=8,
    )  # fmt: skip
    return argparse.Namespace(**{**values, **given})


def test_loopback_needs_no_key_and_prints_a_plain_url(tmp_path):
    reach = read_arguments(args(tmp_path))
    assert reach.access.room_key is None and reach.room_url("demo") == "http://127.0.0.1:8080/room/demo"
    assert not (tmp_path / "room-key").exists()


def test_a_key_given_on_loopback_is_required_and_printed(tmp_path):
    reach = read_arguments(args(tmp_path, room_key="gallery-key-2026"))
    assert reach.room_url("demo") == "http://127.0.0.1:8080/room/demo?key=gallery-key-2026"
    assert reach.kiosk_url("exhibit") == "http://127.0.0.1:8080/kiosk/exhibit?key=gallery-key-2026"


def test_beyond_loopback_a_key_is_generated_once_and_the_caps_are_read(tmp_path):
    reach = read_arguments(args(tmp_path, host="0.0.0.0", max_per_room=3, max_rooms=4, max_sockets=5))
    key = (tmp_path / "room-key").read_text().strip()
    assert reach.access.room_key == key and reach.room_url("demo").endswith(f"/room/demo?key={key}")
    assert not reach.access.loopback and reach.access.any_ip
    assert (reach.limits.max_per_room, reach.limits.max_rooms, reach.limits.max_sockets) == (3, 4, 5)
    assert read_arguments(args(tmp_path, host="0.0.0.0")).access.room_key == key


def test_tls_makes_the_certificate_and_prints_https(tmp_path):
    reach = read_arguments(args(tmp_path, tls=True))
    assert reach.ssl_context is not None and reach.base == "https://127.0.0.1:8080"
    assert reach.tls_note is not None and "made" in reach.tls_note
    assert "reused" in (read_arguments(args(tmp_path, tls=True)).tls_note or "")
