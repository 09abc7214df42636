"""The relay's SQLite file in the data directory: the campaign, the consent log, the ad-play log.

No face data is ever written here. Every connection is short-lived and each
change is one transaction, so the file is never left half-written; every
campaign change bumps the revision that running servers poll.

A consent-log row that cannot be written (a full disk, a locked or broken file) is
a `LogWriteError`, which the web side turns into a clean refusal of the join or the
consent change. An ad-play row that cannot be written is only logged: the ad has
played by then, and the call goes on.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Literal

from callbridge.config import schema
from callbridge.config.campaign import Campaign, CampaignError, Conflict, NotFound, PhraseRule, TemplateRecord

log = logging.getLogger(__name__)
LogKind = Literal["consent", "ads"]
# What a full disk, a locked, unreadable or corrupt file raise (a constraint broken by a caller is a bug instead).
_WRITE_FAILURES = (sqlite3.OperationalError, sqlite3.DatabaseError, OSError)
_TEMPLATE_COLUMNS = tuple(f.name for f in fields(TemplateRecord))
_EDITABLE = {"title", "tagline", "licence", "max_duration_s", "fallback"}


class LogWriteError(RuntimeError):
    """A consent-log row could not be written; the message says why in plain words."""


class Store:
    """callbridge.sqlite under the data directory."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.path = data_dir / "callbridge.sqlite"
        self._lock = threading.Lock()
        db = sqlite3.connect(self.path, timeout=10.0)
        try:
            self.migrated_from = schema.migrate(db, data_dir)
        finally:
            db.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = sqlite3.connect(self.path, timeout=5.0)
            try:
                with db:  # one transaction: committed on success, rolled back on error
                    yield db
            finally:
                db.close()

    # ------------------------------------------------------------------ reading the campaign

    def campaign(self) -> Campaign:
        with self._connect() as db:
            return Campaign(_rules(db), _templates(db), _revision(db))

    def revision(self) -> int:
        with self._connect() as db:
            return _revision(db)

    def rules(self) -> list[PhraseRule]:
        with self._connect() as db:
            return _rules(db)

    def live_rules(self) -> list[PhraseRule]:
        """Rules that fire: enabled and pointing at a ready template."""
        return self.campaign().live_rules()

    def phrases(self) -> list[str]:
        return [r.phrase for r in self.live_rules()]

    def templates(self) -> list[str]:
        return sorted({r.template for r in self.live_rules()})

    def template_for(self, phrase: str) -> str | None:
        return next((r.template for r in self.live_rules() if r.phrase == phrase), None)

    def rule(self, phrase: str) -> PhraseRule | None:
        return next((r for r in self.rules() if r.phrase == phrase), None)

    def template(self, name: str) -> TemplateRecord | None:
        with self._connect() as db:
            return _template(db, name)

    # ------------------------------------------------------------------ phrases

    def add_phrase(self, rule: PhraseRule) -> PhraseRule:
        with self._connect() as db:
            _require_template(db, rule.template)
            if db.execute("SELECT 1 FROM phrases WHERE phrase = ?", (rule.phrase,)).fetchone():
                raise Conflict(f"the phrase {rule.phrase!r} is already in the campaign")
            _insert_rule(db, rule)
            _bump(db)
        return rule

    def update_phrase(self, phrase: str, /, **changes: Any) -> PhraseRule:
        """Change a rule's phrase, template, enabled or cooldown_s."""
        with self._connect() as db:
            old = next((r for r in _rules(db) if r.phrase == phrase), None)
            if old is None:
                raise NotFound(f"no phrase {phrase!r} in the campaign")
            new = replace(old, **changes)
            if new.template != old.template:
                _require_template(db, new.template)
            if (
                new.phrase != old.phrase
                and db.execute("SELECT 1 FROM phrases WHERE phrase = ?", (new.phrase,)).fetchone()
            ):
                raise Conflict(f"the phrase {new.phrase!r} is already in the campaign")
            db.execute("DELETE FROM phrases WHERE phrase = ?", (phrase,))
            _insert_rule(db, new)
            _bump(db)
        return new

    def remove_phrase(self, phrase: str) -> None:
        with self._connect() as db:
            if db.execute("DELETE FROM phrases WHERE phrase = ?", (phrase,)).rowcount == 0:
                raise NotFound(f"no phrase {phrase!r} in the campaign")
            _bump(db)

    # ------------------------------------------------------------------ templates

    def reserve_template(self, record: TemplateRecord) -> TemplateRecord:
        """Claim a name for a template about to be ingested; Conflict if it is taken."""
        with self._connect() as db:
            if _template(db, record.name) is not None:
                raise Conflict(f"a template named {record.name!r} already exists")
            record = replace(record, status="ingesting", progress=0.0, error=None, verdict=None)
            _insert_template(db, record, _bump(db))
        return record

    def set_progress(self, name: str, progress: float) -> None:
        with self._connect() as db:  # progress is not a campaign change: no revision bump
            db.execute(
                "UPDATE templates SET progress = ? WHERE name = ? AND status = 'ingesting'",
                (max(0.0, min(1.0, progress)), name),
            )

    def mark_ready(self, name: str, clip: str, sha256: str, verdict: str) -> TemplateRecord:
        return self._finish(name, status="ready", clip=clip, clip_sha256=sha256, verdict=verdict, progress=1.0)

    def mark_failed(self, name: str, error: str) -> TemplateRecord:
        return self._finish(name, status="failed", clip="", error=error)

    def _finish(self, name: str, **changes: Any) -> TemplateRecord:
        with self._connect() as db:
            old = _template(db, name)
            if old is None:
                raise NotFound(f"no template {name!r}")  # deleted while it was ingesting
            new = replace(old, **changes, revision=_bump(db))
            _write_template(db, new)
        return new

    def update_template(self, name: str, **changes: Any) -> TemplateRecord:
        """Change what an exhibit may edit: title, tagline, licence, max_duration_s, fallback."""
        unknown = set(changes) - _EDITABLE
        if unknown:
            raise CampaignError(f"cannot change {', '.join(sorted(unknown))} of a template")
        with self._connect() as db:
            old = _template(db, name)
            if old is None:
                raise NotFound(f"no template {name!r}")
            new = replace(old, **changes, revision=_bump(db))
            _write_template(db, new)
        return new

    def remove_template(self, name: str) -> TemplateRecord:
        """Delete a template and the phrases that point at it; returns what was deleted."""
        with self._connect() as db:
            old = _template(db, name)
            if old is None:
                raise NotFound(f"no template {name!r}")
            if old.builtin:
                raise CampaignError(f"{name!r} is built in and cannot be deleted")
            db.execute("DELETE FROM phrases WHERE template = ?", (name,))
            db.execute("DELETE FROM templates WHERE name = ?", (name,))
            _bump(db)
        return old

    def replace_campaign(self, campaign: Campaign, retention_days: int | None = None) -> None:
        """Make `campaign` the whole campaign, in one transaction (import). Built-in templates stay."""
        with self._connect() as db:
            db.execute("DELETE FROM phrases")
            db.execute("DELETE FROM templates WHERE builtin = 0")
            revision = _bump(db)
            for record in campaign.templates:
                if not record.builtin:
                    _insert_template(db, record, revision)
            for rule in campaign.phrases:
                _require_template(db, rule.template)
                _insert_rule(db, rule)
            if retention_days is not None:
                _set_meta(db, "retention_days", str(retention_days))

    # ------------------------------------------------------------------ logs

    def log_consent(self, room: str, participant: str, consent: bool) -> None:
        """Record a join's consent or a change of it; LogWriteError when the row cannot be written
        (consent that cannot be recorded must not be acted on)."""
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO consent_log VALUES (?, ?, ?, ?)", (time.time(), room, participant, int(consent))
                )
        except _WRITE_FAILURES as exc:
            if _is_bug(exc):
                raise
            raise LogWriteError(f"the consent log cannot be written ({_why(exc)})") from exc

    def log_ad(
        self,
        room: str,
        participant: str,
        template: str,
        phrase: str,
        personalised: bool,
        start: float,
        end: float | None,
    ) -> bool:
        """Record an ad that played; False (and a warning in the log) when it cannot be written."""
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO ad_plays VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (start, end, room, participant, template, phrase, int(personalised)),
                )
        except _WRITE_FAILURES as exc:
            if _is_bug(exc):
                raise
            log.warning("room %s: the ad-play log cannot be written (%s); the ad played all the same", room, _why(exc))
            return False
        return True

    def log(self, kind: LogKind, limit: int = 200) -> list[dict[str, Any]]:
        """The newest rows of one log, newest first."""
        sql = {
            "consent": "SELECT t, room, participant, consent FROM consent_log ORDER BY t DESC LIMIT ?",
            "ads": "SELECT t_start, t_end, room, participant, template, phrase, personalised"
            " FROM ad_plays ORDER BY t_start DESC LIMIT ?",
        }[kind]
        with self._connect() as db:
            cursor = db.execute(sql, (limit,))
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row)) for row in cursor.fetchall()]
        for row in rows:
            for flag in ("consent", "personalised"):
                if flag in row:
                    row[flag] = bool(row[flag])
        return rows

    def purge(self, kind: LogKind | Literal["all"], before: float | None = None) -> int:
        """Delete log rows (older than `before`, a unix time, if given); returns how many."""
        tables = {"consent": [("consent_log", "t")], "ads": [("ad_plays", "t_start")]}
        chosen = tables["consent"] + tables["ads"] if kind == "all" else tables[kind]
        deleted = 0
        with self._connect() as db:
            for table, column in chosen:
                if before is None:
                    deleted += db.execute(f"DELETE FROM {table}").rowcount
                else:
                    deleted += db.execute(f"DELETE FROM {table} WHERE {column} < ?", (before,)).rowcount
        return deleted

    def purge_expired(self, now: float | None = None) -> int:
        """Apply the retention setting: delete log rows older than it."""
        cutoff = (time.time() if now is None else now) - self.retention_days() * 86400
        return self.purge("all", before=cutoff)

    def retention_days(self) -> int:
        with self._connect() as db:
            return int(_meta(db, "retention_days") or schema.RETENTION_DAYS)

    def set_retention_days(self, days: int) -> int:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            raise CampaignError("retention_days is a whole number of days from 1 to 3650")
        with self._connect() as db:
            _set_meta(db, "retention_days", str(days))
        return days


