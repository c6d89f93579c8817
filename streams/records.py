"""What a stage handler takes and gives: plain records, so both runtimes drive the same handlers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from schemas.dead_letters import DeadLetter
from schemas.serialization import encode

log = logging.getLogger("leadhub.streams")


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


def dead_letter(stage: str, error: BaseException, record: Record) -> Output:
    if not isinstance(error, ValueError) and type(error).__module__.split(".")[0] not in ("leadhub", "schemas"):
        # Not a bad record but a failure of ours: still a dead letter (the stage goes on), logged loudly.
        log.exception("stage %s failed on %s[%s]@%s", stage, record.topic, record.partition, record.offset, exc_info=error)
    letter = DeadLetter.of(
        stage, error, record.value if record.value is not None else b"", key=record.key,
        topic=record.topic, partition=record.partition, offset=record.offset,
    )  # fmt: skip
    value, headers = encode(letter)
    return Output("leads.dlq", record.key, value, headers)
