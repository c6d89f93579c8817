"""All stages in one process, no Kafka: embedded mode and fast tests run the same handlers."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from enrichers.dedup import MemoryDedupState
from enrichers.pipeline import build_router
from enrichers.route import MemoryCaseBook
from leadhub.settings import RoutingSettings
from schemas.cases import Case, Status
from schemas.leads import RawLead
from schemas.serialization import encode
from streams.records import Output, Record
from streams.stages import CaseStatusTracker, NormalizeStage, RouteStage


class MemoryStatuses:
    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}

    def status(self, case_id: str) -> Status | None:
        case = self.cases.get(case_id)
        return case.status if case else None

    def store(self, case: Case) -> None:
        self.cases[case.case_id] = case


class LocalRunner:
    """Feeds each output to the stage that consumes its topic, until nothing is left."""

    def __init__(self, routing: RoutingSettings) -> None:
        self.statuses = MemoryStatuses()
        self.dedup_state = MemoryDedupState()
        self.case_book = MemoryCaseBook()
        router = build_router(routing, self.dedup_state, self.case_book, self.statuses)
        tracker = CaseStatusTracker(self.statuses.cases.get, self.statuses.store)
        self.consumers = {
            "leads.raw": NormalizeStage(routing.source_timezone),
            "leads.clean": RouteStage(router),
            "cases.events": tracker,
        }
        self.topics: dict[str, list[Output]] = defaultdict(list)

    def submit(self, records: Iterable[Record], topic: str = "leads.raw") -> None:
        pending = deque((topic, record) for record in records)
        while pending:
            name, record = pending.popleft()
            stage = self.consumers.get(name)
            if stage is None:
                continue
            for out in stage.handle(record):
                self.topics[out.topic].append(out)
                pending.append((out.topic, Record(out.value, out.key, out.headers, out.topic)))

    def submit_raw(self, leads: Iterable[RawLead]) -> None:
        records = []
        for lead in leads:
            value, headers = encode(lead)
            records.append(Record(value, lead.key.encode(), headers, "leads.raw"))
        self.submit(records)
