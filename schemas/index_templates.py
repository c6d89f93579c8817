"""Index templates for leadhub-leads and leadhub-cases; the request bodies both engines accept.

Physical indices are ``<alias>-v<N>`` behind the alias ``<prefix>-cases`` (and hotspots, hot issues).
Leads are time-based: one index a month, ``<prefix>-leads-v<MAPPING_VERSION>-<YYYY.MM>`` (the UTC month
of the lead's published_at, else fetched_at), all behind ``<prefix>-leads``; the writer names the month,
the engine creates it from the template, which adds it to the alias. Old months can be force-merged,
moved to other nodes or dropped one by one, and a search with a date range skips the months outside it.
``MAPPING_VERSION`` goes into each mapping's ``_meta``: bump it with any mapping change, and
`leadhub index init --migrate` moves the data to a new index (for leads: new monthly indices).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

MAPPING_VERSION = 7  # 3: official replies on leads; merged cases and merge/split details in case history
# 4: text fields analyzed with leadhub_text (the built-in cjk analyzer found no single character)
# 5: recategorize: who decided a case's and its leads' routing (category_source, decided_by, decided_at),
#    the category before and after in case history
# 6: the model version that routed a lead (model_version)
# 7: reporters' ratings of a case's answers (ratings, history.rating); experience officers' group and
#    themed activity on leads (reporter_group, activity) and their cases (reporter_groups, activities)
INDEX_KINDS = ("leads", "cases", "hotspots", "hot_issues")

KEYWORD = {"type": "keyword"}
DATE = {"type": "date"}
TEXT_ANALYZER = "leadhub_text"
SEARCH_ANALYZER = "leadhub_text_search"
CJK_TEXT = {"type": "text", "analyzer": TEXT_ANALYZER, "search_analyzer": SEARCH_ANALYZER}
# Searchable as words, and exact for sorting, facets and dedup (long values are not kept as keyword).
CJK_TEXT_KW = {**CJK_TEXT, "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}}
# Kept in _source, never indexed: restricted (contact) or shapeless (extra).
STORED_ONLY = {"type": "object", "enabled": False}

CATEGORY = {"properties": {"level1": KEYWORD, "level2": KEYWORD}}
PLACE = {
    "properties": {
        "town": KEYWORD,
        "community": KEYWORD,
        "address": CJK_TEXT_KW,
        "geo": {"type": "geo_point"},
    }
}

# A person's routing decision (recategorize): replay and later stages skip what category_source "human" marks.
DECISION = {"category_source": KEYWORD, "decided_by": KEYWORD, "decided_at": DATE}

LEAD_FIELDS: dict[str, Any] = {
    "lead_id": KEYWORD,
    "source": KEYWORD,
    "channel": KEYWORD,
    "external_id": KEYWORD,
    "url": {"type": "keyword", "index": False},
    "title": CJK_TEXT_KW,
    "text": CJK_TEXT,
    "author": KEYWORD,
    "contact": STORED_ONLY,
    "location_text": CJK_TEXT,
    "published_at": DATE,
    "fetched_at": DATE,
    "lang": KEYWORD,
    "attachments": {
        "properties": {"url": {"type": "keyword", "index": False}, "name": CJK_TEXT, "media_type": KEYWORD,
                       # stored photos (the attachments store)
                       "id": KEYWORD, "size": {"type": "long"}, "width": {"type": "integer"}, "height": {"type": "integer"}}
    },
    "extra": STORED_ONLY,
    "pii_types": KEYWORD,
    "fingerprint": KEYWORD,
    "category": CATEGORY,
    "department": KEYWORD,
    "confidence": {"type": "float"},
    "needs_triage": {"type": "boolean"},
    "place": PLACE,
    "priority": {"type": "integer"},
    "priority_reasons": KEYWORD,
    "case_id": KEYWORD,
    "is_primary": {"type": "boolean"},
    "official_reply": {"properties": {"text": CJK_TEXT, "unit": KEYWORD, "at": DATE, "at_text": {"type": "keyword", "index": False}}},
    **DECISION,
    "model_version": KEYWORD,
    "reporter_group": KEYWORD,
    "activity": KEYWORD,
    "entities": KEYWORD,  # named estates, companies, roads, ... (their join keys): a facet
}

CASE_FIELDS: dict[str, Any] = {
    "case_id": KEYWORD,
    "title": CJK_TEXT_KW,
    "summary": CJK_TEXT,
    "category": CATEGORY,
    "department": KEYWORD,
    "place": PLACE,
    "priority": {"type": "integer"},
    "status": KEYWORD,
    "assignee": KEYWORD,
    "report_count": {"type": "integer"},
    "channels": KEYWORD,
    "sources": KEYWORD,
    "reporter_groups": KEYWORD,
    "activities": KEYWORD,
    "entities": KEYWORD,
    "first_seen": DATE,
    "last_seen": DATE,
    "lead_ids": KEYWORD,
    "due_at": DATE,
    "resolution": CJK_TEXT,
    "merged_into": KEYWORD,
    # What merged cases brought (added back to each membership snapshot); shown, not searched.
    "merged": STORED_ONLY,
    # Kafka offset of the cases.state message last applied: an older state replayed never wins.
    "state_offset": {"type": "long"},
    "history": {
        "type": "nested",
        "properties": {
            "event_id": KEYWORD,
            "action": KEYWORD,
            "actor": KEYWORD,
            "at": DATE,
            "from_status": KEYWORD,
            "to_status": KEYWORD,
            "department": KEYWORD,
            "assignee": KEYWORD,
            "note": CJK_TEXT,
            "other_case_id": KEYWORD,
            "lead_ids": KEYWORD,
            "category": CATEGORY,
            "from_category": CATEGORY,
            "from_department": KEYWORD,
            "rating": KEYWORD,
        },
    },
    "feedback": {"type": "nested", "properties": {"actor": KEYWORD, "at": DATE, "note": CJK_TEXT}},
    # Handling figures worked out from the history (schemas/handling_figures.py), for dashboards.
    "accepted_at": DATE,
    "resolved_at": DATE,
    "hours_to_resolve": {"type": "float"},
    "resolved_on_time": {"type": "boolean"},
    "returns": {"type": "integer"},
    "reopens": {"type": "integer"},
    "last_rating": KEYWORD,
    "ratings": {
        "type": "nested",
        "properties": {"actor": KEYWORD, "at": DATE, "rating": KEYWORD, "comment": CJK_TEXT, "resolution": CJK_TEXT},
    },
    **DECISION,
}

# Hotspots (schemas/hotspots.py): the detector's record plus people's handling of it.
HOTSPOT_FIELDS: dict[str, Any] = {
    "hotspot_id": KEYWORD,
    "kind": KEYWORD,
    "category": KEYWORD,
    "place": KEYWORD,
    "count": {"type": "integer"},
    "baseline": {"type": "float"},
    "window": {"properties": {"start": DATE, "end": DATE, "hours": {"type": "float"}}},
    "first_seen": DATE,
    "last_seen": DATE,
    "detected_at": DATE,
    "case_ids": KEYWORD,
    "lead_ids": KEYWORD,
    "channels": KEYWORD,
    "p_value": {"type": "double"},
    "score": {"type": "float"},
    "status": KEYWORD,
    "acknowledged_by": KEYWORD,
    "acknowledged_at": DATE,
    "closed_by": KEYWORD,
    "closed_at": DATE,
}

# Hot issues (schemas/hot_issues.py): the clusterer's record, as the route stage last saw the issue.
HOT_ISSUE_FIELDS: dict[str, Any] = {
    "issue_id": KEYWORD,
    "title": CJK_TEXT_KW,
    "entities": KEYWORD,
    "entity_keys": KEYWORD,
    "lead_ids": KEYWORD,
    "case_ids": KEYWORD,
    "first_seen": DATE,
    "last_seen": DATE,
    "heat": {"type": "float"},
    "leads": {"type": "integer"},
    "reporters": {"type": "integer"},
    "likes": {"type": "integer"},
}

_FIELDS = {"leads": LEAD_FIELDS, "cases": CASE_FIELDS, "hotspots": HOTSPOT_FIELDS, "hot_issues": HOT_ISSUE_FIELDS}


def alias_name(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}"


def index_name(prefix: str, kind: str, generation: int) -> str:
    return f"{alias_name(prefix, kind)}-v{generation}"


MONTHLY_KINDS = ("leads",)  # kinds kept in one index a month (the others are few and updated for years)
UNDATED = "undated"  # the month of a document without a date (only hand-made ones lack fetched_at)
LEAD_DATE_FIELDS = ("published_at", "fetched_at")


def month_of(value: Any) -> str:
    """``YYYY.MM`` of a datetime or ISO string, in UTC (so every writer names the same month); UNDATED
    for anything else."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return UNDATED
    if not isinstance(value, dt.datetime):
        return UNDATED
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return f"{value.year:04d}.{value.month:02d}"


