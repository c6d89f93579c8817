"""`leadhub streams worker`."""

from __future__ import annotations

import typer

app = typer.Typer(help="The stream-processing stages (faust on Kafka).", no_args_is_help=True)


@app.command("worker")
def worker(ctx: typer.Context, loglevel: str = typer.Option("info", "--loglevel", help="debug, info, warning, error")) -> None:
    """Run all stages (normalize, route + dedup, case status) as one faust worker until stopped."""
    from leadhub.hotspot_alerts import hotspot_alerts
    from streams.app import run_worker  # faust is heavy to import; only this command needs it

    alerts = hotspot_alerts(ctx.obj.settings)  # a new hotspot notifies the configured channels
    try:
        run_worker(ctx.obj.settings, loglevel, alerts.new_hotspot if alerts is not None else None)
    finally:
        if alerts is not None:
            alerts.close()