def _is_bug(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError)


def _why(exc: BaseException) -> str:
    """A failed write in plain words: SQLite's message ("database or disk is full") or the OS's."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _rules(db: sqlite3.Connection) -> list[PhraseRule]:
    rows = db.execute("SELECT phrase, template, enabled, cooldown_s FROM phrases ORDER BY phrase").fetchall()
    return [PhraseRule(p, t, bool(e), float(c)) for p, t, e, c in rows]


def _templates(db: sqlite3.Connection) -> list[TemplateRecord]:
    columns = ", ".join(_TEMPLATE_COLUMNS)
    rows = db.execute(f"SELECT {columns} FROM templates ORDER BY builtin DESC, name").fetchall()
    return [_record(row) for row in rows]


def _template(db: sqlite3.Connection, name: str) -> TemplateRecord | None:
    columns = ", ".join(_TEMPLATE_COLUMNS)
    row = db.execute(f"SELECT {columns} FROM templates WHERE name = ?", (name,)).fetchone()
    return None if row is None else _record(row)


def _record(row: tuple[Any, ...]) -> TemplateRecord:
    values = dict(zip(_TEMPLATE_COLUMNS, row))
    values["builtin"] = bool(values["builtin"])
    return TemplateRecord(**values)


def _require_template(db: sqlite3.Connection, name: str) -> None:
    if _template(db, name) is None:
        raise NotFound(f"no template {name!r}: add it first")


def _insert_rule(db: sqlite3.Connection, rule: PhraseRule) -> None:
    db.execute(
        "INSERT INTO phrases (phrase, template, enabled, cooldown_s) VALUES (?, ?, ?, ?)",
        (rule.phrase, rule.template, int(rule.enabled), rule.cooldown_s),
    )


def _insert_template(db: sqlite3.Connection, record: TemplateRecord, revision: int) -> None:
    record = replace(record, revision=revision)
    marks = ", ".join("?" for _ in _TEMPLATE_COLUMNS)
    values = [int(v) if isinstance(v, bool) else v for v in (getattr(record, c) for c in _TEMPLATE_COLUMNS)]
    db.execute(f"INSERT INTO templates ({', '.join(_TEMPLATE_COLUMNS)}) VALUES ({marks})", values)


def _write_template(db: sqlite3.Connection, record: TemplateRecord) -> None:
    db.execute("DELETE FROM templates WHERE name = ?", (record.name,))
    _insert_template(db, record, record.revision)


def _meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?", (key, value, value)
    )


def _revision(db: sqlite3.Connection) -> int:
    return int(_meta(db, "revision") or 0)


def _bump(db: sqlite3.Connection) -> int:
    revision = _revision(db) + 1
    _set_meta(db, "revision", str(revision))
    return revision
