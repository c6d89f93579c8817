"""`leadhub services up|down|status`: local Kafka and OpenSearch for development and tests."""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console
from rich.table import Table

from deploy.local import manager

app = typer.Typer(
    help="Local Kafka and OpenSearch, resolved from Maven Central and run with Java 17 (no Docker needed).",
    no_args_is_help=True,
)


@app.command("up")
def up(ctx: typer.Context) -> None:
    """Download (first time), start and wait for Kafka and OpenSearch. Running twice changes nothing."""
    settings = ctx.obj.settings
    services = manager.local_services(settings)
    manager.up(services, settings.services.java, settings.services.start_timeout_s, say=typer.echo)


@app.command("down")
def down(ctx: typer.Context) -> None:
    """Stop the services that `up` started (by pid); nothing else is touched."""
    manager.down(manager.local_services(ctx.obj.settings), say=typer.echo)


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show what runs, on which port, since when, and where its log is."""
    rows = manager.status(manager.local_services(ctx.obj.settings))
    table = Table("service", "state", "pid", "port", "since", "log")
    for row in rows:
        since = dt.datetime.fromtimestamp(row.since).isoformat(" ", "seconds") if row.since else "-"
        state = "running" if row.running else "stopped"
        if row.note:
            state += f" ({row.note})"
        table.add_row(row.label, state, str(row.pid or "-"), str(row.port), since, str(row.log))
    Console(width=200).print(table)
