"""leadhub replay on the embedded index (issue 21), no services: leads routed by the bundled taxonomy,
replayed with a changed one. Counts, leads and cases updated, a recategorized case and an assigned
case's department kept, workflow kept, resume after --max and after an interruption, a second run
changes nothing, --unhandled-only. The cluster half: tests/integration/test_replay_cluster.py."""

from __future__ import annotations

import json

import pytest

from enrichers.taxonomy import load_taxonomy
from leadhub.case_actions import act, allowed_departments, ledger_for
from leadhub.cli import main
from leadhub.embedded import EmbeddedPipeline, EmbeddedPublisher
from leadhub.replay import ReplayArgs, ReplayRun, checkpoint_for, load_routing
from leadhub.replay_stores import EmbeddedReplayStore
from leadhub.settings import build_settings, parse_overrides
from schemas.cases import Case, CaseEvent
from schemas.leads import Category, RawLead
from sinks.documents import apply_case_routing, apply_case_state
from sinks.embedded_index import EmbeddedIndex
from tests.replay_data import NEW_CLASS, NEW_DEPARTMENT, OLD_CLASS, OLD_DEPARTMENT, raw_leads, write_changed_taxonomy

DECIDED = {"level1": "经济管理", "level2": "安全生产"}
SAFETY, BUILDING = "市应急管理局", "市住房和城乡建设局"


def _overrides(tmp_path, *more):
    return ["mode=embedded", f"embedded.path={tmp_path / 'e.sqlite'}", "routing.model=none",
            f"services.home={tmp_path / 'svc'}", *more]  # fmt: skip


@pytest.fixture
def stored(tmp_path):
    """The index after routing with the bundled taxonomy: street lead 0's case recategorized by a
    dispatcher, street lead 1's case accepted and assigned. Returns (settings for the changed
    taxonomy, leads, decided case id, assigned case id)."""
    settings = build_settings(overrides=parse_overrides(_overrides(tmp_path)))
    pipeline = EmbeddedPipeline(settings)
    leads = raw_leads()
    pipeline.submit_raw(leads)
    taxonomy = load_taxonomy()
    departments = allowed_departments(taxonomy, [])
    decided, assigned = (pipeline.store.get("leads", lead.lead_id)["case_id"] for lead in leads[:2])
    events = [
        CaseEvent(case_id=decided, action="recategorize", actor="dispatcher-1", level1=DECIDED["level1"],
                  level2=DECIDED["level2"], department=SAFETY),
        CaseEvent(case_id=assigned, action="accept", actor="officer-1"),
        CaseEvent(case_id=assigned, action="assign", actor="officer-1", department=BUILDING, assignee="王工"),
    ]  # fmt: skip
    for event in events:
        act(ledger_for(pipeline.store), EmbeddedPublisher(pipeline), event, allowed_departments=departments, taxonomy=taxonomy)
    pipeline.close()
    changed = write_changed_taxonomy(tmp_path)
    return build_settings(overrides=parse_overrides(_overrides(tmp_path, f"routing.taxonomy={changed}"))), leads, decided, assigned


def _docs(index: EmbeddedIndex, kind: str) -> dict[str, dict]:
    key = "lead_id" if kind == "leads" else "case_id"
    return {row[0]: json.loads(row[1]) for row in index.db.execute(f"SELECT {key}, doc_json(doc) FROM {kind}")}  # noqa: S608


def _run(settings, index, **kw) -> ReplayRun:
    categorizer, gazetteer = load_routing(settings)
    store = EmbeddedReplayStore(index)
    args = kw.pop("args", ReplayArgs())
    return ReplayRun(store, categorizer, gazetteer, args, checkpoint_for(settings, store, args), **kw)


