"""A room's ad breaks: a trigger's event to every page, the speaker's ad prepared and played in their tile.

Each speaker has at most one ad break at a time (speaker -> AdBreak); `over` lets a leave
wait until the others have seen that ad's end.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from callbridge.media.adbreak import AdBreak
from callbridge.web.events import room_event
from callbridge.workers.priority import in_normal_thread
from triggers import TriggerEvent

if TYPE_CHECKING:
    from callbridge.web.participant import Participant
    from callbridge.web.room import Room

log = logging.getLogger("callbridge.web.room")  # one logger name for a room's lines, as before the split


class RoomAds:
    """The ad breaks of one room."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self.playing: dict[str, AdBreak] = {}  # speaker -> the ad break playing in their tile
        self.over: dict[str, asyncio.Event] = {}  # speaker -> set once their ad's ad-end is out

    async def trigger(
        self, speaker: Participant, event: TriggerEvent, emitted_t: float, phrase_end_t: float | None
    ) -> None:
        log.info(
            "room %s: %s said %r (heard %r); latency %.2f s on the audio clock, %.2f s wall",
            self.room.name,
            speaker.name,
            event.phrase,
            event.heard,
            event.emitted_at_s - event.phrase_end_s,
            emitted_t - (phrase_end_t or emitted_t),
        )
        await self.room.broadcast(
            room_event(
                "trigger",
                speaker.name,
                t=emitted_t,
                phrase=event.phrase,
                heard=event.heard,
                phrase_end_t=round(phrase_end_t if phrase_end_t is not None else emitted_t, 4),
                confidence=round(event.confidence, 3),
            )
        )
        if speaker.name in self.playing:
            log.info("room %s: %s said %r during their ad; ignored", self.room.name, speaker.name, event.phrase)
            return
        ad = await in_normal_thread(self._prepare, speaker, event.phrase)
        if ad is None or self.room.participants.get(speaker.name) is not speaker or speaker.name in self.playing:
            return  # no template, fallback "none", or the speaker left meanwhile
        await self._play(speaker, ad, event.phrase)

    def _prepare(self, speaker: Participant, phrase: str) -> AdBreak | None:
        """Blocking: the phrase's ad for this speaker, its first frame ready to go on air.

        One hop to a thread at the relay's own priority: on a media thread, the
        lookups and the first frame wait behind video transcoding (docs/experiments.md, "Ad start").
        """
        template = self.room.services.store.template_for(phrase)
        media = None if template is None else speaker.pipeline.ad_media(template)
        if media is None:
            return None
        ad = AdBreak(media, speaker.video, speaker.audio)
        return ad if ad.prepare() else None

    async def _play(self, speaker: Participant, ad: AdBreak, phrase: str) -> None:
        media = ad.media
        self.playing[speaker.name] = ad
        over = self.over[speaker.name] = asyncio.Event()

        def started(t: float) -> None:
            fields: dict[str, Any] = dict(
                template=media.template,
                personalised=media.personalised,
                duration_s=round(media.duration_s, 3),
                title=media.title,
                tagline=media.tagline,
            )
            self.room._spawn(
                self.room.broadcast(room_event("ad-start", speaker.name, t=t, **fields)), f"ad-start of {speaker.name}"
            )

        try:
            await ad.play(started)
        finally:
            if self.playing.get(speaker.name) is ad:
                del self.playing[speaker.name]
            if ad.first_frame_t is not None:
                end = ad.last_frame_t or ad.first_frame_t
                cut = {"interrupted": True} if ad.cancelled else {}
                await self.room.broadcast(room_event("ad-end", speaker.name, t=end, template=media.template, **cut))
            over.set()
            if self.over.get(speaker.name) is over:
                del self.over[speaker.name]
            if ad.first_frame_t is not None:
                await asyncio.to_thread(
                    self.room.services.store.log_ad,
                    self.room.name,
                    speaker.name,
                    media.template,
                    phrase,
                    media.personalised,
                    ad.first_frame_t,
                    end,
                )
