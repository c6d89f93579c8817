"""The notifier's own record, one SQLite file (notify.state_db, default .local/notify.sqlite):

- ``sent``: the dedup keys of the messages sent. A key is written right after its message went out
  and before the Kafka offset is committed, so a consumer restarted between the two skips what it
  already sent (the one window left is a crash between the send and this write).
- ``failures``: what could not be sent after every retry, for admins (`leadhub notify failures`).
- ``outbox``: embedded mode's queue of case events to look at, so a restart of the API process
  still sends what was pending.

Why a SQLite file and not a compacted Kafka topic: notices are few (a report's case changes status
a handful of times), one `notify run` replica keeps up with any city's rate, and a local file is one
transaction per key with nothing to read back at start-up. The deploy files run one replica with
the file on its own volume; scaling out would move this record into Kafka (a compacted topic keyed
by dedup key), the same interface.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS sent (key TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, channel TEXT NOT NULL, subject TEXT NOT NULL,
    error TEXT NOT NULL, attempts INTEGER NOT NULL, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, at REAL NOT NULL);
"""


@dataclass(frozen=True)
class Failure:
    id: int
    key: str
    channel: str
    subject: str
    error: str
    attempts: int
    at: float


class NotifyLedger:
    """Thread-safe: the embedded worker and the API's request threads share one."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def was_sent(self, key: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM sent WHERE key = ?", (key,)).fetchone() is not None

    def mark_sent(self, key: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO sent (key, at) VALUES (?, ?)", (key, time.time()))

    def record_failure(self, key: str, channel: str, subject: str, error: str, attempts: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO failures (key, channel, subject, error, attempts, at) VALUES (?, ?, ?, ?, ?, ?)",
                (key, channel, subject, error, attempts, time.time()),
            )

    def failures(self, limit: int = 50) -> list[Failure]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, key, channel, subject, error, attempts, at FROM failures ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [Failure(*row) for row in rows]

    def enqueue(self, case_id: str, event_id: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO outbox (event_id, case_id, at) VALUES (?, ?, ?)", (event_id, case_id, time.time()))

    def pending(self, limit: int = 100) -> list[tuple[str, str]]:
        """(case_id, event_id) of the outbox, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT case_id, event_id FROM outbox ORDER BY at, rowid LIMIT ?", (limit,)).fetchall()
        return [(case_id, event_id) for case_id, event_id in rows]

    def done(self, event_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE event_id = ?", (event_id,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
