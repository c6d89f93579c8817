"""`leadhub config show`."""

from __future__ import annotations

import json

import typer
import yaml

app = typer.Typer(help="Inspect the effective settings.", no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of YAML."),
) -> None:
    """Print the effective settings (defaults < leadhub.yaml < LEADHUB_* < --set); secrets are redacted."""
    data = ctx.obj.settings.redacted()
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        typer.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False).rstrip())
