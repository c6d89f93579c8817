"""Run each source on its schedule, never two runs of one source at once.

One loop for both modes: `leadhub ingest schedule` (cluster: records to Kafka) and `leadhub api serve`
in embedded mode (records to the stages in that process, in a background thread). The top hands the
loop an outlet factory; which outlet it is (producer or embedded runner) is decided there, not here.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from ingestors.runner import RecordOutlet, RunReport, run_source
from ingestors.schedule import Schedule, is_stale, next_run, parse_schedule
from ingestors.sources import SourceConfig, build_kind, parse_duration
from ingestors.state import IngestState
from schemas.redaction import redact

log = logging.getLogger("leadhub.ingest")


@dataclass
class SourceClock:
    config: SourceConfig
    schedule: Schedule
    expect_every: dt.timedelta | None
    last_start: dt.datetime | None = None
    last_success: dt.datetime | None = None
    failures: int = 0
    running: bool = False
    stale: bool = False
    history: list[RunReport] = field(default_factory=list)


class Scheduler:
    def __init__(self, sources: list[SourceConfig], run_one: Callable[[SourceConfig], RunReport], *,
                 now: Callable[[], dt.datetime] | None = None, workers: int = 4) -> None:  # fmt: skip
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.started = self.now()
        self.clocks = {
            s.name: SourceClock(s, parse_schedule(s.schedule), parse_duration(s.expect_every) if s.expect_every else None)
            for s in sources
            if s.enabled
        }
        self.run_one = run_one
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest")
        self._lock = threading.Lock()
        self._futures: list[Future] = []

    def tick(self) -> list[str]:
        """Start every due source that is not already running; the names started."""
        now = self.now()
        started = []
        with self._lock:
            for clock in self.clocks.values():
                stale = is_stale(clock.expect_every, clock.last_success, self.started, now)
                if stale and not clock.stale:
                    log.warning("source %s is stale: no success within %s", clock.config.name, clock.config.expect_every)
                clock.stale = stale
                if clock.running or now < next_run(clock.schedule, clock.last_start, clock.failures, now):
                    continue
                clock.running = True
                clock.last_start = now
                self._futures.append(self._pool.submit(self._run, clock))
                started.append(clock.config.name)
        return started

    def _run(self, clock: SourceClock) -> None:
        try:
            report = self.run_one(clock.config)
        except Exception as exc:  # noqa: BLE001 - one source's crash must not stop the others
            log.exception("source %s crashed", clock.config.name)
            report = RunReport(clock.config.name, error=redact(f"{type(exc).__name__}: {exc}"))
        with self._lock:
            clock.running = False
            clock.history = [*clock.history[-9:], report]
            if report.ok:
                clock.failures = 0
                clock.last_success = self.now()
            else:
                clock.failures += 1
                log.warning("source %s failed (%d in a row): %s", clock.config.name, clock.failures, report.error)

    def wait_idle(self, timeout: float | None = None) -> None:
        for future in list(self._futures):
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)

    def run_until(self, stop: threading.Event, *, after_tick: Callable[[Scheduler], None] | None = None,
                  poll_s: float = 1.0) -> None:  # fmt: skip
        """Start due sources every ``poll_s`` until ``stop`` is set, then wait for the running ones."""
        try:
            while not stop.is_set():
                self.tick()
                if after_tick is not None:
                    after_tick(self)
                stop.wait(poll_s)
        finally:
            self.shutdown()


class ClosableOutlet(RecordOutlet, Protocol):
    def close(self) -> None: ...


def scheduled_run(open_outlet: Callable[[], ClosableOutlet], state: IngestState) -> Callable[[SourceConfig], RunReport]:
    """What the scheduler does for one due source: a run into an outlet of its own (each run checks
    only its own sends; a producer's failure cannot blame another source), logged in one line."""

    def run_one(source: SourceConfig) -> RunReport:
        outlet = open_outlet()
        try:
            report = run_source(source, build_kind(source), state, outlet)
        finally:
            outlet.close()
        log.info("%s: fetched %d, new %d, changed %d, unchanged %d, failed %d%s", report.source, report.fetched,
                 report.new, report.changed, report.unchanged, report.failed,
                 f" — {report.error}" if report.error else "")  # fmt: skip
        return report

    return run_one


def schedule_sources(sources: list[SourceConfig], open_outlet: Callable[[], ClosableOutlet], state: IngestState,
                     **options) -> Scheduler:  # fmt: skip
    """The scheduler of ``sources`` whose runs send into outlets from ``open_outlet``."""
    return Scheduler(sources, scheduled_run(open_outlet, state), **options)


def run_in_background(scheduler: Scheduler, *, poll_s: float = 1.0) -> Callable[[], None]:
    """The loop in a daemon thread (beside a server); returns ``stop``, which waits for running sources."""
    stopped = threading.Event()
    thread = threading.Thread(target=scheduler.run_until, args=(stopped,), kwargs={"poll_s": poll_s},
                              name="ingest-schedule", daemon=True)  # fmt: skip

    def stop() -> None:
        stopped.set()
        thread.join(timeout=5)
        scheduler.shutdown()  # the thread may still wait for a long run; the caller closes what runs use

    thread.start()
    return stop
