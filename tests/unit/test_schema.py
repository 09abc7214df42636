"""Migrations on real SQLite files: from every older version to the newest, and what they keep."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from callbridge.config import schema
from callbridge.config.campaign import PhraseRule
from callbridge.config.store import Store

# The file as the relay wrote it before campaigns (schema version 1), statement for statement.
SHIPPED_V1 = """
CREATE TABLE IF NOT EXISTS phrases (
    phrase TEXT PRIMARY KEY,
    template TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS consent_log (
    t REAL NOT NULL, room TEXT NOT NULL, participant TEXT NOT NULL, consent INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ad_plays (
    t_start REAL NOT NULL, t_end REAL, room TEXT NOT NULL, participant TEXT NOT NULL,
    template TEXT NOT NULL, phrase TEXT NOT NULL, personalised INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO phrases VALUES ('dinner tonight', 'default', 1);
INSERT INTO phrases VALUES ('road trip', 'travel', 0);
INSERT INTO meta VALUES ('seeded', '1');
INSERT INTO consent_log VALUES (1000.0, 'lobby', 'ana', 1);
INSERT INTO ad_plays VALUES (1001.0, 1009.0, 'lobby', 'ana', 'default', 'dinner tonight', 1);
"""


def shipped_v1(data: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(data / "callbridge.sqlite")
    db.executescript(SHIPPED_V1)
    db.close()
    folder = data / "templates" / "travel"  # added with `callbridge template add` in that version
    folder.mkdir(parents=True)
    (folder / "clip.mp4").write_bytes(b"not decoded by the migration")
    info = {"name": "travel", "title": "Go", "tagline": "", "phrases": ["road trip"], "max_duration_s": 6.0}
    (folder / "template.json").write_text(
        json.dumps({**info, "licence": "CC0", "clip": "clip.mp4", "clip_sha256": "ab"})
    )


def test_the_versions_are_recognised(tmp_path):
    shipped_v1(tmp_path)
    with sqlite3.connect(tmp_path / "callbridge.sqlite") as db:
        assert schema.version_of(db) == 1
    with sqlite3.connect(tmp_path / "empty.sqlite") as db:
        assert schema.version_of(db) == 0


@pytest.mark.parametrize("start", range(schema.LATEST + 1))
def test_every_older_version_migrates_to_the_newest(tmp_path, start):
    db = sqlite3.connect(tmp_path / "callbridge.sqlite")
    for version in range(start):
        with db:
            schema.STEPS[version](db, tmp_path)
            if version >= 1:
                db.execute("UPDATE schema_version SET version = ?", (version + 1,))
    db.close()
    store = Store(tmp_path)
    assert store.migrated_from == start
    with sqlite3.connect(store.path) as db:
        assert schema.version_of(db) == schema.LATEST
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    campaign = store.campaign()
    assert campaign.phrases == [PhraseRule("dinner tonight", "default")]
    assert [(t.name, t.status, t.builtin) for t in campaign.templates] == [("default", "ready", True)]
    assert Store(tmp_path).migrated_from == schema.LATEST  # nothing left to do the second time


def test_the_shipped_file_keeps_its_phrases_logs_and_templates(tmp_path):
    shipped_v1(tmp_path)
    store = Store(tmp_path)
    assert store.migrated_from == 1
    assert store.rules() == [PhraseRule("dinner tonight", "default"), PhraseRule("road trip", "travel", False)]
    travel = store.template("travel")
    assert travel is not None and travel.status == "ready" and travel.clip == "templates/travel/clip.mp4"
    assert (travel.title, travel.licence, travel.max_duration_s, travel.clip_sha256) == ("Go", "CC0", 6.0, "ab")
    assert store.log("consent") == [{"t": 1000.0, "room": "lobby", "participant": "ana", "consent": True}]
    assert store.log("ads")[0]["template"] == "default"
    assert store.retention_days() == schema.RETENTION_DAYS


def test_a_failing_step_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    shipped_v1(tmp_path)

    def broken(db: sqlite3.Connection, data_dir: Path) -> None:
        schema._v2(db, data_dir)
        raise RuntimeError("disk full half-way")

    monkeypatch.setattr(schema, "STEPS", (schema._v1, broken))
    with pytest.raises(RuntimeError):
        Store(tmp_path)
    with sqlite3.connect(tmp_path / "callbridge.sqlite") as db:
        assert schema.version_of(db) == 1
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "templates" not in tables
        assert [c[1] for c in db.execute("PRAGMA table_info(phrases)")] == ["phrase", "template", "enabled"]
    monkeypatch.undo()
    assert Store(tmp_path).migrated_from == 1  # and the next start migrates it whole


def test_a_file_from_a_newer_callbridge_is_refused(tmp_path):
    store = Store(tmp_path)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE schema_version SET version = ?", (schema.LATEST + 1,))
    with pytest.raises(RuntimeError, match="knows up to"):
        Store(tmp_path)
