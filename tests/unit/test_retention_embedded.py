"""Retention on the embedded store (sinks/embedded_retention.py, leadhub/retention): after a run no
reporter's contact older than retention.contact_days is left anywhere in the SQLite file (documents,
full-text tables, dead letters, free pages, the write-ahead log: the raw bytes are searched), newer
contacts stay, finished cases untouched for retention.lead_years go with their leads and photos while
open ones stay, and --dry-run changes nothing and reports the same counts."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
from pathlib import Path

import pytest

from adapters.attachments import AttachmentStore, StoredPhoto
from leadhub.cli import main
from leadhub.embedded import EmbeddedPipeline, EmbeddedPublisher
from leadhub.retention.run import run_retention
from leadhub.retention.schedule import start_retention_schedule
from leadhub.settings import build_settings, parse_overrides
from schemas.cases import CaseEvent
from schemas.dead_letters import DeadLetter
from schemas.leads import RawLead, lead_id_for

NOW = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)
PHOTO_ID = "ab" * 16

# Each lead a different problem (dedup must not group them), each reporter with their own contact.
LEADS = {
    "recent": (5, "后宅街道李祖村的路灯坏了三盏，晚上一片漆黑，村民出行很不安全。", "13922220002", "陈静", "chenjing@example.cn"),
    "month_old": (
        60,
        "城西街道的垃圾中转站臭气熏天，夏天苍蝇很多，附近居民无法开窗。",
        "13911110001",
        "王小明",
        "wxm@example.cn",
    ),
    "old_open": (1200, "佛堂镇老街的排水沟堵塞，一下雨就积水到膝盖，商户损失很大。", "13966660006", "刘芳", "liufang@example.cn"),
    "old_closed": (
        1200,
        "稠江街道某小区电梯停运一周，物业说在等配件，老人上下楼困难。",
        "13933330003",
        "赵强",
        "zhaoq@example.cn",
    ),
    "old_rejected": (1100, "江东街道一家餐馆油烟直排居民楼，投诉多次无人处理。", "13977770007", "孙丽", "sunli@example.cn"),
}
OLD_LETTER_PHONE, NEW_LETTER_PHONE = "13944440004", "13955550005"


def hotline_inbox(tmp_path: Path) -> Path:
    """A hotline_files source whose done/ holds an export read 60 days ago and one read yesterday."""
    inbox = tmp_path / "inbox"
    (inbox / "done").mkdir(parents=True, exist_ok=True)
    for name, days in (("old.csv", 60), ("new.csv", 1)):
        export = inbox / "done" / name
        export.write_text("工单编号,诉求内容,来电号码\nWO-1,路灯坏了,13912340000\n", encoding="utf-8")
        at = (NOW - dt.timedelta(days=days)).timestamp()
        os.utime(export, (at, at))
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - name: hotline-12345\n    kind: hotline_files\n    channel: hotline\n"
        f"    options:\n      inbox: {inbox}\n      columns: {{external_id: 工单编号, body: 诉求内容, contact_phone: 来电号码}}\n",
        encoding="utf-8",
    )
    return sources


def settings_for(tmp_path: Path, *extra: str):
    sources = hotline_inbox(tmp_path)
    return build_settings(overrides=parse_overrides([
        "mode=embedded", f"embedded.path={tmp_path / 'e.sqlite'}", f"attachments.path={tmp_path / 'photos'}",
        "retention.contact_days=30", "retention.lead_years=2", "hotspots.enabled=false", f"ingest.sources={sources}", *extra,
    ]))  # fmt: skip


def raw(name: str) -> RawLead:
    days, body, phone, person, email = LEADS[name]
    attachments = (
        [{"url": f"/attachments/{PHOTO_ID}", "id": PHOTO_ID, "media_type": "image/jpeg"}] if name == "old_closed" else []
    )
    return RawLead(source="hotline-12345", channel="hotline", external_id=name, title=body[:12], body=body,
                   contact={"phone": phone, "name": person, "email": email, "address": f"{person}家"},
                   published_at=NOW - dt.timedelta(days=days), fetched_at=NOW - dt.timedelta(days=days),
                   attachments=attachments)  # fmt: skip


def letter(phone: str, days: int) -> DeadLetter:
    record = json.dumps({"source": "hotline-12345", "contact": {"phone": phone}}).encode()
    return DeadLetter(stage="normalize", error_type="ValidationError", error="bad row", payload=record,
                      topic="leads.raw", at=NOW - dt.timedelta(days=days))  # fmt: skip


def build(tmp_path: Path, *extra: str):
    settings = settings_for(tmp_path, *extra)
    pipeline = EmbeddedPipeline(settings)
    pipeline.submit_raw([raw(name) for name in LEADS])
    publisher = EmbeddedPublisher(pipeline)
    long_ago = NOW - dt.timedelta(days=1150)
    for name, actions in (("old_closed", ["accept", "assign", "start", "resolve", "close"]), ("old_rejected", ["reject"])):
        case_id = lead_id_for("hotline-12345", name)
        for action in actions:
            publisher.publish_event(CaseEvent(case_id=case_id, action=action, actor="t", at=long_ago,
                                              department="市住建局" if action == "assign" else None,
                                              note={"resolve": "已修复", "reject": "不属于受理范围"}.get(action)))  # fmt: skip
    pipeline.index.write_dead_letter(letter(OLD_LETTER_PHONE, 45))
    pipeline.index.write_dead_letter(letter(NEW_LETTER_PHONE, 2))
    meta = StoredPhoto(id=PHOTO_ID, media_type="image/jpeg", size=3, width=1, height=1, reporter="t",
                       lead_id=lead_id_for("hotline-12345", "old_closed"), stored_at=NOW)  # fmt: skip
    AttachmentStore(tmp_path / "photos").put(meta, b"jpg", b"thb")
    return settings, pipeline


def file_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("e.sqlite*")) if p.is_file())


def documents_text(pipeline) -> bytes:
    """Every stored document's JSON: documents are packed (deflated) in the file, so a contact in one is
    not visible in the file's raw bytes."""
    db = pipeline.index.db
    return b"".join(row[0].encode() for table in ("leads", "cases", "case_book") for row in db.execute(f"SELECT doc_json(doc) FROM {table}"))  # noqa: S608


