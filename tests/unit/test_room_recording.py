"""A room records only while everyone in it agrees; every page hears when it starts and stops."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import av
import numpy as np

from callbridge.config.store import Store
from callbridge.web.room import Room
from tests.support.roomfakes import FakeParticipant


def recording_room(tmp_path: Path) -> Room:
    from types import SimpleNamespace

    return Room("lobby", SimpleNamespace(store=Store(tmp_path / "data")), tmp_path / "recordings")  # type: ignore[arg-type]


def states(page: FakeParticipant) -> list[bool]:
    return [e["on"] for e in page.events("recording")]


def folders(tmp_path: Path) -> list[Path]:
    root = tmp_path / "recordings"
    return sorted(root.iterdir()) if root.exists() else []


def test_it_records_only_while_everyone_agrees(tmp_path):
    room = recording_room(tmp_path)
    ana, bo, cy = FakeParticipant("ana"), FakeParticipant("bo"), FakeParticipant("cy")

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        await room.set_record(ana, True)
        assert not room.recording.on  # bo has not agreed
        await room.set_record(bo, True)
        assert room.recording.on and ana.on_frame is not None and bo.on_frame is not None
        video = av.VideoFrame.from_ndarray(np.full((240, 320, 3), 90, np.uint8), format="rgb24")
        for i in range(10):
            ana.on_frame(video, time.time() + i / 15)
        await room.join(cy)  # a newcomer who has not agreed stops it for everyone
        assert not room.recording.on and ana.on_frame is None
        await room.set_record(cy, True)
        assert room.recording.on  # a new recording, in a folder of its own
        await room.set_record(bo, False)
        assert not room.recording.on

    asyncio.run(scenario())
    assert states(ana) == [True, False, True, False] and states(bo) == states(ana)
    first, second = folders(tmp_path)
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["version"] == 1 and manifest["room"] == "lobby" and manifest["ended_t"] is not None
    assert [p["name"] for p in manifest["participants"]] == ["ana", "bo"]
    assert manifest["campaign"]["phrases"] == [{"phrase": "dinner tonight", "template": "default"}]
    with av.open(str(first / "ana-1.mkv")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 10
    logged = [json.loads(line) for line in (first / "events.jsonl").read_text().splitlines()]
    assert logged[0] == {**logged[0], "type": "recording", "on": True}
    assert {"type": "joined", "participant": "cy"} in [{k: e.get(k) for k in ("type", "participant")} for e in logged]
    assert [p["name"] for p in json.loads((second / "manifest.json").read_text())["participants"]] == [
        "ana",
        "bo",
        "cy",
    ]


def test_a_write_error_stops_it_with_a_reason_and_the_call_goes_on(tmp_path):
    room = recording_room(tmp_path)
    ana, bo = FakeParticipant("ana"), FakeParticipant("bo")

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        for p in (ana, bo):
            await room.set_record(p, True)
        recorder = room.recording._recorder
        assert recorder is not None
        await asyncio.to_thread(recorder._error, "No space left on device")  # as a writer thread reports it
        for _ in range(50):
            if not room.recording.on:
                break
            await asyncio.sleep(0.02)
        await room.join(FakeParticipant("cy"))  # no restart on its own after an error
        return room.recording.on

    assert asyncio.run(scenario()) is False
    assert states(ana) == [True, False]
    stop = ana.events("recording")[-1]
    assert stop["reason"] == "recording stopped: No space left on device"
    assert ana.closed == 0 and "ana" in room.participants  # nobody was dropped


def test_a_server_without_recording_never_records(room):
    ana = FakeParticipant("ana")

    async def scenario():
        await room.join(ana)
        await room.set_record(ana, True)

    asyncio.run(scenario())
    assert not room.recording.available and not room.recording.on and ana.events("recording") == []


def test_the_manifest_keeps_face_consent_true_only_for_those_who_never_withdrew(tmp_path):
    room = recording_room(tmp_path)
    ana, bo, cy = FakeParticipant("ana", consent=True), FakeParticipant("bo", consent=True), FakeParticipant("cy")

    async def scenario():
        for p in (ana, bo, cy):
            await room.join(p)
        for p in (ana, bo, cy):
            await room.set_record(p, True)
        assert room.recording.on
        await room.set_consent(bo, False)
        await room.set_consent(bo, True)  # agreeing again does not make the earlier frames usable
        await room.set_record(ana, False)

    asyncio.run(scenario())
    (folder,) = folders(tmp_path)
    people = json.loads((folder / "manifest.json").read_text())["participants"]
    assert {p["name"]: p["face_consent"] for p in people} == {"ana": True, "bo": False, "cy": False}
