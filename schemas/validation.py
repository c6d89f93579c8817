"""The one-line form of a pydantic validation error that every message of ours uses: ``loc: msg; loc: msg``."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


def describe_error(error: Any, *, root: str = "", last_loc: bool = False) -> str:
    """One of ``exc.errors()`` as ``a.b.0: msg``; ``root`` names the whole object (an empty location),
    ``last_loc`` keeps only the innermost key (when the outer ones are ours, not the user's)."""
    loc = error["loc"][-1:] if last_loc else error["loc"]
    return f"{'.'.join(map(str, loc)) or root}: {error['msg']}"


def describe_errors(exc: ValidationError, *, limit: int | None = None, root: str = "", last_loc: bool = False) -> str:
    """The first ``limit`` (default all) problems of ``exc``, joined by ``; ``."""
    return "; ".join(describe_error(e, root=root, last_loc=last_loc) for e in exc.errors()[:limit])
