"""The `leadhub` command: builds the settings once and hands them to each sub-command."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from leadhub.commands import (
    api_cmd,
    config_cmd,
    demo_cmd,
    dlq_cmd,
    hot_issues_cmd,
    index_cmd,
    ingest_cmd,
    notify_cmd,
    offline_cmd,
    replay_cmd,
    report_cmd,
    retention_cmd,
    search_cmd,
    services_cmd,
    sink_cmd,
    streams_cmd,
    topics_cmd,
)
from leadhub.context import AppContext
from leadhub.settings import CONFIG_FILE_ENV, build_settings, parse_overrides
from schemas.errors import LeadhubError

app = typer.Typer(
    name="leadhub",
    help="leadhub: public complaints and service-supervision leads, from every channel to one searchable set of cases.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(services_cmd.app, name="services")
app.add_typer(topics_cmd.app, name="topics")
app.add_typer(index_cmd.app, name="index")
app.add_typer(ingest_cmd.app, name="ingest")
app.add_typer(streams_cmd.app, name="streams")
app.add_typer(sink_cmd.app, name="sink")
app.add_typer(offline_cmd.model_app, name="model")
app.command("categorize")(offline_cmd.categorize)
app.command("dedup")(offline_cmd.dedup)
app.command("hot-issues")(hot_issues_cmd.hot_issues)
app.command("search")(search_cmd.search)
app.command("replay")(replay_cmd.replay)
app.add_typer(api_cmd.app, name="api")
app.command("demo")(demo_cmd.demo)
app.add_typer(dlq_cmd.app, name="dlq")
app.add_typer(notify_cmd.app, name="notify")
app.add_typer(config_cmd.app, name="config")
app.command("report")(report_cmd.report)
app.add_typer(retention_cmd.app, name="retention")


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", readable=False, help="Settings file (default: $LEADHUB_CONFIG, else ./leadhub.yaml if present)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override one setting, e.g. --set search.url=http://127.0.0.1:9200 (repeatable)."),
    ] = None,
) -> None:
    # Settings are built lazily so that `--help` works even when the configuration is broken.
    ctx.obj = AppContext(lambda: build_settings(_config_file(config), parse_overrides(set_ or [])))


def _config_file(config: Path | None) -> Path | None:
    """A named settings file (--config or $LEADHUB_CONFIG) must be a readable file: one line if not."""
    from leadhub.commands.file_args import check_readable

    named = config or os.environ.get(CONFIG_FILE_ENV)
    if named:
        check_readable(named, "--config" if config else f"${CONFIG_FILE_ENV}", streams=False)
    return config


def main(argv: list[str] | None = None) -> int:
    # Typer reports usage errors itself and exits; our own errors come through as exceptions.
    try:
        app(args=argv, prog_name="leadhub")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except LeadhubError as exc:
        # One line: what was wrong and, when known, what to do.
        hint = f" (what to do: {exc.hint})" if exc.hint else ""
        print(f"error: {exc.message}{hint}", file=sys.stderr)
        return 2
    return 0


def run() -> None:
    sys.exit(main())
