"""leadhub replay on the cluster (issue 21), against the real Kafka and OpenSearch: leads routed by the
bundled taxonomy reach the index through leads.routed / cases.state and the search sink, an officer
recategorizes one case and assigns another through the API's own path; then `leadhub replay` with a
changed taxonomy. Counts, leads and cases updated, decisions and workflow kept, resume after --max, a
second run changes nothing. The embedded half: tests/unit/test_replay_embedded.py."""

from __future__ import annotations

import io
import threading
import time
from contextlib import redirect_stderr, redirect_stdout

import pytest
from kafka import KafkaProducer

from adapters.kafka_clients import kafka_python_options
from adapters.search_backend import SearchBackend
from enrichers.dedup import MemoryDedupState
from enrichers.route import MemoryCaseBook
from enrichers.taxonomy import load_taxonomy
from leadhub.case_actions import KafkaPublisher, act, allowed_departments, ledger_for
from leadhub.cli import main
from leadhub.readers.engine import EngineStore
from leadhub.settings import build_settings, parse_overrides
from schemas.cases import CaseEvent
from schemas.leads import Lead, RawLead
from schemas.serialization import encode
from sinks.batch import BatchLimits
from sinks.writer import SearchSink
from streams.pipeline import build_router
from tests.replay_data import NEW_CLASS, NEW_DEPARTMENT, raw_leads, write_changed_taxonomy

pytestmark = pytest.mark.integration

DECIDED = {"level1": "经济管理", "level2": "安全生产"}
SAFETY, BUILDING = "市应急管理局", "市住房和城乡建设局"


class _NoStatuses:
    def status(self, case_id):
        return None


