"""`leadhub ingest run NAME | --all` and `leadhub ingest preview`."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sys
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from typer.core import TyperArgument, TyperCommand, TyperOption

from ingestors.base import FetchContext, Problem, SourceUnavailable, load_kinds
from ingestors.runner import RunReport, run_source
from ingestors.sources import build_kind, load_sources
from ingestors.state import IngestState
from leadhub.commands.file_args import check_readable
from leadhub.runtime import ingest_state_path, open_runtime
from schemas.errors import ConfigError
from schemas.leads import CHANNELS
from schemas.timezones import zone

app = typer.Typer(help="Run sources: feeds, hotline exports, … into leads.raw.", no_args_is_help=True)


state_path = ingest_state_path  # the name the commands and tests know


def _progress(report: RunReport) -> None:
    typer.echo(f"  {report.source}: {report.fetched} fetched, {report.new} new, {report.failed} failed …", err=True)


@app.command("run")
def run(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="The source to run (its name in sources.yaml)."),
    all_: bool = typer.Option(False, "--all", help="Run every enabled source."),
) -> None:
    """Run sources once; per source: fetched, new, changed, unchanged, failed. Exit 1 if any failed."""
    settings = ctx.obj.settings
    sources = load_sources(check_readable(settings.ingest.sources, "sources file"))
    if all_ == bool(name):
        raise ConfigError("name one source or pass --all", hint=f"sources: {', '.join(s.name for s in sources)}")
    chosen = [s for s in sources if s.enabled] if all_ else [s for s in sources if s.name == name]
    disabled = [s.name for s in sources if not s.enabled] if all_ else []
    if all_ and not chosen:
        raise ConfigError(f"every source in {settings.ingest.sources} is disabled (enabled: false): {', '.join(disabled)}",
                          hint="set enabled: true on one, or run one by name: leadhub ingest run NAME")  # fmt: skip
    if disabled:  # said, so a table without them is not read as "they found nothing"
        typer.echo(f"not run, enabled: false in {settings.ingest.sources}: {', '.join(disabled)}", err=True)
    if not chosen:
        raise ConfigError(f"no source named {name!r} in {settings.ingest.sources}", hint=f"sources: {', '.join(s.name for s in sources)}")
    store = IngestState(state_path(settings))
    runtime = open_runtime(settings)
    try:
        producer = runtime.open_outlet()  # Kafka (cluster mode) or the stages in this process (embedded)
        reports: list[RunReport] = []
        try:
            for source in chosen:
                typer.echo(f"running {source.name} ({source.kind}) …", err=True)
                reports.append(run_source(source, build_kind(source), store, producer, progress=_progress))
        finally:
            producer.close()
    finally:
        runtime.close()
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

    from ingestors import metrics
    from ingestors.scheduler import schedule_sources

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = ctx.obj.settings
    sources = load_sources(check_readable(settings.ingest.sources, "sources file"))
    store = IngestState(state_path(settings))
    runtime = open_runtime(settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    # One outlet per run: each run checks its own sends.
    scheduler = schedule_sources(sources, runtime.open_outlet, store)
    metrics_file = settings.ingest.metrics_file or state_path(settings).with_name("ingest-metrics.prom")
    typer.echo(f"scheduling {len(scheduler.clocks)} source(s); metrics in {metrics_file}; stop with Ctrl-C", err=True)
    try:
        scheduler.run_until(stop, after_tick=lambda s: metrics.write(metrics_file, list(s.clocks.values())))
    finally:
        runtime.close()
        store.close()


# A kind that does not say which channel it is (a class attribute ``default_channel``) gets one here.
DEFAULT_CHANNELS = {
    "feed": "news", "board": "complaint_platform", "forum": "forum", "hotline_files": "hotline", "json_api": "department",
}  # fmt: skip
# Options that say where a live source is; a saved document does not need them, so a preview fills them
# in with placeholders the parsers never read, and the kind's own model checks all the rest.
FETCH_ONLY_OPTIONS = {"url": "https://preview.invalid/", "inbox": "."}


def kind_names() -> list[str]:
    return sorted(load_kinds())


class _PreviewCommand(TyperCommand):
    """Lists the installed kinds in --help when help is asked for, not at every start of the CLI."""

    def format_help(self, ctx, formatter) -> None:
        for param in self.params:
            if param.name == "kind" and isinstance(param, (TyperOption, TyperArgument)):  # a bare Parameter has no help
                param.help = f"The source kind: {', '.join(kind_names())}."
        super().format_help(ctx, formatter)


def preview_options(cls, kind: str, options: str):
    """The kind's options model from --options JSON, checked by that model; ConfigError in one line."""
    try:
        given = json.loads(options)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--options is not JSON ({exc.msg}); give the kind's options as a JSON object, as in sources.yaml") from None
    if not isinstance(given, dict):
        raise ConfigError("--options must be a JSON object, as a source's options in sources.yaml")
    fields = cls.Options.model_fields
    filled = {k: v for k, v in FETCH_ONLY_OPTIONS.items() if k in fields and fields[k].is_required() and k not in given}
    try:
        return cls.Options.model_validate(given | filled)
    except ValidationError as exc:
        raise ConfigError(f"--options for {kind}: {'; '.join(map(_problem, exc.errors()))}") from None