def lead_month(doc: Mapping[str, Any] | Any) -> str:
    """The month a lead (a Lead or its document) is filed under: its published date, else when it was
    fetched. Both are fixed when the lead is first made, so every rewrite of it lands in the same index."""
    for name in LEAD_DATE_FIELDS:
        value = doc.get(name) if isinstance(doc, Mapping) else getattr(doc, name, None)
        if value is not None:
            return month_of(value)
    return UNDATED


def monthly_index(alias: str, month: str) -> str:
    """``<alias>-v<MAPPING_VERSION>-<month>``: the mapping version in the name, so a migration writes
    new months beside the old ones and switches the alias."""
    return f"{alias}-v{MAPPING_VERSION}-{month}"


def lead_index(alias: str, doc: Mapping[str, Any] | Any) -> str:
    return monthly_index(alias, lead_month(doc))


def monthly_pattern(alias: str) -> str:
    return f"{alias}-v{MAPPING_VERSION}-*"


def is_current_month_index(alias: str, index: str) -> bool:
    """Whether ``index`` is one of this mapping version's monthly indices of ``alias``."""
    return re.fullmatch(re.escape(f"{alias}-v{MAPPING_VERSION}-") + rf"(\d{{4}}\.\d{{2}}|{UNDATED})", index) is not None