def _wait(check, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen in {timeout_s} s")


def test_replay_on_the_cluster_moves_the_changed_class_keeps_decisions_resumes_and_is_idempotent(
    kafka_settings, search, unique, tmp_path
):
    overrides = [f"kafka.topic_prefix=rp{unique}.", f"search.index_prefix=rp{unique}", "routing.model=none",
                 f"services.home={tmp_path / 'svc'}"]  # fmt: skip
    args = [a for o in overrides for a in ("--set", o)]
    assert main([*args, "topics", "create"]) == 0
    assert main([*args, "index", "init"]) == 0
    settings = build_settings(overrides=parse_overrides(overrides))

    # The route stage's pure part, as the worker runs it, then its outputs through Kafka and the real sink.
    router = build_router(settings.routing, MemoryDedupState(), MemoryCaseBook(), _NoStatuses())
    raws = raw_leads()
    outputs = [router.route(Lead.from_raw(raw)) for raw in raws]
    producer = KafkaProducer(**kafka_python_options(settings.kafka), acks="all")
    for out in outputs:
        for topic, model, key in (("leads.routed", out.lead, out.lead.lead_id), ("cases.state", out.case, out.case.case_id)):
            value, headers = encode(model)
            producer.send(f"rp{unique}.{topic}", value=value, key=key.encode(), headers=headers)
    producer.flush()
    producer.close()
    sink = SearchSink(settings, group_id=f"replay-{unique}", limits=BatchLimits(max_age_s=0.1))
    thread = threading.Thread(target=sink.run, daemon=True)
    thread.start()
    backend = SearchBackend.from_settings(settings.search)
    leads_index, cases_index = f"rp{unique}-leads", f"rp{unique}-cases"
    store = EngineStore(backend, f"rp{unique}")
    publisher = KafkaPublisher(settings.kafka)
    try:
        _wait(lambda: all(store.get("leads", r.lead_id) for r in raws) and len(backend.mget(cases_index, [r.lead_id for r in raws])) == 7,
              "the routed leads and cases reaching the index")  # fmt: skip

        # An officer recategorizes street lead 0's case and assigns lead 1's, through the API's path.
        taxonomy = load_taxonomy()
        decided, assigned = raws[0].lead_id, raws[1].lead_id
        for event in (
            CaseEvent(case_id=decided, action="recategorize", actor="dispatcher-1", department=SAFETY, **DECIDED),
            CaseEvent(case_id=assigned, action="accept", actor="officer-1"),
            CaseEvent(case_id=assigned, action="assign", actor="officer-1", department=BUILDING, assignee="王工"),
        ):
            act(ledger_for(store), publisher, event, allowed_departments=allowed_departments(taxonomy, []), taxonomy=taxonomy)
        # The sink applies the events from cases.events too (finding them applied): let it settle.
        _wait(lambda: (store.get("leads", decided) or {}).get("category_source") == "human", "the decision reaching the lead")
        time.sleep(1.0)
        backend.refresh(leads_index), backend.refresh(cases_index)
        before_cases = {cid: store.get("cases", cid) for cid in (r.lead_id for r in raws)}

        changed = write_changed_taxonomy(tmp_path)
        replay = [*args, "--set", f"routing.taxonomy={changed}", "replay", "--page-size", "2"]
        assert main([*replay, "--max", "3"]) == 0  # stopped after 3 leads, as an interruption
        assert list((tmp_path / "replay").glob("*.json")), "a checkpoint is kept under local_dir"
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            assert main(replay) == 0
        assert "resuming from" in err.getvalue() and "leads/s" in err.getvalue()
        report = out.getvalue()
        assert "replay done: 7 leads read, 4 changed category or department (4 category, 4 department)" in report
        assert "4 leads and 4 cases updated, 1 skipped as human-decided" in report
        assert not list((tmp_path / "replay").glob("*.json")), "a finished run leaves no checkpoint"

        backend.refresh(leads_index), backend.refresh(cases_index)
        for raw in raws[1:5]:
            lead = store.get("leads", raw.lead_id)
            assert lead["category"]["level2"] == NEW_CLASS and lead["department"] == NEW_DEPARTMENT
            assert lead["case_id"] == raw.lead_id
        kept = store.get("leads", decided)
        assert kept["category"] == DECIDED and kept["department"] == SAFETY
        after_cases = {cid: store.get("cases", cid) for cid in before_cases}
        assert after_cases[decided] == before_cases[decided]
        case, was = after_cases[assigned], before_cases[assigned]
        assert case["department"] == BUILDING and case["category"]["level2"] == NEW_CLASS
        for name in ("status", "assignee", "history", "report_count", "lead_ids"):
            assert case[name] == was[name]
        for raw in raws[2:5]:
            assert after_cases[raw.lead_id]["department"] == NEW_DEPARTMENT
            assert after_cases[raw.lead_id]["category_source"] == "replay"
        for raw in raws[5:]:
            assert after_cases[raw.lead_id] == before_cases[raw.lead_id]

        # A second run changes nothing: no lead or case document gets a new version.
        versions = {hit["_id"]: hit["_seq_no"] for hit in backend.find(leads_index, [r.lead_id for r in raws]).values()}
        out = io.StringIO()
        with redirect_stdout(out), redirect_stderr(io.StringIO()):
            assert main(replay) == 0
        assert "0 changed category or department" in out.getvalue() and "0 leads and 0 cases updated" in out.getvalue()
        assert {hit["_id"]: hit["_seq_no"] for hit in backend.find(leads_index, list(versions)).values()} == versions
        assert {cid: store.get("cases", cid) for cid in before_cases} == after_cases

        # A new report joins a replayed case: the worker's snapshot carries the routing the case got when
        # it was new (its state is the worker's own); the sink keeps the replay's routing.
        later = router.route(Lead.from_raw(RawLead(source="hotline-12345", channel="hotline", external_id=f"WO-{unique}",
                                                   body="市民来电反映：" + raws[2].body)))  # fmt: skip
        assert later.case.case_id == raws[2].lead_id and later.case.category.level2 != NEW_CLASS
        producer = KafkaProducer(**kafka_python_options(settings.kafka), acks="all")
        value, headers = encode(later.case)
        producer.send(f"rp{unique}.cases.state", value=value, key=later.case.case_id.encode(), headers=headers)
        producer.flush()
        producer.close()
        _wait(lambda: (store.get("cases", raws[2].lead_id) or {}).get("report_count") == 2, "the snapshot reaching the case")
        joined = store.get("cases", raws[2].lead_id)
        assert joined["category"]["level2"] == NEW_CLASS and joined["department"] == NEW_DEPARTMENT
        assert joined["category_source"] == "replay"
    finally:
        sink.stop()
        thread.join(timeout=30)
        publisher.close()
        backend.close()
