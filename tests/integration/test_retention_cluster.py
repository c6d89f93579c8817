"""Retention on the cluster (leadhub/retention/cluster.py, topics.py), on the real search engines
(OpenSearch and the local Elasticsearch 9: no scripts, no _update_by_query) and Kafka: leads and cases
as the search sink writes them (sinks/documents.py), then `leadhub retention run`. No contact older
than retention.contact_days stays in the index, newer ones stay, finished cases untouched for
retention.lead_years go with their leads and photos while open ones stay, the contact-carrying topics
keep their records no longer than contact_days, and --dry-run changes nothing and says the same counts.
The embedded half: tests/unit/test_retention_embedded.py."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from adapters.attachments import AttachmentStore, StoredPhoto
from adapters.kafka_clients import kafka_python_options
from enrichers.normalize import normalize_lead
from leadhub.cli import main
from leadhub.settings import build_settings, parse_overrides
from schemas.cases import Case, CaseEvent
from schemas.leads import RawLead, lead_id_for
from schemas.status_machine import apply_event
from sinks.documents import apply_case_state, case_handling_doc, lead_actions

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC)
PHOTO_ID = "cd" * 16
DAY_MS = 86_400_000
LEADS = {  # name: (days ago, text, phone)
    "recent": (5, "后宅街道李祖村的路灯坏了三盏，晚上一片漆黑，村民出行很不安全。", "13922220002"),
    "month_old": (60, "城西街道的垃圾中转站臭气熏天，夏天苍蝇很多，附近居民无法开窗。", "13911110001"),
    "no_date": (None, "稠城街道某菜场门口占道经营，早高峰车辆无法通行。", "13988880008"),
    "old_open": (1200, "佛堂镇老街的排水沟堵塞，一下雨就积水到膝盖，商户损失很大。", "13966660006"),
    "old_closed": (1200, "稠江街道某小区电梯停运一周，物业说在等配件，老人上下楼困难。", "13933330003"),
    "old_rejected": (1100, "江东街道一家餐馆油烟直排居民楼，投诉多次无人处理。", "13977770007"),
    "old_no_case": (900, "北苑街道某工地夜间施工噪音扰民，多次投诉未果。", "13900009999"),
}
FINISH = {"old_closed": ["accept", "assign", "start", "resolve", "close"], "old_rejected": ["reject"]}


def lead_id(name: str) -> str:
    return lead_id_for("hotline-12345", name)


def raw(name: str) -> RawLead:
    days, body, phone = LEADS[name]
    # "no_date": no publication time, fetched 40 days ago (the fetch time counts then).
    fetched = NOW - dt.timedelta(days=days if days is not None else 40)
    attachments = (
        [{"url": f"/attachments/{PHOTO_ID}", "id": PHOTO_ID, "media_type": "image/jpeg"}] if name == "old_closed" else []
    )
    return RawLead(
        source="hotline-12345", channel="hotline", external_id=name, title=body[:12], body=body,
        contact={"phone": phone, "name": "市民"}, fetched_at=fetched,
        published_at=None if days is None else fetched, attachments=attachments,
    )  # fmt: skip


def write_store(backend, prefix: str) -> None:
    """Each lead its own case (none for old_no_case), written as the search sink writes them."""
    actions: list = []
    long_ago = NOW - dt.timedelta(days=1150)
    for name in LEADS:
        lead = normalize_lead(raw(name))
        if name != "old_no_case":
            lead = lead.model_copy(update={"case_id": lead.lead_id, "is_primary": True})
        actions += lead_actions(lead, f"{prefix}-leads")
        if name == "old_no_case":
            continue
        seen = lead.published_at or lead.fetched_at
        case = Case(case_id=lead.lead_id, title=lead.title, summary=lead.text[:300], report_count=1, channels=["hotline"],
                    sources=["hotline-12345"], first_seen=seen, last_seen=seen, lead_ids=[lead.lead_id])  # fmt: skip
        doc = apply_case_state(None, case)
        for action in FINISH.get(name, []):
            event = CaseEvent(case_id=case.case_id, action=action, actor="t", at=long_ago,
                              department="市住建局" if action == "assign" else None,
                              note={"resolve": "已修复", "reject": "不属于受理范围"}.get(action))  # fmt: skip
            case = apply_event(case, event)
        doc.update(case_handling_doc(case))
        backend.index(f"{prefix}-cases", case.case_id, doc)
    backend.bulk([json.loads(a) if isinstance(a, bytes) else a for a in actions], refresh=True)
    backend.refresh(f"{prefix}-cases")


def documents(backend, prefix: str, kind: str) -> dict[str, dict]:
    found = backend.search(f"{prefix}-{kind}", {"query": {"match_all": {}}, "size": 100})
    return {hit["_id"]: hit["_source"] for hit in found["hits"]["hits"]}


def retention_ms(kafka, topic: str) -> int:
    admin = KafkaAdminClient(**kafka_python_options(kafka))
    try:
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all")["topic"][topic]
    finally:
        admin.close()
    return int(configs["retention.ms"]["value"])


def run_json(args: list[str], capsys, *extra: str) -> tuple[int, dict]:
    code = main([*args, "retention", "run", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_retention_on_the_cluster(engine, engine_search, kafka_settings, unique, tmp_path, capsys):
    prefix = f"rt{unique}"
    overrides = [*engine.overrides, f"kafka.topic_prefix={prefix}.", f"search.index_prefix={prefix}",
                 f"services.home={tmp_path / 'svc'}", f"attachments.path={tmp_path / 'photos'}",
                 "retention.contact_days=30", "retention.lead_years=2"]  # fmt: skip
    args = [a for o in overrides for a in ("--set", o)]
    assert main([*args, "topics", "create"]) == 0
    assert main([*args, "index", "init"]) == 0
    capsys.readouterr()
    settings = build_settings(overrides=parse_overrides(overrides))
    write_store(engine_search, prefix)
    meta = StoredPhoto(id=PHOTO_ID, media_type="image/jpeg", size=3, width=1, height=1, reporter="t",
                       lead_id=lead_id("old_closed"), stored_at=NOW)  # fmt: skip
    AttachmentStore(tmp_path / "photos").put(meta, b"jpg", b"thb")
    dlq = f"{prefix}.leads.dlq"
    assert retention_ms(settings.kafka, dlq) == 90 * DAY_MS
    leads_before, cases_before = documents(engine_search, prefix, "leads"), documents(engine_search, prefix, "cases")
    assert all(doc["contact"]["phone"] for doc in leads_before.values()) and len(leads_before) == 7

    # A dry run: the counts, and nothing changed (documents, topic, photo).
    code, dry = run_json(args, capsys, "--dry-run")
    assert code == 0 and dry["dry_run"] is True and dry["errors"] == []
    assert documents(engine_search, prefix, "leads") == leads_before
    assert documents(engine_search, prefix, "cases") == cases_before
    assert retention_ms(settings.kafka, dlq) == 90 * DAY_MS
    assert AttachmentStore(tmp_path / "photos").metadata(PHOTO_ID) is not None

    code, done = run_json(args, capsys)
    assert code == 0 and done["errors"] == [], done["errors"]
    counted = lambda report: {(r["store"], r["part"]): r["count"] for r in report["rows"] if r["count"] is not None}  # noqa: E731
    assert (
        counted(done)
        == counted(dry)
        == {
            ("search", "closed cases deleted"): 2,
            ("search", "leads deleted"): 3,  # old_closed, old_rejected with their cases; old_no_case (no case keeps it)
            ("search", "lead contacts removed"): 3,  # month_old, no_date (fetched 40 days ago), old_open
            ("attachments", "photos of deleted leads"): 1,
        }
    )
    notes = {r["part"]: r["note"] for r in done["rows"] if r["store"] == "kafka"}
    assert notes[dlq] == "retention.ms 90 days -> 30 days" and notes[f"{prefix}.leads.raw"] == "keeps 14 days"
    assert {r["part"]: r["note"] for r in dry["rows"] if r["store"] == "kafka"} == notes  # said, not done, by the dry run

    # The index: no contact from before the limit, the newer one kept; open cases and their leads kept.
    leads = documents(engine_search, prefix, "leads")
    assert set(leads) == {lead_id(n) for n in ("recent", "month_old", "no_date", "old_open")}
    cutoff = NOW - dt.timedelta(days=30)
    for doc in leads.values():
        reported = dt.datetime.fromisoformat(doc.get("published_at") or doc["fetched_at"])
        assert (doc.get("contact") is None) == (reported < cutoff), doc["lead_id"]
    assert leads[lead_id("recent")]["contact"]["phone"] == "13922220002"
    assert leads[lead_id("old_open")]["text"] == leads_before[lead_id("old_open")]["text"]  # only the contact changed
    assert set(documents(engine_search, prefix, "cases")) == {lead_id(n) for n in ("recent", "month_old", "no_date", "old_open")}
    assert AttachmentStore(tmp_path / "photos").metadata(PHOTO_ID) is None
    # Kafka: the dead letters' topic keeps records no longer than contact_days; `topics create` accepts it.
    assert retention_ms(settings.kafka, dlq) == 30 * DAY_MS
    assert main([*args, "topics", "create"]) == 0
    capsys.readouterr()

    # A second run has nothing left to do.
    code, again = run_json(args, capsys)
    assert code == 0 and all(count == 0 for count in counted(again).values())
    assert {r["part"]: r["note"] for r in again["rows"] if r["store"] == "kafka"}[dlq] == "keeps 30 days"


def test_an_unreachable_engine_is_one_line_and_kafka_still_done(kafka_settings, unique, tmp_path, capsys):
    prefix = f"rt{unique}"
    args = ["--set", f"kafka.topic_prefix={prefix}.", "--set", "search.url=http://127.0.0.1:9", "--set", "search.request_timeout=2",
            "--set", f"services.home={tmp_path / 'svc'}", "--set", "retention.contact_days=7"]  # fmt: skip
    assert main([*args, "topics", "create"]) == 0
    capsys.readouterr()
    assert main([*args, "retention", "run"]) == 1
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("error: search engine at http://127.0.0.1:9")
    assert f"{prefix}.leads.dlq" in captured.out and "-> 7 days" in captured.out