def mappings(kind: str) -> dict[str, Any]:
    return {
        # A document with a field the mapping does not know is a bug upstream: refuse it loudly.
        "dynamic": "strict",
        "_meta": {"leadhub_kind": kind, "leadhub_mapping_version": MAPPING_VERSION},
        "properties": copy.deepcopy(_FIELDS[kind]),
    }


def text_analysis(cjk_bigram: bool = True) -> dict[str, Any]:
    """The ``leadhub_text`` analyzer. Han characters as unigrams and bigrams: a query of one character
    finds every text holding it, and a longer one is a phrase of them (the bigrams make it cheap).
    The built-in ``cjk`` analyzer keeps only bigrams, so "灯" found nothing while "路灯" did.

    An engine without the analysis-common module (Elasticsearch's integration build) has no
    ``cjk_bigram``; its ``standard`` analyzer still splits Han text into single characters, which
    finds the same documents, only with longer phrase queries.
    """
    if not cjk_bigram:
        return {"analyzer": {TEXT_ANALYZER: {"type": "standard"}, SEARCH_ANALYZER: {"type": "standard"}}}
    return {
        "filter": {"leadhub_cjk_bigram": {"type": "cjk_bigram", "output_unigrams": True}},
        "analyzer": {
            TEXT_ANALYZER: {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["cjk_width", "lowercase", "leadhub_cjk_bigram"],
            },
            # Queries: a lone character stays a unigram, a longer run becomes its bigrams, each at the
            # position the index gives it. With unigrams too, a phrase became a graph of every split
            # (Fibonacci-many: 16 characters passed the engine's 1,024-clause limit).
            SEARCH_ANALYZER: {"type": "custom", "tokenizer": "standard", "filter": ["cjk_width", "lowercase", "cjk_bigram"]},
        },
    }


def index_template(
    prefix: str, kind: str, *, shards: int = 1, replicas: int = 0, refresh_interval: str = "500ms",
    cjk_bigram: bool = True, lifecycle: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A monthly kind's template names this mapping version's months and puts each new one behind the
    alias (the engine creates a month when the first lead of it is written). ``lifecycle``: the ILM
    policy new indices follow (Elasticsearch with ILM only: elsewhere the setting is unknown)."""
    alias = alias_name(prefix, kind)
    settings: dict[str, Any] = {"number_of_shards": shards, "number_of_replicas": replicas,
                                "refresh_interval": refresh_interval, "analysis": text_analysis(cjk_bigram)}  # fmt: skip
    if lifecycle and kind in MONTHLY_KINDS:
        settings["index.lifecycle.name"] = lifecycle
    template: dict[str, Any] = {"settings": settings, "mappings": mappings(kind)}
    if kind in MONTHLY_KINDS:
        template["aliases"] = {alias: {}}
    monthly = kind in MONTHLY_KINDS
    return {"index_patterns": [monthly_pattern(alias) if monthly else f"{alias}-v*"], "priority": 200, "template": template}


def flatten(properties: dict[str, Any], parent: str = "") -> dict[str, dict[str, Any]]:
    """{dotted path: the parts of its mapping that decide compatibility}."""
    flat: dict[str, dict[str, Any]] = {}
    for name, spec in properties.items():
        path = f"{parent}{name}"
        shape = {k: spec[k] for k in ("type", "analyzer", "search_analyzer", "enabled", "index") if k in spec}
        shape.setdefault("type", "object")
        flat[path] = shape
        for sub, subspec in spec.get("fields", {}).items():
            flat[f"{path}.{sub}"] = {k: subspec[k] for k in ("type",) if k in subspec}
        if "properties" in spec:
            flat.update(flatten(spec["properties"], f"{path}."))
    return flat


def incompatibilities(expected: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """Why documents written for ``expected`` mappings would not fit the ``live`` ones ([] if they fit)."""
    problems = []
    live_version = live.get("_meta", {}).get("leadhub_mapping_version")
    want_version = expected["_meta"]["leadhub_mapping_version"]
    if live_version != want_version:
        problems.append(f"mapping version is {live_version}, this leadhub writes {want_version}")
    want, have = flatten(expected["properties"]), flatten(live.get("properties", {}))
    for path, shape in want.items():
        if path not in have:
            problems.append(f"field {path} is missing")
            continue
        for key, value in shape.items():
            live_value = have[path].get(key, "object" if key == "type" else None)
            if key == "enabled" and live_value is None:
                live_value = True
            if live_value != value:
                problems.append(f"field {path}: {key} is {live_value}, expected {value}")
    return problems
