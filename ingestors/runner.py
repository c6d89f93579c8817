"""Run a source once: fetch, skip what was sent before unchanged, produce the rest, dead-letter
problems, and only after Kafka has acknowledged everything remember what was sent and keep the state
the fetch left (cursor, ETag, ids seen): a run that fails to deliver leaves the state as it found it."""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ingestors.base import FetchContext, Problem, SourceKind, SourceUnavailable
from ingestors.http import HttpClients
from ingestors.sources import SourceConfig
from ingestors.state import IngestState
from schemas.dead_letters import DeadLetter
from schemas.leads import RawLead
from schemas.redaction import redact
from schemas.serialization import encode


@dataclass
class RunReport:
    source: str
    fetched: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    error: str | None = None
    warnings: list[str] | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def content_digest(lead: RawLead) -> str:
    """What makes a re-fetched item 'changed': its content, not when we fetched it."""
    return hashlib.sha256(lead.model_dump_json(exclude={"fetched_at"}).encode()).hexdigest()[:32]


PROGRESS_EVERY = 500


class RecordOutlet(Protocol):
    """Kafka's CheckedProducer, or embedded mode's runner outlet."""

    def send(self, topic: str, value: bytes, key: bytes | None = None, headers: Sequence[tuple[str, bytes]] = ()) -> None: ...
    def flush(self, timeout_s: float = 30.0) -> int: ...


def run_source(config: SourceConfig, kind: SourceKind, store: IngestState, producer: RecordOutlet,
               progress: Callable[[RunReport], None] | None = None, *, http: HttpClients | None = None) -> RunReport:  # fmt: skip
    """``http``: the HTTP clients the kind fetches with (default: the guarded ones)."""
    report = RunReport(config.name)
    started = time.monotonic()
    kept = store.load(config.name)
    # The fetch works on a copy: its cursor, ETag or ids seen stand only once its leads are delivered and
    # acknowledged. Kept on a failed delivery, an ETag would answer the next run "304" and lose them.
    state = copy.deepcopy(kept)
    ctx = FetchContext(config.name, config.channel, config.timezone, state, http=http or HttpClients())
    sent: list[tuple[str, str]] = []
    try:
        for item in kind.fetch(ctx):
            if isinstance(item, Problem):
                report.failed += 1
                letter = DeadLetter.of(f"ingest:{config.name}", item, item.payload, details=item.where)
                value, headers = encode(letter)
                producer.send("leads.dlq", value, config.name.encode(), headers)
                continue
            report.fetched += 1
            if progress and report.fetched % PROGRESS_EVERY == 0:
                progress(report)
            digest = content_digest(item)
            before = store.seen_content(config.name, item.external_id)
            if before == digest:
                report.unchanged += 1
                continue
            report.new += before is None
            report.changed += before is not None
            value, headers = encode(item)
            producer.send("leads.raw", value, item.key.encode(), headers)
            sent.append((item.external_id, digest))
        producer.flush()
        store.mark_seen(config.name, sent)
        kind.acknowledge(ctx)
        kept = state
        kept["last_success"] = ctx.now.isoformat()
        kept.pop("last_error", None)
    except SourceUnavailable as exc:
        report.error = redact(str(exc))  # printed and logged; a source's URL may carry a token
        kept["last_error"] = f"{ctx.now.isoformat()} {report.error}"
    finally:
        report.warnings = ctx.warnings or None
        store.save(config.name, kept)
        report.seconds = round(time.monotonic() - started, 2)
    return report
