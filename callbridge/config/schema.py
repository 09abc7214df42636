"""The SQLite file's schema, as ordered migration steps from any older version to the newest.

`STEPS[n]` takes a file at version n to n + 1. Version 0 is an empty file;
version 1 is the schema before campaigns, which has no `schema_version` table
and is recognised by its `phrases` table.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from callbridge.config.campaign import DEFAULT_CAMPAIGN, DEFAULT_MAX_S

Step = Callable[[sqlite3.Connection, Path], None]
RETENTION_DAYS = 30
BUILTIN_VERDICT = "built in: generated on first use, no upload needed"


def _v1(db: sqlite3.Connection, data_dir: Path) -> None:
    """The schema before campaigns, seeded with the default campaign."""
    _run(
        db,
        """
        CREATE TABLE phrases (phrase TEXT PRIMARY KEY, template TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1);
        CREATE TABLE consent_log (
            t REAL NOT NULL, room TEXT NOT NULL, participant TEXT NOT NULL, consent INTEGER NOT NULL
        );
        CREATE TABLE ad_plays (
            t_start REAL NOT NULL, t_end REAL, room TEXT NOT NULL, participant TEXT NOT NULL,
            template TEXT NOT NULL, phrase TEXT NOT NULL, personalised INTEGER NOT NULL
        );
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    )
    db.executemany(
        "INSERT INTO phrases (phrase, template, enabled) VALUES (?, ?, ?)",
        [(r.phrase, r.template, int(r.enabled)) for r in DEFAULT_CAMPAIGN],
    )
    db.execute("INSERT INTO meta (key, value) VALUES ('seeded', '1')")


def _v2(db: sqlite3.Connection, data_dir: Path) -> None:
    """Campaigns: per-phrase cooldowns, template records with ingest state, a revision, retention."""
    _run(
        db,
        f"""
        ALTER TABLE phrases ADD COLUMN cooldown_s REAL NOT NULL DEFAULT 0;
        CREATE TABLE templates (
            name TEXT PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            tagline TEXT NOT NULL DEFAULT '',
            licence TEXT NOT NULL DEFAULT '',
            clip TEXT NOT NULL DEFAULT '',
            clip_sha256 TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN ('ingesting', 'ready', 'failed')),
            progress REAL NOT NULL DEFAULT 0,
            error TEXT,
            verdict TEXT,
            max_duration_s REAL NOT NULL DEFAULT {DEFAULT_MAX_S},
            fallback TEXT NOT NULL DEFAULT 'plain' CHECK (fallback IN ('plain', 'none')),
            builtin INTEGER NOT NULL DEFAULT 0,
            revision INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX consent_log_t ON consent_log (t);
        CREATE INDEX ad_plays_t ON ad_plays (t_start);
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        INSERT INTO schema_version VALUES (1);
        INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', '0');
        INSERT OR IGNORE INTO meta (key, value) VALUES ('retention_days', '{RETENTION_DAYS}');
        """,
    )
    from adengine.default_template import DEFAULT_META as meta  # heavy (it draws the default ad): only here

    db.execute(
        "INSERT INTO templates (name, title, tagline, licence, max_duration_s, status, progress, verdict, builtin)"
        " VALUES (?, ?, ?, ?, ?, 'ready', 1, ?, 1)",
        (meta["name"], meta["title"], meta["tagline"], meta["licence"], meta["max_duration_s"], BUILTIN_VERDICT),
    )
    _adopt_template_folders(db, data_dir)


def _adopt_template_folders(db: sqlite3.Connection, data_dir: Path) -> None:
    """Templates added by `callbridge template add` before campaigns lived in folders with a template.json."""
    for info_path in sorted((data_dir / "templates").glob("*/template.json")):
        name = info_path.parent.name
        if name == "default":
            continue
        try:
            info = json.loads(info_path.read_text())
            clip = (info_path.parent / info["clip"]).relative_to(data_dir).as_posix()
            row = (
                name,
                str(info.get("title", "")),
                str(info.get("tagline", "")),
                str(info.get("licence", "")),
                clip,
                str(info.get("clip_sha256", "")),
                float(info.get("max_duration_s", DEFAULT_MAX_S)),
                info.get("fallback", "plain"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a template this version can read; left on disk as it is
        db.execute(
            "INSERT OR IGNORE INTO templates (name, title, tagline, licence, clip, clip_sha256, max_duration_s,"
            " fallback, status, progress) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ready', 1)",
            row,
        )


def _run(db: sqlite3.Connection, script: str) -> None:
    # executescript() would commit the step's transaction half-way: statements go one by one
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


STEPS: tuple[Step, ...] = (_v1, _v2)
LATEST = len(STEPS)


def version_of(db: sqlite3.Connection) -> int:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_version" in tables:
        return int(db.execute("SELECT version FROM schema_version").fetchone()[0])
    return 1 if "phrases" in tables else 0


def migrate(db: sqlite3.Connection, data_dir: Path) -> int:
    """Bring the file to LATEST, one transaction per step; returns the version it had."""
    found = version_of(db)
    if found > LATEST:
        raise RuntimeError(f"the data file has schema version {found}; this callbridge knows up to {LATEST}")
    db.isolation_level = None  # transactions are explicit: one per step
    while True:
        db.execute("BEGIN IMMEDIATE")  # a second process opening the file at once waits here, then re-reads
        try:
            version = version_of(db)
            if version >= LATEST:
                db.execute("COMMIT")
                return found
            STEPS[version](db, data_dir)
            if version + 1 > 1:  # version 1 predates the schema_version table
                db.execute("UPDATE schema_version SET version = ?", (version + 1,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
