"""`leadhub demo`: the whole pipeline in embedded mode on bundled samples; no Java, Kafka or search engine."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def demo(
    ctx: typer.Context,
    serve: bool = typer.Option(True, "--serve/--no-serve", help="After processing, serve the API and web pages."),
    workdir: Optional[Path] = typer.Option(None, "--dir", help="Working folder (recreated); default .local/demo."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Fetch the sample sources, process them, print what was found, then serve (Ctrl-C stops)."""
    from leadhub.access import new_key
    from leadhub.demo.demo import demo_settings, prepare, process, serve_samples
    from leadhub.embedded import EmbeddedPipeline

    base = ctx.obj.settings
    if workdir is None:
        from deploy.local.manager import services_home

        workdir = services_home(base).parent / "demo"
    keys = {role: new_key() for role in ("admin", "officer", "analyst")}
    echo = lambda message: typer.echo(message, err=True)  # noqa: E731
    with serve_samples() as base_url:
        echo(f"samples served at {base_url}; working folder {workdir}")
        prepare(workdir, base_url)
        settings = demo_settings(base, workdir, keys)
        pipeline = EmbeddedPipeline(settings)
        result = process(settings, pipeline, progress=echo)

    typer.echo("\nsource                 fetched  new  failed  problem")
    for r in result.reports:
        typer.echo(f"{r.source:<22} {r.fetched:>7} {r.new:>4} {r.failed:>7}  {r.error or ''}")
    typer.echo(f"\n{result.leads} leads -> {result.cases} cases ({result.multi_channel_cases} reported more than once); "
               f"{result.dead_letters} dead letter(s)")  # fmt: skip
    typer.echo("categories: " + ", ".join(f"{name} {count}" for name, count in result.categories))
    typer.echo("biggest cases:")
    for case in result.biggest:
        typer.echo(f"  {case['report_count']} reports via {', '.join(case.get('channels', []))}: {case.get('title', '')[:50]}")
    if not result.ok:
        typer.echo("error: a source failed (see the table above)", err=True)
        pipeline.close()
        raise typer.Exit(1)
    if not serve:
        pipeline.close()
        return

    import uvicorn

    from leadhub.api.app import create_app
    from leadhub.api.context import build_context

    context = build_context(settings, pipeline)
    typer.echo(f"\nopen http://{host}:{port}/search and log in with a key:")
    for role, key in keys.items():
        typer.echo(f"  {role:<8} {key}")
    typer.echo(f"API docs: http://{host}:{port}/docs (Authorization: Bearer <key>); stop with Ctrl-C")
    try:
        uvicorn.run(create_app(context), host=host, port=port, log_level="warning")
    finally:
        pipeline.close()
