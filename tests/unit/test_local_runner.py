"""The stage handlers in one process (no Kafka): the same code the faust agents run."""

import pytest

from leadhub.settings import RoutingSettings
from schemas.cases import Case, CaseEvent
from schemas.dead_letters import DeadLetter
from schemas.leads import Lead, RawLead
from schemas.serialization import decode, encode
from streams.local_runner import LocalRunner
from streams.records import Record

POST = (
    "稠城街道绣湖社区幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件。楼里住着很多老人，"
    "上下楼非常困难，希望有关部门督促物业尽快维修电梯。联系电话13812345678。"
)


def leads(runner, topic="leads.routed", model=Lead):
    return [decode(o.value, o.headers, model) for o in runner.topics[topic]]


def raw(external_id, body, channel="forum", source="forum-yiwu", **kw):
    return RawLead(source=source, channel=channel, external_id=external_id, body=body, **kw)


@pytest.fixture
def runner():
    return LocalRunner(RoutingSettings())


def test_a_lead_goes_through_normalize_and_route(runner):
    runner.submit_raw([raw("1", f"<p>{POST}</p>", title="电梯停运一周", contact={"phone": "13900001111"})])
    (lead,) = leads(runner)
    assert lead.category.level1 == "城乡建设" and lead.department == "市住房和城乡建设局"
    assert lead.place.town == "稠城街道" and lead.place.community == "绣湖社区"
    assert lead.case_id == lead.lead_id and lead.is_primary
    assert "13812345678" not in lead.text and lead.pii_types == ["mobile"] and lead.lang == "zh"
    assert lead.contact.phone == "13900001111"  # kept in its restricted field
    (case,) = leads(runner, "cases.state", Case)
    assert case.report_count == 1 and case.channels == ["forum"]


def test_duplicates_from_other_channels_join_and_count(runner):
    runner.submit_raw([
        raw("1", POST, title="电梯停运一周"),
        raw("WO-7", "市民来电反映：" + POST[:60], channel="hotline", source="hotline-12345"),
        raw("1", POST, title="电梯停运一周"),  # the same item fetched again
    ])  # fmt: skip
    routed = leads(runner)
    assert len({lead.case_id for lead in routed}) == 1
    case = leads(runner, "cases.state", Case)[-1]
    assert case.report_count == 2 and case.channels == ["forum", "hotline"]
    assert case.sources == ["forum-yiwu", "hotline-12345"]
    assert "reports:2" in routed[1].priority_reasons


def test_bad_records_become_dead_letters_and_the_stream_goes_on(runner):
    runner.submit([Record(b"\x00\xff", b"k", [("schema", b"RawLead/1")], "leads.raw", 3, 17)])
    runner.submit([Record(b'{"source": "x"}', b"k2", [], "leads.raw", 0, 18)])
    runner.submit_raw([raw("ok", POST)])
    letters = leads(runner, "leads.dlq", DeadLetter)
    assert [(d.stage, d.offset, d.payload) for d in letters] == [("normalize", 17, b"\x00\xff"), ("normalize", 18, b'{"source": "x"}')]
    assert "channel" in letters[1].error
    assert len(leads(runner)) == 1


def _close(runner, case_id):
    events = [
        CaseEvent(case_id=case_id, action="accept", actor="o"),
        CaseEvent(case_id=case_id, action="assign", actor="o", department="市住建局"),
        CaseEvent(case_id=case_id, action="start", actor="o"),
        CaseEvent(case_id=case_id, action="resolve", actor="o", note="已修好"),
    ]
    records = []
    for e in events:
        value, headers = encode(e)
        records.append(Record(value, case_id.encode(), headers, "cases.events"))
    runner.submit(records, topic="cases.events")


def test_a_new_report_on_a_resolved_case_is_flagged(runner):
    runner.submit_raw([raw("1", POST)])
    case_id = leads(runner)[0].case_id
    _close(runner, case_id)
    runner.submit_raw([raw("2", "【转帖】" + POST)])
    again = leads(runner)[-1]
    assert again.case_id == case_id and "recurred_after_close" in again.priority_reasons
    assert not runner.topics["cases.events"]


def test_a_new_report_on_a_resolved_case_can_reopen_it():
    runner = LocalRunner(RoutingSettings(on_closed_case="reopen"))
    runner.submit_raw([raw("1", POST)])
    case_id = leads(runner)[0].case_id
    _close(runner, case_id)
    runner.submit_raw([raw("2", "【转帖】" + POST)])
    (reopen,) = [decode(o.value, o.headers, CaseEvent) for o in runner.topics["cases.events"]]
    assert reopen.action == "reopen" and reopen.case_id == case_id
    assert runner.statuses.status(case_id) == "accepted"


def test_table_dedup_state_rebuilds_its_lookups_from_the_sketches_after_a_restart():
    from enrichers.dedup import DedupConfig, Deduplicator
    from streams.tables import TableDedupState

    table: dict = {}  # a faust Table is a mapping; its changelog is what keeps this dict across restarts
    texts = [POST, "市民来电反映：" + POST[:60], "北苑街道春华路工地夜间施工噪音扰民，晚上十一点以后还在打桩。", POST + "补充：至今仍未解决。"]
    first = Deduplicator(TableDedupState(table, 64), DedupConfig())
    before = [first.assign(f"lead-{i}", "", text).case_id for i, text in enumerate(texts[:3])]
    assert before[0] == before[1] != before[2]
    assert all(isinstance(v["anchors"], str) for v in table.values())  # compact: one string per sketch

    restarted = Deduplicator(TableDedupState(table, 64), DedupConfig())
    assert restarted.assign("lead-3", "", texts[3]).case_id == before[0]
    assert restarted.assign("lead-1", "", texts[1]).kind == "replay"
    assert [table[f"lead-{i}"]["seq"] for i in range(4)] == [0, 1, 2, 3]


def test_table_dedup_state_reads_sketches_of_the_older_format():
    from enrichers.dedup import DedupConfig, Deduplicator, anchors, fingerprint
    from streams.tables import TableDedupState

    old = {"case_id": "lead-0", "fingerprint": fingerprint("", POST), "anchors": list(anchors("", POST, DedupConfig())), "at": None}
    table = {"lead-0": old}
    dedup = Deduplicator(TableDedupState(table, 64), DedupConfig())
    assert dedup.assign("lead-1", "", POST).case_id == "lead-0"
    assert table["lead-1"]["seq"] == 0
