"""The life of a participant's face data in a real call: `callbridge serve` with the real models and two
scripted aiortc participants. Alice consents, her face is harvested and her ad pre-rendered (and played),
then she withdraws consent, leaves, and both disconnect. Afterwards no image, array or model file of hers
exists under the data directory or the temp directories (the relay's own TMPDIR and the system's), none
was held open by the server, and the server's log holds no face data and, by default, no recognised speech."""

from __future__ import annotations

import asyncio
import os
import re
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.support.relayserver import serving
from tests.support.rtcclient import in_call, talker_and_listener
from tests.support.speech import say

pytestmark = pytest.mark.integration

SENTENCE = "Shall we have dinner tonight? I know a nice place."
UNSPOKEN_WORDS = ("shall we", "nice place", "i know")  # recognised speech that is not the configured phrase
# What an image, an array, a model or raw media of a face could be written as.
FACE_FILE = re.compile(
    r"\.(png|jpe?g|bmp|gif|tiff?|webp|ppm|pgm|y4m|yuv|raw|rgb|npy|npz|pt|pth|ckpt|safetensors|onnx|pkl|pickle|"
    r"h5|bin|mp4|webm|mkv|avi|mov|ivf|wav)$",
    re.IGNORECASE,
)
SYSTEM_TEMP = [Path(p) for p in ("/tmp", "/var/tmp", "/dev/shm")]


def files_under(root: Path, skip: tuple[str, ...] = ()) -> dict[Path, float]:
    """Every regular file under `root` (not descending into directories named in `skip`) -> mtime."""
    found: dict[Path, float] = {}
    if not root.is_dir():
        return found
    for folder, dirs, names in os.walk(root, onerror=lambda e: None):
        dirs[:] = [d for d in dirs if not d.startswith(skip)]
        for name in names:
            path = Path(folder) / name
            try:
                if path.is_file() and not path.is_symlink():
                    found[path] = path.stat().st_mtime
            except OSError:
                continue  # gone meanwhile (another process's temp file)
    return found


def snapshot(data: Path, private_tmp: Path) -> dict[Path, float]:
    seen = {**files_under(data), **files_under(private_tmp)}
    for temp in SYSTEM_TEMP:  # other tests' own pytest folders are theirs, not the relay's
        seen.update(files_under(temp, skip=("pytest-of-", "bash_jobs")))
    return seen


def open_files(pid: int) -> list[str]:
    """The regular files process `pid` holds open now (deleted ones end in ' (deleted)')."""
    out = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("/") and not target.startswith(("/dev/", "/proc/")):
            out.append(target)
    return out


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    path = say(tmp_path_factory.mktemp("face-data-speech") / "s.wav", SENTENCE, lead_s=2.0, tail_s=9.0)
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    return np.repeat(pcm, 3)  # 16 kHz -> 48 kHz


def test_after_withdrawal_and_leaving_no_face_data_is_left_anywhere(tmp_path, speech):
    data, private_tmp = tmp_path / "data", tmp_path / "relay-tmp"
    private_tmp.mkdir()
    log_path = data / "serve.log"
    data.mkdir()
    env = {"TMPDIR": str(private_tmp)}
    with serving(data, env=env) as url:
        pid = _server_pid(url)
        before = snapshot(data, private_tmp)  # the template caches made at start are known, not the call's
        held_open: list[str] = []

        async def call() -> None:
            alice, bob = talker_and_listener(url, "facedata", speech)
            async with in_call(alice, bob):
                face = await bob.wait_event("face", "alice", 45)
                assert face["ready"] is True  # harvested, and pre-rendering
                trigger = await bob.wait_event("trigger", "alice", 45, after=bob.events.index(face))
                start = await bob.wait_event("ad-start", "alice", 15, after=bob.events.index(trigger))
                assert start["personalised"] is True  # her face was on the others' screens
                held_open.extend(open_files(pid))  # while the face is in memory and on air
                await bob.wait_event("ad-end", "alice", 25, after=bob.events.index(start))
                mark = len(bob.events)
                await alice.send({"type": "consent", "consent": False})
                gone = await bob.wait_event("face", "alice", 10, after=mark)
                assert gone["ready"] is False  # wiped
                await alice.leave()
                await bob.wait_event("left", "alice", 10)
                await bob.leave()  # both disconnect

        asyncio.run(call())
        time.sleep(1.0)  # the server's cleanup of the last session
        after = snapshot(data, private_tmp)
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            log = fh.read()

    new = sorted(str(p) for p, mtime in after.items() if p not in before or mtime != before[p])
    face_files = [p for p in new if FACE_FILE.search(p)]
    assert face_files == [], f"files that could hold a face: {face_files}"
    in_data = [p for p in new if p.startswith(str(data))]
    allowed = re.compile(r"/(callbridge\.sqlite(-journal|-wal|-shm)?|serve\.log)$")
    assert [p for p in in_data if not allowed.search(p)] == [], in_data
    assert [p for p in new if p.startswith(str(private_tmp))] == []
    suspicious = [p for p in held_open if FACE_FILE.search(p.removesuffix(" (deleted)")) and "site-packages" not in p]
    suspicious = [p for p in suspicious if "/templates/" not in p]  # the ad templates' own clips and caches
    assert suspicious == [], f"files the server held open during the ad: {suspicious}"
    assert [p for p in held_open if p.endswith(" (deleted)")] == []

    assert "alice" in log  # the log is the server's, and it saw the call
    lowered = log.lower()
    for words in UNSPOKEN_WORDS:
        assert words not in lowered, f"recognised speech {words!r} in the server's log"
    assert "[speech:" in log  # the trigger's heard words were withheld, not just absent
    assert not re.search(r"array\(|\[\s*-?\d+\.\d+,\s*-?\d+\.\d+\s*\]|\[\[\s*-?\d", log), "landmarks in the log"
    assert not re.search(r"[A-Za-z0-9+/=]{120,}", log), "a base64 dump in the log"
    assert not re.search(r"(\\x[0-9a-f]{2}){4}", log), "a bytes dump in the log"


def _server_pid(url: str) -> int:
    """The pid of the `callbridge serve` listening at `url` (our child)."""
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in cmdline and port.encode() in cmdline and proc.name != str(os.getpid()):
            return int(proc.name)
    raise AssertionError(f"no callbridge serve on port {port}")
