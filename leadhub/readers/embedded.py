"""The embedded index's reader (the ReadStore protocol, contract.py): the same SearchRequest /
StatsRequest as the search engine answers, in SQL, over the file sinks/embedded_index.py writes.
User text becomes bound parameters only (FTS5 phrases and tokens), never SQL or FTS syntax, so any
input returns results.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
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
from sinks.embedded_docs import load
from sinks.embedded_index import EmbeddedIndex
from sinks.short_terms import match_expression

# Terms this long are ranked (bm25 in the text index's join), as the trigram index ranked them; a
# search of shorter ones only (no rank then) is sorted newest first.
MIN_RANKED = 3

# facet / filter name -> column of {kind}_facets (sinks/embedded_facets.py); lists are JSON there.
COLUMNS: dict[str, dict[str, str]] = {
    "leads": {"category.level1": "category1", "category.level2": "category2", "department": "department",
              "channel": "channel", "source": "source", "place.town": "town", "place.community": "community",
              "lang": "lang", "case_id": "case_id"},
    "cases": {"category.level1": "category1", "category.level2": "category2", "department": "department",
              "status": "status", "place.town": "town", "place.community": "community", "case_id": "case_id"},
}  # fmt: skip
LISTS = {"cases": {"channels": "t.channels", "sources": "t.sources", "reporter_groups": "t.reporter_groups",
                   "activities": "t.activities", "entities": "t.entities"}}
# A lead's entities: the filter reads lead_entities (an index look-up), the facet the JSON column.
LEAD_ENTITIES = "t.entities"
# Fields of the lead's document, copied to columns of leads_facets. Group and activity count only on
# experience officers' reports (channel officer).
DOC_FIELDS = {"leads": {"reporter_group": "t.reporter_group", "activity": "t.activity", "author": "t.author"}}
OFFICER_ONLY = {"reporter_group", "activity"}


def _doc_field(kind: Kind, field: str) -> str:
    read = DOC_FIELDS[kind][field]
    return f"CASE WHEN t.channel = 'officer' THEN {read} END" if field in OFFICER_ONLY else read
DATE_COLUMN = {"leads": "reported", "cases": "first_seen"}
ID = {"leads": "lead_id", "cases": "case_id"}


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
                where.add(f"EXISTS (SELECT 1 FROM json_each({LISTS['cases'][field]}) j WHERE {_in('j.value', values)})", *values)
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

    # Every term is a phrase of characters in the text index (sinks/short_terms.py). Those of three
    # characters and more are ranked (bm25), as when the trigram index found them: they are joined.
    must = [term for term in dict.fromkeys(text.must) if not _within_another(term, text.must)]
    match = match_expression([term for term in must if len(term) >= MIN_RANKED], "AND") or None
    if match and kind == "leads":  # a case's match is in its FROM (EmbeddedStore._from)
        where.add(f"f.{kind}_fts MATCH ?", match)
    # Shorter ones, and exclusions: the rowids the index matches, a set built once per query.
    if short := [term for term in must if len(term) < MIN_RANKED]:
        _in_index(where, kind, match_expression(short, "AND"), negated=False)
    if text.must_not:  # one index look-up, not a scan of every row
        _in_index(where, kind, _exclusions(text), negated=True)
    return where, match


# Terms are substrings: a row holding 号楼附近 holds 附近, and a row without 水 is without 水管. The terms
# another one implies are left out (the ranking then weighs the longer term alone: what was asked for).
def _within_another(term: str, terms: tuple[str, ...]) -> bool:
    # Not a term with non-ASCII letters of two cases: a short one matches its own case only, a longer
    # one both (é is not É, école is ÉCOLE), so the longer would not imply it.
    folds_alike = term.isascii() or term.lower() == term.upper()
    return folds_alike and any(term != other and term in other for other in terms)


def _exclusions(text: TextQuery) -> str:
    """The match expression of the excluded terms, less those holding another excluded term."""
    kept = [term for term in text.must_not if not any(term != other and other in term for other in text.must_not)]
    return match_expression(kept, "OR")


def _in_index(where: _Where, kind: Kind, expression: str, *, negated: bool) -> None:
    """The rows the text index matches (``negated``: does not): a case reading its founding lead's rows
    (sinks/embedded_index.py, TEXT_LEAD) is matched through them."""
    rows = "(SELECT rowid FROM {0}_fts WHERE {0}_fts MATCH ?)"
    # +rowid: no affinity, so the index of text_lead serves the IN in a file made new too (see _from)
    lent = "(SELECT +rowid FROM leads_fts WHERE leads_fts MATCH ?)"
    if kind == "leads":
        where.add(f"t.rowid {'NOT IN' if negated else 'IN'} {rows.format('leads')}", expression)
    elif negated:  # text_lead NULL: NOT IN would be NULL, not true
        where.add(f"t.rowid NOT IN {rows.format('cases')} AND (t.text_lead IS NULL OR t.text_lead NOT IN {lent})",
                  expression, expression)  # fmt: skip
    else:
        where.add(f"(t.rowid IN {rows.format('cases')} OR t.text_lead IN {lent})", expression, expression)


# facet field -> the SQL that reads it (lists as their JSON text)
_FACET_SQL = {kind: {**{field: f"t.{column}" for field, column in COLUMNS[kind].items()},
                     **dict(LISTS.get(kind, {})),
                     **{field: _doc_field(kind, field) for field in DOC_FIELDS.get(kind, {})}}
              for kind in ("leads", "cases")}  # fmt: skip
_FACET_SQL["leads"]["entities"] = LEAD_ENTITIES


def _order(sort: Sort, kind: Kind, ranked: bool) -> str:
    """ORDER BY for a sort: missing values last, then newest first, ties broken by id (the orders
    sinks/embedded_facets.py indexes, so a page without a text query is an index walk)."""
    date = f"t.{DATE_COLUMN[kind]}"
    newest = f"{date} IS NULL, {date} DESC"
    priority = f"t.priority IS NULL, t.priority DESC, {newest}"
    by = {
        Sort.relevance: f"f.rank, {newest}" if ranked else newest,
        Sort.newest: newest,
        Sort.oldest: f"{date} IS NULL, {date}",
        Sort.priority: priority,
        Sort.reports: f"t.report_count IS NULL, t.report_count DESC, {newest}" if kind == "cases" else priority,
    }[sort]
    return f"{by}, t.{ID[kind]}"


def _excluded_only(kind: Kind, filters: Filters, text: TextQuery) -> tuple[str, list[Any]] | None:
    """For a search with exclusions and nothing else (no term, no filter): the rows the excluded terms
    match, as a FROM ... WHERE and its parameters (EmbeddedStore._all_but counts the others)."""
    if text.must or not text.must_not or build_where(kind, filters, TextQuery((), ()))[0].clauses:
        return None
    hit = _Where()
    _in_index(hit, kind, _exclusions(text), negated=False)
    return f"FROM {kind}_facets t WHERE {hit.sql()}", hit.params


def _less(every: list[tuple[Any, int]], hit: list[tuple[Any, int]]) -> list[tuple[Any, int]]:
    """(value, rows) groups of every row less those of some of them (missing values are not counted)."""
    counts = dict(every)
    for value, rows in hit:
        if value is not None:
            counts[value] = counts.get(value, 0) - rows
    return [(value, rows) for value, rows in counts.items() if rows > 0]


def _is_list(kind: Kind, field: str) -> bool:
    return field in LISTS.get(kind, {}) or (kind == "leads" and field == "entities")


def _buckets(groups: list[tuple[Any, int]], is_list: bool, distinct: bool) -> list[FacetBucket]:
    """The top buckets from (value, rows) groups; a list facet's groups are its JSON lists, each of
    their values counted with the group's rows (``distinct``: a value once per list, strings only,
    as lead_entities holds them)."""
    counts: dict[str, int] = {}
    for value, rows in groups:
        if value is None:
            continue
        values = json.loads(value) if is_list else (value,)
        if distinct:
            values = [v for v in dict.fromkeys(values) if isinstance(v, str)]
        for v in values:
            counts[str(v)] = counts.get(str(v), 0) + rows
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:FACET_SIZE]
    return [FacetBucket(value=value, count=count) for value, count in top]


def _top(counts: dict[Any, int], top: int | None) -> list[tuple[Any, int]]:
    """Most first, ties by value (ORDER BY c DESC, 1)."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]


