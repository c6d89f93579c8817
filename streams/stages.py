"""The stage handlers: decode, call the pure functions in enrichers/, encode; bad records -> DLQ.

A new stage is a class with the shape of ``Stage`` here, its logic in pure functions in enrichers/,
wired in streams/app.py (cluster) and streams/local_runner.py (embedded).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from enrichers.categorize import CategoryResult
from enrichers.normalize import UnusableLead, normalize_lead
from enrichers.route import CaseRouter
from schemas.cases import Case, CaseEvent
from schemas.errors import RecordError
from schemas.leads import Lead, RawLead
from schemas.serialization import decode, encode
from schemas.status_machine import IllegalTransition, apply_event
from schemas.topics import LEAD_MAX_BYTES
from streams.records import Output, Record, dead_letter, log


class Stage(Protocol):
    """What the local runner and the worker drive: one record in, the records it causes out."""

    name: str  # the `stage` of its dead letters

    def handle(self, record: Record) -> list[Output]:
        """Outputs for one input record, dead letters included; never raises for a bad record."""
        ...


def _out(topic: str, key: str, model: Any) -> Output:
    value, headers = encode(model)
    return Output(topic, key.encode("utf-8"), value, headers)


class NormalizeStage:
    """leads.raw -> leads.clean: a source's RawLead becomes a Lead (normalize_lead)."""

    name = "normalize"

    def __init__(self, source_timezone: str = "Asia/Shanghai", annotate: Callable[[Lead], list[tuple[str, bytes]]] | None = None) -> None:
        self.context = {"timezone": source_timezone}
        # Headers a later stage wants on the clean lead, worked out here, where leads are spread over
        # partitions (the hot-issue stage's per-lead work: streams/hot_issue_stage.py).
        self.annotate = annotate

    def handle(self, record: Record) -> list[Output]:
        """The clean lead, or a dead letter when it cannot be read, is unusable or is too large."""
        try:
            raw = decode(record.value, record.headers, RawLead, context=self.context)
            lead = normalize_lead(raw)
            out = _out("leads.clean", lead.lead_id, lead)
            if len(out.value) > LEAD_MAX_BYTES:  # e.g. a huge `extra`: Kafka would refuse it downstream
                raise UnusableLead(f"lead too large: {len(out.value)} bytes as JSON (limit {LEAD_MAX_BYTES})")
            if self.annotate is not None:
                out = Output(out.topic, out.key, out.value, [*out.headers, *self.annotate(lead)])
            return [out]
        except Exception as exc:  # noqa: BLE001 - every failure becomes a dead letter; the stage goes on
            return [dead_letter(self.name, exc, record)]

    def handle_many(self, records: Sequence[Record]) -> list[Output]:
        """``handle`` for each record, in order (the worker hands over batches)."""
        return [out for record in records for out in self.handle(record)]


class RouteStage:
    """leads.clean -> leads.routed, cases.state, cases.events: dedup, categorize, group into cases."""

    name = "route"

    def __init__(self, router: CaseRouter) -> None:
        self.router = router

    def handle(self, record: Record) -> list[Output]:
        """A batch of one."""
        return self.handle_many([record])

    def handle_many(self, records: Sequence[Record]) -> list[Output]:
        """Route a batch in order; each case's state goes out once, as it stands after the batch.

        A case's state is cumulative (count, channels, lead ids), so its last state in a batch says
        everything the earlier ones did: the sink and the search engine get one write per case.
        """
        return self.route_many(records)[0]

    def route_many(self, records: Sequence[Record]) -> tuple[list[Output], list[Lead]]:
        """``handle_many``, and the routed leads in the order of their records on leads.routed (the
        hotspot detector reads them, instead of decoding the records again)."""
        outputs, routed, _cases = self.route_batch(records)
        return outputs, routed

    def route_batch(self, records: Sequence[Record]) -> tuple[list[Output], list[Lead], dict[str, Case]]:
        """``route_many``, and the cases of the batch's cases.state records by id: the models those
        records were encoded from, for the stages behind this one (not decoded again)."""
        outputs: list[Output] = []
        routed: list[Lead] = []
        decoded: list[tuple[Record, Lead]] = []
        for record in records:
            try:
                decoded.append((record, decode(record.value, record.headers, Lead)))
            except Exception as exc:  # noqa: BLE001
                outputs.append(dead_letter(self.name, exc, record))
        categories = self._categorize([lead for _, lead in decoded])
        latest: dict[str, Case] = {}
        events: list[Output] = []
        for (record, lead), category in zip(decoded, categories, strict=True):
            try:
                result = self.router.route(lead, category)
            except Exception as exc:  # noqa: BLE001
                outputs.append(dead_letter(self.name, exc, record))
                continue
            outputs.append(_out("leads.routed", result.lead.lead_id, result.lead))
            routed.append(result.lead)
            events += [_out("cases.events", event.case_id, event) for event in result.events]
            latest.pop(result.case.case_id, None)  # keep the cases in the order of their last change
            latest[result.case.case_id] = result.case
        outputs += [_out("cases.state", case.case_id, case) for case in latest.values()]
        return outputs + events, routed, latest

    def _categorize(self, leads: list[Lead]) -> Sequence[CategoryResult | None]:
        try:
            return self.router.categorizer.categorize_many([(lead.title, lead.text) for lead in leads])
        except Exception:  # noqa: BLE001 - then each lead is categorized alone, and a failing one is a dead letter
            return [None] * len(leads)


class CaseStatusTracker:
    """Follows cases.events so the route stage knows which cases are handled (resolved/closed).

    Illegal events are the search sink's to dead-letter; here they are skipped, not reported twice.
    """

    name = "case-status"

    def __init__(self, load: Callable[[str], Case | None], store: Callable[[Case], None]) -> None:
        self.load = load
        self.store = store

    def handle(self, record: Record) -> list[Output]:
        """Apply the event to the stored status; outputs nothing."""
        try:
            event = decode(record.value, record.headers, CaseEvent)
        except RecordError:
            return []
        case = self.load(event.case_id) or Case(case_id=event.case_id)
        try:
            self.store(apply_event(case, event))
        except IllegalTransition as exc:
            log.info("case-status: skipped %s", exc)
        return []
