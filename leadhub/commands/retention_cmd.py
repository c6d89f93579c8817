"""`leadhub retention run [--dry-run] [--json]`."""

from __future__ import annotations

import json
import sys

import typer

app = typer.Typer(
    help="Retention (PIPL): remove reporters' contacts after retention.contact_days, and delete (or archive) leads and "
    "closed cases after retention.lead_years, on the configured store.",
    no_args_is_help=True,
)


@app.command("run")
def run(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be removed; change nothing."),
    as_json: bool = typer.Option(False, "--json", help="The counts as one JSON object."),
) -> None:
    """Apply retention.contact_days and retention.lead_years once and print the counts per store part.
    Embedded: the index file (documents, full-text tables, dead letters; the file is then rewritten).
    Cluster: the search engine's leads and cases, and Kafka's topics that carry contacts (leads.raw,
    leads.clean, leads.routed, *.dlq: their retention.ms is lowered to contact_days, as records cannot be
    edited). Exit status 1 if a part failed (each failure is one line)."""
    from leadhub.retention.run import run_retention

    settings = ctx.obj.settings
    cfg = settings.retention
    if cfg.contact_days is None and cfg.lead_years is None:
        typer.echo("retention: nothing configured (retention.contact_days and retention.lead_years are both unset)", err=True)
        return
    report = run_retention(settings, dry_run=dry_run)
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        cut = report.cutoffs
        typer.echo(f"retention ({settings.mode} mode{', dry run' if dry_run else ''}): contacts before "
                   f"{cut.contact.date() if cut.contact else 'never'}, leads and closed cases before {cut.lead.date() if cut.lead else 'never'}")  # fmt: skip
        for row in report.rows:  # a dry run's counts are what a run would remove now
            count = "" if row.count is None else row.count
            typer.echo(f"  {row.store:<12} {row.part:<28} {count:>8}  {row.note}".rstrip())
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    if report.errors:
        raise typer.Exit(1)
