"""The sink suite (tests/sink_suite.py) on the embedded index: no services, so the fast loop checks
the rules both sinks share; tests/integration/test_sink_suite.py runs the same on the search writer."""

import json

import pytest

from sinks.embedded_index import EmbeddedIndex
from sinks.embedded_sink import EmbeddedSink
from tests.sink_suite import feed, letters_of, scenarios

RUN = "u1"


class EmbeddedView:
    def __init__(self, index: EmbeddedIndex, scenario) -> None:
        self.index = index
        self.letters = letters_of(index.dead_letters(1000), scenario)

    def lead(self, lead_id: str) -> dict:
        found = self.index.db.execute("SELECT doc_json(doc) FROM leads WHERE lead_id = ?", (lead_id,)).fetchone()
        assert found, f"no lead {lead_id}"
        return json.loads(found[0])

    def case(self, case_id: str) -> dict:
        doc = self.index.case_document(case_id)
        assert doc is not None, f"no case {case_id}"
        return doc


@pytest.mark.parametrize("scenario", scenarios(RUN), ids=lambda s: s.name)
def test_embedded_sink(scenario, tmp_path):
    index = EmbeddedIndex(tmp_path / "index.sqlite")
    try:
        feed(EmbeddedSink(index), scenario.batches)
        scenario.check(EmbeddedView(index, scenario))
    finally:
        index.close()


def test_a_replay_of_every_scenario_changes_no_document(tmp_path):
    """At-least-once: the same inputs again (a crash before the commit) leave every document as it was."""
    for scenario in scenarios("replay"):
        index = EmbeddedIndex(tmp_path / f"{scenario.name}.sqlite")
        sink = EmbeddedSink(index)
        feed(sink, scenario.batches)
        view = EmbeddedView(index, scenario)
        before = [view.lead(i) for i in scenario.lead_ids] + [view.case(i) for i in scenario.case_ids]
        feed(sink, scenario.batches)
        view = EmbeddedView(index, scenario)
        assert [view.lead(i) for i in scenario.lead_ids] + [view.case(i) for i in scenario.case_ids] == before, scenario.name
        index.close()
