"""`leadhub replay`: route stored leads again through the current taxonomy, gazetteer and model."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import typer

from schemas.errors import LeadhubError


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone() if value is not None and value.tzinfo is None else value  # naive: local time


def open_replay_store(runtime: Any, settings: Any) -> Any:
    """The replay side of the runtime's store (readers/engine.py or readers/embedded.py)."""
    from leadhub.readers.embedded import EmbeddedStore
    from leadhub.readers.engine import EngineStore
    from leadhub.replay_stores import EmbeddedReplayStore, EngineReplayStore

    store = runtime.store
    if isinstance(store, EngineStore):
        return EngineReplayStore(store.backend, settings.search.index_prefix)
    if isinstance(store, EmbeddedStore):
        return EmbeddedReplayStore(store.index)
    raise LeadhubError(f"replay does not know the store {type(store).__name__}")


def _progress(counts: Any, total: int, rate: float) -> None:
    print(f"replay: {counts.scanned}/{total} leads, {counts.changed} changed category or department, "
          f"{counts.skipped_human} kept (human-decided), {rate:.0f} leads/s", file=sys.stderr, flush=True)  # fmt: skip


def replay(
    ctx: typer.Context,
    since: dt.datetime | None = typer.Option(None, "--since", help="Leads reported on or after (date or time, local)."),
    until: dt.datetime | None = typer.Option(None, "--until", help="Leads reported before."),
    unhandled_only: bool = typer.Option(False, "--unhandled-only", help="Only leads of cases still new on which nobody acted."),
    restart: bool = typer.Option(False, "--restart", help="Start from the beginning, ignoring an interrupted run's checkpoint."),
    max_leads: int | None = typer.Option(None, "--max", min=1, help="Stop after N leads (resume later where it stopped)."),
    page_size: int = typer.Option(500, "--page-size", min=1, max=10_000, help="Leads read and written at a time."),
) -> None:
    """Route stored leads again (category, department, place, priority) with the current taxonomy,
    gazetteer and model; cases keep their leads. Officers' decisions are kept: a lead or case someone
    recategorized is skipped, an assigned case keeps its department; status, history and assignee never
    change. Progress goes to stderr; Ctrl-C stops after saving where it was, and the same command resumes
    there (--restart starts over). Ends with how many leads changed category or department."""
    from adapters.search_backend import NotFound
    from leadhub.replay import ReplayArgs, ReplayRun, checkpoint_for, load_routing
    from leadhub.runtime import open_runtime

    args = ReplayArgs(_aware(since), _aware(until), unhandled_only)
    if args.since and args.until and args.since >= args.until:
        raise LeadhubError("--since must be before --until")
    settings = ctx.obj.settings
    categorizer, gazetteer = load_routing(settings)
    runtime = open_runtime(settings, existing=True)
    try:
        store = open_replay_store(runtime, settings)
        checkpoint = checkpoint_for(settings, store, args)
        if not restart and checkpoint.path.exists():
            print(f"replay: resuming from {checkpoint.path}", file=sys.stderr)
        run = ReplayRun(store, categorizer, gazetteer, args, checkpoint, page_size=page_size, max_leads=max_leads,
                        progress=_progress)  # fmt: skip
        try:
            counts = run.run(restart=restart)
        except NotFound as exc:
            raise LeadhubError(f"no index to replay: {exc.message}", hint="run `leadhub index init`, or check search.index_prefix") from None
        except KeyboardInterrupt:
            print(f"replay: interrupted; the same command resumes from {checkpoint.path}", file=sys.stderr)
            raise typer.Exit(130) from None
    finally:
        runtime.close()
    state = "done" if run.finished else f"stopped at --max; the same command resumes from {checkpoint.path}"
    typer.echo(
        f"replay {state}: {counts.scanned} leads read, {counts.changed} changed category or department "
        f"({counts.changed_category} category, {counts.changed_department} department), {counts.updated} leads and "
        f"{counts.cases_updated} cases updated, {counts.skipped_human} skipped as human-decided"
        + (f", {counts.skipped_handled} skipped as handled" if args.unhandled_only else "")
    )