def packed_leads(pipeline, names) -> list[bytes]:
    """The leads' documents as stored (packed): the only form their contacts take in the file."""
    query = "SELECT doc FROM leads WHERE lead_id = ?"
    return [pipeline.index.db.execute(query, (lead_id_for("hotline-12345", name),)).fetchone()[0] for name in names]


def traces(name: str) -> list[bytes]:
    _, _, phone, person, email = LEADS[name]
    return [phone.encode(), person.encode(), email.encode()]


def b64_letter(phone: str) -> bytes:
    return base64.b64encode(letter(phone, 0).payload)


def lead(pipeline, name: str):
    return pipeline.store.get("leads", lead_id_for("hotline-12345", name))


def case(pipeline, name: str):
    return pipeline.store.get("cases", lead_id_for("hotline-12345", name))


def counts(report) -> dict[tuple[str, str], int | None]:
    return {(r.store, r.part): r.count for r in report.rows if r.store != "archive"}


def test_a_run_leaves_no_old_contact_in_the_file_and_keeps_newer_ones(tmp_path):
    settings, pipeline = build(tmp_path)
    assert case(pipeline, "old_closed")["status"] == "closed" and case(pipeline, "old_rejected")["status"] == "rejected"
    before = file_bytes(tmp_path) + documents_text(pipeline)
    old_blobs = packed_leads(pipeline, ("month_old", "old_open", "old_closed", "old_rejected"))
    assert all(blob in file_bytes(tmp_path) for blob in old_blobs)
    for name in LEADS:  # the check can see each contact before the run
        assert all(t in before for t in traces(name)), name
    assert b64_letter(OLD_LETTER_PHONE) in before

    report = run_retention(settings, now=NOW, index=pipeline.index)

    assert report.errors == []
    assert counts(report) == {
        ("embedded", "lead contacts removed"): 2,  # month_old, old_open (the closed ones' leads are deleted)
        ("embedded", "dead letters deleted"): 1,
        ("embedded", "closed cases deleted"): 2,
        ("embedded", "leads deleted"): 2,
        ("attachments", "photos of deleted leads"): 1,
        ("inbox", "hotline exports deleted"): 1,
    }
    assert sorted(p.name for p in (tmp_path / "inbox" / "done").iterdir()) == ["new.csv"]
    after = file_bytes(tmp_path) + documents_text(pipeline)
    # No stored form of an old lead's document is left on any page (deleted, or rewritten without its contact).
    assert not any(blob in file_bytes(tmp_path) for blob in old_blobs)
    for name in ("month_old", "old_open", "old_closed", "old_rejected"):
        for trace in traces(name):
            assert trace not in after, (name, trace.decode())
    assert b64_letter(OLD_LETTER_PHONE) not in after
    # Newer ones stay, in the document and as the officers' API gives them.
    assert all(t in after for t in traces("recent")) and b64_letter(NEW_LETTER_PHONE) in after
    assert lead(pipeline, "recent")["contact"]["phone"] == "13922220002"
    assert lead(pipeline, "month_old")["contact"] is None and lead(pipeline, "month_old")["text"]
    # The open case of an old lead stays, with its lead; the finished ones are gone with theirs and the photo.
    assert case(pipeline, "old_open") is not None and lead(pipeline, "old_open") is not None
    for name in ("old_closed", "old_rejected"):
        assert case(pipeline, name) is None and lead(pipeline, name) is None
    assert AttachmentStore(tmp_path / "photos").metadata(PHOTO_ID) is None
    assert not list((tmp_path / "photos").rglob(f"{PHOTO_ID}.*"))
    assert [d.payload for d in pipeline.index.dead_letters()] == [letter(NEW_LETTER_PHONE, 0).payload]
    # Full-text search no longer finds the deleted leads (trigram and short-term tables).
    from leadhub.queries import SearchRequest

    assert pipeline.store.search(SearchRequest(kind="leads", q="电梯")).total == 0
    assert pipeline.store.search(SearchRequest(kind="leads", q="油")).total == 0
    assert pipeline.store.search(SearchRequest(kind="leads", q="路灯")).total == 1
    db = pipeline.index.db
    assert db.execute("SELECT count(*) FROM leads_fts").fetchone()[0] == 3
    # A second run finds nothing more to do.
    again = run_retention(settings, now=NOW, index=pipeline.index)
    assert all(count == 0 for count in counts(again).values())
    pipeline.close()


