"""Send bulk actions until the engine has answered every item: retry what it could not take yet
(429, 5xx, no connection) with exponential backoff and full jitter; report what it refused."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from adapters.search_backend import SearchBackend, SearchUnavailable


@dataclass(frozen=True)
class Backoff:
    base_s: float = 0.2
    cap_s: float = 15.0

    def delay(self, attempt: int, rng: random.Random = random._inst) -> float:
        return rng.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


@dataclass(frozen=True)
class Refused:
    """An item the engine rejected for itself (e.g. a mapping error): retrying cannot help."""

    position: int
    status: int
    error: Any


# One part of a bulk item: a dict to serialize, or bytes that already are one JSON document.
Part = dict[str, Any] | bytes


def ndjson(actions: Sequence[Sequence[Part]], positions: Sequence[int]) -> bytes:
    """The bulk body for the items at ``positions``; pre-serialized parts are sent as they are."""
    lines = []
    for i in positions:
        for part in actions[i]:
            lines.append(part if isinstance(part, bytes) else json.dumps(part, ensure_ascii=False).encode("utf-8"))
    return b"\n".join(lines) + b"\n"


T = TypeVar("T")


def call_until_available(
    call: Callable[[], T], *, wait: Callable[[float], None], on_retry: Callable[[str], None] = lambda reason: None,
    backoff: Backoff = Backoff(),
) -> T:
    """``call()`` again, with the same backoff as the bulk, while the engine is unavailable."""
    attempt = 0
    while True:
        try:
            return call()
        except SearchUnavailable as exc:
            on_retry(str(exc))
            wait(backoff.delay(attempt))
            attempt += 1


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def send_until_acknowledged(
    backend: SearchBackend,
    actions: Sequence[Sequence[Part]],
    *,
    wait: Callable[[float], None],
    on_retry: Callable[[str], None] = lambda reason: None,
    backoff: Backoff = Backoff(),
) -> list[Refused]:
    """``actions``: one [meta, body] (or [meta]) per item. Returns the refused items; all others
    were acknowledged. ``wait`` is called between attempts (the caller keeps its consumer alive)."""
    pending = list(range(len(actions)))
    refused: list[Refused] = []
    attempt = 0
    while pending:
        try:
            response = backend.bulk(ndjson(actions, pending))
        except SearchUnavailable as exc:
            on_retry(str(exc))
            wait(backoff.delay(attempt))
            attempt += 1
            continue
        again = []
        for position, item in zip(pending, response["items"], strict=True):
            (_, result), = item.items()
            status = int(result.get("status", 500))
            if status < 300:
                continue
            if _retryable(status):
                again.append(position)
            else:
                refused.append(Refused(position, status, result.get("error")))
        if again:
            on_retry(f"{len(again)} item(s) answered 429/5xx")
            wait(backoff.delay(attempt))
            attempt += 1
        else:
            attempt = 0
        pending = again
    return refused
