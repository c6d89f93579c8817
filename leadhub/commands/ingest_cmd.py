"""`leadhub ingest run NAME | --all` and `leadhub ingest preview`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from ingestors.base import FetchContext, Problem, SourceUnavailable, load_kinds
from ingestors.runner import RunReport, run_source
from ingestors.sources import build_kind, load_sources
from ingestors.state import IngestState
from leadhub.errors import ConfigError
from leadhub.producer import CheckedProducer

app = typer.Typer(help="Run sources: feeds, hotline exports, … into leads.raw.", no_args_is_help=True)


def state_path(settings) -> Path:
    if settings.ingest.state_db:
        return settings.ingest.state_db
    from deploy.local.manager import services_home

    return services_home(settings).parent / "ingest-state.sqlite"


def _open_outlet(settings, pipeline=None):
    """Where fetched records go: Kafka (cluster mode) or the stages in this process (embedded)."""
    if settings.mode == "embedded":
        from leadhub.embedded import EmbeddedPipeline

        return (pipeline or EmbeddedPipeline(settings)).outlet()
    return CheckedProducer(settings.kafka)


def _progress(report: RunReport) -> None:
    typer.echo(f"  {report.source}: {report.fetched} fetched, {report.new} new, {report.failed} failed …", err=True)


@app.command("run")
def run(
    ctx: typer.Context,
    name: Optional[str] = typer.Argument(None, help="The source to run (its name in sources.yaml)."),
    all_: bool = typer.Option(False, "--all", help="Run every enabled source."),
) -> None:
    """Run sources once; per source: fetched, new, changed, unchanged, failed. Exit 1 if any failed."""
    settings = ctx.obj.settings
    sources = load_sources(settings.ingest.sources)
    if all_ == bool(name):
        raise ConfigError("name one source or pass --all", hint=f"sources: {', '.join(s.name for s in sources)}")
    chosen = [s for s in sources if s.enabled] if all_ else [s for s in sources if s.name == name]
    if not chosen:
        raise ConfigError(f"no source named {name!r} in {settings.ingest.sources}", hint=f"sources: {', '.join(s.name for s in sources)}")
    store = IngestState(state_path(settings))
    producer = _open_outlet(settings)
    reports: list[RunReport] = []
    try:
        for source in chosen:
            typer.echo(f"running {source.name} ({source.kind}) …", err=True)
            reports.append(run_source(source, build_kind(source), store, producer, progress=_progress))
    finally:
        producer.close()
        store.close()
    table = Table("source", "fetched", "new", "changed", "unchanged", "failed", "seconds", "problem")
    for r in reports:
        problem = r.error or "; ".join(r.warnings or []) or ""
        table.add_row(r.source, *(str(v) for v in (r.fetched, r.new, r.changed, r.unchanged, r.failed, r.seconds)), problem)
    Console(width=160).print(table)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@app.command("schedule")
def schedule(ctx: typer.Context) -> None:
    """Run every enabled source on its schedule until stopped; failures back off, stale sources are logged."""
    import logging
    import signal
    import threading

    from ingestors.scheduler import Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = ctx.obj.settings
    sources = load_sources(settings.ingest.sources)
    store = IngestState(state_path(settings))
    pipeline = None
    if settings.mode == "embedded":
        from leadhub.embedded import EmbeddedPipeline

        pipeline = EmbeddedPipeline(settings)

    def run_one(source) -> RunReport:
        producer = _open_outlet(settings, pipeline)  # one per run: each run checks its own sends
        try:
            report = run_source(source, build_kind(source), store, producer)
        finally:
            producer.close()
        logging.getLogger("leadhub.ingest").info(
            "%s: fetched %d, new %d, changed %d, unchanged %d, failed %d%s", report.source, report.fetched,
            report.new, report.changed, report.unchanged, report.failed, f" — {report.error}" if report.error else "",
        )  # fmt: skip
        return report

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    from ingestors import metrics

    scheduler = Scheduler(sources, run_one)
    metrics_file = settings.ingest.metrics_file or state_path(settings).with_name("ingest-metrics.prom")
    typer.echo(f"scheduling {len(scheduler.clocks)} source(s); metrics in {metrics_file}; stop with Ctrl-C", err=True)
    try:
        while not stop.is_set():
            scheduler.tick()
            metrics.write(metrics_file, list(scheduler.clocks.values()))
            stop.wait(1.0)
    finally:
        scheduler.shutdown()
        store.close()


@app.command("preview")
def preview(
    kind: str = typer.Option(..., "--kind", help="The source kind, e.g. feed or hotline_files."),
    file: Path = typer.Option(..., "--file", help="A saved document (feed XML, CSV/XLSX/JSON export, …)."),
    options: str = typer.Option("{}", "--options", help="The kind's options as JSON (as in sources.yaml)."),
    channel: str = typer.Option("news", "--channel"),
    timezone: str = typer.Option("Asia/Shanghai", "--timezone"),
) -> None:
    """Parse a saved document offline and print its RawLeads as JSONL (no network, no Kafka)."""
    kinds = load_kinds()
    if kind not in kinds:
        raise ConfigError(f"unknown kind {kind!r}", hint=f"kinds: {', '.join(sorted(kinds))}")
    cls = kinds[kind]
    try:
        given = json.loads(options)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--options is not JSON: {exc.msg}") from None
    try:
        parsed = cls.Options.model_validate(given)
    except ValidationError as exc:
        # Fields only a live fetch needs (a URL, an inbox) may be left out for a preview.
        if any(e["type"] != "missing" for e in exc.errors()):
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"--options for {kind}: {problems}") from None
        parsed = cls.Options.model_construct(**given)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror}") from None
    ctx = FetchContext("preview", channel, timezone, {"file_name": file.name})
    count = problems = 0
    try:
        for item in cls(parsed).parse_document(data, ctx):
            if isinstance(item, Problem):
                problems += 1
                typer.echo(f"problem: {item}", err=True)
                continue
            count += 1
            sys.stdout.write(item.model_dump_json() + "\n")
    except SourceUnavailable as exc:
        raise ConfigError(f"{file} cannot be parsed as {kind}: {exc}") from None
    for warning in ctx.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"{count} lead(s), {problems} problem(s)", err=True)
    if count == 0:
        raise typer.Exit(1)
