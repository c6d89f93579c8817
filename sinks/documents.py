"""Bulk actions for leads and cases: pure, so what the sink writes is testable without an engine."""

from __future__ import annotations

from typing import Any

from schemas.cases import LEAD_IDS_CAP, Case
from schemas.leads import Lead

# The parts of a case the route stage owns (cases.state); status and history belong to the events.
MEMBERSHIP_FIELDS = (
    "title", "summary", "category", "department", "place", "priority", "report_count",
    "channels", "sources", "first_seen", "last_seen", "lead_ids", "due_at",
)  # fmt: skip
HANDLING_FIELDS = ("status", "assignee", "department", "resolution", "merged_into", "merged", "history", "feedback")
# A merge also changes the target's membership (it takes the merged case's reports), a split the case's.
MERGED_MEMBERSHIP = ("report_count", "channels", "sources", "lead_ids")

# Apply a cases.state snapshot only if it is newer than the one applied before (replays never win),
# and never let the route's department overwrite one an officer assigned.
_STATE_SCRIPT = """
if (ctx._source.state_offset != null && ctx._source.state_offset >= params.offset) { ctx.op = 'none'; }
else {
  boolean assigned = false;
  if (ctx._source.history != null) { for (h in ctx._source.history) { if (h.action == 'assign') { assigned = true; } } }
  for (entry in params.fields.entrySet()) {
    if (entry.getKey() == 'department' && assigned) { continue; }
    ctx._source[entry.getKey()] = entry.getValue();
  }
  // The route stage knows only the case's own leads: add back what merged cases brought (with_merged).
  if (ctx._source.merged != null) {
    for (m in ctx._source.merged) {
      ctx._source.report_count += m.report_count;
      for (c in m.channels) { if (!ctx._source.channels.contains(c)) { ctx._source.channels.add(c); } }
      for (s in m.sources) { if (!ctx._source.sources.contains(s)) { ctx._source.sources.add(s); } }
      for (l in m.lead_ids) {
        if (ctx._source.lead_ids.size() < params.cap && !ctx._source.lead_ids.contains(l)) { ctx._source.lead_ids.add(l); }
      }
    }
  }
  ctx._source.state_offset = params.offset;
}
""".strip()


def lead_actions(lead: Lead, index: str, source: bytes | None = None) -> list[dict[str, Any] | bytes]:
    """Index the lead under its id. ``source``: the message's own JSON of this lead, sent as is
    (it was validated into ``lead``), which spares serializing it again."""
    body: dict[str, Any] | bytes = source if source is not None else lead.model_dump(mode="json")
    return [{"index": {"_index": index, "_id": lead.lead_id}}, body]


def case_state_actions(case: Case, offset: int, index: str) -> list[dict[str, Any]]:
    """A state snapshot from Kafka ``offset``: upserted so that the newest offset wins."""
    fields = case.model_dump(mode="json", include=set(MEMBERSHIP_FIELDS))
    first = {"case_id": case.case_id, "status": case.status.value, "state_offset": offset, **fields}
    return [
        {"update": {"_index": index, "_id": case.case_id, "retry_on_conflict": 5}},
        {"script": {"source": _STATE_SCRIPT, "lang": "painless", "params": {"offset": offset, "fields": fields, "cap": LEAD_IDS_CAP}}, "upsert": first},
    ]


def case_handling_doc(case: Case, *, membership: bool = False) -> dict[str, Any]:
    """``membership``: the case took a merged case's reports, so its counts change too."""
    return case.model_dump(mode="json", include=set(HANDLING_FIELDS) | (set(MERGED_MEMBERSHIP) if membership else set()))