def test_replay_moves_the_changed_class_keeps_decisions_and_workflow_resumes_and_a_second_run_changes_nothing(stored):
    settings, leads, decided, assigned = stored
    index = EmbeddedIndex(settings.embedded.path)
    before_cases = _docs(index, "cases")

    # Stopped after 3 leads (as --max does): a checkpoint, and the rest still to do.
    first = _run(settings, index, page_size=2, max_leads=3)
    partial = first.run()
    assert not first.finished and partial.scanned == 3 and first.checkpoint.path.is_file()

    # The same arguments resume there: every lead read once over the two runs.
    second = _run(settings, index, page_size=2)
    counts = second.run()
    assert second.finished and not second.checkpoint.path.exists()
    assert counts.scanned == 7
    # Street leads 1-4 move (class renamed, new department); lead 0's case was recategorized: kept.
    assert (counts.changed, counts.changed_category, counts.changed_department, counts.skipped_human) == (4, 4, 4, 1)
    assert counts.updated == 4 and counts.cases_updated == 4

    after_leads, after_cases = _docs(index, "leads"), _docs(index, "cases")
    for lead in leads[1:5]:
        doc = after_leads[lead.lead_id]
        assert doc["category"] == {"level1": "城乡建设", "level2": NEW_CLASS} and doc["department"] == NEW_DEPARTMENT
        assert doc["case_id"] == lead.lead_id  # no dedup again: each stays in its case
    for lead in leads[5:]:
        assert after_leads[lead.lead_id]["category"]["level2"] != OLD_CLASS
    kept = after_leads[leads[0].lead_id]
    assert kept["category"] == DECIDED and kept["department"] == SAFETY and kept["category_source"] == "human"
    assert after_cases[decided] == before_cases[decided]  # the recategorized case: untouched

    # The assigned case: its department is the officer's, its workflow as it was; its category follows.
    case, was = after_cases[assigned], before_cases[assigned]
    assert case["department"] == BUILDING and case["category"]["level2"] == NEW_CLASS
    for name in ("status", "assignee", "history", "report_count", "lead_ids", "first_seen"):
        assert case[name] == was[name]
    assert case["status"] == "assigned" and case["assignee"] == "王工"
    for lead in leads[2:5]:
        assert after_cases[lead.lead_id]["department"] == NEW_DEPARTMENT
        assert after_cases[lead.lead_id]["category"]["level2"] == NEW_CLASS
        assert after_cases[lead.lead_id]["category_source"] == "replay"

    # A second run finds nothing to change and writes nothing.
    again = _run(settings, index).run()
    assert (again.scanned, again.changed, again.updated, again.cases_updated, again.skipped_human) == (7, 0, 0, 0, 1)
    assert _docs(index, "leads") == after_leads and _docs(index, "cases") == after_cases
    index.close()


class _Interrupted(KeyboardInterrupt):
    pass


def test_an_interrupted_replay_resumes_after_its_last_saved_page_with_the_counts_of_the_whole_run(stored):
    settings, _, _, _ = stored
    index = EmbeddedIndex(settings.embedded.path)
    run = _run(settings, index, page_size=2)
    writes = []
    real_write = run.store.write

    def write_then_stop(leads, cases):  # Ctrl-C during the third page's write
        if len(writes) == 2:
            raise _Interrupted()
        writes.append(1)
        return real_write(leads, cases)

    run.store.write = write_then_stop  # type: ignore[method-assign]
    with pytest.raises(_Interrupted):
        run.run()
    assert run.checkpoint.load()[1].scanned == 4  # two pages saved; the third is done again on resume
    resumed = _run(settings, index, page_size=2)
    counts = resumed.run()
    assert resumed.finished and counts.scanned == 7 and counts.changed == 4 and counts.skipped_human == 1
    # --restart ignores a checkpoint: everything read again, nothing left to change.
    run.checkpoint.save([0, ""], counts, ReplayArgs())
    fresh = _run(settings, index).run(restart=True)
    assert (fresh.scanned, fresh.changed, fresh.updated, fresh.skipped_human) == (7, 0, 0, 1)
    index.close()


def test_unhandled_only_leaves_the_leads_of_cases_someone_acted_on(stored):
    settings, leads, _, assigned = stored
    index = EmbeddedIndex(settings.embedded.path)
    counts = _run(settings, index, args=ReplayArgs(unhandled_only=True)).run()
    assert (counts.changed, counts.skipped_human, counts.skipped_handled) == (3, 1, 1)
    assert _docs(index, "leads")[leads[1].lead_id]["department"] == OLD_DEPARTMENT
    assert _docs(index, "cases")[assigned]["category"]["level2"] == OLD_CLASS
    index.close()


