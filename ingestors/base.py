"""What a source kind is: an options model (unknown keys rejected) and a fetch that yields leads.

Kinds are plug-ins: each is declared as an entry point of the group ``leadhub.source_kinds``
(pyproject.toml), named as `sources.yaml` names it, so a new kind is one module plus one entry and
nothing here lists them. The runner (runner.py) drives any kind the same way: it produces what
``fetch`` yields, dead-letters what it reports as a problem, and calls ``acknowledge`` once Kafka has
every lead; ``ctx.state`` is kept only then (Singer's state: it advances once the records are safe).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from importlib.metadata import EntryPoint
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from schemas.errors import ConfigError, RecordError
from schemas.leads import RawLead

if TYPE_CHECKING:  # http.py imports this module (SourceUnavailable); at run time it is imported on use
    from ingestors.http import HttpClients


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


def _guarded_http() -> HttpClients:
    from ingestors.http import HttpClients

    return HttpClients()


@dataclass
class FetchContext:
    """What the runner hands every fetch: who the source is, its state, the clock, and the HTTP clients
    a kind that reads over HTTP must use (``http.open(...)``, never a client of its own)."""

    source: str  # the source's name
    channel: str
    timezone: str
    state: dict[str, Any]  # persisted between runs by the runner (cursor, ETag, …)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    warnings: list[str] = field(default_factory=list)  # e.g. a bozo feed: entries came, with a problem
    http: HttpClients = field(default_factory=_guarded_http)


@dataclass(frozen=True)
class ContractSample:
    """What a kind brings to the shared contract suite (tests/unit/test_kind_contracts.py), which runs
    it through the runner against a server on 127.0.0.1: ``served`` documents (request path with its
    query -> body; the server answers ETag/If-None-Match itself, 404 otherwise) or ``files`` dropped
    into a folder, and ``options`` reaching them, in which ``{base_url}`` and ``{folder}`` are filled in.
    The first run must deliver ``leads`` leads; the next, with the state the first left, none again."""

    options: dict[str, Any]
    leads: int
    served: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    # Fetches through ctx.http (False: a crawler with a guarded downloader of its own, as board's Scrapy).
    uses_http_clients: bool = True


class SourceKind(ABC):
    """A kind of source: ``Options`` validates a source's options, ``fetch`` reads it, ``acknowledge``
    finishes a delivered run. Declare it as a ``leadhub.source_kinds`` entry point to install it."""

    kind: ClassVar[str]
    Options: ClassVar[type[KindOptions]]

    def __init__(self, options: KindOptions) -> None:
        self.options = options

    @abstractmethod
    def fetch(self, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        """Read the source once; may raise SourceUnavailable."""

    def acknowledge(self, ctx: FetchContext) -> None:  # noqa: B027 - optional: most kinds need nothing here
        """Called after every lead fetched in this run is safely in Kafka (e.g. move files to done/)."""

    @abstractmethod
    def parse_document(self, data: bytes, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        """Parse one saved document offline (`leadhub ingest preview`)."""

    @classmethod
    def contract_sample(cls) -> ContractSample:
        """A small source of this kind for the shared contract suite; every kind must bring one."""
        raise NotImplementedError(f"source kind {cls.kind!r} brings no contract sample")


ENTRY_POINT_GROUP = "leadhub.source_kinds"

SOURCE_KINDS: dict[str, type[SourceKind]] = {}


def register(cls: type[SourceKind]) -> type[SourceKind]:
    """Add a kind under its ``kind`` name; a second, different class under one name is an error."""
    if cls.kind in SOURCE_KINDS and SOURCE_KINDS[cls.kind] is not cls:
        raise ValueError(f"source kind {cls.kind!r} is registered twice")
    SOURCE_KINDS[cls.kind] = cls
    return cls


def load_kinds(entry_points: Iterable[EntryPoint] | None = None) -> dict[str, type[SourceKind]]:
    """Every installed kind, from the ``leadhub.source_kinds`` entry points (``entry_points``: a test's
    own). A kind that cannot be loaded is a start-up error naming it: a typo in a plug-in must not
    turn into "unknown kind" for the sources that use it."""
    if entry_points is None:
        if SOURCE_KINDS:
            return SOURCE_KINDS
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    found = list(entry_points)
    if not found and not SOURCE_KINDS:
        raise ConfigError(
            f"no source kinds are installed (no {ENTRY_POINT_GROUP} entry points)",
            hint="install leadhub into this Python: pip install -e . (or pip install leadhub)",
        )
    for entry in found:
        where = f"source kind {entry.name!r} ({entry.value}, entry point group {ENTRY_POINT_GROUP})"
        try:
            cls = entry.load()
        except Exception as exc:  # noqa: BLE001 - whatever a plug-in raises on import is reported, by name
            raise ConfigError(f"{where} cannot be loaded: {type(exc).__name__}: {exc}",
                              hint="fix or uninstall the plug-in that declares it") from exc  # fmt: skip
        if not (isinstance(cls, type) and issubclass(cls, SourceKind)):
            raise ConfigError(f"{where} is not a SourceKind class", hint="the entry point must name a SourceKind subclass")
        if getattr(cls, "kind", None) != entry.name:
            raise ConfigError(f"{where}: the class says kind = {getattr(cls, 'kind', None)!r}",
                              hint="the entry point's name and the class's kind must be the same")  # fmt: skip
        try:
            register(cls)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}", hint="two installed plug-ins declare the same kind; uninstall one") from None
    return SOURCE_KINDS
