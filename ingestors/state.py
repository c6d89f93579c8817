"""Per-source state that survives restarts (SQLite): cursors/ETags, and the items already sent."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from schemas.private_files import private_file
from schemas.redaction import redact


class IngestState:
    def __init__(self, path: Path) -> None:
        private_file(path)  # cursors and items seen: 0600 in a 0700 folder
        # One connection shared by the scheduler's threads, serialized by a lock.
        self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS source_state (source TEXT PRIMARY KEY, state TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS seen (
                source TEXT NOT NULL, external_id TEXT NOT NULL, content TEXT NOT NULL,
                PRIMARY KEY (source, external_id)
            );
            """
        )

    def load(self, source: str) -> dict[str, Any]:
        with self._lock:
            row = self._db.execute("SELECT state FROM source_state WHERE source = ?", (source,)).fetchone()
        return json.loads(row[0]) if row else {}

    def save(self, source: str, state: dict[str, Any]) -> None:
        if isinstance(state.get("last_error"), str):
            # An error quotes the URL it failed on, and a source's URL may carry a token: never store one.
            state["last_error"] = redact(state["last_error"])
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO source_state VALUES (?, ?) ON CONFLICT(source) DO UPDATE SET state = excluded.state",
                (source, json.dumps(state, ensure_ascii=False, default=str)),
            )

    def seen_content(self, source: str, external_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT content FROM seen WHERE source = ? AND external_id = ?", (source, external_id)).fetchone()
        return row[0] if row else None

    def mark_seen(self, source: str, items: Iterable[tuple[str, str]]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO seen VALUES (?, ?, ?) ON CONFLICT(source, external_id) DO UPDATE SET content = excluded.content",
                [(source, external_id, content) for external_id, content in items],
            )

    def close(self) -> None:
        self._db.close()
