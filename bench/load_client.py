"""One room of the load bench (bench/load.py): two scripted participants in a process of their own.

Alice loops a speech track (a sentence with "dinner tonight" every 12 s, rolled
by `--shift-s` so that rooms do not all speak at once); Bob is silent. Both send
640x480 15-fps face video stamped with its send time (bench/relay_bench.py), and
each times every frame of the other that it decodes. The process stands in for
the participants' own machines: it runs at nice 19 and, started in a session of
its own, puts its autogroup at nice 19 too, so that it takes only the CPU the
relay leaves.

It appends JSON lines to OUT every couple of seconds (see `Recorder`) and, on
SIGTERM (or when its parent goes), leaves the room and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import av
import numpy as np

from bench.relay_bench import StampedVideo, watch_stamped
from tests.support import faces
from tests.support.rtcclient import AUDIO_RATE, LoopAudio, RoomClient

NICE = 19
FLUSH_S = 2.0
Rows = list[tuple[float, float | None, bool]]


def lower_priority(nice: int = NICE) -> None:
    """This process's threads (and those it starts later) at `nice`, and its autogroup as well.

    With autogroup scheduling a session gets an equal share of the CPU whatever
    its threads' nice values, so the group is lowered too (this process is
    started in a session of its own).
    """
    os.nice(max(0, nice - os.nice(0)))
    try:
        Path("/proc/self/autogroup").write_text(str(nice))
    except OSError:  # no autogroup scheduling here
        pass


class CountedVideo(StampedVideo):
    """Stamped face video that counts the frames it has handed to the encoder."""

    sent = 0

    async def recv(self) -> av.VideoFrame:
        frame = await super().recv()
        self.sent += 1
        return frame


class Recorder:
    """Appends what the room saw to a JSON-lines file; each line has a kind `k`:

    started, joined {who}, refused {who, message}, audio {t: wall time of Alice's sample 0},
    frames {listener, source, rows: [[arrival t, latency s or null, ad frame], ...]},
    event {to, event}, error {who, message}, sent {counts: {who: frames}}, left.
    """

    def __init__(self, path: Path) -> None:
        self._file = path.open("a")

    def write(self, kind: str, **fields: Any) -> None:
        self._file.write(json.dumps({"k": kind, "t": round(time.time(), 4), **fields}) + "\n")

    def flush(self) -> None:
        self._file.flush()


async def join_or_refusal(client: RoomClient) -> str | None:
    """Join; None once welcomed, else the relay's refusal (or what went wrong), without waiting out join's timeout."""
    task = asyncio.ensure_future(client.join())
    while not task.done():
        if client.errors:
            task.cancel()
            return client.errors[0]
        await asyncio.sleep(0.1)
    exc = task.exception()
    if exc is None:
        return None
    return client.errors[0] if client.errors else f"{type(exc).__name__}: {exc}"


async def watch(listener: RoomClient, source: str, rows: Rows, rec: Recorder) -> None:
    """Time `listener`'s frames of `source` into `rows`; a track that never comes or ends is recorded."""
    try:
        await watch_stamped(listener, source, rows)
    except SystemExit as exc:  # watch_stamped's "never received" ends a bench; here it is one listener's failure
        rec.write("error", who=listener.name, message=str(exc))
    except Exception as exc:  # the track ended (the relay dropped it)
        rec.write("error", who=listener.name, message=f"{source}'s video ended: {type(exc).__name__}")


async def run(url: str, room: str, speech: np.ndarray, swap_faces: bool, out: Path) -> None:
    rec = Recorder(out)
    parent = os.getppid()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    looks = [
        faces.animate(faces.hopper(), 30, spot=faces.HOPPER_FACE, face_width=170),
        faces.animate(faces.astronaut(), 30, spot=faces.ASTRONAUT_FACE, face_width=170),
    ]
    if swap_faces:
        looks.reverse()
    alice = RoomClient(url, room, "alice", True, CountedVideo(looks[0]), LoopAudio(speech))
    bob = RoomClient(url, room, "bob", True, CountedVideo(looks[1]), LoopAudio(np.zeros(AUDIO_RATE, np.int16)))
    clients = (alice, bob)
    rec.write("started", room=room, pid=os.getpid())
    rec.flush()
    rows: dict[tuple[str, str], Rows] = {}
    watchers = []
    for client in clients:
        refusal = await join_or_refusal(client)
        rec.write("refused" if refusal else "joined", who=client.name, **({"message": refusal} if refusal else {}))
        rec.flush()
    for listener, source in ((bob, alice), (alice, bob)):
        rows[listener.name, source.name] = []
        watchers.append(asyncio.ensure_future(watch(listener, source.name, rows[listener.name, source.name], rec)))
    done: dict[tuple[str, str], int] = dict.fromkeys(rows, 0)
    seen = dict.fromkeys((c.name for c in clients), 0)
    errors = dict.fromkeys((c.name for c in clients), 0)
    audio_told = False
    while True:
        try:
            await asyncio.wait_for(stop.wait(), FLUSH_S)
        except TimeoutError:
            pass
        if not audio_told and alice.audio.started is not None:
            rec.write("audio", started=alice.audio.started)
            audio_told = True
        for key, got in rows.items():
            if len(got) > done[key]:
                new, done[key] = got[done[key] :], len(got)
                rec.write("frames", listener=key[0], source=key[1], rows=[[round(t, 4), lat, ad] for t, lat, ad in new])
        for client in clients:
            for event in client.events[seen[client.name] :]:
                rec.write("event", to=client.name, event=event)
            seen[client.name] = len(client.events)
            for message in client.errors[errors[client.name] :]:
                rec.write("error", who=client.name, message=message)
            errors[client.name] = len(client.errors)
        rec.write("sent", counts={c.name: c.video.sent for c in clients if isinstance(c.video, CountedVideo)})
        rec.flush()
        if stop.is_set() or os.getppid() != parent:
            break
    for task in watchers:
        task.cancel()
    for client in clients:
        try:
            await asyncio.wait_for(client.leave(), 10)
        except Exception as exc:
            rec.write("error", who=client.name, message=f"leave failed: {type(exc).__name__}")
    rec.write("left")
    rec.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url", help="the relay's base URL")
    ap.add_argument("room", help="room name")
    ap.add_argument("speech", type=Path, help="Alice's microphone: 48 kHz mono int16 samples (.npy), looped")
    ap.add_argument("out", type=Path, help="JSON-lines file to append to")
    ap.add_argument("--shift-s", type=float, default=0.0, help="roll the speech track by this many seconds")
    ap.add_argument("--swap-faces", action="store_true", help="Alice shows the astronaut and Bob Grace Hopper")
    args = ap.parse_args()
    lower_priority()
    speech = np.roll(np.load(args.speech), int(args.shift_s * AUDIO_RATE))
    asyncio.run(run(args.url, args.room, speech, args.swap_faces, args.out))


if __name__ == "__main__":
    main()
