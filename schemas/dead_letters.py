"""DeadLetter: a record a stage could not handle, with the reason and its original bytes.

A letter keeps the original bytes whole up to a limit (default 8 MiB, all that ``leads.raw`` takes,
so whatever came through Kafka is kept exactly). A bigger record — an export's 200 MB spreadsheet
cell, a row of one — keeps its first bytes plus the length and SHA-256 of the whole: a letter must
fit ``leads.dlq`` and the stores, and the whole is still at its source (the file in the inbox's
done/ or failed/), which the hash identifies.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from pydantic import Field, field_serializer, field_validator

from schemas.leads import Internal
from schemas.sections import Section
from schemas.timezones import AwareDatetime, now
from schemas.topics import RAW_MAX_BYTES

# leads.dlq takes 12 MiB records and a letter carries its payload base64-encoded (x 4/3): 8 MiB of
# payload plus a capped reason and the details fit, more would not.
PAYLOAD_KEEP_MAX = RAW_MAX_BYTES
ERROR_MAX_CHARS = 10_000  # a reason is words; longer is a dump of the data, which the payload holds

_limits = {"payload_bytes": PAYLOAD_KEEP_MAX}


def set_payload_limit(max_bytes: int) -> None:
    """The process-wide limit on the bytes a letter keeps (setting ``dead_letters.max_payload_bytes``).

    Process-wide because every stage, sink and ingestor builds its letters through ``DeadLetter.of``;
    the settings root sets it once at start.
    """
    if not 1024 <= max_bytes <= PAYLOAD_KEEP_MAX:
        raise ValueError(f"dead-letter payload limit must be 1024..{PAYLOAD_KEEP_MAX} bytes, not {max_bytes}")
    _limits["payload_bytes"] = max_bytes


def payload_limit() -> int:
    return _limits["payload_bytes"]


class DeadLetter(Internal):
    stage: str = Field(..., description="The stage that gave up: normalize, route, sink, ingest:<source>, …")
    error_type: str = Field(..., description="Class of the error, e.g. DecodeError, IllegalTransition.")
    error: str = Field(..., description="What was wrong, in words.")
    payload: bytes = Field(
        ..., description="The original record bytes, exactly (base64 in JSON); only their first bytes when "
        "payload_length is set.",
    )  # fmt: skip
    payload_length: int | None = Field(
        None, description="Set only when the record was larger than the dead-letter limit "
        "(dead_letters.max_payload_bytes): its whole length in bytes; payload holds its first bytes.",
    )  # fmt: skip
    payload_sha256: str | None = Field(
        None, description="Set with payload_length: hex SHA-256 of the whole record, to find it at its source."
    )
    key: bytes | None = Field(None, description="The original Kafka key (base64 in JSON).")
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    details: dict[str, Any] = Field(default_factory=dict, description="e.g. the engine's response, a row number.")
    at: AwareDatetime = Field(default_factory=now)

    @property
    def truncated(self) -> bool:
        return self.payload_length is not None

    @field_serializer("payload", "key", when_used="json")
    def _b64(self, value: bytes | None) -> str | None:
        return None if value is None else base64.b64encode(value).decode("ascii")

    @field_validator("payload", "key", mode="before")
    @classmethod
    def _from_b64(cls, value: Any) -> Any:
        # bytes are the payload itself; a str can only be the base64 form written by _b64.
        if isinstance(value, str):
            return base64.b64decode(value.encode("ascii"), validate=True)
        return value

    @classmethod
    def of(cls, stage: str, error: BaseException, payload: bytes, *, keep_bytes: int | None = None, **where: Any) -> DeadLetter:
        """The one way stages build letters: the payload and the reason are kept within their limits."""
        keep = payload_limit() if keep_bytes is None else keep_bytes
        payload = bytes(payload)
        text = str(error)
        if len(text) > ERROR_MAX_CHARS:
            text = f"{text[:ERROR_MAX_CHARS]}… ({len(text):,} characters in all)"
        if len(payload) <= keep:
            return cls(stage=stage, error_type=type(error).__name__, error=text, payload=payload, **where)
        return cls(
            stage=stage, error_type=type(error).__name__, payload=payload[:keep],
            error=f"{text} [payload cut to its first {keep:,} of {len(payload):,} bytes: dead_letters.max_payload_bytes]",
            payload_length=len(payload), payload_sha256=hashlib.sha256(payload).hexdigest(), **where,
        )  # fmt: skip


class DeadLetterSettings(Section):
    """Applied process-wide by build_settings (every dead letter is built by DeadLetter.of)."""

    max_payload_bytes: int = Field(
        PAYLOAD_KEEP_MAX, ge=1024, le=PAYLOAD_KEEP_MAX,
        description="A dead letter keeps a record's bytes whole up to this; a bigger one keeps this many "
        "first bytes plus the whole's length and SHA-256. At most 8 MiB (leads.dlq's records are 12 MiB).",
    )  # fmt: skip
