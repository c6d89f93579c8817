"""`leadhub search QUERY`: the unified index from the terminal."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Optional

import typer
from pydantic import ValidationError

from leadhub.errors import LeadhubError, StartupError
from leadhub.queries import Filters, SearchPage, SearchRequest, Sort


def _table(page: SearchPage) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{page.total} {page.kind} (page {page.page})", show_lines=False)
    if page.kind == "cases":
        columns = ["case_id", "status", "reports", "category", "department", "place", "first seen", "title"]
        rows = [
            [h["case_id"], h.get("status", ""), str(h.get("report_count", "")), (h.get("category") or {}).get("level1") or "",
             h.get("department") or "", (h.get("place") or {}).get("town") or "", (h.get("first_seen") or "")[:16],
             (h.get("title") or "")[:40]]
            for h in page.hits
        ]  # fmt: skip
    else:
        columns = ["lead_id", "channel", "source", "category", "place", "published", "case_id", "title"]
        rows = [
            [h["lead_id"], h.get("channel", ""), h.get("source", ""), (h.get("category") or {}).get("level1") or "",
             (h.get("place") or {}).get("town") or "", (h.get("published_at") or h.get("fetched_at") or "")[:16],
             h.get("case_id") or "", (h.get("title") or h.get("text") or "")[:40]]
            for h in page.hits
        ]  # fmt: skip
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    # Piped output has no terminal width: keep rows whole for grep and friends.
    Console(width=None if sys.stdout.isatty() else 220).print(table)


def search(
    ctx: typer.Context,
    query: str = typer.Argument("", help="Words to find; \"quotes\" for phrases, -word to exclude. Empty: everything."),
    kind: str = typer.Option("cases", "--kind", help="cases or leads."),
    category: Optional[list[str]] = typer.Option(None, "--category", help="Level-1 category (repeatable)."),
    department: Optional[list[str]] = typer.Option(None, "--department"),
    status: Optional[list[str]] = typer.Option(None, "--status", help="Cases: new, accepted, assigned, in_progress, resolved, closed, rejected."),
    place: Optional[list[str]] = typer.Option(None, "--place", help="Town / sub-district or community."),
    channel: Optional[list[str]] = typer.Option(None, "--channel"),
    source: Optional[list[str]] = typer.Option(None, "--source"),
    since: Optional[dt.datetime] = typer.Option(None, "--since", help="Reported on or after (date or time, local)."),
    until: Optional[dt.datetime] = typer.Option(None, "--until", help="Reported before."),
    sort: Sort = typer.Option(Sort.relevance, "--sort"),
    size: int = typer.Option(20, "--size", min=1, max=1000),
    page: int = typer.Option(1, "--page", min=1),
    as_json: bool = typer.Option(False, "--json", help="The whole answer (hits and facets) as JSON."),
) -> None:
    """Search leads or cases; a table, or JSON with --json."""
    from leadhub.access import Principal
    from leadhub.contacts import visible_leads
    from leadhub.search_backend import NotFound
    from leadhub.stores import open_read_store

    values = dict(category=category, department=department, status=status, place=place, channel=channel,
                  source=source, since=since, until=until)  # fmt: skip
    try:
        request = SearchRequest(
            kind=kind, q=query, sort=sort, size=size, page=page, facets=as_json,
            filters=Filters(**{k: v for k, v in values.items() if v}),
        )  # fmt: skip
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][-1:]))}: {e['msg']}" for e in exc.errors())
        raise LeadhubError(f"invalid search: {problems}", hint="see `leadhub search --help`") from None
    settings = ctx.obj.settings
    store, close = open_read_store(settings)
    try:
        result = store.search(request)
        if result.kind == "leads":
            # The terminal user's role (cli.role, default analyst) decides whose contacts are printed.
            terminal = Principal("cli", settings.cli.role, frozenset(settings.cli.departments))
            result.hits = visible_leads(store, result.hits, terminal)
    except NotFound as exc:
        raise StartupError(f"the indices are missing: {exc.message}", hint="run `leadhub index init`") from None
    finally:
        close()
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        _table(result)
