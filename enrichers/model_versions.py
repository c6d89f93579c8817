"""Versions of the category model under one folder (``routing.model_dir``), and which one routes.

    model_dir/
      v0001/classifier.pkl  v0001/classifier.card.json
      v0002/...
      current            {"version": "v0002", "promoted": ["v0001", "v0002"], "at": "..."}

``current`` is the one small file the running stages watch: it is always written whole, to a
temporary file in the same folder and then ``os.replace``-d over the old one, so a reader sees the
old pointer or the new one, never half of one. ``promoted`` is the promotion history, newest last,
so ``rollback`` goes back to the version promoted before the current one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from enrichers.model_card import card_path, read_card

POINTER = "current"
MODEL_FILE = "classifier.pkl"
_VERSION = re.compile(r"^v(\d{4,})$")


class VersionError(ValueError):
    """A version that does not exist, a pointer that cannot be read, nothing to roll back to."""


@dataclass(frozen=True)
class Version:
    name: str
    path: Path  # the model file
    card: dict[str, Any] | None  # None when the card is missing or unreadable

    @property
    def created(self) -> str:
        if self.card:
            return str(self.card.get("model", {}).get("trained_at") or "")
        return ""

    @property
    def macro_f1(self) -> float | None:
        value = (self.card or {}).get("validation", {}).get("macro_f1")
        return float(value) if value is not None else None


@dataclass(frozen=True)
class Pointer:
    version: str | None
    promoted: tuple[str, ...] = ()
    at: str = ""


def pointer_path(model_dir: Path) -> Path:
    return model_dir / POINTER


def model_file(model_dir: Path, version: str) -> Path:
    return model_dir / version / MODEL_FILE


def versions(model_dir: Path) -> list[Version]:
    """Every version folder holding a model file, oldest first."""
    if not model_dir.is_dir():
        return []
    found = []
    for child in model_dir.iterdir():
        match = _VERSION.match(child.name)
        if match and (child / MODEL_FILE).is_file():
            try:
                card: dict[str, Any] | None = read_card(card_path(child / MODEL_FILE))
            except ValueError:
                card = None
            found.append((int(match.group(1)), Version(child.name, child / MODEL_FILE, card)))
    return [v for _, v in sorted(found, key=lambda pair: pair[0])]


def next_version(model_dir: Path) -> str:
    """The name after the highest existing folder (a folder without a model counts too: a training
    that failed half-way never has its name given out again)."""
    numbers = [int(m.group(1)) for c in model_dir.iterdir() if (m := _VERSION.match(c.name))] if model_dir.is_dir() else []
    return f"v{max(numbers, default=0) + 1:04d}"


def read_pointer(model_dir: Path) -> Pointer:
    """The promoted version; ``Pointer(None)`` when nothing was ever promoted."""
    path = pointer_path(model_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Pointer(None)
    except (OSError, ValueError) as exc:
        raise VersionError(f"the model pointer {path} cannot be read: {exc}") from None
    version, promoted = data.get("version") if isinstance(data, dict) else None, data.get("promoted", []) if isinstance(data, dict) else []
    if not isinstance(version, str) or not _VERSION.match(version) or not isinstance(promoted, list):
        raise VersionError(f"the model pointer {path} does not name a version")
    return Pointer(version, tuple(str(p) for p in promoted), str(data.get("at", "")))


def _write_pointer(model_dir: Path, pointer: Pointer) -> None:
    body = json.dumps({"version": pointer.version, "promoted": list(pointer.promoted), "at": pointer.at}, ensure_ascii=False)
    model_dir.mkdir(parents=True, exist_ok=True)
    # Same folder as the pointer, so os.replace is a rename on one file system: atomic.
    fd, tmp = tempfile.mkstemp(prefix=".current-", dir=model_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, pointer_path(model_dir))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def promote(model_dir: Path, version: str) -> Pointer:
    """Make ``version`` the one that routes. Promoting the current version again changes nothing."""
    if not model_file(model_dir, version).is_file():
        known = ", ".join(v.name for v in versions(model_dir)) or "none"
        raise VersionError(f"no model version {version} in {model_dir} (versions: {known})")
    old = read_pointer(model_dir)
    if old.version == version:
        return old
    pointer = Pointer(version, (*old.promoted, version), _now())
    _write_pointer(model_dir, pointer)
    return pointer


def rollback(model_dir: Path) -> Pointer:
    """Back to the version promoted before the current one."""
    old = read_pointer(model_dir)
    if old.version is None:
        raise VersionError(f"no version of {model_dir} was promoted: nothing to roll back")
    history = list(old.promoted) or [old.version]
    history.pop()
    while history and not model_file(model_dir, history[-1]).is_file():
        history.pop()  # a version folder removed by hand since: skip it
    if not history:
        raise VersionError(f"{old.version} is the first version promoted in {model_dir}: nothing to roll back to")
    pointer = Pointer(history[-1], tuple(history), _now())
    _write_pointer(model_dir, pointer)
    return pointer


def current_model(model_dir: Path) -> tuple[str, Path] | None:
    """The promoted version's name and model file; None when nothing was promoted."""
    pointer = read_pointer(model_dir)
    if pointer.version is None:
        return None
    return pointer.version, model_file(model_dir, pointer.version)
