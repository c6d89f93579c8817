"""`leadhub demo`: the whole pipeline in embedded mode on bundled samples; no Java, Kafka or search engine."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    ctx: typer.Context,
    serve: bool = typer.Option(True, "--serve/--no-serve", help="After processing, serve the API and web pages."),
    workdir: Path | None = typer.Option(
        None, "--dir", help="Working folder, emptied first (only one the demo made); default .local/demo. "
        "It is left set up: leadhub commands run in it work on the demo's data."),  # fmt: skip
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
) -> None:
    """Fetch the sample sources (dated relative to today), process them, print what was found and a key
    per role, write the folder's leadhub.yaml, then serve (Ctrl-C stops)."""
    from leadhub.demo.dates import city_today
    from leadhub.demo.demo import build, clear_workdir, demo_keys, demo_settings, hold_port, write_settings_file

    base = ctx.obj.settings
    # The port first: a busy one must fail before anything runs or any key is printed.
    listener = hold_port(host, port) if serve else None
    try:
        if workdir is None:
            workdir = base.local_dir / "demo"
        workdir = workdir.resolve()
        clear_workdir(workdir)
        keys = demo_keys(base.api.keys)
        settings = demo_settings(base, workdir, keys.specs)
        today = city_today()
        echo = lambda message: typer.echo(message, err=True)  # noqa: E731
        pipeline, result = build(settings, workdir, today, progress=echo)
        write_settings_file(workdir, settings, today)
        _report(result)
        if not result.ok:
            typer.echo("error: a source failed (see the table above)", err=True)
            pipeline.close()
            raise typer.Exit(1)
        _print_keys(keys, workdir)
        if not serve:
            pipeline.close()
            return
        _serve(settings, pipeline, listener, host, port)
    finally:
        if listener is not None:
            listener.close()


def _report(result) -> None:
    typer.echo("\nsource                 fetched  new  failed  problem")
    for r in result.reports:
        # A source that worked but dead-lettered records: its problem is why (the first one; all are below).
        letters = [d for d in result.dead_letters if d.source == r.source]
        problem = r.error or (f"dead letter {letters[-1].id}, {letters[-1].where}: {letters[-1].reason}" if letters else "")
        typer.echo(f"{r.source:<22} {r.fetched:>7} {r.new:>4} {r.failed:>7}  {problem}")
    typer.echo(f"\n{result.leads} leads -> {result.cases} cases ({result.multi_channel_cases} reported more than once); "
               f"{len(result.dead_letters)} dead letter(s)")  # fmt: skip
    if result.dead_letters:
        typer.echo(f"  {'id':<4} {'stage':<22} {'where':<28} reason")
        for letter in result.dead_letters:
            typer.echo(f"  {letter.id:<4} {letter.stage:<22} {letter.where:<28} {letter.reason}")
        typer.echo("  (`leadhub dlq show ID` for the original bytes, `leadhub dlq replay ID --file FIXED.json` to send a fix)")
    typer.echo("categories: " + ", ".join(f"{name} {count}" for name, count in result.categories))
    typer.echo("statuses: " + ", ".join(f"{name} {count}" for name, count in result.statuses)
               + f"; {result.overdue} overdue (open past due); {result.actions} handling actions recorded")  # fmt: skip
    typer.echo("biggest cases:")
    for case in result.biggest:
        typer.echo(f"  {case['report_count']} reports via {', '.join(case.get('channels', []))}: {case.get('title', '')[:50]}")


def _print_keys(keys, workdir: Path) -> None:
    typer.echo(f"\nthe folder is set up (its leadhub.yaml): cd {workdir} and run e.g. `leadhub search 道路`, "
               "`leadhub dlq list`, `leadhub ingest run --all`, `leadhub api serve`")  # fmt: skip
    typer.echo("keys, one per role (shown once; leadhub.yaml keeps only their SHA-256):")
    for role, key in keys.fresh.items():
        typer.echo(f"  {role:<8} {key}")
    typer.echo("  (intake is an experience officer: it opens /my, where their own report waits for a rating, "
               "and /report files a new one)")  # fmt: skip
    if keys.kept:
        typer.echo("configured keys, kept as they are: " + ", ".join(f"{spec.name} ({spec.role})" for spec in keys.kept))


def _serve(settings, pipeline, listener, host: str, port: int) -> None:
    import uvicorn

    from leadhub.api.app import create_app
    from leadhub.api.context import build_context

    context = build_context(settings, pipeline)
    typer.echo(f"\nopen http://{host}:{port}/search and log in with a key; "
               f"API docs: http://{host}:{port}/docs (Authorization: Bearer <key>); stop with Ctrl-C")  # fmt: skip
    server = uvicorn.Server(uvicorn.Config(create_app(context), log_level="warning"))
    try:
        server.run(sockets=[listener])  # the socket taken at the start: nobody could take the port since
    finally:
        pipeline.close()