def _hit(stored: bytes | str, kind: Kind, full: bool) -> dict[str, Any]:
    doc = load(stored)
    if not full:
        for name in HIT_FIELDS_EXCLUDED[kind]:
            doc.pop(name, None)
    return doc


def _day_bucket(day: dt.date, interval: Interval) -> dt.date:
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
    days = [(dt.datetime.fromtimestamp(moment, dt.UTC).astimezone(CITY_ZONE).date(), category, 1) for moment, category in rows]
    return series_from_days(days, interval)


def _fixed_offset(first: float, last: float) -> float | None:
    """The city zone's UTC offset in seconds if it is the same all through [first, last] (checked
    every week: no zone changes its offset for less), else None."""
    offsets = set()
    moment = first
    while True:
        offset = dt.datetime.fromtimestamp(moment, dt.UTC).astimezone(CITY_ZONE).utcoffset()
        offsets.add(offset.total_seconds() if offset is not None else 0.0)
        if moment >= last or len(offsets) > 1:
            break
        moment = min(last, moment + 7 * 86400)
    return offsets.pop() if len(offsets) == 1 else None


def series_from_days(days: list[tuple[dt.date, str | None, int]], interval: Interval) -> CountSeries:
    """Counts per bucket and category from (local day, category, count) rows."""
    if not days:
        return CountSeries(buckets=[], series={})
    counts: dict[tuple[dt.date, str], int] = {}
    for day, category, n in days:
        key = (_day_bucket(day, interval), category or "未分类")
        counts[key] = counts.get(key, 0) + n
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

    def _from(self, kind: Kind, match: str | None) -> tuple[str, list[Any]]:
        # The narrow table (sinks/embedded_facets.py); the text index's row only when its MATCH
        # (and rank) is asked for: a join by rowid into an FTS5 table is a look-up per row. A case's
        # match is its own rows' or, for a case reading its founding lead's (TEXT_LEAD), the lead's.
        # (+l.rowid: a file made new has cases_facets.text_lead without a type, and the comparison's
        # integer affinity kept its index out: every matching lead scanned it, 1.2 s at 50,000.)
        if not match:
            return f"{kind}_facets t", []
        if kind == "leads":
            return "leads_facets t JOIN leads_fts f ON f.rowid = t.rowid", []
        return ("cases_facets t JOIN (SELECT rowid, rank FROM cases_fts WHERE cases_fts MATCH ? UNION ALL "
                "SELECT c.rowid, l.rank FROM leads_fts l JOIN cases_facets c ON c.text_lead = +l.rowid "
                "WHERE leads_fts MATCH ?) f ON f.rowid = t.rowid"), [match, match]  # fmt: skip

    def search(self, request: SearchRequest) -> SearchPage:
        """The total, the page (ORDER BY in SQL) and the facets (counts grouped in SQL) over the narrow
        table; only the page's documents are read. (Reading every matching row into Python took
        seconds at 200,000 leads.)"""
        db, kind = self.index.db, request.kind
        text = parse_text(request.q)
        where, match = build_where(kind, request.filters, text)
        joined, joined_params = self._from(kind, match)
        source, params = f"FROM {joined} WHERE {where.sql()}", [*joined_params, *where.params]
        filtered = bool(where.clauses or joined_params)
        facets = FACETS[kind] if request.facets else {}
        if (excluded := _excluded_only(kind, request.filters, text)) is not None and self._matches_few(excluded[1][0]):
            groups, total = self._all_but(kind, facets, *excluded)
        else:
            groups = self._facet_groups(kind, facets, source if filtered else None, params) if facets else {}
            if facets and filtered:  # a facet's groups, its missing value's included, cover every matching row once
                total = sum(rows for _, rows in groups.get(0, []))
            else:
                total = db.execute(f"SELECT count(*) {source}", params).fetchone()[0]  # noqa: S608
        ranked = match is not None and request.sort is Sort.relevance
        page = [row[0] for row in db.execute(
            f"SELECT t.rowid {source} ORDER BY {_order(request.sort, kind, ranked)} LIMIT ? OFFSET ?",  # noqa: S608
            [*params, request.size, request.offset]).fetchall()] if request.size and total > request.offset else []  # fmt: skip
        docs = dict(db.execute(
            f"SELECT rowid, doc FROM {kind} WHERE rowid IN ({','.join('?' * len(page))})", page  # noqa: S608
        ).fetchall()) if page else {}  # fmt: skip
        return SearchPage(
            kind=kind, total=total, page=request.page, size=request.size,
            hits=[_hit(docs[rowid], kind, request.full) for rowid in page],
            facets={name: _buckets(groups.get(i, []), _is_list(kind, field), kind == "leads" and field == "entities")
                    for i, (name, field) in enumerate(facets.items())},
        )  # fmt: skip

    def _matches_few(self, expression: str) -> bool:
        """Whether the text index's expression matches at most half of the leads (of the cases too,
        near enough): then its rows are the fewer to count (_all_but), else the others."""
        hit = self.index.db.execute("SELECT count(*) FROM leads_fts WHERE leads_fts MATCH ?", (expression,)).fetchone()[0]
        return hit * 2 <= sum(self._counts("leads", "category1", missing=True).values())

    def _all_but(self, kind: Kind, facets: dict[str, str], source: str, params: list[Any]) -> tuple[dict[int, list], int]:
        """Facet groups and total of a search of exclusions only: every row's (the counts the triggers
        keep) less those of the rows the excluded terms match (``source``), so its work grows with
        those rows, not with the table (grouping every other row took 4x as long at 200,000 leads)."""
        with self._one_snapshot():  # the counts and the rows subtracted from them: one state of the file
            everyone = sum(self._counts(kind, "category1", missing=True).values())  # every row counted once
            if not facets:
                return {}, everyone - self.index.db.execute(f"SELECT count(*) {source}", params).fetchone()[0]  # noqa: S608
            hit = self._facet_groups(kind, facets, source, params)
            every = self._facet_groups(kind, facets, None, [])
        return {i: _less(every.get(i, []), hit.get(i, [])) for i in range(len(facets))}, everyone - sum(n for _, n in hit.get(0, []))

    @contextlib.contextmanager
    def _one_snapshot(self) -> Iterator[None]:
        """The statements inside read one state of the file (WAL: a read transaction), not each its own
        with a batch committed between them; inside a transaction already, that one's."""
        db = self.index.db
        if db.in_transaction:
            yield
            return
        db.execute("BEGIN")
        try:
            yield
        finally:
            db.execute("COMMIT")

    def _facet_groups(self, kind: Kind, facets: dict[str, str], source: str | None, params: list[Any]) -> dict[int, list]:
        """Facet number -> (value, rows) groups. Over every row (``source`` None) the counts the
        triggers keep; else the matching rows' columns are read once and grouped per facet."""
        columns = [_FACET_SQL[kind][field] for field in facets.values()]
        groups: dict[int, list] = {}
        if source is None:  # every row: the counts the triggers keep (sinks/embedded_facets.py)
            number = {COLUMNS[kind].get(field, field): i for i, field in enumerate(facets.values())}
            for name, value, rows in self.index.db.execute(
                "SELECT name, value, n FROM facet_counts WHERE tbl = ? AND n > 0 AND typeof(value) != 'blob'", (kind,)
            ):
                if name in number:
                    groups.setdefault(number[name], []).append((value, rows))
            return groups
        picked = ", ".join(f"{column} AS c{i}" for i, column in enumerate(columns))
        union = " UNION ALL ".join(f"SELECT {i}, c{i}, count(*) FROM m GROUP BY 2" for i in range(len(columns)))
        for i, value, rows in self.index.db.execute(f"WITH m AS MATERIALIZED (SELECT {picked} {source}) {union}", params):  # noqa: S608
            groups.setdefault(i, []).append((value, rows))
        return groups

    def get(self, kind: Kind, doc_id: str) -> dict[str, Any] | None:
        found = self.index.db.execute(f"SELECT doc FROM {kind} WHERE {ID[kind]} = ?", (doc_id,)).fetchone()  # noqa: S608
        return load(found[0]) if found else None

    def ids_starting(self, kind: Kind, prefix: str, limit: int) -> list[str]:
        column = ID[kind]
        # A range, not LIKE: the id's unique index answers it (LIKE is case-blind, so it would not).
        rows = self.index.db.execute(
            f"SELECT {column} FROM {kind} WHERE {column} >= ? AND {column} < ? ORDER BY {column} LIMIT ?",  # noqa: S608
            (prefix, prefix + "\uffff", limit),
        )
        return [row[0] for row in rows]

    def stats(self, request: StatsRequest) -> Stats:
        db = self.index.db
        now = (request.now or dt.datetime.now(dt.UTC)).timestamp()
        cases_where, _ = build_where("cases", request.filters, TextQuery((), ()))
        leads_where, _ = build_where("leads", request.filters, TextQuery((), ()))
        cases_from = f"FROM cases_facets t WHERE {cases_where.sql()}"
        p = cases_where.params
        active = _in("t.status", ACTIVE_STATUSES)
        # With no filter, what is grouped by one column is counted already (facet_counts).
        counted = self._counts if not cases_where.clauses else None
        statuses = counted("cases", "status", True) if counted else dict(
            db.execute(f"SELECT t.status, count(*) {cases_from} GROUP BY t.status", p).fetchall())  # noqa: S608  # fmt: skip
        overdue_sql = f"{cases_from} AND t.due_at < ? AND {active}"
        return Stats(
            cases_total=sum(statuses.values()),
            leads_total=db.execute(f"SELECT count(*) FROM leads_facets t WHERE {leads_where.sql()}", leads_where.params).fetchone()[0],  # noqa: S608
            open_cases=db.execute(f"SELECT count(*) {cases_from} AND {active}", [*p, *ACTIVE_STATUSES]).fetchone()[0],  # noqa: S608
            overdue_cases=db.execute(f"SELECT count(*) {overdue_sql}", [*p, now, *ACTIVE_STATUSES]).fetchone()[0],  # noqa: S608
            by_category_over_time=self._over_time(cases_from, p, request.interval, counted is not None),
            by_place=[FacetBucket(value=v, count=c) for v, c in (_top(counted("cases", "town"), request.top) if counted else db.execute(
                f"SELECT t.town, count(*) c {cases_from} AND t.town IS NOT NULL GROUP BY t.town ORDER BY c DESC, 1 LIMIT ?",  # noqa: S608
                [*p, request.top]).fetchall())],  # fmt: skip
            by_channel=[FacetBucket(value=v, count=c) for v, c in (_top(counted("leads", "channel"), None) if counted else db.execute(
                f"SELECT t.channel, count(*) c FROM leads_facets t WHERE {leads_where.sql()} GROUP BY t.channel ORDER BY c DESC, 1",  # noqa: S608
                leads_where.params).fetchall())],  # fmt: skip
            status_funnel=funnel(statuses),
            overdue=self._case_hits(
                # +t.status: walk the due_at index in order, not gather every active case to sort it
                f"SELECT t.rowid {cases_from} AND t.due_at < ? AND +{active} ORDER BY t.due_at ASC, t.case_id LIMIT ?",  # noqa: S608
                [*p, now, *ACTIVE_STATUSES, request.top],
            ),
            hot=self._case_hits(
                f"SELECT t.rowid {cases_from} AND +{active} ORDER BY t.report_count DESC, t.priority DESC, t.case_id LIMIT ?",  # noqa: S608
                [*p, *ACTIVE_STATUSES, request.top],
            ),
        )

    def _counts(self, kind: Kind, name: str, missing: bool = False) -> dict[Any, int]:
        """Rows per value of one column of every row, as the triggers keep them (``missing``: rows
        without a value too, under None, as GROUP BY has them)."""
        rows = self.index.db.execute("SELECT value, n FROM facet_counts WHERE tbl = ? AND name = ? AND n > 0", (kind, name))
        return {None if isinstance(value, bytes) else value: n for value, n in rows if missing or not isinstance(value, bytes)}

    def _day_offset(self) -> float | None:
        found = self.index.db.execute("SELECT value FROM meta WHERE key = 'day_offset'").fetchone()
        return float(found[0]) if found else None

    def _case_hits(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        """The documents of the cases ``sql`` lists (rowids), in its order: read after the LIMIT, so
        only those few documents are read."""
        rowids = [row[0] for row in self.index.db.execute(sql, params).fetchall()]
        if not rowids:
            return []
        docs = dict(self.index.db.execute(
            f"SELECT rowid, doc FROM cases WHERE rowid IN ({','.join('?' * len(rowids))})", rowids  # noqa: S608
        ).fetchall())  # fmt: skip
        return [_hit(docs[rowid], "cases", False) for rowid in rowids]

    def _over_time(self, cases_from: str, params: list[Any], interval: Interval, every: bool = False) -> CountSeries:
        """Cases per bucket and category. Where the city's zone keeps one offset over the cases' dates,
        SQL counts them per local day (a few thousand groups instead of every case read here)."""
        db = self.index.db
        # Two queries: min() and max() each read one end of the first_seen index, together they scan.
        first = db.execute(f"SELECT min(t.first_seen) {cases_from}", params).fetchone()[0]  # noqa: S608
        last = db.execute(f"SELECT max(t.first_seen) {cases_from}", params).fetchone()[0]  # noqa: S608
        if first is None:
            return count_series([], interval)
        offset = _fixed_offset(first, last)
        if every and offset is not None and offset == self._day_offset():  # counted per day already (facet_counts)
            epoch = dt.date(1970, 1, 1)
            counted = [(key.partition("|"), n) for key, n in self._counts("cases", "first_day").items()]
            return series_from_days([(epoch + dt.timedelta(days=int(day)), category or None, n)
                                     for (day, _, category), n in counted], interval)  # fmt: skip
        if offset is None:
            rows = db.execute(f"SELECT t.first_seen, t.category1 {cases_from} AND t.first_seen IS NOT NULL", params).fetchall()  # noqa: S608
            return count_series(rows, interval)
        days = db.execute(
            f"SELECT CAST((t.first_seen + ?) / 86400 AS INTEGER), t.category1, count(*) {cases_from} AND t.first_seen IS NOT NULL GROUP BY 1, 2",  # noqa: S608
            [offset, *params],
        ).fetchall()  # fmt: skip
        epoch = dt.date(1970, 1, 1)
        return series_from_days([(epoch + dt.timedelta(days=day), category, n) for day, category, n in days], interval)

    def ping(self) -> str:
        counts = self.index.counts()
        return f"embedded {self.index.path} ({counts['leads']} leads, {counts['cases']} cases)"