def _problem(error) -> str:
    where = ".".join(map(str, error["loc"]))
    if error["type"] == "missing":
        what = "required"
    elif error["type"] == "value_error" and "error" in error.get("ctx", {}):
        what = str(error["ctx"]["error"])  # the kind's own words, without pydantic's "Value error, "
    else:
        what = error["msg"]
    return f"{where}: {what}" if where else what


def _read_document(file: Path, flag: str) -> bytes:
    """The saved document's bytes; a .gz file (or gzip bytes) is unpacked."""
    check_readable(file, flag)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{flag} {file} cannot be read: {exc.strerror or exc}") from None
    if file.suffix == ".gz" or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ConfigError(f"{flag} {file} is not a readable gzip file ({exc}); give the page itself or a whole .gz") from None
    return data


def _preview_now(now: str | None, timezone: str) -> dt.datetime:
    """--now as an aware time (naive: in --timezone); the time a saved page's relative dates count from."""
    if now is None:
        return dt.datetime.now(dt.UTC)
    try:
        when = dt.datetime.fromisoformat(now)
    except ValueError:
        raise ConfigError(f"--now {now!r} is not an ISO time; give when the page was saved, e.g. 2024-07-04T09:00") from None
    return when if when.tzinfo else when.replace(tzinfo=zone(timezone))


def _suggest(file: Path, url: str | None) -> None:
    import yaml

    from ingestors.spiders.parse import decode_html
    from ingestors.spiders.suggest import suggest_site

    suggestion = suggest_site(decode_html(_read_document(file, "--suggest")), url or "")
    for note in suggestion.notes:
        typer.echo(f"# {note}", err=True)
    typer.echo(f"# a draft site config for {file.name}: save it, check it with --file and --explain, then set site: to its path")
    sys.stdout.write(yaml.safe_dump(suggestion.config, allow_unicode=True, sort_keys=False))


@app.command("preview", cls=_PreviewCommand)
def preview(
    kind: str = typer.Option(..., "--kind", help="The source kind (listed by --help)."),
    file: Path | None = typer.Option(None, "--file", readable=False, help="A saved document (feed XML, CSV/XLSX/JSON export, board page; .gz too)."),
    options: str = typer.Option("{}", "--options", help="The kind's options as JSON (as in sources.yaml); a URL or inbox may be left out."),
    channel: str | None = typer.Option(
        None, "--channel", help="Default by kind: " + ", ".join(f"{k} → {v}" for k, v in DEFAULT_CHANNELS.items()) + "."
    ),
    timezone: str = typer.Option("Asia/Shanghai", "--timezone", help="IANA time zone of naive times in the document."),
    url: str | None = typer.Option(None, "--url", help="Board/forum: the page's own URL, for its relative links and ids."),
    now: str | None = typer.Option(None, "--now", help="When the page was saved (ISO); relative dates (昨天 21:26, 16:02, 7-3) count from it."),
    suggest: Path | None = typer.Option(None, "--suggest", readable=False, help="Board/forum: print a draft site YAML for this saved list page."),
    explain: bool = typer.Option(False, "--explain", help="Board/forum: say per field what matched (selector or trafilatura)."),
) -> None:
    """Parse a saved document offline and print its RawLeads as JSONL (no network, no Kafka)."""
    kinds = load_kinds()
    if kind not in kinds:
        raise ConfigError(f"unknown kind {kind!r}; kinds: {', '.join(sorted(kinds))}")
    board_like = kind in ("board", "forum")
    if (suggest or explain or url) and not board_like:
        raise ConfigError(f"--suggest, --explain and --url are for the board and forum kinds, not {kind}")
    if suggest is not None:
        _suggest(suggest, url)
        return
    if file is None:
        raise ConfigError("give the saved document with --file PATH (or a list page with --suggest PATH)")
    cls = kinds[kind]
    parsed = preview_options(cls, kind, options)
    channel = channel or getattr(cls, "default_channel", None) or DEFAULT_CHANNELS.get(kind)
    if not channel:
        raise ConfigError(f"kind {kind} has no default channel; pass --channel ({', '.join(CHANNELS)})")
    if channel not in CHANNELS:
        raise ConfigError(f"--channel {channel!r} is not a channel; channels: {', '.join(CHANNELS)}")
    try:
        zone(timezone or "-")  # zone() reads an empty name as the default; here it is a mistake
    except ValueError:
        raise ConfigError(f"--timezone {timezone!r} is not a known IANA time zone (e.g. Asia/Shanghai, UTC)") from None
    if url is not None and not url.startswith(("http://", "https://")):
        raise ConfigError(f"--url {url!r} must be an http(s) URL, the page's own address")
    data = _read_document(file, "--file")
    state: dict = {"file_name": file.name} | ({"url": url} if url else {})
    ctx = FetchContext("preview", channel, timezone, state, now=_preview_now(now, timezone))
    kind_obj = cls(parsed)
    if explain:
        try:
            for line in kind_obj.explain_document(data, ctx):  # type: ignore[attr-defined]  # board/forum only
                typer.echo(f"explain: {line}", err=True)
        except SourceUnavailable as exc:
            raise ConfigError(f"{file} cannot be parsed as {kind}: {exc}") from None
    count = problems = 0
    try:
        for item in kind_obj.parse_document(data, ctx):
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
