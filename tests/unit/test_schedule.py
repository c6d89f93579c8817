import datetime as dt
import random
import threading

import pytest

from ingestors.runner import RunReport
from ingestors.schedule import backoff, is_stale, next_run, parse_schedule
from ingestors.scheduler import Scheduler
from ingestors.sources import SourceConfig

T0 = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)


def test_schedules():
    assert parse_schedule("every 10m").next_after(T0) == T0 + dt.timedelta(minutes=10)
    assert parse_schedule("*/15 * * * *").next_after(T0 + dt.timedelta(minutes=1)) == T0 + dt.timedelta(minutes=15)
    with pytest.raises(ValueError, match="neither"):
        parse_schedule("sometimes")


def test_next_run_backs_off_after_failures_but_never_past_the_schedule():
    every_hour = parse_schedule("every 1h")
    rng = random.Random(1)
    assert next_run(every_hour, None, 0, T0) == T0
    assert next_run(every_hour, T0, 0, T0) == T0 + dt.timedelta(hours=1)
    first = next_run(every_hour, T0, 1, T0, rng) - T0
    third = next_run(every_hour, T0, 3, T0, rng) - T0
    assert dt.timedelta(seconds=15) <= first <= dt.timedelta(seconds=30)
    assert dt.timedelta(seconds=60) <= third <= dt.timedelta(seconds=120)
    capped = next_run(every_hour, T0, 20, T0, rng) - T0
    assert dt.timedelta(minutes=30) <= capped <= dt.timedelta(hours=1)  # capped at the schedule
    waits = {backoff(4, rng=random.Random(seed)) for seed in range(5)}
    assert len(waits) > 1  # jitter


def test_staleness():
    day = dt.timedelta(days=1)
    assert not is_stale(None, None, T0, T0 + 10 * day)
    assert not is_stale(day, T0, T0, T0 + dt.timedelta(hours=23))
    assert is_stale(day, T0, T0, T0 + dt.timedelta(hours=25))
    assert is_stale(day, None, T0, T0 + 2 * day)


def source(name, schedule="every 10m", expect=None):
    return SourceConfig(name=name, kind="feed", channel="news", schedule=schedule, expect_every=expect, options={"url": "https://x"})


def test_a_source_never_runs_twice_at_once_and_failures_back_off():
    clock = {"now": T0}
    release = threading.Event()
    calls = []

    def run_one(config):
        calls.append(config.name)
        if config.name == "slow":
            release.wait(5)
        return RunReport(config.name, error="timeout" if config.name == "flaky" else None)

    scheduler = Scheduler([source("slow"), source("flaky", "every 1h")], run_one, now=lambda: clock["now"])
    try:
        assert sorted(scheduler.tick()) == ["flaky", "slow"]
        scheduler._futures[-1].result(5)  # flaky has failed once
        assert scheduler.clocks["flaky"].failures == 1
        clock["now"] = T0 + dt.timedelta(minutes=11)
        # slow is still running: not started again; flaky retries on backoff, long before its hour
        assert scheduler.tick() == ["flaky"]
        release.set()
        scheduler.wait_idle(5)
        assert scheduler.clocks["flaky"].failures == 2
        assert scheduler.clocks["slow"].failures == 0 and scheduler.clocks["slow"].last_success is not None
    finally:
        release.set()
        scheduler.shutdown()
    assert calls.count("slow") == 1


def test_stale_sources_are_flagged():
    clock = {"now": T0}
    scheduler = Scheduler([source("quiet", expect="1h")], lambda c: RunReport(c.name, error="down"), now=lambda: clock["now"])
    try:
        scheduler.tick()
        scheduler.wait_idle(5)
        clock["now"] = T0 + dt.timedelta(hours=2)
        scheduler.tick()
        assert scheduler.clocks["quiet"].stale
    finally:
        scheduler.shutdown()


def test_stale_and_failures_are_exported_as_metrics(tmp_path):
    from ingestors import metrics

    clock = {"now": T0}
    scheduler = Scheduler([source("quiet", expect="1h"), source("fine")], lambda c: RunReport(c.name, error="down" if c.name == "quiet" else None), now=lambda: clock["now"])
    try:
        scheduler.tick()
        scheduler.wait_idle(5)
        clock["now"] = T0 + dt.timedelta(hours=2)
        scheduler.tick()
        scheduler.wait_idle(5)
    finally:
        scheduler.shutdown()
    path = tmp_path / "m" / "ingest.prom"
    metrics.write(path, scheduler.clocks.values())
    text = path.read_text()
    assert 'leadhub_ingest_source_stale{source="quiet"} 1' in text
    assert 'leadhub_ingest_source_stale{source="fine"} 0' in text
    assert 'leadhub_ingest_source_failures{source="quiet"} 2' in text
    assert 'leadhub_ingest_source_last_success_seconds{source="fine"}' in text
