"""The stage handlers: decode, call the pure functions in enrichers/, encode; bad records -> DLQ."""

from __future__ import annotations

from collections.abc import Callable

from enrichers.normalize import UnusableLead, normalize_lead
from enrichers.route import Router
from leadhub.errors import RecordError
from schemas.cases import Case, CaseEvent
from schemas.leads import Lead, RawLead
from schemas.serialization import decode, encode
from schemas.status_machine import IllegalTransition, apply_event
from schemas.topics import LEAD_MAX_BYTES
from streams.records import Output, Record, dead_letter, log


def _out(topic: str, key: str, model) -> Output:
    value, headers = encode(model)
    return Output(topic, key.encode("utf-8"), value, headers)


class NormalizeStage:
    name = "normalize"

    def __init__(self, source_timezone: str = "Asia/Shanghai") -> None:
        self.context = {"timezone": source_timezone}

    def handle(self, record: Record) -> list[Output]:
        try:
            raw = decode(record.value, record.headers, RawLead, context=self.context)
            lead = normalize_lead(raw)
            out = _out("leads.clean", lead.lead_id, lead)
            if len(out.value) > LEAD_MAX_BYTES:  # e.g. a huge `extra`: Kafka would refuse it downstream
                raise UnusableLead(f"lead too large: {len(out.value)} bytes as JSON (limit {LEAD_MAX_BYTES})")
            return [out]
        except Exception as exc:  # noqa: BLE001 - every failure becomes a dead letter; the stage goes on
            return [dead_letter(self.name, exc, record)]


class RouteStage:
    name = "route"

    def __init__(self, router: Router) -> None:
        self.router = router

    def handle(self, record: Record) -> list[Output]:
        try:
            lead = decode(record.value, record.headers, Lead)
            result = self.router.route(lead)
        except Exception as exc:  # noqa: BLE001
            return [dead_letter(self.name, exc, record)]
        outputs = [_out("leads.routed", result.lead.lead_id, result.lead), _out("cases.state", result.case.case_id, result.case)]
        outputs += [_out("cases.events", event.case_id, event) for event in result.events]
        return outputs


class CaseStatusTracker:
    """Follows cases.events so the route stage knows which cases are handled (resolved/closed).

    Illegal events are the search sink's to dead-letter; here they are skipped, not reported twice.
    """

    name = "case-status"

    def __init__(self, load: Callable[[str], Case | None], store: Callable[[Case], None]) -> None:
        self.load = load
        self.store = store

    def handle(self, record: Record) -> list[Output]:
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
