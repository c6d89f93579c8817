"""All stages in one process, no Kafka: embedded mode and fast tests run the same handlers."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable

from enrichers.dedup import DedupState, MemoryDedupState
from enrichers.route import CaseBook, CaseStatusView, MemoryCaseBook
from schemas.cases import Case, Status
from schemas.leads import RawLead
from schemas.serialization import encode
from streams.hot_issue_stage import HotIssueStage, RouteWithHotIssues
from streams.hotspot_stage import HotspotStage
from streams.normalize_pool import NormalizePool, build_stage
from streams.pipeline import ModelWatch, build_router
from streams.records import Output, Record
from streams.settings import RoutingSettings
from streams.stages import CaseStatusTracker, RouteStage, Stage


class MemoryStatuses:
    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}

    def status(self, case_id: str) -> Status | None:
        case = self.cases.get(case_id)
        return case.status if case else None

    def store(self, case: Case) -> None:
        self.cases[case.case_id] = case


class LocalRunner:
    """Feeds each output to the stage that consumes its topic, until nothing is left.

    By default the state is in memory and every output is kept in ``topics`` (tests, offline use).
    Embedded mode hands in state kept in its file, statuses read from its index, and ``on_output``,
    which writes each output there instead.
    """

    def __init__(
        self,
        routing: RoutingSettings,
        *,
        dedup_state: DedupState | None = None,
        case_book: CaseBook | None = None,
        statuses: CaseStatusView | None = None,
        on_output: Callable[[Output], None] | None = None,
        hotspots: HotspotStage | None = None,
        hot_issues: HotIssueStage | None = None,
        normalize_pool: NormalizePool | None = None,
    ) -> None:
        self.statuses = statuses or MemoryStatuses()
        self.dedup_state = dedup_state if dedup_state is not None else MemoryDedupState()
        self.case_book = case_book or MemoryCaseBook()
        router = build_router(routing, self.dedup_state, self.case_book, self.statuses)
        # A promoted model version is picked up before a batch, checked at most every model_check_seconds.
        self.models = ModelWatch(routing, router)
        self.consumers: dict[str, Stage] = {
            # With hot issues, normalize does their per-lead work ahead (HotIssueHints).
            "leads.raw": build_stage(routing.source_timezone, hot_issues.settings if hot_issues is not None else None),
            "leads.clean": RouteStage(router),
        }
        if hot_issues is not None:  # on the route stage's outputs: its routed leads get their entities there
            self.consumers["leads.clean"] = RouteWithHotIssues(self.consumers["leads.clean"], hot_issues)
        if isinstance(self.statuses, MemoryStatuses):
            # Statuses kept elsewhere (the embedded index) follow the events there.
            self.consumers["cases.events"] = CaseStatusTracker(self.statuses.cases.get, self.statuses.store)
        # Taps see a topic's records as well, but are not its consumer: a record sent again into
        # leads.routed (a dead letter's replay) still goes to the index, not only to the detector.
        self.taps: dict[str, Stage] = {"leads.routed": hotspots} if hotspots is not None else {}
        self.topics: dict[str, list[Output]] = defaultdict(list)
        self.on_output = on_output or (lambda out: self.topics[out.topic].append(out))
        # Normalizes large submits of leads.raw in other processes, the same stage as consumers' (embedded mode).
        self.normalize_pool = normalize_pool

    def submit(self, records: Iterable[Record], topic: str = "leads.raw") -> None:
        self.models.check_due()
        given = list(records)
        if topic == "leads.raw" and self.normalize_pool is not None and self.normalize_pool.worth(len(given)):
            # Each chunk goes all the way through while the pool normalizes the next ones.
            for outputs in self.normalize_pool.normalized(given):
                self._run(self._emit(outputs))
        else:
            self._run(deque((topic, record) for record in given))

    def _emit(self, outputs: list[Output]) -> deque[tuple[str, Record]]:
        for out in outputs:
            self.on_output(out)
        return deque((out.topic, Record(out.value, out.key, out.headers, out.topic)) for out in outputs)

    def _run(self, pending: deque[tuple[str, Record]]) -> None:
        """Each pending record to the stages of its topic, their outputs after it, until none is left."""
        while pending:
            name, record = pending.popleft()
            for stage in (self.consumers.get(name), self.taps.get(name)):
                if stage is None:
                    continue
                pending += self._emit(stage.handle(record))

    def submit_raw(self, leads: Iterable[RawLead]) -> None:
        records = []
        for lead in leads:
            value, headers = encode(lead)
            records.append(Record(value, lead.key.encode(), headers, "leads.raw"))
        self.submit(records)
