"""Search latency at years of data: a fixed set of API queries and pages over a store of N leads,
through the real FastAPI app (starlette's TestClient, so routing, auth, validation and rendering
are all in the time).

    python -m benchmarks.search_latency --store embedded --leads 50000 [--runs 8] [--rebuild]
    python -m benchmarks.search_latency --store cluster --leads 1000000 [--pipeline-leads 50000]

The data set: the real board and labelled messages (../shared/data), varied across the gazetteer's
towns and communities (a place named in front of the text) and spread over three years, through the
real pipeline (embedded: EmbeddedPipeline, every stage; its clock is the build rate). For the
cluster, the routed leads and cases of a pipeline run of --pipeline-leads are bulk-loaded, copied
under new ids and dates until there are N (issue 24 allows it), into indices of their own.

The built set is kept under .local/bench/ (reruns time the queries only; --rebuild makes it again).
Prints p50/p95 per query, bytes per lead and the build rate; writes benchmarks/results/search_latency-<store>-<N>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import REPO, children_cpu, print_table, write_json
from benchmarks.end_to_end import corpus
from benchmarks.repost_set import REPOST_KINDS, _variant

CACHE = REPO / ".local" / "bench"
START = dt.datetime(2023, 12, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SPAN_DAYS = 3 * 365
CHANNELS = {"original": ("board", "complaint_platform"), "hotline": ("hotline-12345", "hotline"),
            "prefix": ("forum-yiwu", "forum"), "preview": ("news-yiwu", "news"), "edit": ("board", "complaint_platform"),
            "summary": ("hotline-12345", "hotline")}  # fmt: skip
BATCH = 500


def places() -> list[str]:
    """'稠城街道绣湖社区' and the like: every town with each of its communities, and the town alone."""
    from enrichers.places import DEFAULT_GAZETTEER

    data = yaml.safe_load(DEFAULT_GAZETTEER.read_text(encoding="utf-8"))
    found = []
    for town in data["towns"]:
        found.append(town["name"])
        found += [town["name"] + c["name"] for c in town.get("communities") or ()]
    return found


def raw_leads(n: int, seed: int = 24):
    """N RawLeads in time order: each message once per round, in a new place and on a new date, a
    quarter of them re-posted from another channel a little later (the route stage merges those)."""
    from schemas.leads import RawLead

    rng = random.Random(seed)
    texts, where = corpus(), places()
    step = SPAN_DAYS * 86400 / n
    for i in range(n):
        title, text = texts[i % len(texts)]
        place = where[rng.randrange(len(where))]
        kind = "original"
        if rng.random() < 0.25 and i >= len(texts):
            kind = rng.choice(REPOST_KINDS)
            title, text = _variant(kind, title, text, rng)
        source, channel = CHANNELS[kind]
        at = START + dt.timedelta(seconds=i * step)
        yield RawLead(source=source, channel=channel, external_id=f"bench-{i}", title=title,
                      body=f"{place}：{text}", published_at=at)  # fmt: skip


# --- the queries ----------------------------------------------------------------------------------

QUERIES: list[tuple[str, str]] = [
    ("cases q=物业 (facets)", "/api/v1/cases?q=物业"),
    ("cases q=电梯 停运 (2-char terms)", "/api/v1/cases?q=电梯 停运"),
    ("cases q=水 (1 char)", "/api/v1/cases?q=水"),
    ("cases phrase \"小区物业\"", '/api/v1/cases?q="小区物业"'),
    ("cases q=噪音 -装修", "/api/v1/cases?q=噪音 -装修"),
    ("cases no query, by priority", "/api/v1/cases?sort=priority"),
    ("cases filter category+town", "/api/v1/cases?category=城乡建设&place=稠城街道"),
    ("cases no query, page 100", "/api/v1/cases?page=100"),
    ("leads no query", "/api/v1/leads"),
    ("leads q=物业 page 50", "/api/v1/leads?q=物业&page=50"),
    ("leads no query, page 400", "/api/v1/leads?page=400&size=25"),
    ("leads q=路 oldest", "/api/v1/leads?q=路&sort=oldest"),
    ("stats", "/api/v1/stats"),
    ("stats by month", "/api/v1/stats?interval=month"),
    ("case (API)", "/api/v1/cases/{case}"),
    ("page: search 物业", "/search?kind=cases&q=物业"),
    ("page: dashboard", "/dashboard"),
    ("page: case", "/cases/{case}"),
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def time_queries(client: Any, headers: dict[str, str], case_id: str, runs: int) -> list[dict[str, Any]]:
    """Every query once first (its time kept as first_ms: the file's pages still on disk, as after a
    restart), then each ``runs`` times: p50/p95 of a server that has been answering."""
    rows, firsts = [], {}
    for name, url in QUERIES:
        url = url.format(case=case_id)
        start = time.perf_counter()
        first = client.get(url, headers=headers)
        firsts[name] = (round((time.perf_counter() - start) * 1000, 1), first)
        if first.status_code != 200:
            raise SystemExit(f"{url} answered {first.status_code}: {first.text[:300]}")
    for name, url in QUERIES:
        url = url.format(case=case_id)
        first_ms, first = firsts[name]
        took = []
        for _ in range(runs):
            start = time.perf_counter()
            response = client.get(url, headers=headers)
            took.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        total = first.json().get("total") if url.startswith("/api/v1/") and "/cases/" not in url and "stats" not in url else None
        rows.append({"query": name, "p50_ms": round(statistics.median(took), 1), "p95_ms": round(percentile(took, 95), 1),
                     "max_ms": round(max(took), 1), "first_ms": first_ms, "total": total})  # fmt: skip
    return rows


# --- the stores -----------------------------------------------------------------------------------

ADMIN_KEY = "bench-admin-key"


def _settings(overrides: list[str]):
    from leadhub.access import key_digest
    from leadhub.settings import ApiKeySpec, build_settings, parse_overrides

    settings = build_settings(overrides=parse_overrides(overrides))
    spec = ApiKeySpec(name="bench", sha256=key_digest(ADMIN_KEY), role="admin", departments=[])
    return settings.model_copy(update={"api": settings.api.model_copy(update={"keys": [spec]})})


def build_embedded(folder: Path, n: int) -> dict[str, Any]:
    """The pipeline over N leads into folder/embedded.sqlite; what the build took, kept beside it. Built
    under a name of this process's own and renamed when whole: two runs that need the same set (another
    engineer's cluster run reads this one) never write into or delete each other's file."""
    import os

    from leadhub.embedded import EmbeddedPipeline

    info_path = folder / "build.json"
    if info_path.is_file():
        return json.loads(info_path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"building-{os.getpid()}.sqlite"
    settings = _settings(["mode=embedded", f"embedded.path={path}", f"attachments.path={folder / 'attachments'}"])
    pipeline = EmbeddedPipeline(settings)
    start, cpu, pool_cpu = time.perf_counter(), time.process_time(), children_cpu()
    batch: list = []
    done = 0
    for lead in raw_leads(n):
        batch.append(lead)
        if len(batch) == BATCH:
            pipeline.submit_raw(batch)
            done += len(batch)
            batch = []
            if done % 10_000 == 0:
                took = time.perf_counter() - start
                print(f"  {done:,} leads in {took:,.0f} s ({done / took:,.0f}/s)", file=sys.stderr, flush=True)
    if batch:
        pipeline.submit_raw(batch)
    seconds, cpu, pool_cpu = time.perf_counter() - start, time.process_time() - cpu, children_cpu() - pool_cpu
    _end_of_bulk_load(pipeline.index)
    pipeline.close()
    for stale in folder.glob("embedded.sqlite-*"):  # a write-ahead log left by an older file of the name
        stale.unlink()
    path.replace(folder / "embedded.sqlite")
    # CPU a lead: what this shared machine's load does not change (the wall-clock rate swings 2x)
    # with the normalize pool's (embedded.normalize_processes): its process does a third of the work
    info = {"leads": n, "build_s": round(seconds, 1), "leads_per_s": round(n / seconds, 1),
            "cpu_ms_per_lead": round((cpu + pool_cpu) * 1000 / n, 2), "pool_cpu_ms_per_lead": round(pool_cpu * 1000 / n, 2)}  # fmt: skip
    info_path.write_text(json.dumps(info))
    return info


def _end_of_bulk_load(index: Any) -> None:
    """What a bulk load ends with (and the nightly retention run repeats): the text indexes merged
    into one segment each, the file rewritten without the pages that frees, the log emptied."""
    from sinks.embedded_text import optimize_text_indexes

    with index.transaction() as db:
        optimize_text_indexes(db)
    with index.write_lock:
        index.db.execute("VACUUM")
    index.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def grow_embedded(folder: Path, n: int, base_n: int) -> dict[str, Any]:
    """N leads from a pipeline run of ``base_n`` (built first if missing): its leads, cases, their
    full-text rows, entities, case book and dedup sketches copied under new ids, each copy a few hours
    later (the same three years, denser), as issue 24 allows for the largest sets. The build rate
    reported is the pipeline run's."""
    import os

    from sinks.embedded_docs import dump, load
    from sinks.embedded_index import CASE_COLUMNS, LEAD_COLUMNS, EmbeddedIndex
    from sinks.embedded_text import FTS_COLUMNS, fts_values, index_tokens

    info_path = folder / "build.json"
    if info_path.is_file():
        return json.loads(info_path.read_text())
    if n % base_n:
        raise SystemExit(f"--leads {n} is not a multiple of --grow-from {base_n}")
    base = build_embedded(CACHE / f"embedded-{base_n}", base_n)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"building-{os.getpid()}.sqlite"  # renamed when whole, as build_embedded does
    with sqlite3.connect(CACHE / f"embedded-{base_n}" / "embedded.sqlite") as source, sqlite3.connect(path) as target:
        source.backup(target)
    index = EmbeddedIndex(path)  # migrated first, so the triggers fill the narrow tables
    # A copy's document under its new id, written as the sink writes one (SQL's json_set gives compact
    # JSON, which packs a tenth larger: the copies made the file look bigger than the pipeline's).
    index.db.create_function("doc_renamed", 3, lambda doc, key, value: dump({**load(doc), key: value}))
    start = time.perf_counter()
    with index.transaction() as db:
        top = {t: db.execute(f"SELECT max(rowid) FROM {t}").fetchone()[0] for t in ("leads", "cases")}  # noqa: S608
        seq = db.execute("SELECT max(seq) FROM dedup_sketches").fetchone()[0] or 0
        # the text indexes hold no text (schema 5): their rows come from the documents
        # (a case reading its founding lead's text rows has none: its copy reads the lead copy's)
        owned = {"leads": "", "cases": " WHERE text_lead IS NULL"}
        texts = {t: [(rowid, index_tokens(fts_values(t, load(doc))))
                     for rowid, doc in db.execute(f"SELECT rowid, doc FROM {t}{owned[t]}")]  # noqa: S608
                 for t in FTS_COLUMNS}  # fmt: skip
        for k in range(1, n // base_n):
            shift, tag = k * 5 * 3600, f"~{k}"
            renamed = {"lead_id": f"lead_id || '{tag}'", "case_id": f"case_id || '{tag}'",
                       "reported": f"reported + {shift}", "first_seen": f"first_seen + {shift}",
                       "last_seen": f"last_seen + {shift}", "due_at": f"due_at + {shift}"}  # fmt: skip
            renamed["text_lead"] = f"text_lead + {k * top['leads']}"
            for table, key, columns in (("leads", "lead_id", LEAD_COLUMNS), ("cases", "case_id", (*CASE_COLUMNS, "text_lead"))):
                doc = f"doc_renamed(doc, '{key}', {key} || '{tag}')"
                picked = ", ".join(doc if c == "doc" else renamed.get(c, c) for c in columns)
                off = k * top[table]
                db.execute(f"INSERT INTO {table} (rowid, {', '.join(columns)}) SELECT rowid + {off}, {picked} "  # noqa: S608
                           f"FROM {table} WHERE rowid <= {top[table]}")  # fmt: skip
                fts = FTS_COLUMNS[table]
                db.executemany(f"INSERT INTO {table}_fts (rowid, {', '.join(fts)}) VALUES (?{',?' * len(fts)})",  # noqa: S608
                               [(r + off, *values) for r, values in texts[table]])  # fmt: skip
            db.execute(f"INSERT INTO lead_entities SELECT entity, lead_id || '{tag}' FROM lead_entities WHERE lead_id NOT LIKE '%~%'")  # noqa: S608
            db.execute(f"INSERT INTO case_book SELECT case_id || '{tag}', doc FROM case_book WHERE case_id NOT LIKE '%~%'")  # noqa: S608
            db.execute("INSERT INTO dedup_sketches (lead_id, case_id, fingerprint, anchors, at) SELECT lead_id || ?, case_id || ?, "
                       "fingerprint, anchors, at + ? FROM dedup_sketches WHERE seq <= ?", (tag, tag, shift, seq))  # fmt: skip
    _end_of_bulk_load(index)
    index.close()
    for stale in folder.glob("embedded.sqlite-*"):
        stale.unlink()
    path.replace(folder / "embedded.sqlite")
    info = {**base, "leads": n, "pipeline_leads": base_n, "copy_s": round(time.perf_counter() - start, 1)}
    info_path.write_text(json.dumps(info))
    return info


def embedded_client(folder: Path):
    from starlette.testclient import TestClient

    from leadhub.api.app import create_app
    from leadhub.api.context import build_context
    from leadhub.embedded import EmbeddedPipeline

    path = folder / "embedded.sqlite"
    settings = _settings(["mode=embedded", f"embedded.path={path}", f"attachments.path={folder / 'attachments'}"])
    pipeline = EmbeddedPipeline(settings)  # opens (and migrates) the cached file
    start = time.perf_counter()
    pipeline.wait_warm()  # the hot-issue state's rebuild at start takes a core for a while: not timed with the queries
    print(f"hot-issue state rebuilt in {time.perf_counter() - start:,.1f} s", file=sys.stderr)
    pipeline.index.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    client = TestClient(create_app(build_context(settings, pipeline)))
    counts = pipeline.index.counts()
    return client, counts, path.stat().st_size, pipeline.close


def biggest_case(client: Any, headers: dict[str, str]) -> str:
    found = client.get("/api/v1/cases?sort=reports&size=1&facets=false", headers=headers).json()
    return found["hits"][0]["case_id"]


def run_cluster(args: argparse.Namespace) -> int:
    from starlette.testclient import TestClient

    from benchmarks.search_latency_cluster import load, store_bytes
    from leadhub.api.app import create_app
    from leadhub.api.context import build_context

    pipeline_leads = args.grow_from or args.leads
    build = build_embedded(CACHE / f"embedded-{pipeline_leads}", pipeline_leads)
    print(f"built {pipeline_leads:,} leads through the (embedded) pipeline: {build['build_s']:,} s, {build['leads_per_s']:,} leads/s")
    settings = _settings([f"search.index_prefix=bench-latency-{args.leads}"])
    loaded = load(settings, CACHE / f"embedded-{pipeline_leads}" / "embedded.sqlite", args.leads, pipeline_leads, args.rebuild)
    print(f"loaded: {loaded}")
    if args.build_only:
        return 0
    client = TestClient(create_app(build_context(settings)))
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    rows = time_queries(client, headers, biggest_case(client, headers), args.runs)
    leads, size = store_bytes(settings)
    per_lead = size / leads
    print_table(f"cluster ({settings.search.url}), {leads:,} leads (ms over {args.runs} calls)", rows)
    print(f"\nindices {size / 1e6:,.0f} MB = {per_lead:,.0f} bytes per lead (primaries)")
    write_json(f"search_latency-cluster-{args.leads}{'-' + args.label if args.label else ''}", {
        "command": f"python -m benchmarks.search_latency --store cluster --leads {args.leads} --runs {args.runs}"
                   + (f" --grow-from {args.grow_from}" if args.grow_from else ""),
        "store": "cluster", "leads": leads, "index_bytes": size, "bytes_per_lead": round(per_lead), "build": build,
        "load": loaded, "runs": args.runs, "queries": rows, "max_p95_ms": max(r["p95_ms"] for r in rows),
    })  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["embedded", "cluster"], default="embedded")
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--rebuild", action="store_true", help="build the data set again (else the cached one)")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--label", default="", help="a suffix for the JSON name (before/after)")
    parser.add_argument("--grow-from", type=int, default=0, metavar="N",
                        help="embedded: a pipeline run of N leads, copied under new ids up to --leads (0: all through the pipeline)")
    args = parser.parse_args(argv)
    if args.store == "cluster":
        return run_cluster(args)

    folder = CACHE / f"embedded-{args.leads}"
    if args.rebuild and (folder / "build.json").is_file():
        (folder / "build.json").unlink()
    if args.grow_from and args.grow_from < args.leads:
        build = grow_embedded(folder, args.leads, args.grow_from)
    else:
        build = build_embedded(folder, args.leads)
    print(f"built {build.get('pipeline_leads', args.leads):,} leads through the pipeline: {build['build_s']:,} s, "
          f"{build['leads_per_s']:,} leads/s, {build.get('cpu_ms_per_lead', '?')} ms CPU a lead")
    if args.build_only:
        return 0
    client, counts, size, close = embedded_client(folder)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    try:
        rows = time_queries(client, headers, biggest_case(client, headers), args.runs)
    finally:
        close()
    per_lead = size / counts["leads"]
    print_table(f"embedded, {counts['leads']:,} leads, {counts['cases']:,} cases (ms over {args.runs} calls)", rows)
    print(f"\nfile {size / 1e6:,.0f} MB = {per_lead:,.0f} bytes per lead; build {build['leads_per_s']:,} leads/s")
    write_json(f"search_latency-embedded-{args.leads}{'-' + args.label if args.label else ''}", {
        "command": f"python -m benchmarks.search_latency --store embedded --leads {args.leads} --runs {args.runs}"
                   + (f" --grow-from {args.grow_from}" if args.grow_from else ""),
        "store": "embedded", "leads": counts["leads"], "cases": counts["cases"], "file_bytes": size,
        "bytes_per_lead": round(per_lead), "build": build, "runs": args.runs, "queries": rows,
        "max_p95_ms": max(r["p95_ms"] for r in rows),
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
