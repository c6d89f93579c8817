"""`leadhub ingest schedule`: run each source on its schedule, never two runs of one source at once."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from ingestors.runner import RunReport
from ingestors.schedule import Schedule, is_stale, next_run, parse_schedule
from ingestors.sources import SourceConfig, parse_duration
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
        self.now = now or (lambda: dt.datetime.now(dt.timezone.utc))
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
