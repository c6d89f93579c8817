"""DeadLetter: a record a stage could not handle, with the reason and its original bytes."""

from __future__ import annotations

import base64
from typing import Any

from pydantic import Field, field_serializer, field_validator

from schemas.leads import Internal
from schemas.timezones import AwareDatetime, now


class DeadLetter(Internal):
    stage: str = Field(..., description="The stage that gave up: normalize, route, sink, ingest:<source>, …")
    error_type: str = Field(..., description="Class of the error, e.g. DecodeError, IllegalTransition.")
    error: str = Field(..., description="What was wrong, in words.")
    payload: bytes = Field(..., description="The original record bytes, exactly (base64 in JSON).")
    key: bytes | None = Field(None, description="The original Kafka key (base64 in JSON).")
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    details: dict[str, Any] = Field(default_factory=dict, description="e.g. the engine's response, a row number.")
    at: AwareDatetime = Field(default_factory=now)

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
    def of(cls, stage: str, error: BaseException, payload: bytes, **where: Any) -> DeadLetter:
        return cls(stage=stage, error_type=type(error).__name__, error=str(error), payload=payload, **where)
