"""Hot issues on the real board messages: coverage, purity and rank of hand-labelled hot issues.

    python -m benchmarks.hot_issues [--window DAYS] [--min-similarity S] [--top N]

The reference is benchmarks/data/hot_issues_reference.yaml (15 problems labelled by hand; how it was
made is written there). All 4,326 messages of board_messages.csv go through what `leadhub hot-issues`
does: in time order, each gets its case from leadhub's dedup, then its hot issue. For each labelled
issue the best-matching found issue is the one holding most of its messages:

- coverage: the share of the labelled messages in that found issue;
- purity: the share of that found issue's messages that are labelled members;
- rank: its place by heat among the listed hot issues (at least hot_issues.min_leads leads);
- cases: how many dedup cases its labelled messages fall in (hot issues sit above cases).

Goal (issue 27): every labelled issue in the top 10, coverage >= 0.7, purity >= 0.7. Cost per lead is
timed per 1,000 leads in arrival order, so its growth with the state (issues, dictionary) shows.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from pathlib import Path

import yaml

from benchmarks.common import print_table, read_csv, write_json
from enrichers.dedup import DedupConfig, Deduplicator, MemoryDedupState
from enrichers.hot_issues import HotIssueClusterer, HotLead
from enrichers.hot_issues_settings import HotIssueSettings
from schemas.timezones import DEFAULT_DATE_FORMATS, parse_local_time

REFERENCE = Path(__file__).parent / "data" / "hot_issues_reference.yaml"


def reference(rows: list[dict[str, str]]) -> list[dict]:
    """The labelled issues with their member ids: the hand-written patterns, minus the hand exclusions."""
    issues = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))["issues"]
    for issue in issues:
        entity, complaint = re.compile(issue["entity"]), re.compile(issue["complaint"])
        excluded = {str(k) for k in issue.get("excluded") or {}}
        matched = [r["留言编号"] for r in rows if entity.search(text := r["留言主题"] + r["留言详情"]) and complaint.search(text)]
        issue["ids"] = [i for i in matched if i not in excluded]
        if len(issue["ids"]) != issue["members"]:
            print(f"warning: {issue['key']}: the patterns give {len(issue['ids'])} members, the reference says {issue['members']}")
    return issues


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = HotIssueSettings()
    parser.add_argument("--window", type=float, default=defaults.window_days, help="hot_issues.window_days")
    parser.add_argument("--min-similarity", type=float, default=defaults.min_term_similarity, help="hot_issues.min_term_similarity")
    parser.add_argument("--top", type=int, default=10, help="how many of the hottest issues to print")
    parser.add_argument("--no-prime", action="store_true", help="do not read the names of the whole input first (as online, in arrival order)")
    args = parser.parse_args()
    settings = defaults.model_copy(update={"window_days": args.window, "min_term_similarity": args.min_similarity})

    rows = read_csv("board_messages.csv")
    labelled = reference(rows)
    leads = []
    for r in rows:
        when = parse_local_time(r["留言时间"], DEFAULT_DATE_FORMATS, "Asia/Shanghai")
        leads.append(HotLead(r["留言编号"], r["留言主题"], r["留言详情"], when, None, r["留言用户"], int(r["点赞数"] or 0)))
    leads.sort(key=lambda lead: (lead.published_at, lead.lead_id))

    dedup = Deduplicator(MemoryDedupState(), DedupConfig())
    clusterer = HotIssueClusterer(settings)
    primed = time.perf_counter()
    if not args.no_prime:  # as `leadhub hot-issues` does: names from the whole input first
        for lead in leads:
            clusterer.learn(lead.title, lead.text)
    prime_seconds = time.perf_counter() - primed
    case_of: dict[str, str] = {}
    chunk_ms: list[float] = []
    started = chunk_started = time.perf_counter()
    for n, lead in enumerate(leads, 1):
        case_of[lead.lead_id] = dedup.assign(lead.lead_id, lead.title, lead.text, lead.published_at).case_id
        clusterer.add(HotLead(**{**lead.__dict__, "case_id": case_of[lead.lead_id]}))
        if n % 1000 == 0 or n == len(leads):
            chunk_ms.append((time.perf_counter() - chunk_started) * 1000 / (n - 1000 * len(chunk_ms)))
            chunk_started = time.perf_counter()
    elapsed = time.perf_counter() - started

    ranked = clusterer.top()
    rank_of = {issue.issue_id: k for k, issue in enumerate(ranked, 1)}
    issue_of = {lead_id: issue.issue_id for issue in clusterer.issues.values() for lead_id in issue.lead_ids}
    results = []
    for ref in labelled:
        members = set(ref["ids"])
        hits = Counter(issue_of[i] for i in members if i in issue_of)
        best, overlap = max(hits.items(), key=lambda kv: (kv[1], -rank_of.get(kv[0], 10**9))) if hits else (None, 0)
        found = clusterer.issues[best] if best else None
        results.append({
            "issue": ref["key"],
            "messages": len(members),
            "cases": len({case_of[i] for i in members}),
            "found_issues": len(hits) + (1 if len(members) > sum(hits.values()) else 0),
            "coverage": overlap / len(members),
            "purity": overlap / len(found.lead_ids) if found else 0.0,
            "rank": rank_of.get(best, "-") if best else "-",
            "found_title": found.title() if found else "",
        })  # fmt: skip
    print_table("Labelled hot issues (found_issues: how many hot issues, or none, their messages are in)", results)
    top_rows = [
        {"rank": k, "heat": round(clusterer.heat(i), 3), "leads": len(i.lead_ids), "cases": len(i.case_ids),
         "reporters": len(i.reporters), "likes": i.likes, "title": i.title()}
        for k, i in enumerate(ranked[: args.top], 1)
    ]  # fmt: skip
    print_table(f"Top {args.top} hot issues by heat", top_rows)
    in_top10 = sum(1 for r in results if isinstance(r["rank"], int) and r["rank"] <= 10)
    goal = sum(1 for r in results if isinstance(r["rank"], int) and r["rank"] <= 10 and r["coverage"] >= 0.7 and r["purity"] >= 0.7)
    summary = {
        "leads": len(leads), "hot_issues": len(clusterer.issues), "listed": len(ranked),
        "labelled": len(results), "labelled_in_top10": in_top10, "meeting_goal": goal,
        "mean_coverage": sum(r["coverage"] for r in results) / len(results),
        "mean_purity": sum(r["purity"] for r in results) / len(results),
        "ms_per_lead": elapsed * 1000 / len(leads), "ms_per_lead_per_1000": [round(x, 3) for x in chunk_ms],
        "dictionary_names": len(clusterer.dictionary), "prime_ms_per_lead": prime_seconds * 1000 / len(leads),
    }  # fmt: skip
    print_table("Summary", [{k: (v if not isinstance(v, list) else " ".join(map(str, v))) for k, v in summary.items()}])
    write_json("hot_issues", {"settings": settings.model_dump(), "primed": not args.no_prime, "summary": summary, "labelled": results, "top": top_rows})


if __name__ == "__main__":
    main()
