"""Fake participants for the room tests: they record what they are sent and asked."""

from __future__ import annotations

import sqlite3
import time
from types import SimpleNamespace

import pytest

from callbridge.config.store import Store
from callbridge.media.adbreak import AdMedia
from callbridge.media.tracks import Program
from callbridge.web.participant import NegotiationError
from callbridge.web.room import Room


class FakePipeline:
    def __init__(self, consent: bool, media: AdMedia | None = None) -> None:
        self.consent = consent
        self.media = media
        self.asked: list[str] = []

    def set_consent(self, consent: bool) -> None:
        self.consent = consent

    def ad_media(self, template: str) -> AdMedia | None:
        self.asked.append(template)
        return self.media


class FakeParticipant:
    """What Room uses of a Participant, recording every call."""

    def __init__(self, name: str, consent: bool = False, connected: bool = True, media: AdMedia | None = None) -> None:
        self.name = name
        self.pipeline = FakePipeline(consent, media)
        self.media_up = connected
        self.joined_event: dict | None = None
        self.face_event: dict | None = None
        self.video, self.audio = Program("video"), Program("audio")
        self.ad = None
        self.sent: list[dict] = []
        self.stopped: list[str] = []
        self.received_from: list[list[str]] = []
        self.closed = 0
        self.fail_receive: Exception | None = None

    @property
    def consent(self) -> bool:
        return self.pipeline.consent

    async def send(self, message: dict) -> None:
        self.sent.append(message)

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
        if self.ad is not None:  # as Participant.close does
            self.ad.cancel()

    def events(self, kind: str | None = None) -> list[dict]:
        assert all(m["type"] == "event" for m in self.sent)
        return [m["event"] for m in self.sent if kind is None or m["event"]["type"] == kind]


class PageGone(FakeParticipant):
    async def send(self, message: dict) -> None:
        raise ConnectionResetError("the page has gone")


@pytest.fixture
def room(tmp_path):
    return Room("lobby", SimpleNamespace(store=Store(tmp_path)))


def consent_log(room: Room) -> list[tuple]:
    with sqlite3.connect(room.services.store.path) as db:
        return db.execute("SELECT room, participant, consent FROM consent_log ORDER BY rowid").fetchall()


def assert_event(event: dict, kind: str, participant: str) -> None:
    assert event["type"] == kind and event["participant"] == participant
    assert isinstance(event["t"], float) and abs(event["t"] - time.time()) < 60
