"""The Host and Origin allow-lists, the room key, and the TLS certificate, without a server."""

from __future__ import annotations

import datetime
import ipaddress
import stat

import pytest
from cryptography import x509

from callbridge.config.tls import ensure_certificate
from callbridge.web.access import (
    Access,
    OriginError,
    check_room_key,
    host_name,
    is_loopback,
    load_room_key,
    normalise_origin,
)

NAMES = {"gallery", "gallery.museum.example"}


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LocalHost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("gallery.example.org", False),
    ],
)
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    "header, name",
    [
        ("127.0.0.1:8080", "127.0.0.1"),
        ("LOCALHOST:8080", "localhost"),
        ("[::1]:8080", "::1"),
        ("[::1]", "::1"),
        ("gallery.example.org.", "gallery.example.org"),
        ("gallery", "gallery"),
    ],
)
def test_host_names(header, name):
    assert host_name(header) == name


def test_a_loopback_server_answers_only_to_loopback_names():
    access = Access.for_bind("127.0.0.1")
    for host in ("127.0.0.1:8080", "localhost:8080", "[::1]:8080", "localhost", None):
        assert access.host_allowed(host), host
    for host in ("evil.example", "evil.example:8080", "127.0.0.1.evil.example:8080", "192.168.1.20:8080", ""):
        assert not access.host_allowed(host), host
    assert access.loopback and access.room_key is None and access.key_ok(None)


def test_a_server_on_one_address_answers_to_it_and_the_machines_names():
    access = Access.for_bind("192.168.1.20", room_key="k" * 12, names=NAMES)
    for host in ("192.168.1.20:8080", "gallery:8080", "GALLERY.museum.example"):
        assert access.host_allowed(host), host
    for host in ("192.168.1.21:8080", "localhost:8080", "rebind.evil.example"):
        assert not access.host_allowed(host), host
    assert not access.loopback


def test_a_wildcard_server_answers_to_any_ip_literal_but_no_unknown_name():
    access = Access.for_bind("0.0.0.0", names=NAMES, allow_origins=["https://gallery.example.org"])
    for host in ("10.1.2.3:8080", "[2001:db8::5]:8080", "gallery", "gallery.example.org"):
        assert access.host_allowed(host), host
    for host in ("evil.example:8080", "10.1.2.3.nip.io"):
        assert not access.host_allowed(host), host


def test_the_own_origin_and_allowed_origins_pass_and_others_do_not():
    access = Access.for_bind("127.0.0.1", allow_origins=["https://Gallery.Example.org:443/"])
    own = "127.0.0.1:8080"
    assert access.origin_allowed(None, "http", own)  # curl, scripts
    assert access.origin_allowed("http://127.0.0.1:8080", "http", own)
    assert access.origin_allowed("https://gallery.example.org", "http", own)
    for origin in (
        "http://evil.example",
        "http://127.0.0.1:8081",  # another port is another origin
        "https://127.0.0.1:8080",  # and another scheme
        "null",
        "http://127.0.0.1:8080@evil.example",
        "",
    ):
        assert not access.origin_allowed(origin, "http", own), origin
    assert not access.origin_allowed("http://evil.example", "http", "evil.example")  # a rebound Host


@pytest.mark.parametrize(
    "origin, normal",
    [
        ("HTTPS://Gallery.Example.org", "https://gallery.example.org"),
        ("https://gallery.example.org:443", "https://gallery.example.org"),
        ("http://gallery.example.org:80/", "http://gallery.example.org"),
        ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_origins_are_normalised(origin, normal):
    assert normalise_origin(origin) == normal


@pytest.mark.parametrize("bad", ["gallery.example.org", "ftp://x", "https://x/path", "https://x:99999", "null", ""])
def test_bad_origins_are_refused(bad):
    with pytest.raises(OriginError):
        normalise_origin(bad)


def test_the_room_key_is_compared_whole():
    access = Access(room_key="correct-horse-1")
    assert access.key_ok("correct-horse-1")
    for given in (None, "", "correct-horse-", "correct-horse-12", "CORRECT-HORSE-1", "é" * 15):
        assert not access.key_ok(given)


def test_the_generated_room_key_is_kept_private_and_reused(tmp_path):
    key = load_room_key(tmp_path)
    assert len(key) >= 16 and stat.S_IMODE((tmp_path / "room-key").stat().st_mode) == 0o600
    assert load_room_key(tmp_path) == key
    (tmp_path / "room-key").unlink()
    assert load_room_key(tmp_path) != key


@pytest.mark.parametrize("bad", ["short", "has space in it", "key/with/slash", "ünïcode-key", "x" * 201])
def test_bad_room_keys_are_refused(bad):
    with pytest.raises(ValueError, match="--room-key"):
        check_room_key(bad)


def test_the_certificate_is_made_once_and_names_every_host(tmp_path):
    first = ensure_certificate(tmp_path, ["0.0.0.0", "gallery", "192.168.1.20"])
    assert first.made
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(first.cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "gallery"}
    ips = set(san.get_values_for_type(x509.IPAddress))
    assert ips == {ipaddress.ip_address(a) for a in ("127.0.0.1", "::1", "192.168.1.20")}
    assert cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > datetime.timedelta(days=800)
    pem = first.cert.read_bytes()
    again = ensure_certificate(tmp_path, ["gallery", "127.0.0.1"])  # a subset: reused
    assert not again.made and again.cert.read_bytes() == pem
    again.context()  # loads
    wider = ensure_certificate(tmp_path, ["gallery.museum.example"])  # a host it does not name: made again
    assert wider.made and wider.cert.read_bytes() != pem


def test_a_broken_certificate_is_made_again(tmp_path):
    first = ensure_certificate(tmp_path, ["127.0.0.1"])
    first.cert.write_text("not a certificate")
    assert ensure_certificate(tmp_path, ["127.0.0.1"]).made
