"""Hotline exports already read: a `hotline_files` source moves each export into done/ (or failed/)
beside its inbox, and those files hold the reporters' names and numbers as the hotline wrote them.
They follow retention.contact_days like every other copy: a file last modified before the cutoff goes
(with a failed file's .reason.txt note)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

KIND = "hotline_files"
READ_FOLDERS = ("done", "failed")


def inbox_folders(settings: Any) -> list[Path]:
    """The done/ and failed/ folders of the configured hotline_files sources (none without a sources file)."""
    from ingestors.hotline_files import HotlineFileOptions
    from ingestors.sources import build_kind, load_sources

    path = settings.ingest.sources
    if not Path(path).is_file():
        return []
    folders = []
    for source in load_sources(path):
        if source.kind == KIND:
            options = build_kind(source).options
            assert isinstance(options, HotlineFileOptions)  # the hotline_files kind's options
            inbox = Path(options.inbox)
            folders += [inbox / name for name in READ_FOLDERS]
    return folders


def old_exports(folders: list[Path], before: dt.datetime) -> list[Path]:
    limit = before.timestamp()
    found = []
    for folder in folders:
        if not folder.is_dir() or folder.is_symlink():  # never follow a planted link out of the inbox
            continue
        found += [f for f in sorted(folder.iterdir()) if f.is_file() and not f.is_symlink() and f.stat().st_mtime < limit]
    return found
