"""Embedded mode: the whole pipeline in one process over one SQLite file.

Sources hand their records to the local runner (the same stage handlers the faust worker runs), the
runner's outputs go straight into the embedded index, and the API reads it and publishes case
events and field reports into it. The state (dedup sketches, case membership, statuses) lives in the
same file, so a restart resumes where the last run stopped.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from enrichers.dedup import DedupConfig
from leadhub.hotspot_alerts import hotspot_alerts
from leadhub.readers.embedded import EmbeddedStore
from leadhub.settings import Settings
from schemas.cases import CaseEvent
from schemas.errors import ConfigError, StartupError
from schemas.hot_issues import HotIssue
from schemas.leads import RawLead
from schemas.serialization import encode
from sinks.embedded_docs import EmbeddedIndexError
from sinks.embedded_index import (
    EmbeddedIndex,
    IndexCaseBook,
    IndexStatuses,
    PersistentDedupState,
)
from sinks.embedded_sink import EmbeddedSink
from streams.hot_issue_stage import HotIssueStage
from streams.hotspot_stage import HotspotStage
from streams.local_runner import LocalRunner
from streams.normalize_pool import NormalizePool
from streams.records import Output, Record

log = logging.getLogger("leadhub.embedded")

# Records a pipeline transaction takes at most. An ingest run hands over every record it fetched in one
# flush: as one transaction, a large run held the file's write lock for minutes (another process's
# write gives up after 30 s) and readers saw none of it until the end. 500 keeps nearly all of the
# saving of a transaction a batch (a commit a lead cost most of the sink's time).
BATCH_RECORDS = 500


def embedded_path(settings: Settings) -> Path:
    if settings.embedded.path:
        return settings.embedded.path
    return settings.local_dir / "embedded.sqlite"


def open_existing_index(settings: Settings) -> EmbeddedIndex:
    """The embedded index for a reader (search, dead letters): one that is not there is an error, never
    a new empty file (which would answer every search with nothing, silently)."""
    path = embedded_path(settings)
    if not path.is_file():
        raise StartupError(
            f"no store at {path}; run `leadhub demo` (then use its folder), or set embedded.path to your index"
        )
    try:
        return EmbeddedIndex(path)
    except (EmbeddedIndexError, OSError, sqlite3.DatabaseError) as exc:
        raise StartupError(f"cannot open the embedded index {path}: {exc}; check embedded.path") from None


class EmbeddedPipeline:
    """Stages + index in this process. Thread-safe: the scheduler's workers and the API share it."""

    def __init__(self, settings: Settings, path: Path | None = None, *, index: EmbeddedIndex | None = None) -> None:
        """Over ``index`` if given (a reader's, opened by open_existing_index), else over the file at
        ``path`` (default embedded.path), made if missing."""
        self.path = index.path if index is not None else path or embedded_path(settings)
        try:
            self.index = index or EmbeddedIndex(self.path)
        except (EmbeddedIndexError, OSError) as exc:
            raise ConfigError(f"cannot open the embedded index {self.path}: {exc}", hint="check embedded.path") from None
        self.sink = EmbeddedSink(self.index)
        self._lock = threading.RLock()  # the stages' state is not shared between threads
        self.settings = settings
        self.alerts = hotspot_alerts(settings) if settings.hotspots.enabled else None
        self._warming: threading.Thread | None = None
        self.normalize_pool = self._normalize_pool(settings)
        self._build_stages()
        self.store = EmbeddedStore(self.index)

    def _build_stages(self, *, background: bool = True) -> None:
        """The stages, their state rebuilt from the index: at start, and after a batch was rolled back
        (the stages' memory then holds leads the file does not: dedup would call a lead sent again a
        replay of a case that is not there, the hotspot detector would count it as seen)."""
        settings = self.settings
        self.hotspots = self._hotspot_stage(settings)
        self.hot_issues = self._hot_issue_stage(settings, background=background)
        self.runner = LocalRunner(
            settings.routing,
            dedup_state=PersistentDedupState(self.index, DedupConfig().max_postings),
            case_book=IndexCaseBook(self.index),
            statuses=IndexStatuses(self.index),
            on_output=self.sink.handle,
            hotspots=self.hotspots,
            hot_issues=self.hot_issues,
            normalize_pool=self.normalize_pool,
        )

    @staticmethod
    def _normalize_pool(settings: Settings) -> NormalizePool | None:
        if not settings.embedded.normalize_processes:
            return None
        hot_issues = settings.hot_issues if settings.hot_issues.enabled else None
        return NormalizePool(settings.routing.source_timezone, hot_issues, settings.embedded.normalize_processes)

    def _hotspot_stage(self, settings: Settings) -> HotspotStage | None:
        """The detector, its state rebuilt from the index's leads of the last history_hours (before the
        latest lead stored: the leads' own time, as the detector counts), announcing through the alerts."""
        if not settings.hotspots.enabled:
            return None
        alerts = self.alerts
        config = settings.hotspots.config()
        stage = HotspotStage(
            config, alerts.new_hotspot if alerts is not None else None,
            announce_within_hours=settings.hotspots.notify_max_age_hours,
        )  # fmt: skip
        latest = self.index.latest_reported()
        if latest is not None:
            stage.warm(self.index.leads_reported_since(latest - config.history_hours * 3600))
        return stage

    def _hot_issue_stage(self, settings: Settings, *, background: bool = True) -> HotIssueStage | None:
        """The hot-issue clusterer, its state rebuilt from the index's leads of the last history_days
        before the latest lead stored, going on under the ids of the hot issues stored."""
        if not settings.hot_issues.enabled:
            return None
        stage = HotIssueStage(settings.hot_issues)
        latest = self.index.latest_reported()
        if latest is None:
            return stage
        since = latest - settings.hot_issues.history_days * 86400
        if not background:  # the caller holds the stages' lock
            self._rebuild(stage, since)
        else:
            # Placing each lead of the history again takes milliseconds a lead (minutes for a large
            # index): done in the background holding the stages' lock, so reads are served at once and
            # the first lead submitted waits until the state is whole.
            holding = threading.Event()
            self._warming = threading.Thread(target=self._warm, args=(stage, since, holding), name="hot-issues-warm", daemon=True)
            self._warming.start()
            holding.wait()
        return stage

    def _warm(self, stage: HotIssueStage, since: float, holding: threading.Event) -> None:
        with self._lock:
            holding.set()
            try:
                self._rebuild(stage, since)
            except Exception:  # noqa: BLE001 - the pipeline goes on; hot issues start from what was rebuilt
                log.exception("hot issues: rebuilding the state from the index failed")
            finally:
                self.index.close()  # this thread's connection

    def _rebuild(self, stage: HotIssueStage, since: float) -> None:
        stage.warm(self.index.leads_reported_since(since))
        stage.adopt(HotIssue.model_validate(doc) for doc in self.index.hot_issue_documents(limit=None))

    def wait_warm(self) -> None:
        """Until the hot-issue state is rebuilt (done in the background at start; benchmarks time the
        answers of a server past it)."""
        if self._warming is not None:
            self._warming.join()

    def submit(self, records: Sequence[Record], topic: str = "leads.raw") -> None:
        """The records through every stage; what each BATCH_RECORDS of them write is one transaction
        (EmbeddedIndex.batch)."""
        with self._lock:
            for start in range(0, len(records), BATCH_RECORDS):
                self._in_one_transaction(partial(self.runner.submit, records[start : start + BATCH_RECORDS], topic))

    def submit_raw(self, leads: Sequence[RawLead]) -> None:
        with self._lock:
            for start in range(0, len(leads), BATCH_RECORDS):
                self._in_one_transaction(partial(self.runner.submit_raw, leads[start : start + BATCH_RECORDS]))

    def _in_one_transaction(self, run: Callable[[], None]) -> None:
        try:
            with self.index.batch():
                run()
        except BaseException:
            # Nothing of the batch is in the file; the stages' memory must not keep it either.
            self._build_stages(background=False)
            raise

    def write(self, output: Output) -> None:
        """Straight into the index (case events, dead letters): no stage consumes these here."""
        with self._lock:
            self.sink.handle(output)

    def resend(self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]] = ()) -> None:
        """A record again into ``topic`` (a dead letter's replay): the stages for their input topics,
        the index for what only the sink consumes here."""
        if topic in self.runner.consumers:
            self.submit([Record(value, key, list(headers), topic)], topic)
        else:
            self.write(Output(topic, key, value, list(headers)))

    def outlet(self) -> RunnerOutlet:
        return RunnerOutlet(self)

    def close(self) -> None:
        if self._warming is not None:
            self._warming.join()
        if self.alerts is not None:
            self.alerts.close()
        if self.normalize_pool is not None:
            self.normalize_pool.close()
        self.index.close()


