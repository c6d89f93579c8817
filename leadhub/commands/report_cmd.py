"""`leadhub report`: the week's or month's briefing as XLSX or printable HTML, from either store."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path

import typer

from schemas.errors import LeadhubError, StartupError


class PeriodOption(StrEnum):
    week = "week"
    month = "month"


class FormatOption(StrEnum):
    xlsx = "xlsx"
    html = "html"


class LangOption(StrEnum):
    zh = "zh"
    en = "en"


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise LeadhubError(f"--date {value!r} is not a date", hint="give it as YYYY-MM-DD, e.g. --date 2026-12-01") from None


def report(
    ctx: typer.Context,
    period: PeriodOption = typer.Option(PeriodOption.week, "--period", help="week (Monday to Sunday, local time) or month."),
    date: str | None = typer.Option(None, "--date", help="A day (YYYY-MM-DD) in the period; default: the last complete period."),
    fmt: FormatOption = typer.Option(
        FormatOption.xlsx, "--format", help="xlsx (one sheet per section) or html (printable, charts inline)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="File to write (default: briefing-<period>.<format> here; - for stdout, html only)."
    ),
    lang: LangOption = typer.Option(LangOption.zh, "--lang", help="Language of the HTML briefing (the XLSX has both)."),
    scheduled: bool = typer.Option(
        False,
        "--scheduled",
        help="As the schedule does: the last complete briefing.period in briefing.formats into"
        " briefing.out_dir, e-mailed to briefing.recipients (the other options are ignored).",
    ),
) -> None:
    """Write the period's briefing: totals and change, by category and place, departments, hotspots,
    the most reported and the overdue cases, the experience officers' activity."""
    from leadhub.briefing.run import make_briefing, render
    from leadhub.runtime import open_runtime

    settings = ctx.obj.settings
    if scheduled:
        _run_scheduled(settings)
        return
    day = _day(date)
    if out is not None and str(out) == "-" and fmt is FormatOption.xlsx:
        raise LeadhubError("an XLSX workbook cannot go to the terminal", hint="give --out FILE.xlsx, or --format html")
    runtime = open_runtime(settings, existing=True)
    try:
        briefing = make_briefing(
            runtime.store, settings.briefing, period.value, day, performance=getattr(settings, "performance", None),
            min_repeats=settings.hot_issues.min_repeats,
        )
    except _not_found() as exc:
        raise StartupError(f"the indices are missing: {exc}", hint="run `leadhub index init`") from None
    finally:
        runtime.close()
    data = render(briefing, fmt.value, lang.value)
    if out is not None and str(out) == "-":
        typer.echo(data.decode("utf-8"), nl=False)
        return
    target = out or Path(f"briefing-{briefing.period.label}.{fmt.value}")
    if target.is_dir():
        raise LeadhubError(f"--out {target} is a directory", hint="name a file, e.g. --out briefing.xlsx")
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise LeadhubError(f"cannot write {target}: {exc.strerror}", hint="choose a writable --out path") from None
    typer.echo(f"{target}  ({briefing.period.kind} {briefing.period.label}, {briefing.period.span_text()})")


def _run_scheduled(settings) -> None:
    from leadhub.briefing.schedule import run_scheduled
    from leadhub.runtime import open_runtime

    runtime = open_runtime(settings, existing=True)
    try:
        done = run_scheduled(settings, runtime.store)
    except _not_found() as exc:
        raise StartupError(f"the indices are missing: {exc}", hint="run `leadhub index init`") from None
    finally:
        runtime.close()
    for path in done.written:
        typer.echo(str(path))
    for delivery in done.deliveries:
        typer.echo(f"{delivery.channel}: {delivery.outcome}{f' ({delivery.error})' if delivery.error else ''}")
    if not settings.briefing.recipients:
        typer.echo("no e-mail sent: briefing.recipients is empty", err=True)
    elif not done.deliveries:
        typer.echo("no e-mail sent: notifications are off (set notify.enabled and notify.smtp)", err=True)
    if any(d.outcome == "failed" for d in done.deliveries):
        raise typer.Exit(1)


def _not_found() -> type[Exception]:
    from adapters.search_backend import NotFound

    return NotFound