def test_a_dry_run_changes_nothing_and_reports_what_the_run_then_does(tmp_path):
    settings, pipeline = build(tmp_path)
    pipeline.close()
    before = file_bytes(tmp_path)
    dry = run_retention(settings, dry_run=True, now=NOW)
    assert file_bytes(tmp_path) == before
    assert AttachmentStore(tmp_path / "photos").metadata(PHOTO_ID) is not None
    assert len(list((tmp_path / "inbox" / "done").iterdir())) == 2
    real = run_retention(settings, now=NOW)
    assert counts(dry) == counts(real) and sum(c or 0 for c in counts(real).values()) == 9


def test_deleted_documents_are_archived_without_contacts(tmp_path):
    settings, pipeline = build(tmp_path, f"retention.archive_dir={tmp_path / 'archive'}")
    report = run_retention(settings, now=NOW, index=pipeline.index)
    pipeline.close()
    (archived,) = (tmp_path / "archive").glob("retention-*.jsonl.gz")
    assert archived.stat().st_mode & 0o777 == 0o600
    lines = [json.loads(line) for line in gzip.open(archived, "rt", encoding="utf-8")]
    assert sorted(line["kind"] for line in lines) == ["case", "case", "lead", "lead"]
    assert all("contact" not in line["doc"] for line in lines)
    assert {line["doc"]["case_id"] for line in lines} == {lead_id_for("hotline-12345", n) for n in ("old_closed", "old_rejected")}
    assert [r.count for r in report.rows if r.store == "archive"] == [4]


def test_nothing_is_removed_by_default_but_contacts_after_180_days(tmp_path):
    settings = build_settings(overrides=parse_overrides(["mode=embedded"]))
    assert (settings.retention.contact_days, settings.retention.lead_years, settings.retention.archive_dir) == (180, None, None)
    settings, pipeline = build(tmp_path, "retention.contact_days=180", "retention.lead_years=none")
    report = run_retention(settings, now=NOW, index=pipeline.index)
    assert counts(report) == {
        ("embedded", "lead contacts removed"): 3,
        ("embedded", "dead letters deleted"): 0,
        ("inbox", "hotline exports deleted"): 0,
    }
    assert lead(pipeline, "month_old")["contact"]["phone"] == "13911110001"
    assert case(pipeline, "old_closed") is not None
    pipeline.close()


def test_the_cli_prints_counts_and_a_dry_run_as_json(tmp_path, capsys):
    settings, pipeline = build(tmp_path)
    pipeline.close()
    args = ["--set", "mode=embedded", "--set", f"embedded.path={tmp_path / 'e.sqlite'}", "--set", f"attachments.path={tmp_path / 'photos'}",
            "--set", "retention.contact_days=30", "--set", "retention.lead_years=2", "--set", "hotspots.enabled=false", "--set", f"ingest.sources={tmp_path / 'sources.yaml'}"]  # fmt: skip
    assert main([*args, "retention", "run", "--dry-run", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["dry_run"] is True and {r["part"]: r["count"] for r in shown["rows"]}["dead letters deleted"] == 1
    assert main([*args, "retention", "run"]) == 0
    out = capsys.readouterr().out
    assert "dead letters deleted" in out and "dry run" not in out
    assert main([*args, "retention", "run", "--dry-run", "--json"]) == 0  # the file's own clock: some are past the limit now
    assert main(["--set", "mode=embedded", "--set", f"embedded.path={tmp_path / 'none.sqlite'}", "retention", "run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no store at" in err


def test_the_scheduler_runs_it_at_the_scheduled_time(tmp_path):
    settings, pipeline = build(tmp_path, "retention.schedule=30 3 * * *", "briefing.timezone=Asia/Shanghai")
    ticks = iter([dt.datetime(2026, 12, 6, 19, 29, 59, tzinfo=dt.UTC)])  # 03:29:59 in Shanghai

    def clock() -> dt.datetime:
        return next(ticks, dt.datetime(2026, 12, 6, 19, 30, 1, tzinfo=dt.UTC))

    stop = start_retention_schedule(settings, pipeline.index, now=clock, poll_s=0.05)
    try:
        for _ in range(200):
            if lead(pipeline, "month_old")["contact"] is None:
                break
            import time

            time.sleep(0.05)
    finally:
        stop()
    assert lead(pipeline, "month_old")["contact"] is None and lead(pipeline, "recent")["contact"] is not None
    pipeline.close()


@pytest.mark.parametrize("value", ["0", "-3"])
def test_contact_days_must_be_positive(value):
    from schemas.errors import ConfigError

    with pytest.raises(ConfigError, match="retention.contact_days"):
        build_settings(overrides=parse_overrides([f"retention.contact_days={value}"]))
