"""Fake participants for the room tests: they record what they are sent and asked."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace

import av

from callbridge.config.campaign import Campaign
from callbridge.config.store import Store
from callbridge.media.adbreak import AdMedia
from callbridge.media.tracks import Program
from callbridge.web.participant import NegotiationError
from callbridge.web.room import Room
from callbridge.workers.interface import MediaPipeline


class FakePipeline:
    """A MediaPipeline that plays `media` for every trigger and records which templates it was asked for."""

    def __init__(self, name: str, consent: bool, media: AdMedia | None = None) -> None:
        self.name = name
        self.consent = consent
        self.media = media
        self.asked: list[str] = []
        self.campaigns: list[Campaign] = []
        self.closed = False

    def feed_audio(self, frame: av.AudioFrame, received_t: float) -> None:
        pass

    def feed_video(self, frame: av.VideoFrame, received_t: float) -> None:
        pass

    def set_consent(self, consent: bool) -> None:
        self.consent = consent

    def set_campaign(self, campaign: Campaign) -> None:
        self.campaigns.append(campaign)

    def ad_media(self, template_name: str) -> AdMedia | None:
        self.asked.append(template_name)
        return self.media

    def close(self) -> None:
        self.closed = True


def _check_protocol(fake: FakePipeline) -> MediaPipeline:
    return fake  # mypy checks that the fake has the pipeline's interface


class FakeParticipant:
    """What Room uses of a Participant, recording every call."""

    def __init__(self, name: str, consent: bool = False, connected: bool = True, media: AdMedia | None = None) -> None:
        self.name = name
        self.pipeline = FakePipeline(name, consent, media)
        self.media_up = connected
        self.watching = False
        self.record_agree = False
        self.on_frame: object = None
        self.video, self.audio = Program("video"), Program("audio")
        self.sent: list[dict] = []
        self.stopped: list[str] = []
        self.received_from: list[list[str]] = []
        self.closed = 0
        self.fail_receive: Exception | None = None
        self._kinds: dict[str, asyncio.Event] = {}

    @property
    def consent(self) -> bool:
        return self.pipeline.consent

    async def send(self, message: dict) -> None:
        self.sent.append(message)
        if message.get("type") == "event":
            self._arrived(message["event"]["type"]).set()

    async def got(self, kind: str, timeout: float = 5.0) -> dict:
        """Wait until an event of `kind` has reached this page; the first one."""
        await asyncio.wait_for(self._arrived(kind).wait(), timeout)
        return self.events(kind)[0]

    def _arrived(self, kind: str) -> asyncio.Event:
        return self._kinds.setdefault(kind, asyncio.Event())

    def stop_receiving(self, name: str) -> None:
        self.stopped.append(name)

    async def media_connected(self) -> None:
        if not self.media_up:
            raise NegotiationError(f"{self.name}'s media connection was not up")

    async def receive_from(self, others: list) -> None:
        self.received_from.append([o.name for o in others])
        if self.fail_receive is not None:
            raise self.fail_receive

    async def close(self) -> None:
        self.closed += 1

    def events(self, kind: str | None = None) -> list[dict]:
        assert all(m["type"] == "event" for m in self.sent)
        return [m["event"] for m in self.sent if kind is None or m["event"]["type"] == kind]


class PageGone(FakeParticipant):
    async def send(self, message: dict) -> None:
        raise ConnectionResetError("the page has gone")


def make_room(data_dir: Path, name: str = "lobby") -> Room:
    """A room on a real Store in `data_dir`, with no models (the fakes need none)."""
    return Room(name, SimpleNamespace(store=Store(data_dir)))  # type: ignore[arg-type]


def consent_log(room: Room) -> list[tuple]:
    with sqlite3.connect(room.services.store.path) as db:
        return db.execute("SELECT room, participant, consent FROM consent_log ORDER BY rowid").fetchall()


def assert_event(event: dict, kind: str, participant: str) -> None:
    assert event["type"] == kind and event["participant"] == participant
    assert isinstance(event["t"], float) and abs(event["t"] - time.time()) < 60
