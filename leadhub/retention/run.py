"""One retention run over the configured store, reported as counts per store part.

A part that fails is one line in ``errors`` and the other parts still run (a Kafka that is away does
not keep contacts in the index). ``dry_run`` reads the same data and reports the same counts, changing
nothing.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.attachments import AttachmentStore
from schemas.errors import LeadhubError
from schemas.private_files import private_dir
from schemas.redaction import redact
from schemas.retention import Cutoffs, archive_line


@dataclass(frozen=True)
class Row:
    store: str  # embedded | search | kafka | attachments | archive
    part: str
    count: int | None  # None: a state, said in ``note``
    note: str = ""


@dataclass
class RetentionReport:
    dry_run: bool
    cutoffs: Cutoffs
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        at = lambda value: value.isoformat() if value else None  # noqa: E731
        return {
            "dry_run": self.dry_run,
            "contact_cutoff": at(self.cutoffs.contact),
            "lead_cutoff": at(self.cutoffs.lead),
            "rows": [{"store": r.store, "part": r.part, "count": r.count, "note": r.note} for r in self.rows],
            "errors": self.errors,
        }


class Archive:
    """What lead_years removes, as JSON lines in a gzip file made on the first line (0600, 0700 folder)."""

    def __init__(self, folder: Path, now: dt.datetime) -> None:
        self.path = folder / f"retention-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.jsonl.gz"
        self.folder = folder
        self.lines = 0
        self._file: Any = None

    def __call__(self, kind: str, doc: dict[str, Any]) -> None:
        if self._file is None:
            private_dir(self.folder)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._file = gzip.open(os.fdopen(fd, "wb"), "wt", encoding="utf-8")
        self._file.write(json.dumps(archive_line(kind, doc), ensure_ascii=False) + "\n")
        self.lines += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _photos(settings: Any, ids: list[str], apply: bool, report: RetentionReport) -> None:
    store = AttachmentStore(settings.attachments.folder(settings.local_dir))
    present = [i for i in dict.fromkeys(ids) if store.metadata(i) is not None]
    if apply:
        present = [i for i in present if store.delete(i)]
    report.rows.append(Row("attachments", "photos of deleted leads", len(present)))


def _exports(settings: Any, report: RetentionReport) -> None:
    from leadhub.retention.inbox import inbox_folders, old_exports

    try:
        folders = inbox_folders(settings)
        if not folders:  # no hotline_files source here: nothing to say
            return
        found = old_exports(folders, report.cutoffs.contact)  # type: ignore[arg-type]
        if not report.dry_run:
            for path in found:
                path.unlink(missing_ok=True)
    except Exception as exc:
        _error(report, "hotline exports", exc)
        return
    report.rows.append(Row("inbox", "hotline exports deleted", len(found)))


def _error(report: RetentionReport, where: str, exc: Exception) -> None:
    message = exc.message if isinstance(exc, LeadhubError) else f"{type(exc).__name__}: {exc}"
    report.errors.append(f"{where}: {' '.join(str(message).split())}")


def run_retention(settings: Any, *, dry_run: bool = False, now: dt.datetime | None = None, index: Any = None) -> RetentionReport:
    """``index``: the embedded index a running process already holds (the scheduler); else the
    configured store is opened and closed here."""
    cfg = settings.retention
    now = now or dt.datetime.now(dt.UTC)
    report = RetentionReport(dry_run, Cutoffs.at(now, cfg.contact_days, cfg.lead_years))
    archive = Archive(cfg.archive_dir, now) if cfg.archive_dir is not None and not dry_run else None
    try:
        if settings.mode == "embedded":
            _embedded(settings, report, archive, index)
        else:
            _cluster(settings, report, archive)
        if report.cutoffs.contact is not None:
            _exports(settings, report)
    finally:
        if archive is not None:
            archive.close()
    if archive is not None and archive.lines:
        report.rows.append(Row("archive", "documents archived", archive.lines, str(archive.path)))
    return report


def _embedded(settings: Any, report: RetentionReport, archive: Archive | None, index: Any) -> None:
    from sinks.embedded_retention import apply_retention

    owned = index is None
    if owned:
        from leadhub.embedded import open_existing_index

        index = open_existing_index(settings)
    try:
        out = apply_retention(index, report.cutoffs, apply=not report.dry_run, archive=archive, vacuum=settings.retention.vacuum)
    except Exception as exc:  # one line, the run goes on to what it can still do
        _error(report, "embedded index", exc)
        return
    finally:
        if owned:
            index.close()
    cut = report.cutoffs
    if cut.contact is not None:
        report.rows += [
            Row("embedded", "lead contacts removed", out.contacts),
            Row("embedded", "dead letters deleted", out.dead_letters),
        ]
    if cut.lead is not None:
        report.rows += [Row("embedded", "closed cases deleted", out.cases), Row("embedded", "leads deleted", out.leads)]
        _photos(settings, out.photos, not report.dry_run, report)


def _cluster(settings: Any, report: RetentionReport, archive: Archive | None) -> None:
    from adapters.search_backend import SearchBackend
    from leadhub.retention.cluster import apply_retention

    cut = report.cutoffs
    backend = SearchBackend.from_settings(settings.search)
    try:
        out = apply_retention(backend, settings.search.index_prefix, cut, apply=not report.dry_run, archive=archive)
    except Exception as exc:
        _error(report, redact(f"search engine at {settings.search.url}"), exc)
        out = None
    finally:
        backend.close()
    if out is not None:
        report.errors += out.errors
        if cut.contact is not None:
            report.rows.append(Row("search", "lead contacts removed", out.contacts))
        if cut.lead is not None:
            report.rows += [Row("search", "closed cases deleted", out.cases), Row("search", "leads deleted", out.leads)]
            _photos(settings, out.photos, not report.dry_run, report)
    if settings.retention.contact_days is not None:
        _kafka(settings, report)


def _kafka(settings: Any, report: RetentionReport) -> None:
    from kafka import KafkaAdminClient

    from adapters.kafka_clients import kafka_python_options
    from leadhub.retention.topics import limit_topics

    kafka = settings.kafka
    try:
        admin = KafkaAdminClient(**kafka_python_options(kafka), request_timeout_ms=15_000)
        try:
            found = limit_topics(admin, kafka.topic_prefix, settings.retention.contact_days, apply=not report.dry_run)
        finally:
            admin.close()
    except Exception as exc:
        _error(report, redact(f"Kafka at {kafka.bootstrap_servers}"), exc)
        return
    for topic in found:
        report.rows.append(Row("kafka", topic.topic, None, topic.describe()))
