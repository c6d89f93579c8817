"""The most expensive searches the caps allow, on both stores, over the same synthetic leads.

    leadhub services up && python -m benchmarks.worst_query [--leads 100000] [--repeat 5]

Builds N leads (synthetic but shaped like real ones: Chinese complaint sentences from a few hundred
phrases, Yiwu places, categories, channels, dates over a year), bulk-inserted straight into a fresh
OpenSearch index (through `leadhub index init`'s template) and a fresh embedded SQLite file (through
write_lead in one transaction, as a pipeline batch writes, then merged and vacuumed as a bulk load
ends; its size measured in bytes per lead). Then runs each query of QUERIES through the stores' own search() with facets, as the API
does, and reports p50 / max per store; last, the embedded write_lead rate on the full file (new
leads, and rewrites of existing ones with new text).
Target (issue 19, item 10): <= 1 s on 100,000 leads on both stores.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from opensearchpy import helpers

from adapters.search_backend import SearchBackend
from benchmarks.common import print_table, write_json
from leadhub.index_admin import init_indices
from leadhub.queries import Filters, SearchRequest, Sort, TextLimits, text_problem
from leadhub.readers.embedded import EmbeddedStore
from leadhub.readers.engine import EngineStore
from leadhub.settings import build_settings, parse_overrides
from schemas.index_templates import lead_index
from schemas.leads import Lead
from sinks.embedded_index import EmbeddedIndex
from sinks.embedded_text import optimize_text_indexes

TOWNS = ["稠城街道", "北苑街道", "稠江街道", "江东街道", "后宅街道", "城西街道", "廿三里街道", "福田街道",
         "佛堂镇", "赤岸镇", "义亭镇", "上溪镇", "大陈镇", "苏溪镇"]  # fmt: skip
PLACES = ["幸福小区", "国际商贸城", "宾王市场", "江滨路", "工人路", "城中路", "篁园市场", "义乌火车站", "市行政服务中心", "绣湖公园"]
THINGS = ["电梯", "路灯", "自来水", "下水道", "公交车", "垃圾桶", "停车位", "井盖", "红绿灯", "空调外机", "围墙", "窨井"]
PROBLEMS = ["坏了很久没人修", "经常停运", "夜间噪音扰民", "一直不亮", "漏水严重", "堵塞发臭", "不按站停靠", "被占用",
            "存在安全隐患", "收费不合理", "办事要跑好几次", "排队两个小时"]  # fmt: skip
TAILS = ["希望有关部门尽快处理。", "已经反映多次没有结果。", "老人小孩出行很不方便。", "请相关部门核实。", "物业一直推脱。", ""]
CATEGORIES = [("城乡建设", "城市建设和市政管理"), ("环境保护", "噪声污染"), ("交通运输", "公交运营"), ("商贸旅游", "市场监管"),
              ("劳动和社会保障", "工资福利"), (None, None)]  # fmt: skip
DEPARTMENTS = ["市住房和城乡建设局", "金华市生态环境局义乌分局", "市交通运输局", "市市场监督管理局", "市人力资源和社会保障局", None]
CHANNELS = [("hotline", "hotline-12345"), ("forum", "forum-yiwu"), ("complaint_platform", "board-jinhua"),
            ("news", "news-yiwu"), ("officer", "officer-intake")]  # fmt: skip

LIMITS = TextLimits()
# The most expensive queries under the default caps (16 terms, 8 exclusions): many short terms
# (embedded: scans), common characters (engine: long posting lists), exclusions of one and two
# characters (a scan on every row), a 1,000-character phrase, deep paging, facets over everything.
QUERIES: dict[str, dict] = {
    # every substring of 号楼附近的, which every lead holds: 15 terms, 12 of them scans (embedded)
    "15 terms every lead holds": {"q": " ".join("号楼附近的"[i:j] for i in range(5) for j in range(i + 1, 6))},
    "8 rare 1-char exclusions only": {"q": " ".join(f"-{c}" for c in "鑫淼犇骉焱垚赑㵘")},
    "16 common 2-char terms": {"q": " ".join(["街道", "小区", "希望", "部门", "处理", "反映", "出行", "方便", "相关", "核实", "物业",
                                              "推脱", "尽快", "老人", "已经", "多次"])},  # fmt: skip
    "1 term + 8 rare 1-char exclusions": {"q": "区 " + " ".join(f"-{c}" for c in "鑫淼犇骉焱垚赑㵘")},
    "8 two-char exclusions only": {"q": " ".join(f"-{w}" for w in ["火箭", "飞船", "潜艇", "卫星", "雪山", "沙漠", "冰川", "海啸"])},
    "8 three-char exclusions + 8 terms": {"q": " ".join(["街", "道", "区", "了", "的", "不", "人", "很"])
                                          + " " + " ".join(f"-{w}" for w in ["火箭筒", "宇宙飞", "潜水艇", "卫星图", "雪山上", "大沙漠", "冰川融", "海啸来"])},  # fmt: skip
    "1,000-character phrase": {"q": '"' + ("幸福小区电梯经常停运" * 100)[:998] + '"'},
    "one common character": {"q": "区"},
    "everything, newest, deepest page": {"q": "", "page": 500, "size": 20, "sort": Sort.newest},
    "everything, by priority, all filters": {"q": "处理", "sort": Sort.priority,
                                             "filters": Filters(place=TOWNS[:7], channel=["hotline", "forum"], since=dt.datetime(2024, 1, 1))},  # fmt: skip
}


def synthetic_leads(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    leads = []
    for i in range(n):
        town, place, thing = rng.choice(TOWNS), rng.choice(PLACES), rng.choice(THINGS)
        problem, tail = rng.choice(PROBLEMS), rng.choice(TAILS)
        level1, level2 = rng.choice(CATEGORIES)
        channel, source = rng.choice(CHANNELS)
        at = (start + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))).isoformat()
        lead_id = f"bench-{i:07d}"
        text = f"{town}{place}{rng.randint(1, 30)}号楼附近的{thing}{problem}，{tail}"
        leads.append({
            "lead_id": lead_id, "source": source, "channel": channel, "external_id": str(i), "url": None,
            "title": f"{place}{thing}{problem}"[:30], "text": text, "author": None, "location_text": f"{town}{place}",
            "published_at": at, "fetched_at": at, "lang": "zh", "attachments": [], "pii_types": [],
            "fingerprint": f"{i:016x}", "category": {"level1": level1, "level2": level2} if level1 else None,
            "department": rng.choice(DEPARTMENTS), "confidence": 0.9, "needs_triage": level1 is None,
            "place": {"town": town, "community": None, "address": place, "geo": None}, "priority": rng.randrange(100),
            "priority_reasons": [], "case_id": f"bench-{rng.randrange(max(1, n // 3)):07d}", "is_primary": False,
        })  # fmt: skip
    return leads


def fill_engine(backend: SearchBackend, alias: str, leads: list[dict]) -> float:
    started = time.perf_counter()
    actions = ({"_index": lead_index(alias, lead), "_id": lead["lead_id"], "_source": lead} for lead in leads)  # its month, as the sink
    helpers.bulk(backend.client, actions, chunk_size=2000, request_timeout=120)
    backend.refresh(alias)
    return time.perf_counter() - started


def fill_embedded(index: EmbeddedIndex, leads: list[dict]) -> float:
    """The leads through write_lead in one transaction (as a pipeline batch writes), then the end of a
    bulk load: the text index merged and the file rewritten."""
    started = time.perf_counter()
    models = [Lead.model_validate(lead) for lead in leads]
    with index.batch():
        for lead in models:
            index.write_lead(lead)
    with index.transaction() as db:
        optimize_text_indexes(db)
    with index.write_lock:
        index.db.execute("VACUUM")
    return time.perf_counter() - started


def _used_bytes(index: EmbeddedIndex) -> int:
    db = index.db
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = db.execute("PRAGMA page_count").fetchone()[0] - db.execute("PRAGMA freelist_count").fetchone()[0]
    return pages * db.execute("PRAGMA page_size").fetchone()[0]


def write_rate(index: EmbeddedIndex, leads: list[dict]) -> dict[str, float]:
    """Leads per second through write_lead (one transaction each, as the pipeline writes): new
    leads, then the same leads again with other text (the old tokens are deleted from both indexes)."""
    new = [Lead.model_validate({**lead, "lead_id": f"write-{i}", "external_id": f"write-{i}"}) for i, lead in enumerate(leads)]
    changed = [lead.model_copy(update={"text": lead.text + "，补充：又坏了"}) for lead in new]
    rates = {}
    for name, batch in (("new", new), ("rewritten", changed)):
        started = time.perf_counter()
        for lead in batch:
            index.write_lead(lead)
        rates[name] = len(batch) / (time.perf_counter() - started)
    return rates


def request(spec: dict) -> SearchRequest:
    problem = text_problem(spec["q"], LIMITS)
    assert problem is None, problem  # every query here is one the API accepts
    return SearchRequest(kind="leads", q=spec["q"], filters=spec.get("filters", Filters()), sort=spec.get("sort", Sort.relevance),
                         page=spec.get("page", 1), size=spec.get("size", 20), facets=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--writes", type=int, default=1000, help="leads written one by one at the end (embedded write rate)")
    args = parser.parse_args()

    leads = synthetic_leads(args.leads)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    settings = build_settings(overrides=parse_overrides([f"search.index_prefix={prefix}", "search.request_timeout=60"]))
    backend = SearchBackend.from_settings(settings.search)
    init_indices(backend, settings.search)
    folder = Path(tempfile.mkdtemp(prefix="worst-query-"))
    index = EmbeddedIndex(folder / "bench.sqlite")
    try:
        load = {"opensearch": fill_engine(backend, f"{prefix}-leads", leads), "embedded": fill_embedded(index, leads)}
        stores = {"opensearch": EngineStore(backend, prefix), "embedded": EmbeddedStore(index)}
        rows, results = [], {}
        for name, spec in QUERIES.items():
            row = {"query": name}
            for store_name, store in stores.items():
                store.search(request(spec))  # warm
                times, total = [], None
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    total = store.search(request(spec)).total
                    times.append(time.perf_counter() - started)
                row[f"{store_name} p50 s"] = statistics.median(times)
                row[f"{store_name} max s"] = max(times)
                row[f"{store_name} hits"] = total
                results.setdefault(store_name, {})[name] = {"p50_s": statistics.median(times), "max_s": max(times), "total": total}
            rows.append(row)
        print_table(f"worst queries on {args.leads:,} leads (x{args.repeat}, facets on)", rows)
        summary = [{"store": s, "load s": load[s], "p50 of p50s": statistics.median(v["p50_s"] for v in results[s].values()),
                    "worst max s": max(v["max_s"] for v in results[s].values())} for s in stores]  # fmt: skip
        print_table("per store", summary)
        rates = write_rate(index, synthetic_leads(args.writes, seed=8))
        embedded = {"file bytes/lead": _used_bytes(index) / args.leads, **{f"write_lead {name} leads/s": rate for name, rate in rates.items()}}
        print_table("embedded file", [embedded])
        write_json("worst_query", {"leads": args.leads, "repeat": args.repeat, "limits": dataclasses.asdict(LIMITS),
                                   "load_s": load, "embedded": embedded,
                                   "queries": {k: v["q"][:80] for k, v in QUERIES.items()}, "results": results})  # fmt: skip
    finally:
        for index_name in backend.index_names(f"{prefix}-*"):  # (a test session may have removed them already)
            backend.delete_index(index_name)
        backend.close()
        index.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
