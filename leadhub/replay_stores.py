"""Each store's side of `leadhub replay` (leadhub/replay.py): read stored leads in a fixed order a page
at a time, and write their new routing back by the sinks' rules.

- the search engine: a search sorted by reported time and id, continued with ``search_after``; leads
  written back guarded by the sequence number they were read with, cases by the one they are read with
  just before (a concurrent change, such as an officer's recategorize, makes the item a 409: it is read
  again and decided again, never overwritten);
- the embedded index: the same order over its ``reported`` column; the writes in one transaction
  (sinks/embedded_index.py ``write_rerouted``).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from adapters.search_backend import SearchBackend
from leadhub.queries import Filters
from leadhub.replay import Rerouted, StoredLead
from leadhub.search_dsl import filter_clauses
from schemas.errors import LeadhubError
from schemas.index_templates import alias_name
from sinks.bulk import call_until_available, send_until_acknowledged
from sinks.documents import apply_case_routing, guarded_case_action
from sinks.embedded_docs import load
from sinks.embedded_index import EmbeddedIndex

# A lead without a publication time counts from when it was fetched (as search's --since does); the
# engine cannot sort by "published, else fetched" without a script, so those come first, by fetch time.
ENGINE_SORT = [{"published_at": {"order": "asc", "missing": "_first"}}, {"fetched_at": "asc"}, {"lead_id": "asc"}]
MAX_CONFLICT_ROUNDS = 5


class EngineReplayStore:
    def __init__(self, backend: SearchBackend, index_prefix: str) -> None:
        self.backend = backend
        self.leads_index = alias_name(index_prefix, "leads")
        self.cases_index = alias_name(index_prefix, "cases")
        self.where = f"{backend.backend}:{self.leads_index}"

    def _query(self, since: dt.datetime | None, until: dt.datetime | None) -> dict[str, Any]:
        clauses = filter_clauses("leads", Filters(since=since, until=until))
        return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}

    def total(self, since: dt.datetime | None, until: dt.datetime | None) -> int:
        return self.backend.count(self.leads_index, {"query": self._query(since, until)})

    def page(self, since: dt.datetime | None, until: dt.datetime | None, after: list[Any] | None, size: int) -> list[StoredLead]:
        body: dict[str, Any] = {"query": self._query(since, until), "size": size, "sort": ENGINE_SORT, "seq_no_primary_term": True}
        if after is not None:
            body["search_after"] = after
        hits = self._retrying(lambda: self.backend.search(self.leads_index, body))["hits"]["hits"]
        # _index: the month the lead is in (a write cannot name an alias of several indices)
        return [StoredLead(hit["_source"], hit["sort"], {"_index": hit["_index"], "_seq_no": hit["_seq_no"], "_primary_term": hit["_primary_term"]})
                for hit in hits]  # fmt: skip

    def cases(self, case_ids: list[str]) -> dict[str, dict[str, Any]]:
        found = self._retrying(lambda: self.backend.mget(self.cases_index, case_ids))
        return {case_id: hit["_source"] for case_id, hit in found.items()}

    def write(self, leads: list[Rerouted], cases: dict[str, dict[str, Any]]) -> tuple[int, int]:
        return self._write_leads(leads), self._write_cases(cases)

    def _write_leads(self, leads: list[Rerouted]) -> int:
        pending = {r.lead.lead_id: (r.changes, r.stored.doc, r.stored.version) for r in leads}
        written = 0
        for _ in range(MAX_CONFLICT_ROUNDS):
            if not pending:
                return written
            ids = list(pending)
            parts = [guarded_case_action(pending[i][2]["_index"], i, {**pending[i][1], **pending[i][0]}, pending[i][2]) for i in ids]
            conflicts = self._send(parts, ids)
            written += len(ids) - len(conflicts)
            fresh = self._retrying(lambda ids=conflicts: self.backend.find(self.leads_index, ids)) if conflicts else {}
            # Changed under us: decide again on what is stored now (an officer's decision wins).
            pending = {i: (pending[i][0], hit["_source"], hit) for i, hit in fresh.items() if hit["_source"].get("category_source") != "human"}
        if pending:
            raise LeadhubError(f"{len(pending)} lead(s) kept changing while replay wrote them", hint="run replay again to resume")
        return written

    def _write_cases(self, routing: dict[str, dict[str, Any]]) -> int:
        pending = list(routing)
        written = 0
        for _ in range(MAX_CONFLICT_ROUNDS):
            if not pending:
                return written
            found = self._retrying(lambda ids=pending: self.backend.mget(self.cases_index, ids))
            ids, parts = [], []
            for case_id in pending:
                hit = found.get(case_id)
                if hit is None:
                    continue
                new = apply_case_routing(hit["_source"], routing[case_id])
                if new != hit["_source"]:
                    ids.append(case_id)
                    parts.append(guarded_case_action(self.cases_index, case_id, new, hit))
            pending = self._send(parts, ids)
            written += len(ids) - len(pending)
        if pending:
            raise LeadhubError(f"{len(pending)} case(s) kept changing while replay wrote them", hint="run replay again to resume")
        return written

    def _send(self, parts: list[list[dict[str, Any]]], ids: list[str]) -> list[str]:
        """Bulk the guarded writes; returns the ids that met a concurrent change (409)."""
        conflicts = []
        for item in send_until_acknowledged(self.backend, parts, wait=time.sleep):
            if item.status != 409:
                raise LeadhubError(f"the search engine refused {ids[item.position]} ({item.status}: {item.error})",
                                   hint="check the index mapping (`leadhub index init`)")  # fmt: skip
            conflicts.append(ids[item.position])
        return conflicts

    def _retrying(self, call: Any) -> Any:
        return call_until_available(call, wait=time.sleep)


class EmbeddedReplayStore:
    def __init__(self, index: EmbeddedIndex) -> None:
        self.index = index
        self.where = f"embedded:{index.path.resolve()}"

    def _where(self, since: dt.datetime | None, until: dt.datetime | None) -> tuple[list[str], list[Any]]:
        clauses, params = [], []
        if since is not None:
            clauses.append("reported >= ?")
            params.append(since.timestamp())
        if until is not None:
            clauses.append("reported < ?")
            params.append(until.timestamp())
        return clauses, params

    def total(self, since: dt.datetime | None, until: dt.datetime | None) -> int:
        clauses, params = self._where(since, until)
        sql = "SELECT count(*) FROM leads" + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
        return int(self.index.db.execute(sql, params).fetchone()[0])

    def page(self, since: dt.datetime | None, until: dt.datetime | None, after: list[Any] | None, size: int) -> list[StoredLead]:
        clauses, params = self._where(since, until)
        if after is not None:
            clauses.append("(reported, lead_id) > (?, ?)")
            params.extend(after)
        sql = ("SELECT lead_id, doc, reported FROM leads" + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
               + " ORDER BY reported, lead_id LIMIT ?")  # fmt: skip
        rows = self.index.db.execute(sql, (*params, size)).fetchall()
        return [StoredLead(load(doc), [reported, lead_id]) for lead_id, doc, reported in rows]

    def cases(self, case_ids: list[str]) -> dict[str, dict[str, Any]]:
        found = {case_id: self.index.case_document(case_id) for case_id in case_ids}
        return {case_id: doc for case_id, doc in found.items() if doc is not None}

    def write(self, leads: list[Rerouted], cases: dict[str, dict[str, Any]]) -> tuple[int, int]:
        return self.index.write_rerouted([(r.lead, r.changes) for r in leads], cases)
