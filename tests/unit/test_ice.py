"""ICE on loopback: interface detection, the env flag, and the aioice patch."""

from __future__ import annotations

import aioice.ice
import pytest

from callbridge.media.adapt import aioice_loopback as ice


def test_only_lo_is_loopback_only():
    assert ice.only_loopback(["lo"]) is True


def test_another_interface_is_not_loopback_only():
    assert ice.only_loopback(["lo", "eth0"]) is False


def test_no_interfaces_is_not_loopback_only():
    assert ice.only_loopback([]) is False


def test_this_host_is_asked_through_the_kernel():
    import socket

    names = [name for _, name in socket.if_nameindex()]
    assert ice.only_loopback() is (set(names) == {"lo"})


@pytest.fixture
def fake_host(monkeypatch):
    """aioice's own address lookup answers a fixed LAN address; whatever the tests patch is put back."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", aioice.ice.get_host_addresses)
    monkeypatch.setattr(ice, "_original", lambda use_ipv4, use_ipv6: ["192.168.1.20"] if use_ipv4 else [])
    monkeypatch.delenv(ice.ENV_FLAG, raising=False)
    return monkeypatch


def test_loopback_wanted_honours_the_flag(fake_host):
    fake_host.setattr(ice, "only_loopback", lambda: False)
    assert ice.loopback_wanted({ice.ENV_FLAG: "1"}) is True
    assert ice.loopback_wanted({ice.ENV_FLAG: "0"}) is False
    assert ice.loopback_wanted({}) is False
    assert ice.loopback_wanted() is False
    fake_host.setenv(ice.ENV_FLAG, "1")
    assert ice.loopback_wanted() is True


def test_loopback_wanted_on_a_loopback_only_host(fake_host):
    fake_host.setattr(ice, "only_loopback", lambda: True)
    assert ice.loopback_wanted({}) is True


def test_configure_ice_adds_127_0_0_1_and_restores_the_original(fake_host):
    fake_host.setattr(ice, "only_loopback", lambda: False)
    fake_host.setenv(ice.ENV_FLAG, "1")
    assert ice.configure_ice() is True
    patched = aioice.ice.get_host_addresses
    assert patched(True, False) == ["192.168.1.20", "127.0.0.1"]
    assert patched(False, True) == []  # IPv4 loopback only when IPv4 is asked for
    assert ice.configure_ice() is True  # twice: still one 127.0.0.1
    assert aioice.ice.get_host_addresses(True, False).count("127.0.0.1") == 1
    fake_host.setenv(ice.ENV_FLAG, "0")
    assert ice.configure_ice() is False
    assert aioice.ice.get_host_addresses is ice._original
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(True, False)


def test_configure_ice_patches_on_a_loopback_only_host_without_the_flag(fake_host):
    fake_host.setattr(ice, "only_loopback", lambda: True)
    assert ice.configure_ice() is True
    assert "127.0.0.1" in aioice.ice.get_host_addresses(True, True)


def test_the_real_lookup_is_what_the_patch_wraps():
    assert ice._original.__module__ == "aioice.ice" and ice._original.__name__ == "get_host_addresses"
