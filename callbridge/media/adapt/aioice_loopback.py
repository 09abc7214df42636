"""ICE on loopback: offer and accept 127.0.0.1 host candidates when asked to.

aioice leaves loopback addresses out of its host candidates. That is right on a
real network, but in a loopback-only namespace (the browser tests) or on a
machine with no other interface the call could then never connect.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable

import aioice.ice

log = logging.getLogger(__name__)
ENV_FLAG = "CALLBRIDGE_ICE_LOOPBACK"
_original = aioice.ice.get_host_addresses


def only_loopback(names: Iterable[str] | None = None) -> bool:
    """True when the host has no network interface other than lo.

    Asks the kernel (if_nameindex): after `unshare -n`, /sys/class/net still
    lists the host's interfaces until sysfs is remounted.
    """
    if names is None:
        try:
            names = [name for _, name in socket.if_nameindex()]
        except OSError:
            return False
    names = list(names)
    return bool(names) and all(name == "lo" for name in names)


def loopback_wanted(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(ENV_FLAG, "") == "1" or only_loopback()


def _with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    addresses = _original(use_ipv4, use_ipv6)
    if use_ipv4 and "127.0.0.1" not in addresses:
        addresses.append("127.0.0.1")
    return addresses


def configure_ice() -> bool:
    """Patch aioice to add 127.0.0.1 when loopback is wanted. True if patched."""
    if not loopback_wanted():
        aioice.ice.get_host_addresses = _original
        return False
    aioice.ice.get_host_addresses = _with_loopback
    log.info("ICE offers 127.0.0.1 host candidates (%s=1 or loopback-only host)", ENV_FLAG)
    return True
