"""`leadhub sink run`."""

from __future__ import annotations

import logging
import signal

import typer

app = typer.Typer(help="The search-engine writer.", no_args_is_help=True)


@app.command("run")
def run(
    ctx: typer.Context,
    max_age_ms: int = typer.Option(100, "--max-age-ms", help="Longest a document waits for its batch."),
    max_items: int = typer.Option(2000, "--max-items", help="Flush when a batch has this many items."),
) -> None:
    """Consume leads.routed, cases.state and cases.events into the search engine until stopped."""
    from sinks.batch import BatchLimits
    from sinks.writer import SearchSink

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sink = SearchSink(ctx.obj.settings, limits=BatchLimits(max_items=max_items, max_age_s=max_age_ms / 1000))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sink.stop())
    typer.echo(f"sink: {sink.leads_index} and {sink.cases_index} from Kafka; stop with Ctrl-C", err=True)
    sink.run()
    typer.echo(f"sink stopped: {sink.metrics.line()}", err=True)
