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
    state = TableDedupState(table, 64)
    first = Deduplicator(state, DedupConfig())
    before = [first.assign(f"lead-{i}", "", text).case_id for i, text in enumerate(texts[:3])]
    assert before[0] == before[1] != before[2]
    assert table == {}  # written once per batch
    state.flush()
    # one entry for the batch; compact: one string of anchors per sketch
    assert list(table) == ["seq:0"] and [row[0] for row in table["seq:0"]["sketches"]] == ["lead-0", "lead-1", "lead-2"]
    assert all(isinstance(row[3], str) for row in table["seq:0"]["sketches"])

    restarted_state = TableDedupState(table, 64)
    restarted = Deduplicator(restarted_state, DedupConfig())
    assert restarted.assign("lead-3", "", texts[3]).case_id == before[0]
    assert restarted.assign("lead-1", "", texts[1]).kind == "replay"
    restarted_state.flush()
    assert list(table) == ["seq:0", "seq:3"] and table["seq:3"]["sketches"][0][0] == "lead-3"


def test_table_dedup_state_reads_the_entries_of_one_lead_before_those_of_a_batch_in_seq_order():
    from enrichers.dedup import DedupConfig, Deduplicator, Sketch
    from streams.tables import TableDedupState

    texts = [POST, "北苑街道春华路工地夜间施工噪音扰民，晚上十一点以后还在打桩。", POST + "补充：至今仍未解决。"]
    table: dict = {}
    state = TableDedupState(table, 64)
    dedup = Deduplicator(state, DedupConfig())
    for i, text in enumerate(texts):
        dedup.assign(f"lead-{i}", "", text)
    state.flush()
    row = table.pop("seq:0")["sketches"]
    # what a worker of the format before wrote: an entry a lead, keyed by its id, with its seq
    table["lead-0"] = {"seq": 0, "case_id": row[0][1], "fingerprint": row[0][2], "anchors": row[0][3], "at": row[0][4]}
    table["seq:1"] = {"seq": 1, "sketches": row[1:]}
    reread = TableDedupState(table, 64)
    assert [reread.get(f"lead-{i}") for i in range(3)] == [state.get(f"lead-{i}") for i in range(3)]
    assert all(isinstance(s, Sketch) for s in (reread.get("lead-0"), reread.get("lead-2")))
    assert reread.lead_with_fingerprint(row[2][2]) == state.lead_with_fingerprint(row[2][2])
    reread.put(Sketch("lead-9", "lead-9", "f9", [1, 2, 3], None), 64)
    reread.flush()
    assert table["seq:3"]["seq"] == 3  # numbered on from the entries read


def test_table_dedup_state_writes_a_large_batch_in_entries_of_a_bounded_size_and_keeps_unflushed_sketches_in_a_rebuild():
    from enrichers.dedup import Sketch
    from streams.tables import SKETCHES_PER_ENTRY, TableDedupState

    table: dict = {}
    state = TableDedupState(table, 64)
    n = 2 * SKETCHES_PER_ENTRY + 1
    for i in range(n):
        state.put(Sketch(f"lead-{i}", "lead-0", f"f{i}", [i, i + 1], float(i)), 64)
    state.flush()
    assert [len(entry["sketches"]) for entry in table.values()] == [SKETCHES_PER_ENTRY, SKETCHES_PER_ENTRY, 1]
    state.put(Sketch("pending", "lead-0", "fp", [7], None), 64)
    table["lead-x"] = {"seq": n, "case_id": "lead-x", "fingerprint": "fx", "anchors": [9], "at": None}  # another worker's, seen on a rebalance
    assert state.get("lead-x") is not None and state.get("pending") is not None  # rebuilt, the unflushed sketch kept
    state.flush()
    assert table[f"seq:{n + 1}"]["sketches"][0][0] == "pending"
    assert TableDedupState(table, 64).get(f"lead-{n - 1}").at == float(n - 1)


def test_table_dedup_state_reads_sketches_of_the_older_format():
    from enrichers.dedup import DedupConfig, Deduplicator, anchors, fingerprint
    from streams.tables import TableDedupState

    old = {"case_id": "lead-0", "fingerprint": fingerprint("", POST), "anchors": list(anchors("", POST, DedupConfig())), "at": None}
    table = {"lead-0": old}
    state = TableDedupState(table, 64)
    dedup = Deduplicator(state, DedupConfig())
    assert dedup.assign("lead-1", "", POST).case_id == "lead-0"
    state.flush()
    assert table["seq:0"]["sketches"][0][0] == "lead-1"
