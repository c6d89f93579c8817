"""What a stage takes and gives, as plain records: both runtimes (faust, the local runner) and the
embedded sink speak them, so they sit below all three."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Record:
    value: bytes | None
    key: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None


@dataclass(frozen=True)
class Output:
    topic: str  # logical name from schemas/topics.py; the runtime adds the prefix
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