def test_the_command_reports_progress_on_stderr_and_the_counts_and_resumes_after_max(stored, capsys):
    settings, _, _, _ = stored
    args = ["--set", f"embedded.path={settings.embedded.path}", "--set", "mode=embedded", "--set", "routing.model=none",
            "--set", f"services.home={settings.services.home}", "--set", f"routing.taxonomy={settings.routing.taxonomy}"]  # fmt: skip
    assert main([*args, "replay", "--max", "5", "--page-size", "5"]) == 0
    out, err = capsys.readouterr()
    assert "replay: 5/7 leads" in err and "stopped at --max" in out
    assert main([*args, "replay"]) == 0
    out, err = capsys.readouterr()
    assert "resuming from" in err and "replay done: 7 leads read, 4 changed category or department" in out
    assert "1 skipped as human-decided" in out
    assert main([*args, "replay"]) == 0
    assert "0 changed category or department" in capsys.readouterr().out
    # --since / --until choose leads by when they were reported (here: fetched, now).
    assert main([*args, "replay", "--since", "2999-01-01"]) == 0
    assert "replay done: 0 leads read" in capsys.readouterr().out
    assert main([*args, "replay", "--until", "2999-01-01"]) == 0
    assert "replay done: 7 leads read" in capsys.readouterr().out
    assert main([*args, "replay", "--since", "2030-01-02", "--until", "2030-01-01"]) == 2
    assert "error: --since must be before --until" in capsys.readouterr().err


def test_replay_records_the_model_version_that_routed_a_lead_again(stored):
    settings, leads, _, _ = stored
    index = EmbeddedIndex(settings.embedded.path)
    older = leads[5].lead_id  # a lead stored before leads recorded their model: no model_version
    doc = _docs(index, "leads")[older]
    doc.pop("model_version", None)
    with index.transaction() as db:
        db.execute("UPDATE leads SET doc = ? WHERE lead_id = ?", (json.dumps(doc, ensure_ascii=False), older))
    counts = _run(settings, index).run()
    assert (counts.changed, counts.updated) == (4, 5)  # its category stays; its record of the model is new
    after = _docs(index, "leads")
    assert after[older]["model_version"] == "rules" and after[older]["category"] == doc["category"]
    assert all(after[lead.lead_id]["model_version"] == "rules" for lead in leads[1:5])
    index.close()


def test_a_report_joining_a_replayed_case_later_keeps_the_case_on_its_new_routing(stored):
    settings, leads, _, _ = stored
    index = EmbeddedIndex(settings.embedded.path)
    assert _run(settings, index).run().changed == 4
    index.close()
    # The route stage's case book took the new routing too, so its next snapshot of the case carries it.
    pipeline = EmbeddedPipeline(build_settings(overrides=parse_overrides(_overrides(settings.embedded.path.parent))))
    case_id = leads[2].lead_id
    later = RawLead(source="hotline-12345", channel="hotline", external_id="WO-1", body="市民来电反映：" + leads[2].body)
    pipeline.submit_raw([later])
    case = pipeline.store.get("cases", case_id)
    assert pipeline.store.get("leads", later.lead_id)["case_id"] == case_id and case["report_count"] == 2
    assert case["category"]["level2"] == NEW_CLASS and case["department"] == NEW_DEPARTMENT
    pipeline.close()


def test_the_one_rule_a_replayed_case_keeps_its_routing_from_snapshots_a_replay_may_change_it_a_person_wins():
    routed = {"case_id": "c", "category": {"level1": "城乡建设", "level2": OLD_CLASS}, "department": OLD_DEPARTMENT,
              "place": None, "history": []}  # fmt: skip
    new = {"category": {"level1": "城乡建设", "level2": NEW_CLASS}, "department": NEW_DEPARTMENT, "place": {"town": "福田街道"}}
    replayed = apply_case_routing(routed, new)
    assert replayed == {**routed, **new, "category_source": "replay"} and apply_case_routing(replayed, new) == replayed
    # The route stage's next snapshot (a new report) carries the routing the case got when new: kept out.
    snapshot = Case(case_id="c", category=Category(level1="城乡建设", level2=OLD_CLASS), department=OLD_DEPARTMENT,
                    report_count=2)  # fmt: skip
    after = apply_case_state(replayed, snapshot)
    assert after["report_count"] == 2 and {k: after[k] for k in new} == new
    # A later replay may move it again; an officer's decision and assignment are never moved.
    again = {**new, "department": "市交通运输局"}
    assert apply_case_routing(replayed, again)["department"] == "市交通运输局"
    decided = {**replayed, "category_source": "human", "category": DECIDED, "department": SAFETY}
    assert apply_case_routing(decided, again) == decided and apply_case_state(decided, snapshot)["category"] == DECIDED
    assigned = {**routed, "department": BUILDING, "history": [{"action": "assign", "actor": "officer-1"}]}
    moved = apply_case_routing(assigned, new)
    assert moved["department"] == BUILDING and moved["category"] == new["category"]
    assert apply_case_routing(routed, {k: routed[k] for k in new}) == routed  # nothing to change: no marker
