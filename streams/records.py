"""What a stage handler takes and gives (Record, Output: schemas/records.py), and a failed record's
dead letter."""

from __future__ import annotations

import logging

from schemas.dead_letters import DeadLetter
from schemas.errors import LeadhubError
from schemas.records import Output, Record
from schemas.serialization import encode

__all__ = ["Output", "Record", "dead_letter"]

log = logging.getLogger("leadhub.streams")


def dead_letter(stage: str, error: BaseException, record: Record) -> Output:
    if not isinstance(error, (ValueError, LeadhubError)):
        # Not a bad record but a failure of ours: still a dead letter (the stage goes on), logged loudly.
        log.exception("stage %s failed on %s[%s]@%s", stage, record.topic, record.partition, record.offset, exc_info=error)
    letter = DeadLetter.of(
        stage, error, record.value if record.value is not None else b"", key=record.key,
        topic=record.topic, partition=record.partition, offset=record.offset,
    )  # fmt: skip
    value, headers = encode(letter)
    return Output("leads.dlq", record.key, value, headers)
