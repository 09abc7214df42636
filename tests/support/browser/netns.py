"""Loopback-only network namespaces for browser tests.

The browser tests run the relay and Chromium where the only network interface is
`lo`, so ICE has nothing but 127.0.0.1 to offer and nothing can leave the machine.
As root, `unshare -n` makes such a namespace (its `lo` starts down).
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

SYS_NET = Path("/sys/class/net")


def interfaces() -> list[str]:
    """The network interfaces of this process's network namespace.

    /sys/class/net is what the brief names, but sysfs shows the namespace of
    whoever mounted it: after a bare `unshare -n` it still lists the host's
    eth0. So /sys/class/net is believed only when it agrees with the kernel's
    own per-namespace answer (if_nameindex, i.e. netlink; /proc/self/net/dev
    as a fallback), and the namespace-aware answer wins otherwise.
    """
    try:
        names = sorted(name for _, name in socket.if_nameindex())
    except OSError:
        names = []
    if not names:
        try:
            lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
            names = sorted(line.split(":", 1)[0].strip() for line in lines if ":" in line)
        except OSError:
            names = []
    if not names:
        try:
            names = sorted(p.name for p in SYS_NET.iterdir())
        except OSError:
            names = []
    return names


# Firefox ESR gathers no ICE candidate where `lo` is the only interface
# ("Couldn't gather ICE candidates", error 10), whatever
# media.peerconnection.ice.loopback says, nor on an interface while there is no
# default route. Its run adds a veth pair whose two ends are both inside the
# namespace (a link to nothing but itself; this kernel has no `dummy` driver),
# an address from the benchmarking range (RFC 2544) and a default route into
# it. Nothing can leave the namespace still.
VETH = ("cbveth0", "cbveth1")
VETH_ADDRESS = "198.18.0.1/32"


def in_loopback_namespace(dummy: bool = False) -> bool:
    """True when the only network interface is `lo` (and, with `dummy`, the VETH pair)."""
    return interfaces() == (sorted(["lo", *VETH]) if dummy else ["lo"])


def run_in_loopback_namespace(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    timeout: float | None = None,
    dummy: bool = False,
) -> subprocess.CompletedProcess:
    """Run `argv` in a fresh loopback-only network namespace (lo up), capturing its output as text.

    With `dummy`, the namespace also has the VETH pair, linked only to itself (for Firefox).

    If the namespace cannot be made (not root, no unshare, user namespaces
    forbidden), the result has a non-zero returncode and stderr says why, so a
    test asserting returncode == 0 fails with that message; it never skips.
    """
    setup = "ip link set lo up"
    if dummy:
        a, b = VETH
        setup += f" && ip link add {a} type veth peer name {b} && ip addr add {VETH_ADDRESS} dev {a}"
        setup += f" && ip link set {a} up && ip link set {b} up && ip route add default dev {a}"
    command = ["unshare", "-n", "sh", "-c", setup + ' && exec "$@"', "sh", *argv]
    try:
        result = subprocess.run(
            command,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            timeout=timeout,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError as e:
        return subprocess.CompletedProcess(
            command,
            127,
            "",
            f"cannot make a loopback-only network namespace: {e} (needs util-linux unshare and iproute2 ip)\n",
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return subprocess.CompletedProcess(
            command, 124, out, err + f"\nloopback-namespace run timed out after {timeout} s\n"
        )
    if result.returncode != 0 and any(
        line.startswith(("unshare:", "RTNETLINK")) for line in result.stderr.splitlines()
    ):
        result.stderr += (
            "\ncannot make a loopback-only network namespace with `unshare -n` (this needs root, "
            f"or CAP_SYS_ADMIN; running as uid {os.getuid()}): the browser test cannot run here\n"
        )
    return result
