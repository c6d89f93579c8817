"""Data files only their owner can read: 0600 files in 0700 folders.

leadhub's files hold reporters' personal data (the embedded store, the ingest state) or secrets (the
web session secret), so whatever the umask, a file leadhub creates is readable by its owner alone.
Existing files and folders keep the modes an administrator gave them (a shared parent such as the
working directory is never narrowed: only folders leadhub creates are 0700).

Pure standard library, no imports of ours, so every layer (ingestors, sinks, the API) can use it.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Make ``path`` and any missing parents, each new one 0700 (mkdir's mode is masked by the umask)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty as 0600 if it does not exist (in a private folder), before a library such
    as sqlite3 opens it: SQLite gives its -wal/-shm/-journal files the database file's mode."""
    path = Path(path)
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.close(fd)
    os.chmod(path, FILE_MODE)  # os.open's mode is masked by the umask too
    return path


def write_private(path: Path, data: bytes) -> bool:
    """Write ``data`` to a new 0600 file; False (nothing written) if the file exists already. Written
    aside and linked into place, so a reader never sees it half written and two processes creating
    it at once agree on the first one's content."""
    path = Path(path)
    private_dir(path.parent)
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(aside, path)
    except FileExistsError:
        return False
    finally:
        aside.unlink()
    return True
