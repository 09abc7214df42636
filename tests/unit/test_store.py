"""Store on a real SQLite file in a temporary directory, read back with sqlite3."""

from __future__ import annotations

import sqlite3
import time

import pytest

import callbridge.config.schema as schema
from callbridge.config.campaign import CampaignError, Conflict, NotFound, PhraseRule, TemplateRecord
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


def ready_template(store: Store, name: str) -> None:
    store.reserve_template(TemplateRecord(name, licence="test"))
    store.mark_ready(name, f"clips/{name}.mp4", "0" * 64, "tracked")


def test_rules_phrases_templates_and_template_for(tmp_path):
    store = Store(tmp_path)
    ready_template(store, "travel")
    store.reserve_template(TemplateRecord("cafe", licence="test"))  # still ingesting
    store.add_phrase(PhraseRule("see you soon", "travel"))
    store.add_phrase(PhraseRule("another coffee", "cafe"))
    store.add_phrase(PhraseRule("road trip", "travel", enabled=False, cooldown_s=30.0))
    assert [r.phrase for r in store.rules()] == ["another coffee", "dinner tonight", "road trip", "see you soon"]
    assert store.rule("road trip") == PhraseRule("road trip", "travel", False, 30.0)
    assert store.phrases() == ["dinner tonight", "see you soon"]  # not disabled, not an unready template
    assert store.templates() == ["default", "travel"]
    assert store.template_for("see you soon") == "travel"
    assert store.template_for("road trip") is None  # disabled
    assert store.template_for("another coffee") is None  # its template is not ready yet
    assert store.template_for("unknown") is None


def test_every_campaign_change_bumps_the_revision_and_progress_does_not(tmp_path):
    store = Store(tmp_path)
    seen = [store.revision()]
    store.reserve_template(TemplateRecord("travel", licence="test"))
    seen.append(store.revision())
    store.set_progress("travel", 0.5)
    assert store.revision() == seen[-1] and store.template("travel").progress == 0.5
    store.mark_ready("travel", "clips/t.mp4", "0" * 64, "tracked")
    store.add_phrase(PhraseRule("road trip", "travel"))
    store.update_phrase("road trip", enabled=False)
    store.update_template("travel", max_duration_s=5.0, fallback="none")
    store.remove_phrase("road trip")
    store.remove_template("travel")
    seen.append(store.revision())
    assert seen == [0, 1, 7]


def test_refusals_name_the_problem_and_change_nothing(tmp_path):
    store = Store(tmp_path)
    before = store.campaign()
    with pytest.raises(NotFound, match="no template 'nope'"):
        store.add_phrase(PhraseRule("pizza night", "nope"))
    with pytest.raises(Conflict, match="already in the campaign"):
        store.add_phrase(PhraseRule("dinner tonight", "default"))
    with pytest.raises(NotFound):
        store.remove_phrase("pizza night")
    with pytest.raises(CampaignError, match="built in"):
        store.remove_template("default")
    with pytest.raises(Conflict):
        store.reserve_template(TemplateRecord("default"))
    with pytest.raises(CampaignError, match="cannot change"):
        store.update_template("default", clip="../../etc/passwd")
    assert store.campaign() == before


def test_deleting_a_template_takes_its_phrases(tmp_path):
    store = Store(tmp_path)
    ready_template(store, "travel")
    store.add_phrase(PhraseRule("road trip", "travel"))
    deleted = store.remove_template("travel")
    assert deleted.clip == "clips/travel.mp4"
    assert store.rules() == [PhraseRule("dinner tonight", "default")]
    assert [t.name for t in store.campaign().templates] == ["default"]


def test_a_renamed_phrase_keeps_its_settings(tmp_path):
    store = Store(tmp_path)
    store.update_phrase("dinner tonight", cooldown_s=12.0)
    store.update_phrase("dinner tonight", phrase="supper tonight")
    assert store.rules() == [PhraseRule("supper tonight", "default", True, 12.0)]


def test_the_changes_survive_reopening(tmp_path):
    store = Store(tmp_path)
    ready_template(store, "travel")
    store.add_phrase(PhraseRule("road trip", "travel", cooldown_s=5.0))
    store.set_retention_days(7)
    again = Store(tmp_path)
    assert again.campaign() == store.campaign() and again.retention_days() == 7


def test_retention_purges_only_older_rows(tmp_path):
    store = Store(tmp_path)
    now = time.time()
    store.log_ad("lobby", "bo", "default", "dinner tonight", True, now - 40 * 86400, now - 40 * 86400 + 8)
    store.log_ad("lobby", "bo", "default", "dinner tonight", True, now - 3600, now - 3592)
    execute(store, "INSERT INTO consent_log VALUES (?, 'lobby', 'ana', 1)", now - 31 * 86400)
    store.log_consent("lobby", "ana", False)
    assert store.purge_expired(now) == 2
    assert [r["t_start"] for r in store.log("ads")] == [now - 3600]
    assert [r["consent"] for r in store.log("consent")] == [False]
    assert store.purge("all") == 2 and store.log("ads") == store.log("consent") == []
    with pytest.raises(CampaignError):
        store.set_retention_days(0)


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
    monkeypatch.setattr(schema, "DEFAULT_CAMPAIGN", bad)
    with pytest.raises(sqlite3.Error):
        Store(tmp_path)
    path = tmp_path / "callbridge.sqlite"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []  # not half a schema, nor half a seed
    monkeypatch.undo()
    assert Store(tmp_path).phrases() == ["dinner tonight"]


def test_no_face_data_table_exists(tmp_path):
    tables = {name for (name,) in rows(Store(tmp_path), "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"phrases", "consent_log", "ad_plays", "meta", "templates", "schema_version"}
    columns = {row[1] for table in tables for row in rows(Store(tmp_path), f"PRAGMA table_info({table})")}
    assert not {c for c in columns if "face" in c or "landmark" in c or "image" in c}
