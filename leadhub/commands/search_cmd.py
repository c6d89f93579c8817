"""`leadhub search QUERY`: the unified index from the terminal."""

from __future__ import annotations

import datetime as dt
import json

import typer
from pydantic import ValidationError

from leadhub.commands.search_table import print_table
from leadhub.queries import Filters, SearchRequest, Sort
from schemas.errors import LeadhubError, StartupError
from schemas.validation import describe_errors


def search(
    ctx: typer.Context,
    query: str = typer.Argument("", help="Words to find; \"quotes\" for phrases, -word to exclude. Empty: everything."),
    kind: str = typer.Option("cases", "--kind", help="cases or leads."),
    category: list[str] | None = typer.Option(None, "--category", help="Level-1 category (repeatable)."),
    department: list[str] | None = typer.Option(None, "--department"),
    status: list[str] | None = typer.Option(None, "--status", help="Cases: new, accepted, assigned, in_progress, resolved, closed, rejected."),
    place: list[str] | None = typer.Option(None, "--place", help="Town / sub-district or community."),
    channel: list[str] | None = typer.Option(None, "--channel"),
    source: list[str] | None = typer.Option(None, "--source"),
    since: dt.datetime | None = typer.Option(None, "--since", help="Reported on or after (date or time, local)."),
    until: dt.datetime | None = typer.Option(None, "--until", help="Reported before."),
    sort: Sort = typer.Option(Sort.relevance, "--sort"),
    size: int = typer.Option(20, "--size", min=1, max=1000),
    page: int = typer.Option(1, "--page", min=1),
    as_json: bool = typer.Option(False, "--json", help="The whole answer (hits and facets) as JSON."),
    wide: bool = typer.Option(False, "--wide", help="Whole ids in the table (it shows their first 10 characters)."),
) -> None:
    """Search leads or cases; a table, or JSON with --json."""
    from adapters.search_backend import NotFound
    from leadhub.access import Principal
    from leadhub.case_lookup import case_id_for
    from leadhub.contacts import visible_leads
    from leadhub.runtime import open_runtime

    values = dict(category=category, department=department, status=status, place=place, channel=channel,
                  source=source, since=since, until=until)  # fmt: skip
    try:
        request = SearchRequest(
            kind=kind, q=query, sort=sort, size=size, page=page, facets=as_json,
            filters=Filters(**{k: v for k, v in values.items() if v}),
        )  # fmt: skip
    except ValidationError as exc:
        problems = describe_errors(exc, last_loc=True)
        raise LeadhubError(f"invalid search: {problems}", hint="see `leadhub search --help`") from None
    settings = ctx.obj.settings
    runtime = open_runtime(settings, existing=True)
    try:
        store = runtime.store
        named = case_id_for(store, query)
        if named is not None:  # a case number (or its first characters, as the table shows them)
            by_id = Filters(ids=[named]) if kind == "cases" else Filters(case_id=[named])
            request = request.model_copy(update={"q": "", "filters": by_id})
            typer.echo(f"{query} names case {named}: showing {'it' if kind == 'cases' else 'its leads'} (to search the text, quote it: '\"{query}\"')", err=True)
        result = store.search(request)
        if result.kind == "leads":
            # The terminal user's role (cli.role, default analyst) decides whose contacts are printed.
            terminal = Principal("cli", settings.cli.role, frozenset(settings.cli.departments))
            result.hits = visible_leads(store, result.hits, terminal)
    except NotFound as exc:
        raise StartupError(f"the indices are missing: {exc.message}", hint="run `leadhub index init`") from None
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        print_table(result, wide=wide)
