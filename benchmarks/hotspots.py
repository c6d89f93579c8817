"""Hotspot detection on a replay of the real board messages, with known surges injected.

    python -m benchmarks.hotspots [--sizes 4,6,8,12] [--runs 20] [--per-run 10] [--spread-hours 12]
                                  [--p 0.001,0.01] [--window-hours 24] [--baseline-windows 14] [--min-count 5]

The 4,326 messages of ../shared/data/teddy2020/board_messages.csv are routed with the project's
categorizer (streams.pipeline.build_categorizer: the default model and the taxonomy's rules) and placed
by the gazetteer, else by the board's own district in the text (the data set's "A3区", "A7县": its
places are anonymized, so the Yiwu gazetteer finds almost none). The replay is the messages of 2019 up
to the last one (Jan 2020), in time order; a message with no category or place joins no surge.

Each run injects ``--per-run`` surges at known times: for a (category, place) pair with at least 20
messages, ``size`` extra leads (copies of the pair's own messages, new ids) spread evenly over
``--spread-hours`` from a start t0, at least four days from every other injection of the run, after
the first baseline period. A surge is detected when the detector opens a surge for that pair between
t0 and t0 + spread + window; the delay is from t0 to the lead on which it fired (with leads spread
evenly, it is mostly the time the min_count-th lead takes to come), and injected_leads_to_fire is the
median number of injected leads in the window when it fired (the pair's own leads count too).

- recall: detected / injected;
- delay: hours from t0 to detection (median, p90, max);
- other alarms / week: surges opened that match no injection, per week of replay. The unmodified
  replay's own alarms are given too: the board has real bursts, so these are an upper bound on false
  alarms, not a count of them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import time
from collections import defaultdict
from typing import Any

from benchmarks.common import print_table, read_csv, write_json
from enrichers.hotspots import HotspotConfig, HotspotDetector, lead_time
from enrichers.places import DEFAULT_GAZETTEER, load_gazetteer
from schemas.leads import Category, Lead, Place
from streams.pipeline import build_categorizer
from streams.settings import RoutingSettings

CITY = dt.timezone(dt.timedelta(hours=8))
DISTRICT = re.compile(r"A\d+[区县市]")
REPLAY_FROM = dt.datetime(2019, 1, 1, tzinfo=CITY)
MIN_PAIR_LEADS = 20
GAP_DAYS = 4
HOUR = 3600.0


def parse_time(text: str) -> dt.datetime | None:
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).replace(tzinfo=CITY)
        except ValueError:
            continue
    return None


def routed_board() -> list[Lead]:
    """The board messages as routed leads: category from the categorizer, place from the gazetteer or
    the message's district."""
    rows = read_csv("board_messages.csv")
    categorizer = build_categorizer(RoutingSettings())
    gazetteer = load_gazetteer(DEFAULT_GAZETTEER)
    results = categorizer.categorize_many([(row["留言主题"], row["留言详情"]) for row in rows])
    leads = []
    for row, result in zip(rows, results, strict=True):
        at = parse_time(row["留言时间"])
        if at is None or at < REPLAY_FROM:
            continue
        title, text = row["留言主题"], row["留言详情"]
        town = gazetteer.locate(f"{title} {text}").town
        if town is None:
            found = DISTRICT.search(title) or DISTRICT.search(text)
            town = found.group() if found else None
        leads.append(Lead(
            lead_id=f"board-{row['留言编号']}", source="board", channel="complaint_platform", external_id=row["留言编号"],
            title=title, text=text, published_at=at, fetched_at=at,
            category=Category(level1=result.category) if result.category else None,
            place=Place(town=town) if town else None, case_id=f"board-{row['留言编号']}",
        ))  # fmt: skip
    return sorted(leads, key=lambda lead: (lead_time(lead), lead.lead_id))


def pair_of(lead: Lead) -> tuple[str, str] | None:
    if lead.category is None or lead.place is None or lead.place.town is None:
        return None
    return lead.category.level1, lead.place.town


def inject(base: list[Lead], config: HotspotConfig, size: int, per_run: int, spread_h: float, rng: random.Random):
    """(the stream with the injected leads, the injections: pair, t0, ids)."""
    by_pair: dict[tuple[str, str], list[Lead]] = defaultdict(list)
    for lead in base:
        if (pair := pair_of(lead)) is not None:
            by_pair[pair].append(lead)
    pairs = sorted(pair for pair, leads in by_pair.items() if len(leads) >= MIN_PAIR_LEADS)
    first, last = lead_time(base[0]), lead_time(base[-1])
    earliest = first + config.window_hours * (config.baseline_windows + 1) * HOUR
    latest = last - (spread_h + config.window_hours) * HOUR
    starts: list[float] = []
    while len(starts) < per_run:
        t0 = rng.uniform(earliest, latest)
        if all(abs(t0 - other) >= GAP_DAYS * 24 * HOUR for other in starts):
            starts.append(t0)
    injections, extra = [], []
    for n, t0 in enumerate(sorted(starts)):
        pair = rng.choice(pairs)
        ids = []
        for k in range(size):
            model = rng.choice(by_pair[pair])
            at = dt.datetime.fromtimestamp(t0 + spread_h * HOUR * k / max(1, size - 1), CITY)
            lead_id = f"injected-{n}-{k}"
            ids.append(lead_id)
            extra.append(model.model_copy(update={"lead_id": lead_id, "external_id": lead_id, "case_id": lead_id,
                                                  "published_at": at, "fetched_at": at}))  # fmt: skip
        injections.append({"pair": pair, "t0": t0, "ids": ids})
    stream = sorted(base + extra, key=lambda lead: (lead_time(lead), lead.lead_id))
    return stream, injections


