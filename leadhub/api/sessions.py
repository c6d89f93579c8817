"""Web sessions: what the login form's cookie holds instead of the API key.

A session token is ``payload.signature``: the payload (base64url JSON) names a random session id,
the SHA-256 of the key that logged in (so removing the key from ``api.keys`` ends its sessions) and
the expiry; the signature is HMAC-SHA256 with a secret from the settings (``api.session_secret``,
shared by every API replica), or one generated once and kept in a 0600 file. A stolen cookie is
thus worth one session until it expires or its holder logs out, never the long-lived key.

Logging out revokes the session id: it is kept, until its expiry, in a small SQLite file
(``api.sessions_db``), so a copy of the cookie is refused afterwards, also after a restart. Replicas
that share no disk each keep their own list; give them a shared ``api.sessions_db`` path if a logout
must reach all of them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from schemas.private_files import private_file, write_private

SECRET_BYTES = 32


@dataclass(frozen=True)
class Session:
    session_id: str
    key_digest: str
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_or_create_secret(path: Path) -> bytes:
    """The secret in ``path``, made (random, 0600) on first use."""
    if not path.exists():
        write_private(path, secrets.token_urlsafe(SECRET_BYTES).encode("ascii"))
    secret = path.read_bytes().strip()
    if len(secret) < 16:
        raise ValueError(f"the session secret in {path} is shorter than 16 bytes; delete the file to make a new one")
    return secret


class _Revoked:
    """Revoked session ids until they expire: in a SQLite file, or in memory (tests, one process)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._memory: dict[str, float] = {}
        if path is not None:
            private_file(path)
            with closing(self._connect()) as db, db:
                db.execute("CREATE TABLE IF NOT EXISTS revoked (session_id TEXT PRIMARY KEY, expires REAL NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(str(self._path), timeout=10)

    def add(self, session_id: str, expires: float) -> None:
        now = time.time()
        if self._path is None:
            with self._lock:
                self._memory = {s: e for s, e in self._memory.items() if e > now}
                self._memory[session_id] = expires
            return
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM revoked WHERE expires <= ?", (now,))
            db.execute("INSERT OR REPLACE INTO revoked VALUES (?, ?)", (session_id, expires))

    def __contains__(self, session_id: str) -> bool:
        if self._path is None:
            with self._lock:
                return session_id in self._memory
        with closing(self._connect()) as db:
            return db.execute("SELECT 1 FROM revoked WHERE session_id = ?", (session_id,)).fetchone() is not None


class SessionManager:
    def __init__(self, secret: bytes, ttl_s: int, revoked_db: Path | None = None) -> None:
        self._secret = secret
        self.ttl_s = ttl_s
        self._revoked = _Revoked(revoked_db)

    @classmethod
    def ephemeral(cls, ttl_s: int = 8 * 3600) -> SessionManager:
        """A random secret and revocations in memory: sessions end with the process (tests)."""
        return cls(secrets.token_bytes(SECRET_BYTES), ttl_s)

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode("utf-8"), hashlib.sha256).digest())

    def issue(self, key_digest: str, *, now: float | None = None) -> str:
        expires = (time.time() if now is None else now) + self.ttl_s
        body = {"sid": secrets.token_urlsafe(16), "key": key_digest, "exp": int(expires)}
        payload = _b64(json.dumps(body, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str, *, now: float | None = None) -> Session | None:
        """The session the token names, if it is ours (signature), not expired and not logged out."""
        payload, dot, signature = token.partition(".")
        if not dot or len(token) > 1024:
            return None
        # Bytes: compare_digest refuses non-ASCII str, and a cookie can hold anything.
        if not hmac.compare_digest(signature.encode("utf-8"), self._sign(payload).encode("ascii")):
            return None
        try:
            body = json.loads(_unb64(payload))
            session = Session(str(body["sid"]), str(body["key"]), float(body["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires <= (time.time() if now is None else now) or session.session_id in self._revoked:
            return None
        return session

    def revoke(self, token: str) -> None:
        session = self.verify(token)
        if session is not None:
            self._revoked.add(session.session_id, session.expires)
