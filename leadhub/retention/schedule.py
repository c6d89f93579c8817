"""Embedded mode: `leadhub api serve` runs the retention on retention.schedule (read in
briefing.timezone, the city's time) in a background thread, over the index the server holds.
Cluster mode has the CronJob deploy/k8s/retention-cronjob.yaml instead."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("leadhub.retention")


def next_due(schedule: str, after: dt.datetime, zone_name: str) -> dt.datetime:
    from croniter import croniter

    from schemas.timezones import zone

    return croniter(schedule, after.astimezone(zone(zone_name))).get_next(dt.datetime)


def describe(report: Any) -> str:
    parts = [f"{r.store} {r.part}: {r.count if r.count is not None else r.note}" for r in report.rows]
    return "; ".join(parts + [f"error: {e}" for e in report.errors]) or "nothing to do"


def start_retention_schedule(settings: Any, index: Any, *, now: Callable[[], dt.datetime] | None = None,
                             poll_s: float = 30.0) -> Callable[[], None]:  # fmt: skip
    """Run the retention in a background thread at each scheduled time; returns ``stop``. A run that
    was missed while the process was down is simply the next one: each run removes everything due."""
    from leadhub.retention.run import run_retention

    clock = now or (lambda: dt.datetime.now(dt.UTC))
    stopping = threading.Event()
    cfg, zone_name = settings.retention, settings.briefing.timezone

    def loop() -> None:
        due = next_due(cfg.schedule, clock(), zone_name)
        while not stopping.wait(min(poll_s, max(0.0, (due - clock()).total_seconds()))):
            if clock() < due:
                continue
            try:
                log.info("retention: %s", describe(run_retention(settings, now=clock(), index=index)))
            except Exception:  # a failed run must not stop the server; the next one is tried
                log.exception("the scheduled retention run failed")
            due = next_due(cfg.schedule, clock(), zone_name)

    thread = threading.Thread(target=loop, name="retention-schedule", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=10)

    return stop