def opened_surges(stream: list[Lead], config: HotspotConfig) -> list[Any]:
    detector = HotspotDetector(config)
    return [d.hotspot for d in detector.observe_many(stream) if d.new and d.hotspot.kind == "surge"]


def score(opened: list[Any], injections: list[dict[str, Any]], config: HotspotConfig, spread_h: float):
    """(delays in hours of the detected injections, injected leads seen by then, alarms matching none)."""
    delays: list[float] = []
    needed: list[int] = []
    matched: set[str] = set()
    for injection in injections:
        t0, horizon = injection["t0"], injection["t0"] + (spread_h + config.window_hours) * HOUR
        hits = [h for h in opened if (h.category, h.place) == injection["pair"] and t0 <= h.detected_at.timestamp() <= horizon]
        if hits:
            first = min(hits, key=lambda h: h.detected_at)
            matched.add(first.hotspot_id)
            delays.append((first.detected_at.timestamp() - t0) / HOUR)
            needed.append(sum(1 for lead_id in injection["ids"] if lead_id in first.lead_ids))
    return delays, needed, [h for h in opened if h.hotspot_id not in matched]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4,6,8,12", help="leads per injected surge")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--per-run", type=int, default=10)
    parser.add_argument("--spread-hours", type=float, default=12.0)
    parser.add_argument("--p", default="0.001,0.01", help="p_threshold values to compare")
    parser.add_argument("--window-hours", type=float, default=24.0)
    parser.add_argument("--baseline-windows", type=int, default=14)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    base = routed_board()
    weeks = (lead_time(base[-1]) - lead_time(base[0])) / (7 * 24 * HOUR)
    placed = sum(1 for lead in base if pair_of(lead) is not None)
    print(f"replay: {len(base)} board messages over {weeks:.1f} weeks, {placed} with a category and a place"
          f" (routed in {time.perf_counter() - started:.1f} s)")  # fmt: skip

    rows, details = [], []
    for p in [float(v) for v in args.p.split(",")]:
        config = HotspotConfig(window_hours=args.window_hours, baseline_windows=args.baseline_windows, p_threshold=p,
                               min_count=args.min_count)  # fmt: skip
        replay_started = time.perf_counter()
        natural = opened_surges(base, config)
        replay_s = time.perf_counter() - replay_started
        for size in [int(v) for v in args.sizes.split(",")]:
            rng = random.Random(f"{args.seed}-{size}")
            delays: list[float] = []
            needed: list[int] = []
            injected, others = 0, 0
            for _ in range(args.runs):
                stream, injections = inject(base, config, size, args.per_run, args.spread_hours, rng)
                found, leads_seen, unmatched = score(opened_surges(stream, config), injections, config, args.spread_hours)
                delays += found
                needed += leads_seen
                injected += len(injections)
                others += len(unmatched)
            row = {
                "p_threshold": p, "size": size, "injected": injected, "detected": len(delays),
                "recall": len(delays) / injected,
                "delay_median_h": round(statistics.median(delays), 2) if delays else None,
                "delay_p90_h": round(p90, 2) if (p90 := percentile(delays, 0.9)) is not None else None,
                "delay_max_h": round(max(delays), 2) if delays else None,
                "injected_leads_to_fire": statistics.median(needed) if needed else None,
                "other_alarms_per_week": round(others / args.runs / weeks, 3),
                "replay_alarms_per_week": round(len(natural) / weeks, 3),
            }  # fmt: skip
            rows.append(row)
        details.append({"p_threshold": p, "replay_alarms": len(natural), "replay_seconds": round(replay_s, 2),
                        "replay_alarm_pairs": sorted({f"{h.category}/{h.place}" for h in natural})})  # fmt: skip

    print_table(
        f"Injected surges ({args.runs} runs x {args.per_run}, spread over {args.spread_hours:g} h; window"
        f" {args.window_hours:g} h, baseline {args.baseline_windows} windows, min count {args.min_count})",
        rows,
    )
    for detail in details:
        print(f"p={detail['p_threshold']}: the unmodified replay opens {detail['replay_alarms']} surges"
              f" ({detail['replay_seconds']} s for the replay)")  # fmt: skip
    write_json("hotspots", {
        "settings": vars(args), "replay": {"leads": len(base), "weeks": round(weeks, 2), "placed": placed},
        "rows": rows, "replay_alarms": details,
    })  # fmt: skip


if __name__ == "__main__":
    main()
