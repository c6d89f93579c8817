"""`leadhub hot-issues`: cluster JSONL leads into hot issues offline and print the hottest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer

from enrichers.dedup import DedupConfig, Deduplicator, MemoryDedupState
from enrichers.hot_issues import HotIssueClusterer, HotLead
from leadhub.commands.jsonl import read_jsonl, write_jsonl
from leadhub.commands.offline_cmd import ENCODING_HELP, INPUT_HELP, _input, _report, _text
from leadhub.hot_issues_view import issue_json
from schemas.errors import RecordError
from schemas.hot_issues import HOT_ISSUE_ORDERS
from schemas.timezones import DEFAULT_DATE_FORMATS, parse_local_time


def hot_issues(
    ctx: typer.Context,
    input: Path | None = typer.Argument(None, help=INPUT_HELP, readable=False),
    top: int = typer.Option(10, "--top", min=1, help="How many hot issues to print, hottest first."),
    window: float | None = typer.Option(
        None, "--window", min=0.001,
        help="Most days between a lead and its hot issue's nearest lead, also for a lead naming the issue's entity in its title "
        "(default: hot_issues.window_days, and anchor_window_days for those).",
    ),
    order: str = typer.Option(
        "heat", "--order",
        help="heat: the hottest first. repeats: the raised-again list, the issues with at least hot_issues.min_repeats repeats "
        "(leads from someone who had written about it before, by author), the most first.",
    ),
    encoding: str = typer.Option("auto", "--encoding", help=ENCODING_HELP),
) -> None:
    """Find hot issues offline: leads about the same concrete problem (the same named estate, company,
    school, road, project, village or community and the same complaint, within a time window), above the cases that group
    re-posts. Reads JSONL {"id","title","text","source","published_at"} with optional "likes", "author"
    and "case_id" (without case_id, leads are grouped into cases as `leadhub dedup` does); prints the top
    N issues, one JSON per line: issue_id, title, entities, lead_ids, case_ids, first_seen, last_seen, heat,
    leads, reporters, likes, repeats."""
    if order not in HOT_ISSUE_ORDERS:
        raise typer.BadParameter(f"{order!r} is not one of {', '.join(HOT_ISSUE_ORDERS)}", param_hint="--order")
    input = _input(input, encoding)
    settings = ctx.obj.settings
    # A window asked for bounds every join, the anchored ones too.
    section = settings.hot_issues if window is None else settings.hot_issues.model_copy(update={"window_days": window, "anchor_window_days": window})
    zone = ZoneInfo(settings.routing.source_timezone)
    leads: list[tuple[int, HotLead, bool]] = []
    errors = total = 0
    for number, read in read_jsonl(input, ("id", "text"), encoding):
        total += 1
        try:
            if isinstance(read, Exception):
                raise read
            leads.append((number, _lead(read, number, settings.routing.source_timezone), "case_id" in read))
        except (RecordError, ValueError) as exc:
            errors += 1
            typer.echo(f"skipped: {exc}", err=True)
    _report(errors, total)
    # In time order, as they would have arrived: a hot issue grows from its first lead.
    leads.sort(key=lambda item: (item[1].published_at is None, item[1].published_at or dt.datetime.min.replace(tzinfo=dt.UTC), item[0]))
    deduplicator = Deduplicator(MemoryDedupState(), DedupConfig(window_days=settings.routing.dedup_window_days))
    clusterer = HotIssueClusterer(section)
    # The names of the whole input first: one written with its suffix late is known early (and what
    # learning found of each lead is not worked out again when it is placed).
    learned = [clusterer.learn(lead.title, lead.text) for _, lead, _ in leads]
    for (_, lead, has_case), prepared in zip(leads, learned, strict=True):
        if not has_case:
            case_id = deduplicator.assign(lead.lead_id, lead.title, lead.text, lead.published_at).case_id
            lead = HotLead(**{**lead.__dict__, "case_id": case_id})
        clusterer.add(lead, prepared)
    for issue in clusterer.top(top, order):
        write_jsonl(issue_json(issue, clusterer.heat(issue), zone))


def _lead(item: dict[str, Any], number: int, timezone: str) -> HotLead:
    try:
        when = parse_local_time(item.get("published_at"), DEFAULT_DATE_FORMATS, timezone)
    except ValueError as exc:
        raise ValueError(f"line {number}: {exc}") from None
    likes = item.get("likes", 0)
    if likes is None or likes == "":
        likes = 0
    if isinstance(likes, bool) or not (isinstance(likes, int) or (isinstance(likes, str) and likes.strip().isdigit())):
        raise ValueError(f"line {number}: likes must be a whole number ≥ 0, not {likes!r}")
    case_id = item.get("case_id")
    author = item.get("author")
    return HotLead(
        lead_id=str(item["id"]), title=_text(item.get("title")), text=_text(item.get("text")), published_at=when,
        case_id=str(case_id) if case_id not in (None, "") else None, author=str(author) if author not in (None, "") else None,
        likes=max(0, int(likes)),
    )  # fmt: skip
