"""The normalize stage in a pool process (embedded.normalize_processes): the same outputs, in the same
order, as the stage in this process; a pool that dies costs nothing; and embedded mode stores the same
leads, cases, hot issues and dead letters with the pool as without it."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import signal
import sqlite3
import time
from pathlib import Path

from enrichers.hot_issues_settings import HotIssueSettings
from leadhub.embedded import EmbeddedPipeline
from leadhub.settings import build_settings, parse_overrides
from schemas.leads import RawLead
from schemas.serialization import encode
from sinks.embedded_docs import load
from streams.hot_issue_stage import HINT_HEADER
from streams.normalize_pool import MIN_RECORDS, NormalizePool, build_stage
from streams.records import Output, Record

T = dt.datetime(2026, 11, 20, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
ESTATES = ["丽发新城", "伊景园滨河苑", "江山帝景小区", "绿地海外滩"]
PROBLEMS = [
    ("旁边搅拌站噪音扰民", "旁边的搅拌站日夜施工，噪音和粉尘严重影响居民休息，请求关停搅拌站。"),
    ("车位捆绑销售", "开发商把车位和储藏室捆绑销售，不买就不给办理入住手续，业主很无奈。"),
    ("电梯经常停运", "小区电梯三天两头停运，物业维修拖拉，老人上下楼非常困难，希望尽快解决。"),
]


def raw_leads(n: int) -> list[RawLead]:
    """Leads about a few estates' problems, in different words and by different people; every seventh
    is a re-post of the lead before it (the route stage puts those in one case)."""
    leads = []
    for i in range(n):
        estate, (title, text) = ESTATES[i % len(ESTATES)], PROBLEMS[(i // len(ESTATES)) % len(PROBLEMS)]
        body = f"{estate}{text}第{i % 5}栋的住户反映。" if i % 7 else leads[-1].body if leads else text
        at = T + dt.timedelta(hours=i)
        leads.append(
            RawLead(
                source="forum-x",
                channel="forum",
                external_id=f"p{i}",
                title=f"{estate}{title}",
                body=body,
                author=f"u{i % 11}",
                published_at=at,
                fetched_at=at,
            )  # fmt: skip
        )
    return leads


def records(leads: list[RawLead]) -> list[Record]:
    out = []
    for lead in leads:
        value, headers = encode(lead)
        out.append(Record(value, lead.key.encode(), headers, "leads.raw"))
    return out


def with_a_bad_record(good: list[Record]) -> list[Record]:
    bad = Record(b'{"source": "forum-x", "title": ', b"broken", [], "leads.raw")  # cut off mid-JSON
    return [*good[:70], bad, *good[70:]]


def ended(process: multiprocessing.process.BaseProcess, within: float = 15.0) -> bool:
    """Whether the process ends within the time (the pool's own thread reaps it, so join may return early)."""
    deadline = time.monotonic() + within
    while process.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not process.is_alive()


def comparable(outputs: list[Output]) -> list[object]:
    """Outputs as they compare: a dead letter without the time it was written."""
    return [(out.topic, out.key, {**json.loads(out.value), "at": None}) if out.topic == "leads.dlq" else out for out in outputs]


def test_the_pool_gives_the_stages_outputs_in_order_bad_records_as_dead_letters():
    given = with_a_bad_record(records(raw_leads(MIN_RECORDS + 30)))
    pool = NormalizePool("Asia/Shanghai", HotIssueSettings())
    try:
        chunks = list(pool.normalized(given))
    finally:
        pool.close()
    assert [len(chunk) for chunk in chunks] == [
        10,
        20,
        40,
        50,
        len(given) - 120,
    ]  # the first ones smaller: the pipeline waits for them
    here = build_stage("Asia/Shanghai", HotIssueSettings()).handle_many(given)
    assert comparable([out for chunk in chunks for out in chunk]) == comparable(here)
    assert [out.topic for out in here].count("leads.dlq") == 1
    assert all(HINT_HEADER in dict(out.headers) for out in here if out.topic == "leads.clean")


def test_a_pool_whose_process_dies_costs_only_speed_and_the_next_submit_starts_a_new_one():
    given = records(raw_leads(MIN_RECORDS))
    expected = comparable(build_stage("Asia/Shanghai", None).handle_many(given))
    before = set(multiprocessing.active_children())  # another test's pool, if one is left
    pool = NormalizePool("Asia/Shanghai", None)
    try:
        assert comparable([out for chunk in pool.normalized(given) for out in chunk]) == expected
        [child] = set(multiprocessing.active_children()) - before
        os.kill(child.pid, signal.SIGKILL)
        assert ended(child)
        assert comparable([out for chunk in pool.normalized(given) for out in chunk]) == expected  # normalized here
        assert comparable([out for chunk in pool.normalized(given) for out in chunk]) == expected  # by a new pool
        [new] = set(multiprocessing.active_children()) - before
        assert new.pid != child.pid
    finally:
        pool.close()
    assert ended(new)  # close ends the pool's process


def stored(path: Path) -> dict[str, object]:
    """What embedded mode kept, without the times of processing."""
    db = sqlite3.connect(path)
    try:
        leads = {lead_id: load(doc) for lead_id, doc in db.execute("SELECT lead_id, doc FROM leads")}
        cases = {case_id: load(doc) for case_id, doc in db.execute("SELECT case_id, doc FROM cases")}
        issues = {issue_id: load(doc) for issue_id, doc in db.execute("SELECT issue_id, doc FROM hot_issues")}
        letters = [stage for (stage,) in db.execute("SELECT stage FROM dead_letters")]
    finally:
        db.close()
    return {
        "leads": {
            k: (v["case_id"], v["title"], v["text"], v.get("entities"), v.get("category"), v.get("department"))
            for k, v in leads.items()
        },
        "cases": {k: (sorted(v["lead_ids"]), v.get("report_count")) for k, v in cases.items()},
        "hot_issues": {k: (v["lead_ids"], v["case_ids"], v["heat"], v["title"]) for k, v in issues.items()},
        "dead_letters": letters,
    }


def test_embedded_mode_stores_the_same_with_the_pool_as_without(tmp_path):
    given = with_a_bad_record(records(raw_leads(3 * MIN_RECORDS)))
    results = {}
    for processes in (1, 0):
        path = tmp_path / f"pool{processes}.sqlite"
        overrides = ["mode=embedded", f"embedded.path={path}", f"embedded.normalize_processes={processes}"]
        pipeline = EmbeddedPipeline(build_settings(overrides=parse_overrides(overrides)))
        try:
            assert (pipeline.normalize_pool is not None) == bool(processes)
            pipeline.submit(given)
        finally:
            pipeline.close()
        results[processes] = stored(path)
    with_pool, without = results[1], results[0]
    assert with_pool == without
    assert len(without["leads"]) == len(given) - 1 and without["dead_letters"] == ["normalize"]
    assert len(without["cases"]) < len(without["leads"])  # the re-posts joined their cases
    assert without["hot_issues"]  # the estates' problems were grouped


def test_a_pool_that_cannot_start_is_not_tried_again():
    given = records(raw_leads(MIN_RECORDS))
    expected = comparable(build_stage("Asia/Shanghai", None).handle_many(given))
    pool = NormalizePool("Asia/Shanghai", None)
    pool._arguments = ("Asia/Shanghai", "not the hot-issue settings")  # type: ignore[assignment]  # its processes fail to start
    try:
        assert pool.worth(len(given))
        assert comparable([out for chunk in pool.normalized(given) for out in chunk]) == expected  # normalized here
        assert not pool.worth(len(given))  # every later submit is normalized here at once
    finally:
        pool.close()


def test_an_idle_pool_ends_its_process_and_the_next_submit_starts_one():
    given = records(raw_leads(MIN_RECORDS))
    before = set(multiprocessing.active_children())
    pool = NormalizePool("Asia/Shanghai", None)
    pool.idle_seconds = 0.5
    try:
        list(pool.normalized(given))
        [child] = set(multiprocessing.active_children()) - before
        assert ended(child)  # by the idle timer, not by close
        assert comparable([out for chunk in pool.normalized(given) for out in chunk]) == comparable(
            build_stage("Asia/Shanghai", None).handle_many(given)
        )
        [again] = set(multiprocessing.active_children()) - before
        assert again.pid != child.pid
    finally:
        pool.close()
