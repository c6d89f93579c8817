"""search_latency's cluster half: the routed leads and cases of an embedded pipeline run (the same
stage handlers the streams worker runs, and the same documents both sinks write: sinks/documents.py)
bulk-loaded into indices of their own after `leadhub index init`, copied under new ids, hours apart,
up to --leads (issue 24 allows it for the largest sets), then the same queries through the app over
the engine. Leads go into their monthly indices (schemas/index_templates.lead_index, as the sink
writes them), loaded with refresh off and big bulk requests; then the months before the current one
are force-merged to one segment, as the lifecycle policy does to a month once it is old (an engine
without ISM/ILM, like the local ones, gets that done here). The indices stay (prefix
bench-latency-N) so reruns only time; --rebuild loads again."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.common import client_helpers

SHIFTED = {"leads": ("published_at", "fetched_at"), "cases": ("first_seen", "last_seen", "due_at")}
ID = {"leads": "lead_id", "cases": "case_id"}


def _shift(doc: dict[str, Any], kind: str, hours: int) -> None:
    for field in SHIFTED[kind]:
        if isinstance(doc.get(field), str):
            doc[field] = (dt.datetime.fromisoformat(doc[field]) + dt.timedelta(hours=hours)).isoformat()


def _actions(source: Path, kind: str, alias: str, copies: int) -> Iterator[dict[str, Any]]:
    from schemas.index_templates import lead_index
    from sinks.embedded_docs import unpack  # the embedded file's documents are packed (schema 5)

    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as db:
        for k in range(copies):
            for (text,) in db.execute(f"SELECT doc FROM {kind} ORDER BY rowid"):  # noqa: S608 - fixed names
                doc = json.loads(unpack(text))
                if k:
                    tag = f"~{k}"
                    doc[ID[kind]] += tag
                    if kind == "leads" and doc.get("case_id"):
                        doc["case_id"] += tag
                    if kind == "cases":
                        doc["lead_ids"] = [i + tag for i in doc.get("lead_ids") or []]
                        if doc.get("primary_lead_id"):
                            doc["primary_lead_id"] += tag
                    _shift(doc, kind, 5 * k)
                yield {"_index": lead_index(alias, doc) if kind == "leads" else alias, "_id": doc[ID[kind]], "_source": doc}


def load(settings: Any, source: Path, leads: int, pipeline_leads: int, rebuild: bool) -> dict[str, Any]:
    from adapters.search_backend import SearchBackend
    from leadhub.cli import main as leadhub
    from schemas.index_templates import alias_name

    prefix = settings.search.index_prefix
    backend = SearchBackend.from_settings(settings.search)
    leads_alias = alias_name(prefix, "leads")
    if not rebuild and backend.index_exists(leads_alias) and backend.count(leads_alias) == leads:
        return {"loaded": "kept"}
    if leads % pipeline_leads:
        raise SystemExit(f"--leads {leads} is not a multiple of --grow-from {pipeline_leads}")
    for kind in ("leads", "cases"):  # a fresh start: what a rebuild loaded before goes
        for index in backend.client.indices.get(index=f"{alias_name(prefix, kind)}-*", ignore_unavailable=True) or {}:
            backend.client.indices.delete(index=index)
    init = ["--set", f"search.index_prefix={prefix}", "--set", f"search.url={settings.search.url}", "--set",
            f"search.backend={settings.search.backend}", "index", "init"]  # fmt: skip
    # refresh off while loading (the months made meanwhile take it from the template); init again after
    if leadhub(["--set", "search.refresh_interval=-1", *init]) != 0:
        raise SystemExit("leadhub index init failed (is the engine up? leadhub services status)")
    helpers = client_helpers(backend)
    start = time.perf_counter()
    done = 0
    for kind in ("leads", "cases"):
        # two requests at a time: one shard's bulk runs on one write thread, and the box has two cores
        for ok, _ in helpers.parallel_bulk(backend.client, _actions(source, kind, alias_name(prefix, kind), leads // pipeline_leads),
                                           thread_count=2, chunk_size=2500, max_chunk_bytes=60 * 2**20, request_timeout=600):  # fmt: skip
            done += ok
            if done % 100_000 == 0:
                took = time.perf_counter() - start
                print(f"  {done:,} documents in {took:,.0f} s ({done / took:,.0f}/s)", file=sys.stderr, flush=True)
    if leadhub(init) != 0:
        raise SystemExit("leadhub index init failed after the load")
    for kind in ("leads", "cases"):
        backend.refresh(alias_name(prefix, kind))
    loaded = time.perf_counter() - start
    settled = settle(backend, alias_name(prefix, "leads"))
    took = time.perf_counter() - start
    return {"loaded": done, "load_s": round(loaded, 1), "docs_per_s": round(done / loaded, 1), "months": settled,
            "merge_s": round(took - loaded, 1)}  # fmt: skip


def settle(backend: Any, alias: str) -> int:
    """Force-merge every month but the newest to one segment (what the lifecycle policy does to a month
    once it is old); the number of months."""
    months = sorted(backend.get_alias(alias))
    for index in months[:-1]:
        backend.client.indices.forcemerge(index=index, max_num_segments=1, request_timeout=1800)
    return len(months)


def store_bytes(settings: Any) -> tuple[int, int]:
    """(leads, bytes of the leads and cases indices on disk, primaries)."""
    from adapters.search_backend import SearchBackend
    from schemas.index_templates import alias_name

    backend = SearchBackend.from_settings(settings.search)
    prefix = settings.search.index_prefix
    size = 0
    for kind in ("leads", "cases"):
        stats = backend.client.indices.stats(index=alias_name(prefix, kind), metric="store")
        size += stats["_all"]["primaries"]["store"]["size_in_bytes"]
    return backend.count(alias_name(prefix, "leads")), size
