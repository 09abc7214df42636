"""Room speech and ads between fake participants and a real Store: transcripts, triggers, ad breaks."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time

import numpy as np
import pytest

from callbridge.media.adbreak import AdMedia
from callbridge.web.room import Room
from tests.support.roomfakes import FakeParticipant
from triggers.events import TranscriptEvent, TriggerEvent


async def settle(room: Room, timeout: float = 5.0) -> None:
    """Wait for the room's background jobs (broadcasts, ad breaks) to finish."""
    await asyncio.wait_for(room.idle(), timeout)


def test_speech_events_are_broadcast_on_the_loop(room):
    ana, bo = FakeParticipant("ana"), FakeParticipant("bo")

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        loop = asyncio.get_running_loop()
        transcript = TranscriptEvent("ana", "shall we have dinner", 1.23456, 2.5, False)
        await asyncio.to_thread(room.on_speech, ana, transcript, 1000.0, None, loop)  # from a worker thread
        trigger = TriggerEvent("ana", "see you soon", "see you soon", 3.0, 3.4, 0.87654)
        room.on_speech(ana, trigger, 1001.0, 1000.6, loop)
        await settle(room)

    asyncio.run(scenario())
    (transcript,) = bo.events("transcript")
    assert transcript == {
        "type": "transcript", "participant": "ana", "t": 1000.0,
        "text": "shall we have dinner", "final": False, "start_s": 1.235, "end_s": 2.5,
    }  # fmt: skip
    (trigger,) = bo.events("trigger")
    assert trigger["t"] == 1001.0 and trigger["phrase_end_t"] == 1000.6 and trigger["confidence"] == 0.877
    assert ana.pipeline.asked == []  # no template for that phrase: no ad


def test_speech_from_someone_who_left_is_dropped(room):
    ana, bo = FakeParticipant("ana"), FakeParticipant("bo")

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        await room.leave(ana)
        room.on_speech(ana, TranscriptEvent("ana", "late", 0.0, 1.0, True), 1.0, None, asyncio.get_running_loop())
        await settle(room)

    asyncio.run(scenario())
    assert bo.events("transcript") == []


async def join_and_say(room, speaker, *others) -> TriggerEvent:
    """Everyone joins; then `speaker` says "dinner tonight" (no receive time known)."""
    for p in (speaker, *others):
        await room.join(p)
    trigger = TriggerEvent(speaker.name, "dinner tonight", "dinner tonight", 3.0, 3.4, 0.9)
    room.on_speech(speaker, trigger, time.time(), None, asyncio.get_running_loop())
    return trigger


def test_a_trigger_with_no_ad_to_play_is_only_announced(room):
    ana, bo = FakeParticipant("ana", media=None), FakeParticipant("bo")

    async def scenario():
        await join_and_say(room, ana, bo)
        await settle(room)

    asyncio.run(scenario())
    assert ana.pipeline.asked == ["default"]
    (trigger,) = bo.events("trigger")
    assert trigger["phrase_end_t"] == trigger["t"]  # no receive time: the emission time
    assert bo.events("ad-start") == [] and room.ad_of("ana") is None


def test_a_trigger_plays_the_speakers_ad_and_logs_it(room):
    frame = np.full((24, 32, 3), 120, np.uint8)
    media = AdMedia("default", itertools.repeat(frame), 10.0, 15, None, None, True, "Forkful", "dinner, sorted")
    ana, bo = FakeParticipant("ana", media=media), FakeParticipant("bo")
    seen_during: list = []

    async def scenario():
        trigger = await join_and_say(room, ana, bo)
        await bo.got("ad-start")
        seen_during.append(room.ad_of("ana"))
        room.on_speech(ana, trigger, time.time(), None, asyncio.get_running_loop())  # said again during the ad
        await settle(room)

    asyncio.run(scenario())
    assert seen_during[0] is not None and room.ad_of("ana") is None
    assert ana.pipeline.asked == ["default"]  # the repeat during the ad is ignored
    assert len(bo.events("trigger")) == 2
    (start,) = bo.events("ad-start")
    (end,) = bo.events("ad-end")
    assert start["participant"] == "ana" and start["template"] == "default" and start["personalised"] is True
    assert start["duration_s"] == 1.5 and start["title"] == "Forkful" and start["tagline"] == "dinner, sorted"
    assert end["template"] == "default" and 1.2 < end["t"] - start["t"] < 2.0
    with sqlite3.connect(room.services.store.path) as db:
        (row,) = db.execute(
            "SELECT room, participant, template, phrase, personalised, t_start, t_end FROM ad_plays"
        ).fetchall()
    assert row[:5] == ("lobby", "ana", "default", "dinner tonight", 1)
    assert row[5] == pytest.approx(start["t"], abs=1e-3) and row[6] == pytest.approx(end["t"], abs=1e-3)


def test_leaving_mid_ad_sends_ad_end_then_left(room):
    frame = np.full((24, 32, 3), 120, np.uint8)
    media = AdMedia("default", itertools.repeat(frame), 10.0, 15, None, None, False)
    ana, bo = FakeParticipant("ana", media=media), FakeParticipant("bo")

    async def scenario():
        await join_and_say(room, ana, bo)
        await bo.got("ad-start")
        await room.leave(ana)
        await settle(room)

    asyncio.run(scenario())
    (start,) = bo.events("ad-start")
    (end,) = bo.events("ad-end")
    assert end.get("interrupted") is True and end["t"] - start["t"] < start["duration_s"]  # cut short
    assert [e["type"] for e in bo.events() if e["type"] in ("ad-start", "ad-end", "left")] == [
        "ad-start",
        "ad-end",
        "left",
    ]
