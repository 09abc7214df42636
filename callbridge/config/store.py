"""The relay's SQLite file in the data directory: campaign, consent log, ad-play log.

No face data is ever written here. Every connection is short-lived and each
write is one transaction, so the file is never left half-written.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from callbridge.config.campaign import DEFAULT_CAMPAIGN, PhraseRule

SCHEMA = """
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
"""


class Store:
    """callbridge.sqlite under the data directory."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "callbridge.sqlite"
        self._lock = threading.Lock()
        with self._connect() as db:
            db.executescript(SCHEMA)
            seeded = db.execute("SELECT value FROM meta WHERE key = 'seeded'").fetchone()
            if seeded is None:
                db.executemany(
                    "INSERT OR IGNORE INTO phrases (phrase, template, enabled) VALUES (?, ?, ?)",
                    [(r.phrase, r.template, int(r.enabled)) for r in DEFAULT_CAMPAIGN],
                )
                db.execute("INSERT INTO meta (key, value) VALUES ('seeded', '1')")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = sqlite3.connect(self.path, timeout=5.0)
            try:
                with db:  # one transaction: committed on success, rolled back on error
                    yield db
            finally:
                db.close()

    def rules(self) -> list[PhraseRule]:
        with self._connect() as db:
            rows = db.execute("SELECT phrase, template, enabled FROM phrases ORDER BY phrase").fetchall()
        return [PhraseRule(p, t, bool(e)) for p, t, e in rows]

    def phrases(self) -> list[str]:
        return [r.phrase for r in self.rules() if r.enabled]

    def templates(self) -> list[str]:
        return sorted({r.template for r in self.rules() if r.enabled})

    def template_for(self, phrase: str) -> str | None:
        return next((r.template for r in self.rules() if r.enabled and r.phrase == phrase), None)

    def log_consent(self, room: str, participant: str, consent: bool) -> None:
        with self._connect() as db:
            db.execute("INSERT INTO consent_log VALUES (?, ?, ?, ?)", (time.time(), room, participant, int(consent)))

    def log_ad(
        self,
        room: str,
        participant: str,
        template: str,
        phrase: str,
        personalised: bool,
        start: float,
        end: float | None,
    ) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO ad_plays VALUES (?, ?, ?, ?, ?, ?, ?)",
                (start, end, room, participant, template, phrase, int(personalised)),
            )
