"""Hot issues on the real board messages: coverage, purity and rank of hand-labelled hot issues.

    python -m benchmarks.hot_issues [--window DAYS] [--min-similarity S] [--anchor-window DAYS]
        [--anchor-similarity S] [--top N] [--no-prime] [--state-sizes 5000,20000,50000]

The reference is benchmarks/data/hot_issues_reference.yaml (17 problems labelled by hand; how it was
made is written there). All 4,326 messages of board_messages.csv go through what `leadhub hot-issues`
does: in time order, each gets its case from leadhub's dedup, then its hot issue. For each labelled
issue the best-matching found issue is the one holding most of its messages:

- coverage: the share of the labelled messages in that found issue;
- purity: the share of that found issue's messages that are labelled members;
- rank: its place by heat among the listed hot issues (at least hot_issues.min_leads leads);
- cases: how many dedup cases its labelled messages fall in (hot issues sit above cases).

- rank_30d: its best place on the dashboard panel (and `GET /api/v1/hot-issues`, 30 days) while it is
  live: right after each of its messages arrives, the panel lists the hot issues with at least
  min_leads leads whose latest lead is in the last 30 days, ordered as the store orders them, by the
  heat the streams stored at each issue's latest lead (all its leads so far, growth as of then), then
  the latest lead, then the id;
- rank_30d_window_heat: the same periods, but every issue's heat counted on the period's messages only
  (rank_30d's definition until 2026-12-07; no view of leadhub shows that list: kept for comparison).
- rank_daily: its best place on the panel as it stands at the end of each day (what a leader who looks
  once a day sees); with it, how many distinct issues were ever on a day's top 10 (``daily_top10_issues``):
  the other side of the goal. A panel that shows every issue at some point puts every labelled one in
  its top 10 and filters nothing.
- reporters: the distinct reporters (users) of its found issue; heat counts people, so a problem one
  person raised several times ranks below one many people raised.
- rank_repeats: its best place on the dashboard's other panel, the raised-again list (the same 30 days,
  the issues with at least hot_issues.min_repeats repeats, leads - reporters, the most first, then the
  hottest), right after each of its messages arrives: where one person writing again and again is seen.

Goal (issue 27): every labelled issue in the top 10, coverage >= 0.7, purity >= 0.7. With 17 labelled
issues and one list of 10, at most 10 can meet it by the overall rank, so the goal is claimed on the
dashboard's panels: ``meeting_goal_30d`` (the hot panel, rank_30d <= 10), and ``meeting_goal_panels``,
on the top 10 of the panel that fits it: the hot panel for a problem more than one person raised, the
raised-again panel (rank_repeats) for one that a single person raised again and again (heat counts
people; 群众反映强烈 is many people). Held-out check: the labelled issues at even positions of the reference file
(1st, 3rd, …) are the "tune" half the settings were chosen on, those at odd positions the "held-out"
half; both are summarised apart.

Cost per lead is timed per 1,000 leads in arrival order. ``--state-sizes`` also times the clusterer
alone (no dedup) on a grown state: the messages replayed again and again, each replay a year and a
half later (so every replay makes new issues of the same entities, the worst case for the per-entity
lists), with a paired reference state of the smallest size, as benchmarks/route_speed.py does.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import gc
import math
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Collection
from pathlib import Path

import yaml

from benchmarks.common import print_table, read_csv, write_json
from enrichers.dedup import DedupConfig, Deduplicator, MemoryDedupState
from enrichers.entities import clear_cache
from enrichers.hot_issues import HotIssue, HotIssueClusterer, HotLead, heat
from enrichers.hot_issues_settings import HeatWeights, HotIssueSettings
from schemas.hot_issues import HotIssueOrder, repeats_of
from schemas.timezones import DEFAULT_DATE_FORMATS, parse_local_time

REFERENCE = Path(__file__).parent / "data" / "hot_issues_reference.yaml"
PERIOD_DAYS = 30


def reference(rows: list[dict[str, str]]) -> list[dict]:
    """The labelled issues with their member ids: the hand-written patterns, minus the hand exclusions."""
    issues = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))["issues"]
    for position, issue in enumerate(issues):
        issue["half"] = "tune" if position % 2 == 0 else "held-out"
        entity, complaint = re.compile(issue["entity"]), re.compile(issue["complaint"])
        excluded = {str(k) for k in issue.get("excluded") or {}}
        matched = [r["留言编号"] for r in rows if entity.search(text := r["留言主题"] + r["留言详情"]) and complaint.search(text)]
        issue["ids"] = [i for i in matched if i not in excluded]
        if len(issue["ids"]) != issue["members"]:
            print(f"warning: {issue['key']}: the patterns give {len(issue['ids'])} members, the reference says {issue['members']}")
    return issues


def panel_ranks(
    clusterer: HotIssueClusterer, leads: list[HotLead], targets: Collection[str], order: HotIssueOrder = "heat"
) -> dict[str, int | None]:
    """For each found issue id asked for, its best place on the dashboard panel right after one of its
    leads arrives (see rank_30d in the module's docstring): what the streams store and the panel reads.
    ``order="repeats"``: the raised-again panel (rank_repeats)."""
    settings = clusterer.settings
    ordered, times, issue_of = _arrivals(clusterer, leads)
    # What the stage stores after each lead of an issue, as the panel sorts it (None while not listed), by arrival position.
    stored: dict[str, tuple[list[int], list[tuple[float, ...] | None]]] = {}
    growing: dict[str, HotIssue] = defaultdict(lambda: HotIssue("", ()))
    for position, lead in enumerate(ordered):
        found = issue_of.get(lead.lead_id)
        if found is None:
            continue
        part = _grow(growing[found], lead)
        listed = len(part.lead_ids) >= settings.min_leads
        at = lead.published_at.timestamp()  # type: ignore[union-attr]
        positions, heats = stored.setdefault(found, ([], []))
        positions.append(position)
        hot = round(heat(part, settings.heat, at, settings.growth_days), 3)
        if order == "repeats":
            again = repeats_of(len(part.lead_ids), len(part.reporters))
            heats.append((again, hot, at) if listed and again >= settings.min_repeats else None)
        else:
            heats.append((hot, at) if listed else None)
    out: dict[str, int | None] = {}
    for issue_id in targets:
        best = None
        for end in stored.get(issue_id, ([], []))[0]:
            panel: dict[str, tuple[float, ...]] = {}
            for k in range(bisect.bisect_left(times, times[end] - PERIOD_DAYS * 86400), end + 1):
                found = issue_of.get(ordered[k].lead_id)
                if found is None or found in panel:
                    continue
                positions, heats = stored[found]
                latest = heats[bisect.bisect_right(positions, end) - 1]
                if latest is not None:
                    panel[found] = latest
            if issue_id in panel:
                ranked = sorted(panel, key=lambda k: (*(-x for x in panel[k]), k))
                best = min(best or 10**9, ranked.index(issue_id) + 1)
        out[issue_id] = best
    return out


def decayed_heat(leads: list[HotLead], end: float, weights: HeatWeights, half_life_days: float) -> float:
    """What-if (``--decay-half-life``, no part of leadhub): heat of leads, reporters (at their first lead)
    and likes, each lead weighing 2^(-age / half-life) at ``end``: Σ over the three of w·ln(1 + weighed sum)."""
    weight = [2 ** (-(end - lead.published_at.timestamp()) / (half_life_days * 86400)) for lead in leads]  # type: ignore[union-attr]
    first: dict[str, float] = {}
    for lead, w in zip(leads, weight, strict=True):
        first.setdefault(f"author:{lead.author}" if lead.author else f"lead:{lead.lead_id}", w)
    return (
        weights.leads * math.log1p(sum(weight))
        + weights.reporters * math.log1p(sum(first.values()))
        + weights.likes * math.log1p(sum(max(0, lead.likes) * w for lead, w in zip(leads, weight, strict=True)))
    )


def daily_ranks(
    clusterer: HotIssueClusterer, leads: list[HotLead], targets: Collection[str], half_life_days: float | None = None
) -> tuple[dict[str, int | None], int, int]:
    """For each found issue id asked for, its best place on the panel at the end of a day (23:59:59 of
    the leads' own clock), heat as the stage stored it at each issue's latest lead then (or, with
    ``half_life_days``, ``decayed_heat`` at the day's end); and how many distinct issues were ever on a
    day's top 10, over how many days."""
    settings = clusterer.settings
    ordered, times, issue_of = _arrivals(clusterer, leads)
    if not ordered:
        return {}, 0, 0
    events: dict[str, list[HotLead]] = defaultdict(list)
    for lead in ordered:
        if (found := issue_of.get(lead.lead_id)) is not None:
            events[found].append(lead)
    tz = ordered[0].published_at.tzinfo  # type: ignore[union-attr]
    day = ordered[0].published_at.astimezone(tz).replace(hour=23, minute=59, second=59, microsecond=0)  # type: ignore[union-attr]
    best: dict[str, int | None] = dict.fromkeys(targets)
    ever: set[str] = set()
    days = 0
    while day.timestamp() < times[-1] + 86400:
        end = day.timestamp()
        live = {issue_of.get(lead.lead_id) for lead in ordered[bisect.bisect_left(times, end - PERIOD_DAYS * 86400) : bisect.bisect_right(times, end)]}
        panel: dict[str, tuple[float, float]] = {}
        for found in live - {None}:
            part, so_far = HotIssue("", ()), []
            for lead in events[found]:  # type: ignore[index]
                if lead.published_at.timestamp() > end:  # type: ignore[union-attr]
                    break
                _grow(part, lead)
                so_far.append(lead)
            if len(part.lead_ids) >= settings.min_leads:
                at = part.times[-1]
                score = (
                    heat(part, settings.heat, at, settings.growth_days) if half_life_days is None
                    else decayed_heat(so_far, end, settings.heat, half_life_days)
                )  # fmt: skip
                panel[found] = (round(score, 3), at)  # type: ignore[index]
        top = sorted(panel, key=lambda k: (-panel[k][0], -panel[k][1], k))[:10]
        ever.update(top)
        days += 1
        for place, found in enumerate(top, 1):
            if found in best:
                best[found] = place if best[found] is None else min(best[found] or place, place)
        day += dt.timedelta(days=1)
    return best, len(ever), days


def period_ranks(clusterer: HotIssueClusterer, leads: list[HotLead], targets: Collection[str]) -> dict[str, int | None]:
    """For each found issue id asked for, its best rank among the hot issues of a PERIOD_DAYS period
    ending at one of its leads, heat counted on the period's leads only (rank_30d_window_heat)."""
    settings = clusterer.settings
    ordered, times, issue_of = _arrivals(clusterer, leads)
    out: dict[str, int | None] = {}
    for issue_id in targets:
        best = None
        ends = sorted({times[k] for k, lead in enumerate(ordered) if issue_of.get(lead.lead_id) == issue_id})
        for end in ends:
            grouped: dict[str, HotIssue] = defaultdict(lambda: HotIssue("", ()))
            for lead in ordered[bisect.bisect_left(times, end - PERIOD_DAYS * 86400) : bisect.bisect_right(times, end)]:
                found = issue_of.get(lead.lead_id)
                if found is not None:
                    _grow(grouped[found], lead)
            if issue_id not in grouped:
                continue
            listed = {k: heat(v, settings.heat, end, settings.growth_days) for k, v in grouped.items() if len(v.lead_ids) >= settings.min_leads}
            if issue_id in listed:
                rank = 1 + sum(1 for k, h in listed.items() if h > listed[issue_id] or (h == listed[issue_id] and k < issue_id))
                best = rank if best is None else min(best, rank)
        out[issue_id] = best
    return out


def _arrivals(clusterer: HotIssueClusterer, leads: list[HotLead]) -> tuple[list[HotLead], list[float], dict[str, str]]:
    """The dated leads in arrival (time) order, their times, and the hot issue each was placed in."""
    issue_of = {lead_id: issue.issue_id for issue in clusterer.issues.values() for lead_id in issue.lead_ids}
    ordered = sorted((lead for lead in leads if lead.published_at), key=lambda lead: (lead.published_at.timestamp(), lead.lead_id))  # type: ignore[union-attr]
    return ordered, [lead.published_at.timestamp() for lead in ordered], issue_of  # type: ignore[union-attr]


def _grow(part: HotIssue, lead: HotLead) -> HotIssue:
    """One more lead counted into a partial issue, as HotIssueClusterer._join counts it for heat."""
    part.lead_ids.append(lead.lead_id)
    part.times.append(lead.published_at.timestamp())  # type: ignore[union-attr]
    part.reporters.add(f"author:{lead.author}" if lead.author else f"lead:{lead.lead_id}")
    part.likes += max(0, lead.likes)
    return part


def state_growth(leads: list[HotLead], settings: HotIssueSettings, sizes: list[int], probe: int = 1000, rounds: int = 10) -> list[dict]:
    """The clusterer's cost per lead on states of the given sizes (see the module's docstring)."""
    span = leads[-1].published_at - leads[0].published_at  # type: ignore[operator]
    shift = span + dt.timedelta(days=max(settings.window_days, settings.anchor_window_days) + 30)

    def replayed(position: int, cycle_from: int = 0) -> HotLead:
        cycle, k = divmod(position, len(leads))
        lead = leads[k]
        cycle += cycle_from
        return HotLead(f"{cycle}-{lead.lead_id}", lead.title, lead.text, lead.published_at + cycle * shift, None, lead.author, lead.likes)  # type: ignore[operator]

    def timed(clusterer: HotIssueClusterer, batch: list[HotLead]) -> float:
        clear_cache()  # both states replay the same texts: the second timed would find their windows segmented
        started = time.perf_counter()
        for lead in batch:
            clusterer.add(lead)
        return time.perf_counter() - started

    smallest = min(sizes)
    reference = HotIssueClusterer(settings)
    for position in range(smallest):
        reference.add(replayed(position))
    grown = HotIssueClusterer(settings)
    filled, rows = 0, []
    reference_cycles = -(-smallest // len(leads))
    for size in sorted(sizes):
        while filled < size:
            grown.add(replayed(filled))
            filled += 1
        gc.collect()
        cycles = -(-filled // len(leads))
        per_round = -(-probe // rounds)
        wall, ratios = 0.0, []
        for number, start in enumerate(range(0, probe, per_round)):
            # The same texts on both states, each at the time of its own state's next replay.
            positions = range(filled + start, filled + min(probe, start + per_round))
            batch = [replayed(p % len(leads), cycles) for p in positions]
            reference_batch = [replayed(p % len(leads), reference_cycles) for p in positions]
            if number % 2:
                on_reference = timed(reference, reference_batch)
                took = timed(grown, batch)
            else:
                took = timed(grown, batch)
                on_reference = timed(reference, reference_batch)
            wall += took
            ratios.append(took / on_reference)
        rows.append({
            "state_leads": size, "hot_issues": len(grown.issues), "dictionary_names": len(grown.dictionary),
            "us_per_lead": round(wall / probe * 1e6), "vs_reference": round(statistics.median(ratios), 2),
        })  # fmt: skip
        print(f"  hot-issue state {size:,}: {wall / probe * 1e6:.0f} us/lead", flush=True)
    return rows


def _top10(rank: int | str) -> bool:
    return isinstance(rank, int) and rank <= 10


def summarise(results: list[dict]) -> dict:
    n = len(results) or 1
    top10 = [r for r in results if isinstance(r["rank"], int) and r["rank"] <= 10]
    fit = [r for r in results if r["coverage"] >= 0.7 and r["purity"] >= 0.7]
    # Not all labelled issues can fit one top 10: the 10 largest by reference (ties: file order) should.
    largest = sorted(results, key=lambda r: -r["messages"])[:10]
    return {
        "labelled": len(results),
        "in_top10": len(top10),
        "largest10_in_top10": sum(1 for r in largest if r in top10),
        "in_top15": sum(1 for r in results if isinstance(r["rank"], int) and r["rank"] <= 15),
        "meeting_goal": sum(1 for r in fit if r in top10),
        "meeting_goal_30d": sum(1 for r in fit if isinstance(r["rank_30d"], int) and r["rank_30d"] <= 10),
        "meeting_goal_30d_window_heat": sum(1 for r in fit if isinstance(r["rank_30d_window_heat"], int) and r["rank_30d_window_heat"] <= 10),
        "meeting_goal_daily": sum(1 for r in fit if isinstance(r["rank_daily"], int) and r["rank_daily"] <= 10),
        "more_than_one_reporter": sum(1 for r in results if r["reporters"] > 1),
        "meeting_goal_30d_of_those": sum(1 for r in fit if r["reporters"] > 1 and _top10(r["rank_30d"])),
        "one_reporter_on_raised_again_top10": sum(1 for r in fit if r["reporters"] == 1 and _top10(r["rank_repeats"])),
        "meeting_goal_panels": sum(1 for r in fit if _top10(r["rank_30d"] if r["reporters"] > 1 else r["rank_repeats"])),
        "coverage_and_purity_ok": len(fit),
        "mean_coverage": round(sum(r["coverage"] for r in results) / n, 3),
        "mean_purity": round(sum(r["purity"] for r in results) / n, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = HotIssueSettings()
    parser.add_argument("--window", type=float, default=defaults.window_days, help="hot_issues.window_days")
    parser.add_argument("--min-similarity", type=float, default=defaults.min_term_similarity, help="hot_issues.min_term_similarity")
    parser.add_argument("--anchor-window", type=float, default=defaults.anchor_window_days, help="hot_issues.anchor_window_days")
    parser.add_argument("--anchor-similarity", type=float, default=defaults.anchor_similarity, help="hot_issues.anchor_similarity")
    parser.add_argument("--state-sizes", default="", help="also time the clusterer on states of these many leads, e.g. 5000,20000,50000")
    parser.add_argument("--top", type=int, default=10, help="how many of the hottest issues to print")
    parser.add_argument(
        "--decay-half-life", type=float, default=None, metavar="DAYS",
        help="what-if for rank_daily only: the day's panel ordered by heat that halves every DAYS (no part of leadhub)",
    )  # fmt: skip
    parser.add_argument("--no-prime", action="store_true", help="do not read the names of the whole input first (as online, in arrival order)")
    args = parser.parse_args()
    settings = defaults.model_copy(update={
        "window_days": args.window, "min_term_similarity": args.min_similarity,
        "anchor_window_days": args.anchor_window, "anchor_similarity": args.anchor_similarity,
    })  # fmt: skip

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
    learned: list = [None] * len(leads)
    if not args.no_prime:  # as `leadhub hot-issues` does: names from the whole input first (each text segmented once)
        learned = [clusterer.learn(lead.title, lead.text) for lead in leads]
    prime_seconds = time.perf_counter() - primed
    case_of: dict[str, str] = {}
    chunk_ms: list[float] = []
    started = chunk_started = time.perf_counter()
    for n, (lead, prepared) in enumerate(zip(leads, learned, strict=True), 1):
        case_of[lead.lead_id] = dedup.assign(lead.lead_id, lead.title, lead.text, lead.published_at).case_id
        clusterer.add(HotLead(**{**lead.__dict__, "case_id": case_of[lead.lead_id]}), prepared)
        if n % 1000 == 0 or n == len(leads):
            chunk_ms.append((time.perf_counter() - chunk_started) * 1000 / (n - 1000 * len(chunk_ms)))
            chunk_started = time.perf_counter()
    elapsed = time.perf_counter() - started

    ranked = clusterer.top()
    rank_of = {issue.issue_id: k for k, issue in enumerate(ranked, 1)}
    issue_of = {lead_id: issue.issue_id for issue in clusterer.issues.values() for lead_id in issue.lead_ids}
    results = []
    best_of: dict[str, str] = {}
    for ref in labelled:
        members = set(ref["ids"])
        hits = Counter(issue_of[i] for i in members if i in issue_of)
        best, overlap = max(hits.items(), key=lambda kv: (kv[1], -rank_of.get(kv[0], 10**9))) if hits else (None, 0)
        found = clusterer.issues[best] if best else None
        if best:
            best_of[ref["key"]] = best
        results.append({
            "issue": ref["key"], "half": ref["half"],
            "messages": len(members),
            "cases": len({case_of[i] for i in members}),
            "found_issues": len(hits) + (1 if len(members) > sum(hits.values()) else 0),
            "coverage": overlap / len(members),
            "purity": overlap / len(found.lead_ids) if found else 0.0,
            "rank": rank_of.get(best, "-") if best else "-",
            "rank_30d": "-",
            "rank_30d_window_heat": "-",
            "rank_daily": "-",
            "rank_repeats": "-",
            "reporters": len(found.reporters) if found else 0,
            "found_title": found.title() if found else "",
        })  # fmt: skip
    targets = set(best_of.values())
    on_panel, by_period = panel_ranks(clusterer, leads, targets), period_ranks(clusterer, leads, targets)
    by_day, daily_issues, days = daily_ranks(clusterer, leads, targets, args.decay_half_life)
    raised_again = panel_ranks(clusterer, leads, targets, "repeats")
    for r in results:
        for column, ranks in (("rank_30d", on_panel), ("rank_30d_window_heat", by_period), ("rank_daily", by_day), ("rank_repeats", raised_again)):
            rank = ranks.get(best_of.get(r["issue"], ""))
            r[column] = rank if rank is not None else "-"
    print_table("Labelled hot issues (found_issues: how many hot issues, or none, their messages are in)", results)
    top_rows = [
        {"rank": k, "heat": round(clusterer.heat(i), 3), "leads": len(i.lead_ids), "cases": len(i.case_ids),
         "reporters": len(i.reporters), "likes": i.likes, "title": i.title()}
        for k, i in enumerate(ranked[: args.top], 1)
    ]  # fmt: skip
    print_table(f"Top {args.top} hot issues by heat", top_rows)
    halves = [{"half": name, **summarise([r for r in results if name == "all" or r["half"] == name])} for name in ("all", "tune", "held-out")]
    print_table("Goal by half (meeting_goal: overall top 10; meeting_goal_30d: on the 30-day panel's top 10 while live)", halves)
    summary = {
        "leads": len(leads), "hot_issues": len(clusterer.issues), "listed": len(ranked),
        "labelled": len(results), "labelled_in_top10": halves[0]["in_top10"], "meeting_goal": halves[0]["meeting_goal"],
        "largest10_in_top10": halves[0]["largest10_in_top10"], "in_top15": halves[0]["in_top15"],
        "meeting_goal_30d": halves[0]["meeting_goal_30d"], "meeting_goal_30d_window_heat": halves[0]["meeting_goal_30d_window_heat"],
        "meeting_goal_daily": halves[0]["meeting_goal_daily"], "daily_top10_issues": daily_issues, "days": days,
        "more_than_one_reporter": halves[0]["more_than_one_reporter"], "meeting_goal_30d_of_those": halves[0]["meeting_goal_30d_of_those"],
        "one_reporter_on_raised_again_top10": halves[0]["one_reporter_on_raised_again_top10"], "meeting_goal_panels": halves[0]["meeting_goal_panels"],
        "mean_coverage": halves[0]["mean_coverage"], "mean_purity": halves[0]["mean_purity"],
        "ms_per_lead": elapsed * 1000 / len(leads), "ms_per_lead_per_1000": [round(x, 3) for x in chunk_ms],
        "dictionary_names": len(clusterer.dictionary), "prime_ms_per_lead": prime_seconds * 1000 / len(leads),
    }  # fmt: skip
    print_table("Summary", [{k: (v if not isinstance(v, list) else " ".join(map(str, v))) for k, v in summary.items()}])
    growth = []
    if args.state_sizes:
        growth = state_growth(leads, settings, [int(x) for x in args.state_sizes.split(",") if x])
        print_table("Clusterer cost per lead as the state grows (vs_reference: median paired ratio to the smallest state)", growth)
    write_json("hot_issues", {
        "settings": settings.model_dump(), "primed": not args.no_prime, "decay_half_life_days": args.decay_half_life, "summary": summary, "halves": halves,
        "labelled": results, "top": top_rows, "state_growth": growth,
    })  # fmt: skip


if __name__ == "__main__":
    main()
