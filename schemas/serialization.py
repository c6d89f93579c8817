"""Kafka message values: JSON bytes plus a ``schema`` header naming the model and its version.

Decoding anything (invalid bytes, wrong schema, wrong fields) raises exactly one error type,
``DecodeError``, which stages turn into a DeadLetter carrying the original bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from schemas.cases import Case, CaseEvent
from schemas.dead_letters import DeadLetter
from schemas.errors import RecordError
from schemas.hot_issues import HotIssue
from schemas.hotspots import Hotspot
from schemas.leads import Lead, RawLead
from schemas.validation import describe_errors

SCHEMA_HEADER = "schema"

# Bump a version when a change would make older readers misread a message.
MODELS: dict[str, tuple[type[BaseModel], int]] = {
    "RawLead": (RawLead, 1),
    "Lead": (Lead, 1),
    "Case": (Case, 1),
    "CaseEvent": (CaseEvent, 1),
    "DeadLetter": (DeadLetter, 1),
    "Hotspot": (Hotspot, 1),
    "HotIssue": (HotIssue, 1),
}
_NAMES = {model: name for name, (model, _) in MODELS.items()}

M = TypeVar("M", bound=BaseModel)
Headers = Sequence[tuple[str, bytes]]


class DecodeError(RecordError):
    """The bytes are not a valid message of the expected model."""


def schema_tag(model: type[BaseModel]) -> str:
    name = _NAMES[model]
    return f"{name}/{MODELS[name][1]}"


def encode(record: BaseModel) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Value bytes and headers for ``record``."""
    value = record.model_dump_json(exclude_computed_fields=False).encode("utf-8")
    return value, [(SCHEMA_HEADER, schema_tag(type(record)).encode("ascii"))]


def decode(value: bytes | None, headers: Iterable[tuple[str, Any]] | None, expect: type[M], *,
           context: dict[str, Any] | None = None) -> M:  # fmt: skip
    """The ``expect`` model in ``value``; DecodeError for anything else."""
    tag = _header(headers)
    if tag is not None:
        name, _, version = tag.partition("/")
        wanted = _NAMES[expect]
        if name != wanted:
            raise DecodeError(f"message has schema {tag!r}, expected {wanted}")
        if version != str(MODELS[wanted][1]):
            raise DecodeError(f"message has schema {tag!r}; this version of leadhub reads {schema_tag(expect)}")
    if value is None:
        raise DecodeError("message has no value (a tombstone?)")
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise DecodeError(f"message value is {type(value).__name__}, not bytes")
    try:
        text = bytes(value).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"message is not valid UTF-8 at byte {exc.start}") from None
    try:
        return expect.model_validate_json(text, context=context)
    except ValidationError as exc:
        raise DecodeError(_summary(exc, expect)) from None
    except (ValueError, TypeError, RecursionError) as exc:  # anything pydantic lets through
        raise DecodeError(f"message is not a valid {_NAMES[expect]}: {exc}") from None


def _header(headers: Iterable[tuple[str, Any]] | None) -> str | None:
    for key, raw in headers or ():
        if key == SCHEMA_HEADER:
            try:
                return bytes(raw).decode("ascii")
            except (UnicodeDecodeError, TypeError, ValueError):
                raise DecodeError("the schema header is not ASCII text") from None
    return None


def _summary(exc: ValidationError, expect: type[BaseModel]) -> str:
    more = f" (+{exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return f"not a valid {_NAMES[expect]}: {describe_errors(exc, limit=5, root='message')}{more}"
