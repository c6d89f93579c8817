"""What a source kind is: an options model (unknown keys rejected) and a fetch that yields leads.

A kind registers itself with ``@register``; `sources.yaml` names kinds by their ``kind``. The
runner (runner.py) drives any kind the same way: it produces what ``fetch`` yields, dead-letters
what it reports as a problem, and calls ``acknowledge`` once Kafka has every lead.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from schemas.errors import RecordError
from schemas.leads import RawLead


class KindOptions(BaseModel):
    """Base of every kind's options: a typo in sources.yaml is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid")


class Problem(RecordError):
    """One item of a source could not become a RawLead; it goes to dead letters with its bytes."""

    def __init__(self, message: str, payload: bytes, **where: Any) -> None:
        super().__init__(message)
        self.payload = payload
        self.where = where


class SourceUnavailable(Exception):
    """The source as a whole could not be read this time (network, HTTP status, unreadable file)."""


@dataclass
class FetchContext:
    source: str  # the source's name
    channel: str
    timezone: str
    state: dict[str, Any]  # persisted between runs by the runner (cursor, ETag, …)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    warnings: list[str] = field(default_factory=list)  # e.g. a bozo feed: entries came, with a problem


class SourceKind(ABC):
    kind: ClassVar[str]
    Options: ClassVar[type[KindOptions]]

    def __init__(self, options: KindOptions) -> None:
        self.options = options

    @abstractmethod
    def fetch(self, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        """Read the source once; may raise SourceUnavailable."""

    def acknowledge(self, ctx: FetchContext) -> None:
        """Called after every lead fetched in this run is safely in Kafka (e.g. move files to done/)."""

    @abstractmethod
    def parse_document(self, data: bytes, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        """Parse one saved document offline (`leadhub ingest preview`)."""


KINDS: dict[str, type[SourceKind]] = {}


def register(cls: type[SourceKind]) -> type[SourceKind]:
    if cls.kind in KINDS and KINDS[cls.kind] is not cls:
        raise ValueError(f"source kind {cls.kind!r} is registered twice")
    KINDS[cls.kind] = cls
    return cls


def load_kinds() -> dict[str, type[SourceKind]]:
    """Import every bundled kind module so they register (adding a kind = adding it here)."""
    from ingestors import board, feed, hotline_files, json_api  # noqa: F401

    return KINDS
