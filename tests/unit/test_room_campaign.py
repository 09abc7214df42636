"""Campaign changes reaching a room: every pipeline hears them, every page gets a `campaign` event."""

from __future__ import annotations

import asyncio
import itertools
import time

import numpy as np

from callbridge.config.campaign import PhraseRule, TemplateRecord
from callbridge.media.adbreak import AdMedia
from tests.support.roomfakes import FakeParticipant
from triggers.events import TriggerEvent


def pizza_campaign(store, enabled: bool = True):
    store.reserve_template(TemplateRecord("pizza", licence="CC0"))
    store.mark_ready("pizza", "clips/p.mp4", "0" * 64, "tracked")
    store.add_phrase(PhraseRule("pizza night", "pizza", enabled=enabled))
    store.add_phrase(PhraseRule("cold pizza", "pizza", enabled=False))
    return store.campaign()


def test_every_pipeline_and_page_hears_the_change(room):
    ana, bo = FakeParticipant("ana"), FakeParticipant("bo")

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        await room.apply_campaign(pizza_campaign(room.services.store))

    asyncio.run(scenario())
    for page in (ana, bo):
        (event,) = page.events("campaign")
        assert event["phrases"] == ["dinner tonight", "pizza night"]  # the disabled one is not listed
        assert "participant" not in event and abs(event["t"] - time.time()) < 60
        (campaign,) = page.pipeline.campaigns
        assert [r.phrase for r in campaign.live_rules()] == ["dinner tonight", "pizza night"]


def test_someone_joining_after_a_change_gets_it_at_join(room):
    ana = FakeParticipant("ana")

    async def scenario():
        await room.apply_campaign(pizza_campaign(room.services.store))  # nobody in the room yet
        await room.join(ana)

    asyncio.run(scenario())
    assert len(ana.pipeline.campaigns) == 1


def test_a_pipeline_that_fails_does_not_keep_the_others_from_the_change(room):
    ana, bo = FakeParticipant("ana"), FakeParticipant("bo")

    def broken(campaign):
        raise RuntimeError("worker gone")

    ana.pipeline.set_campaign = broken  # type: ignore[method-assign]

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        await room.apply_campaign(pizza_campaign(room.services.store))

    asyncio.run(scenario())
    assert len(bo.pipeline.campaigns) == 1 and len(ana.events("campaign")) == 1


def test_a_deleted_template_that_is_playing_finishes_its_ad(room):
    store = room.services.store
    pizza_campaign(store)
    frame = np.full((24, 32, 3), 90, np.uint8)
    media = AdMedia("pizza", itertools.repeat(frame), 10.0, 15, None, None, True)
    ana, bo = FakeParticipant("ana", media=media), FakeParticipant("bo")

    async def scenario():
        for p in (ana, bo):
            await room.join(p)
        trigger = TriggerEvent("ana", "pizza night", "pizza night", 3.0, 3.4, 0.9)
        room.on_speech(ana, trigger, time.time(), None, asyncio.get_running_loop())
        await bo.got("ad-start")
        store.remove_template("pizza")
        await room.apply_campaign(store.campaign())
        assert room.ad_of("ana") is not None  # still on air
        await asyncio.wait_for(room.idle(), 5)
        room.on_speech(ana, trigger, time.time(), None, asyncio.get_running_loop())  # said again: gone now
        await asyncio.wait_for(room.idle(), 5)

    asyncio.run(scenario())
    (start,) = bo.events("ad-start")
    (end,) = bo.events("ad-end")
    assert start["template"] == end["template"] == "pizza" and "interrupted" not in end
    assert end["t"] - start["t"] > 1.2  # the whole ad (1.5 s), not cut
    assert ana.pipeline.asked == ["pizza"]  # the second "pizza night" found no template to play
