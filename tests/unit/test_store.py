"""Store on a real SQLite file in a temporary directory, read back with sqlite3."""

from __future__ import annotations

import sqlite3
import time

import pytest

import callbridge.config.store as store_module
from callbridge.config.campaign import PhraseRule
from callbridge.config.store import Store


def rows(store: Store, sql: str) -> list[tuple]:
    with sqlite3.connect(store.path) as db:
        return db.execute(sql).fetchall()


def execute(store: Store, sql: str, *params) -> None:
    db = sqlite3.connect(store.path)
    with db:
        db.execute(sql, params)
    db.close()


def test_a_new_store_is_seeded_with_the_default_campaign(tmp_path):
    store = Store(tmp_path / "data")
    assert store.path == tmp_path / "data" / "callbridge.sqlite" and store.path.exists()
    assert store.rules() == [PhraseRule("dinner tonight", "default", True)]
    assert store.phrases() == ["dinner tonight"]
    assert store.templates() == ["default"]
    assert store.template_for("dinner tonight") == "default"


def test_reopening_neither_duplicates_nor_reseeds(tmp_path):
    Store(tmp_path)
    Store(tmp_path)
    assert rows(Store(tmp_path), "SELECT phrase, template FROM phrases") == [("dinner tonight", "default")]
    execute(Store(tmp_path), "DELETE FROM phrases")
    assert Store(tmp_path).rules() == []  # a deleted default stays deleted


def test_rules_phrases_templates_and_template_for(tmp_path):
    store = Store(tmp_path)
    for phrase, template, enabled in [
        ("see you soon", "travel", 1),
        ("another coffee", "cafe", 0),
        ("road trip", "travel", 1),
    ]:
        execute(store, "INSERT INTO phrases VALUES (?, ?, ?)", phrase, template, enabled)
    assert [r.phrase for r in store.rules()] == ["another coffee", "dinner tonight", "road trip", "see you soon"]
    assert store.rules()[0] == PhraseRule("another coffee", "cafe", False)
    assert store.phrases() == ["dinner tonight", "road trip", "see you soon"]
    assert store.templates() == ["default", "travel"]
    assert store.template_for("road trip") == "travel"
    assert store.template_for("another coffee") is None  # disabled
    assert store.template_for("unknown") is None


def test_consent_and_ad_plays_are_logged(tmp_path):
    store = Store(tmp_path)
    before = time.time()
    store.log_consent("lobby", "ana", True)
    store.log_consent("lobby", "ana", False)
    after = time.time()
    logged = rows(store, "SELECT t, room, participant, consent FROM consent_log ORDER BY rowid")
    assert [row[1:] for row in logged] == [("lobby", "ana", 1), ("lobby", "ana", 0)]
    assert all(before <= row[0] <= after for row in logged)
    store.log_ad("lobby", "bo", "default", "dinner tonight", True, 1000.5, 1008.25)
    store.log_ad("lobby", "bo", "default", "dinner tonight", False, 1010.0, None)
    assert rows(store, "SELECT * FROM ad_plays ORDER BY rowid") == [
        (1000.5, 1008.25, "lobby", "bo", "default", "dinner tonight", 1),
        (1010.0, None, "lobby", "bo", "default", "dinner tonight", 0),
    ]


def test_a_failing_write_leaves_the_file_consistent(tmp_path):
    store = Store(tmp_path)
    store.log_ad("lobby", "bo", "default", "dinner tonight", True, 1.0, 2.0)
    with pytest.raises(sqlite3.IntegrityError):
        store.log_ad("lobby", "bo", None, "dinner tonight", True, 3.0, 4.0)  # template is NOT NULL
    assert rows(store, "SELECT t_start FROM ad_plays") == [(1.0,)]
    assert rows(store, "PRAGMA integrity_check") == [("ok",)]
    store.log_ad("lobby", "bo", "default", "dinner tonight", True, 5.0, 6.0)  # the store still works
    assert rows(store, "SELECT t_start FROM ad_plays ORDER BY rowid") == [(1.0,), (5.0,)]
    assert not (tmp_path / "callbridge.sqlite-journal").exists()


def test_a_failed_seed_is_rolled_back_whole_and_retried(tmp_path, monkeypatch):
    bad = (PhraseRule("first", "default"), PhraseRule("second", object()))  # the second row cannot be bound
    monkeypatch.setattr(store_module, "DEFAULT_CAMPAIGN", bad)
    with pytest.raises(sqlite3.Error):
        Store(tmp_path)
    path = tmp_path / "callbridge.sqlite"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT * FROM phrases").fetchall() == []  # not half of the seed
        assert db.execute("SELECT * FROM meta").fetchall() == []
    monkeypatch.undo()
    assert Store(tmp_path).phrases() == ["dinner tonight"]


def test_no_face_data_table_exists(tmp_path):
    tables = {name for (name,) in rows(Store(tmp_path), "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"phrases", "consent_log", "ad_plays", "meta"}
