"""The load bench's look at the relay (bench/load.py): its process tree in /proc, and its GET /api/load."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from bench.relay_bench import cpu_seconds


def _tree(roots: list[int]) -> list[int]:
    """`roots` and their live descendants (by each process's parent in /proc/PID/stat)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    out, i = list(roots), 0
    while i < len(out):
        out += children.get(out[i], [])
        i += 1
    return out


def _kb(path: Path, key: str) -> float:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def _cpu(tree: list[int]) -> float:
    """CPU seconds (user and system) of these processes."""
    total = 0.0
    for pid in tree:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total


def relay_sample(pid: int, clients: list[int], names: bool = False) -> dict[str, Any]:
    """The relay's process tree now: CPU seconds, RSS and PSS (MB), threads and open fds of the relay itself."""
    tree = _tree([pid])
    tasks = list(Path(f"/proc/{pid}/task").glob("*"))
    sample = {
        "t": time.time(),
        "cpu_s": _cpu(tree),
        "rss_mb": round(sum(_kb(Path(f"/proc/{p}/status"), "VmRSS:") for p in tree) / 1024, 1),
        "pss_mb": round(sum(_kb(Path(f"/proc/{p}/smaps_rollup"), "Pss:") for p in tree) / 1024, 1),
        "threads": len(tasks),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "clients_cpu_s": _cpu(_tree(clients)),
    }
    if names:  # Python names its threads for the OS from 3.14 on; before, most read "python"
        comms = Counter(_read(t / "comm") for t in tasks)
        sample["thread_names"] = dict(comms)
        sample["speech_threads"] = sum(n for c, n in comms.items() if c.startswith("speech"))
        sample["face_threads"] = sum(n for c, n in comms.items() if c.startswith("faces"))
    return sample


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return "?"


def api_load(url: str, token: str) -> dict[str, Any] | None:
    """The relay's GET /api/load, None where it has none (404), {"error": ...} where it failed."""
    request = urllib.request.Request(url + "/api/load", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return None if exc.code == 404 else {"error": f"HTTP {exc.code}"}
    except (OSError, ValueError) as exc:
        return {"error": type(exc).__name__}
