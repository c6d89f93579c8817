"""The embedded index's reader (the ReadStore protocol, contract.py): the same SearchRequest /
StatsRequest as the search engine answers, in SQL, over the file sinks/embedded_index.py writes.
User text becomes bound parameters only (FTS5 phrases and tokens), never SQL or FTS syntax, so any
input returns results.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import math
from typing import Any

from leadhub.queries import (
    ACTIVE_STATUSES,
    CITY_ZONE,
    FACETS,
    CountSeries,
    FacetBucket,
    Filters,
    Interval,
    Kind,
    SearchPage,
    SearchRequest,
    Sort,
    Stats,
    StatsRequest,
    TextQuery,
    funnel,
    parse_text,
)
from leadhub.search_dsl import FACET_SIZE, HIT_FIELDS_EXCLUDED
from sinks.embedded_index import EmbeddedIndex
from sinks.short_terms import match_expression

MIN_FTS = 3  # the trigram tokenizer needs three characters; shorter terms use the short-term index

# facet / filter name -> column; lists kept only in the document are read with json_each.
COLUMNS: dict[str, dict[str, str]] = {
    "leads": {"category.level1": "category1", "category.level2": "category2", "department": "department",
              "channel": "channel", "source": "source", "place.town": "town", "place.community": "community",
              "lang": "lang", "case_id": "case_id"},
    "cases": {"category.level1": "category1", "category.level2": "category2", "department": "department",
              "status": "status", "place.town": "town", "place.community": "community", "case_id": "case_id"},
}  # fmt: skip
LISTS = {"cases": {"channels": "$.channels", "sources": "$.sources", "reporter_groups": "$.reporter_groups",
                   "activities": "$.activities", "entities": "$.entities"}}
# A lead's entities are rows of lead_entities (an index look-up, not a parse of the document).
LEAD_ENTITIES = "(SELECT json_group_array(e.entity) FROM lead_entities e WHERE e.lead_id = t.lead_id)"
# Fields kept only in the lead's document. Group and activity are only on experience officers'
# reports (channel officer): reading them from other leads' documents would parse every document a
# search counts facets over (three times the time of a plain search of 100,000 leads).
DOC_FIELDS = {"leads": {"reporter_group": "$.reporter_group", "activity": "$.activity", "author": "$.author"}}
OFFICER_ONLY = {"reporter_group", "activity"}


def _doc_field(kind: Kind, field: str) -> str:
    read = f"json_extract(t.doc, '{DOC_FIELDS[kind][field]}')"
    return f"CASE WHEN t.channel = 'officer' THEN {read} END" if field in OFFICER_ONLY else read
DATE_COLUMN = {"leads": "reported", "cases": "first_seen"}
ID = {"leads": "lead_id", "cases": "case_id"}


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class _Where:
    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1"


def _in(column: str, values: list[Any]) -> str:
    return f"{column} IN ({','.join('?' * len(values))})"


def build_where(kind: Kind, filters: Filters, text: TextQuery, now: dt.datetime | None = None) -> tuple[_Where, str | None]:
    """The WHERE clause over table ``t`` (and ``f``, its FTS row), and the FTS MATCH expression if any."""
    where = _Where()
    columns = COLUMNS[kind]
    plain = {"category.level1": filters.category, "category.level2": filters.subcategory,
             "department": filters.department, "case_id": filters.case_id,
             "status": [s.value for s in filters.status]}  # fmt: skip
    if kind == "leads":
        plain |= {"channel": filters.channel, "source": filters.source}
    for field, values in plain.items():
        if values:
            where.add(_in(f"t.{columns[field]}", values), *values)
    if kind == "leads":
        for field, values in (("reporter_group", filters.group), ("activity", filters.activity), ("author", filters.author)):
            if values:
                where.add(_in(_doc_field("leads", field), values), *values)
    if kind == "leads" and filters.entity:
        where.add(f"t.lead_id IN (SELECT e.lead_id FROM lead_entities e WHERE {_in('e.entity', filters.entity)})", *filters.entity)
    if kind == "cases":
        for field, values in (("channels", filters.channel), ("sources", filters.source),
                              ("reporter_groups", filters.group), ("activities", filters.activity),
                              ("entities", filters.entity)):
            if values:
                where.add(f"EXISTS (SELECT 1 FROM json_each(t.doc, '{LISTS['cases'][field]}') j WHERE {_in('j.value', values)})", *values)
    if filters.ids:
        where.add(_in(f"t.{ID[kind]}", filters.ids), *filters.ids)
    if filters.place:
        where.add(f"({_in('t.town', filters.place)} OR {_in('t.community', filters.place)})", *filters.place, *filters.place)
    if filters.needs_triage is not None:
        if kind == "leads":
            where.add("t.needs_triage = ?", int(filters.needs_triage))
        else:  # as the engine: a case waits for triage until it has a department
            where.add("t.department IS NULL" if filters.needs_triage else "t.department IS NOT NULL")
    if filters.overdue:
        moment = (now or dt.datetime.now(dt.UTC)).timestamp()
        where.add(f"t.due_at < ? AND {_in('t.status', ACTIVE_STATUSES)}", moment, *ACTIVE_STATUSES)
    date = DATE_COLUMN[kind]
    if filters.since is not None:
        where.add(f"t.{date} >= ?", filters.since.timestamp())
    if filters.until is not None:
        where.add(f"t.{date} < ?", filters.until.timestamp())

    match = " AND ".join(_fts_phrase(term) for term in text.must if len(term) >= MIN_FTS) or None
    if match:
        where.add(f"f.{kind}_fts MATCH ?", match)
    # Terms of one or two characters: one token each in the short-term index (as LIKE '%term%' found
    # them, without reading every row). Its matches are a set of rowids, built once per query.
    if short := [term for term in text.must if len(term) < MIN_FTS]:
        where.add(f"t.rowid IN (SELECT rowid FROM {kind}_short WHERE {kind}_short MATCH ?)", match_expression(short, "AND"))
    if short_not := [term for term in text.must_not if len(term) < MIN_FTS]:
        where.add(f"t.rowid NOT IN (SELECT rowid FROM {kind}_short WHERE {kind}_short MATCH ?)", match_expression(short_not, "OR"))
    for term in text.must_not:
        if len(term) >= MIN_FTS:  # one index look-up, not a scan of every row
            where.add(f"t.rowid NOT IN (SELECT rowid FROM {kind}_fts WHERE {kind}_fts MATCH ?)", _fts_phrase(term))
    return where, match


# facet field -> the SQL that reads it (lists as their JSON text)
_FACET_SQL = {kind: {**{field: f"t.{column}" for field, column in COLUMNS[kind].items()},
                     **{field: f"json_extract(t.doc, '{path}')" for field, path in LISTS.get(kind, {}).items()},
                     **{field: _doc_field(kind, field) for field in DOC_FIELDS.get(kind, {})}}
              for kind in ("leads", "cases")}  # fmt: skip
_FACET_SQL["leads"]["entities"] = LEAD_ENTITIES


def _sort_key(sort: Sort, kind: Kind, ranked: bool):
    """A key over (rowid, date, priority, report_count, id, rank, ...) rows in the order SQL would give:
    missing dates last, ties broken by id."""

    def newest(row: tuple) -> tuple:
        return (row[1] is None, -(row[1] or 0.0))

    def high(value: Any) -> float:
        return -value if value is not None else math.inf

    by = {
        Sort.relevance: (lambda r: (r[5], *newest(r))) if ranked else newest,
        Sort.newest: newest,
        Sort.oldest: lambda r: (r[1] is None, r[1] or 0.0),
        Sort.priority: lambda r: (high(r[2]), *newest(r)),
        Sort.reports: (lambda r: (high(r[3]), *newest(r))) if kind == "cases" else (lambda r: (high(r[2]), *newest(r))),
    }[sort]
    return lambda row: (*by(row), row[4])


def _is_list(kind: Kind, field: str) -> bool:
    return field in LISTS.get(kind, {}) or (kind == "leads" and field == "entities")


def _count(rows: list[tuple], position: int, is_list: bool) -> list[FacetBucket]:
    counts: dict[str, int] = {}
    for row in rows:
        value = row[position]
        if value is None:
            continue
        for v in json.loads(value) if is_list else (value,):
            counts[str(v)] = counts.get(str(v), 0) + 1
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:FACET_SIZE]
    return [FacetBucket(value=value, count=count) for value, count in top]


def _hit(doc_json: str, kind: Kind, full: bool) -> dict[str, Any]:
    doc = json.loads(doc_json)
    if not full:
        for name in HIT_FIELDS_EXCLUDED[kind]:
            doc.pop(name, None)
    return doc


def _bucket_start(moment: dt.datetime, interval: Interval) -> dt.date:
    day = moment.astimezone(CITY_ZONE).date()
    if interval is Interval.week:
        return day - dt.timedelta(days=day.weekday())  # weeks start on Monday, as the engines' do
    if interval is Interval.month:
        return day.replace(day=1)
    return day


def _next_bucket(start: dt.date, interval: Interval) -> dt.date:
    if interval is Interval.day:
        return start + dt.timedelta(days=1)
    if interval is Interval.week:
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def count_series(rows: list[tuple[float, str | None]], interval: Interval) -> CountSeries:
    """Counts per bucket and category from (time, category) rows; empty buckets between kept as 0."""
    if not rows:
        return CountSeries(buckets=[], series={})
    counts: dict[tuple[dt.date, str], int] = {}
    for moment, category in rows:
        start = _bucket_start(dt.datetime.fromtimestamp(moment, dt.UTC), interval)
        key = (start, category or "未分类")
        counts[key] = counts.get(key, 0) + 1
    first, last = min(k[0] for k in counts), max(k[0] for k in counts)
    buckets = []
    while first <= last:
        buckets.append(first)
        first = _next_bucket(first, interval)
    names = sorted({k[1] for k in counts})
    return CountSeries(
        buckets=[b.isoformat() for b in buckets],
        series={name: [counts.get((b, name), 0) for b in buckets] for name in names},
    )


class EmbeddedStore:
    def __init__(self, index: EmbeddedIndex) -> None:
        self.index = index

    def _from(self, kind: Kind, match: str | None) -> str:
        # The trigram index's row only when its MATCH (and rank) is asked for: a join by rowid into
        # an FTS5 table is a look-up per row.
        return f"{kind} t JOIN {kind}_fts f ON f.rowid = t.rowid" if match else f"{kind} t"

    def search(self, request: SearchRequest) -> SearchPage:
        """One pass over the matching rows gives the total, the facets and the page's order; only the
        page's documents are read afterwards. (A query per facet repeated the text scan seven times.)"""
        db, kind = self.index.db, request.kind
        where, match = build_where(kind, request.filters, parse_text(request.q))
        facets = FACETS[kind] if request.facets else {}
        columns = [_FACET_SQL[kind][field] for field in facets.values()]
        date = DATE_COLUMN[kind]
        keys = [f"t.{date}", "t.priority", "t.report_count" if kind == "cases" else "0", f"t.{ID[kind]}",
                "f.rank" if match else "0"]  # fmt: skip
        rows = db.execute(
            f"SELECT t.rowid, {', '.join(keys + columns)} FROM {self._from(kind, match)} WHERE {where.sql()}",  # noqa: S608
            where.params,
        ).fetchall()
        ranked = match is not None and request.sort is Sort.relevance
        order = _sort_key(request.sort, kind, ranked)
        page = heapq.nsmallest(request.offset + request.size, rows, key=order)[request.offset :]
        docs = dict(db.execute(
            f"SELECT rowid, doc FROM {kind} WHERE rowid IN ({','.join('?' * len(page))})", [r[0] for r in page]  # noqa: S608
        ).fetchall()) if page else {}  # fmt: skip
        return SearchPage(
            kind=kind, total=len(rows), page=request.page, size=request.size,
            hits=[_hit(docs[r[0]], kind, request.full) for r in page],
            facets={name: _count(rows, 1 + len(keys) + i, _is_list(kind, field)) for i, (name, field) in enumerate(facets.items())},
        )  # fmt: skip

    def get(self, kind: Kind, doc_id: str) -> dict[str, Any] | None:
        found = self.index.db.execute(f"SELECT doc FROM {kind} WHERE {ID[kind]} = ?", (doc_id,)).fetchone()  # noqa: S608
        return json.loads(found[0]) if found else None

    def stats(self, request: StatsRequest) -> Stats:
        db = self.index.db
        now = (request.now or dt.datetime.now(dt.UTC)).timestamp()
        cases_where, _ = build_where("cases", request.filters, TextQuery((), ()))
        leads_where, _ = build_where("leads", request.filters, TextQuery((), ()))
        cases_from = f"FROM cases t WHERE {cases_where.sql()}"
        p = cases_where.params
        active = _in("t.status", ACTIVE_STATUSES)
        statuses = dict(db.execute(f"SELECT t.status, count(*) {cases_from} GROUP BY t.status", p).fetchall())  # noqa: S608
        columns = "t.doc"
        overdue_sql = f"{cases_from} AND t.due_at < ? AND {active}"
        return Stats(
            cases_total=sum(statuses.values()),
            leads_total=db.execute(f"SELECT count(*) FROM leads t WHERE {leads_where.sql()}", leads_where.params).fetchone()[0],  # noqa: S608
            open_cases=db.execute(f"SELECT count(*) {cases_from} AND {active}", [*p, *ACTIVE_STATUSES]).fetchone()[0],  # noqa: S608
            overdue_cases=db.execute(f"SELECT count(*) {overdue_sql}", [*p, now, *ACTIVE_STATUSES]).fetchone()[0],  # noqa: S608
            by_category_over_time=count_series(
                db.execute(f"SELECT t.first_seen, t.category1 {cases_from} AND t.first_seen IS NOT NULL", p).fetchall(),  # noqa: S608
                request.interval,
            ),
            by_place=[FacetBucket(value=v, count=c) for v, c in db.execute(
                f"SELECT t.town, count(*) c {cases_from} AND t.town IS NOT NULL GROUP BY t.town ORDER BY c DESC, 1 LIMIT ?",  # noqa: S608
                [*p, request.top]).fetchall()],  # fmt: skip
            by_channel=[FacetBucket(value=v, count=c) for v, c in db.execute(
                f"SELECT t.channel, count(*) c FROM leads t WHERE {leads_where.sql()} GROUP BY t.channel ORDER BY c DESC, 1",  # noqa: S608
                leads_where.params).fetchall()],  # fmt: skip
            status_funnel=funnel(statuses),
            overdue=[_hit(row[0], "cases", False) for row in db.execute(
                f"SELECT {columns} {overdue_sql} ORDER BY t.due_at ASC, t.case_id LIMIT ?",  # noqa: S608
                [*p, now, *ACTIVE_STATUSES, request.top]).fetchall()],  # fmt: skip
            hot=[_hit(row[0], "cases", False) for row in db.execute(
                f"SELECT {columns} {cases_from} AND {active} ORDER BY t.report_count DESC, t.priority DESC, t.case_id LIMIT ?",  # noqa: S608
                [*p, *ACTIVE_STATUSES, request.top]).fetchall()],  # fmt: skip
        )

    def ping(self) -> str:
        counts = self.index.counts()
        return f"embedded {self.index.path} ({counts['leads']} leads, {counts['cases']} cases)"
