"""Hot issues on the cluster: raw leads about one estate's mixing plant, written by different people in
their own words (separate cases), go through the real faust worker; the routed leads carry the estate
as an entity, one HotIssue record reaches the hot_issues index through the search sink, and a restarted
worker rebuilds the clusterer from leads.routed and grows the same hot issue; a resident writing again
puts it on the raised-again list."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from adapters.kafka_clients import kafka_python_options
from adapters.search_backend import SearchBackend
from leadhub.hot_issues_store import EngineHotIssues
from leadhub.settings import build_settings, parse_overrides
from schemas.index_templates import INDEX_KINDS
from schemas.leads import Lead, RawLead
from schemas.serialization import decode, encode
from sinks.batch import BatchLimits
from sinks.writer import SearchSink
from streams.hot_issue_stage import hint_of
from tests.integration.test_streams_worker import Worker, _free_port

pytestmark = pytest.mark.integration

T = dt.datetime(2026, 11, 20, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PLANT = [
    ("丽发新城小区旁边搅拌站噪音扰民", "A市A2区丽发新城小区旁边的搅拌站日夜施工，噪音和粉尘严重影响居民休息，请求关停搅拌站。"),
    ("丽发新城搅拌站粉尘太大", "丽发新城旁边的搅拌站每天粉尘飞扬，搅拌车来回跑，噪音很大，孩子都没法睡觉。"),
    ("投诉丽发新城附近搅拌厂", "丽发新城小区业主反映，小区附近搅拌厂夜间施工噪音扰民，粉尘污染严重。"),
    ("丽发新城的搅拌站什么时候搬走", "住在丽发新城三年了，楼下搅拌站的噪音和灰尘一直没人管，凌晨还有搅拌车进出，希望早日搬迁。"),
]
OTHER = ("宾王路路灯不亮", "稠城街道宾王路的路灯已经坏了五天，晚上一片漆黑，行人走路很不安全。")


def raw(n: int, title: str, body: str, author: str | None = None) -> RawLead:
    return RawLead(
        source="forum-x", channel="forum", external_id=f"plant-{n}", title=title, body=body, author=author or f"resident-{n}",
        published_at=T + dt.timedelta(hours=n),
    )  # fmt: skip


def test_leads_through_the_worker_make_a_hot_issue_in_the_index_and_a_restart_grows_it(kafka_settings, search, tmp_path):
    run = uuid.uuid4().hex[:8]
    overrides = [f"kafka.topic_prefix=q{run}.", f"search.index_prefix=q{run}", f"streams.app_id=lh-hi-{run}",
                 f"streams.web_port={_free_port()}"]  # fmt: skip
    args = [a for o in overrides for a in ("--set", o)]
    for command in (["topics", "create"], ["index", "init"]):
        subprocess.run([sys.executable, "-m", "leadhub", *args, *command], check=True, capture_output=True)
    settings = build_settings(overrides=parse_overrides(overrides))
    log = tmp_path / "worker.log"
    worker = Worker(args, log)
    worker.start()
    sink = SearchSink(settings, group_id=f"hi-{run}", limits=BatchLimits(max_age_s=0.1))
    thread = threading.Thread(target=sink.run, daemon=True)
    thread.start()
    producer = KafkaProducer(**kafka_python_options(kafka_settings), acks="all")
    backend = SearchBackend.from_settings(settings.search)

    def send(*leads: RawLead) -> None:
        for lead in leads:
            value, headers = encode(lead)
            producer.send(f"q{run}.leads.raw", value=value, key=lead.key.encode(), headers=headers).get(timeout=10)

    def routed(hints: bool = False) -> str:
        """What the worker routed so far (read by assignment from the start), for a failure's message;
        ``hints``: with whether each carries the per-lead work done in normalize (HINT_HEADER)."""
        consumer = KafkaConsumer(**kafka_python_options(kafka_settings), group_id=None, enable_auto_commit=False)
        try:
            consumer.assign([TopicPartition(f"q{run}.leads.routed", p) for p in range(6)])
            consumer.seek_to_beginning()
            lines = []
            for records in consumer.poll(timeout_ms=3000, max_records=1000).values():
                for record in records:
                    lead = decode(record.value, record.headers, Lead)
                    hint = f" hint={hint_of(record.headers) is not None}" if hints else ""
                    lines.append(f"{lead.lead_id[:8]} case={lead.case_id and lead.case_id[:8]} entities={lead.entities}{hint} {lead.title}")
            return "\n".join(lines) or "(nothing routed)"
        finally:
            consumer.close()

    def hot_issue_with(leads: int, timeout: float = 240) -> dict:
        """The hot issue in the index once it counts ``leads`` leads (a loaded machine is slow: wait long)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert worker.proc.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                backend.refresh(f"q{run}-hot_issues")
                hits = backend.search(f"q{run}-hot_issues", {"query": {"match_all": {}}, "size": 10})["hits"]["hits"]
            except Exception:  # noqa: BLE001 - the index may lag; the deadline decides
                hits = []
            for hit in hits:
                if hit["_source"]["leads"] == leads:
                    return hit["_source"]
            time.sleep(0.5)
        stored = [h["_source"] for h in hits]
        raise AssertionError(f"no hot issue of {leads} leads in the index (stored: {stored}); routed:\n{routed()}\n"
                             + log.read_text(errors="replace")[-2000:])  # fmt: skip

    try:
        send(*[raw(n, *PLANT[n]) for n in range(3)], raw(9, *OTHER))
        issue = hot_issue_with(3)
        assert "丽发新城" in issue["title"] and issue["entity_keys"] == ["丽发新城"]
        assert len(issue["lead_ids"]) == 3 and len(issue["case_ids"]) == 3, routed()  # three cases, one hot issue
        assert issue["reporters"] == 3 and issue["heat"] > 0
        backend.refresh(f"q{run}-leads")
        found = backend.find(f"q{run}-leads", issue["lead_ids"])  # leads: one index a month behind the alias
        docs = [found[lead_id]["_source"] for lead_id in issue["lead_ids"]]
        assert all(doc["entities"] == ["丽发新城"] for doc in docs), docs
        # normalize did the per-lead work; it rides on the routed leads, for the rebuild below
        listing = routed(hints=True)
        assert listing.count(" hint=True ") >= 3 and " hint=False " not in listing, listing

        worker.stop()
        worker.start()  # the clusterer's state is rebuilt from leads.routed
        send(raw(3, *PLANT[3], author="resident-0"))  # the first resident writes again
        grown = hot_issue_with(4)
        assert grown["issue_id"] == issue["issue_id"] and set(grown["lead_ids"]) > set(issue["lead_ids"]), routed()
        assert grown["reporters"] == 3, grown  # the rebuilt state knew resident-0 from leads.routed
        again = EngineHotIssues(backend, f"q{run}").list(order="repeats", limit=5)
        assert [(i["issue_id"], i["repeats"]) for i in again] == [(issue["issue_id"], 1)]
    finally:
        worker.stop()
        sink.stop()
        thread.join(timeout=30)
        producer.close()
        for kind in INDEX_KINDS:
            for index in backend.get_alias(f"q{run}-{kind}"):
                backend.delete_index(index)
        backend.close()