class RunnerOutlet:
    """What an ingest run sends to (the producer's send/flush): records reach the stages on flush."""

    def __init__(self, pipeline: EmbeddedPipeline) -> None:
        self.pipeline = pipeline
        self._pending: list[Output] = []

    def send(self, topic: str, value: bytes, key: bytes | None = None, headers: Sequence[tuple[str, bytes]] = ()) -> None:
        self._pending.append(Output(topic, key, value, list(headers)))

    def flush(self, timeout_s: float = 30.0) -> int:
        pending, self._pending = self._pending, []
        for topic in dict.fromkeys(out.topic for out in pending):
            outputs = [out for out in pending if out.topic == topic]
            # The rule of EmbeddedPipeline.resend, a batch at a time: dead letters have no stage here.
            if topic in self.pipeline.runner.consumers:
                self.pipeline.submit([Record(out.value, out.key, out.headers, topic) for out in outputs], topic)
            else:
                for out in outputs:
                    self.pipeline.write(out)
        return len(pending)

    def close(self) -> None:
        self.flush()


class EmbeddedPublisher:
    """The API's publisher in embedded mode: events and reports are applied before it returns."""

    def __init__(self, pipeline: EmbeddedPipeline) -> None:
        self.pipeline = pipeline

    def publish_event(self, event: CaseEvent) -> None:
        value, headers = encode(event)
        self.pipeline.write(Output("cases.events", event.case_id.encode(), value, headers))

    def publish_lead(self, lead: RawLead) -> None:
        self.pipeline.submit_raw([lead])

    def close(self) -> None:
        pass
