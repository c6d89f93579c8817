"""`leadhub api serve` and `leadhub api key create`."""

from __future__ import annotations

import typer

app = typer.Typer(help="The HTTP API and web pages.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(key_app, name="key")


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: str = typer.Option(None, "--host", help="Default: api.host."),
    port: int = typer.Option(None, "--port", help="Default: api.port."),
) -> None:
    """Serve the API (/api/v1, /open311/v2, OpenAPI at /docs) and the web pages until stopped."""
    import uvicorn

    from leadhub.api.app import create_app
    from leadhub.api.context import build_context
    from leadhub.runtime import open_runtime, start_scheduled_ingestion

    settings = ctx.obj.settings
    runtime = open_runtime(settings)
    stop_ingestion = stop_briefing = stop_retention = None
    try:
        if runtime.serves_schedule and settings.ingest.sources.exists():
            stop_ingestion = start_scheduled_ingestion(settings, runtime)
            typer.echo(f"{runtime.describe()}; running the sources in {settings.ingest.sources} on their schedules", err=True)
        elif runtime.mode == "embedded":  # cluster mode: `leadhub ingest schedule` runs them, as its own process
            typer.echo(f"{runtime.describe()} (no scheduled sources)", err=True)
        if runtime.mode == "embedded" and settings.briefing.scheduled:  # cluster: the CronJob (deploy/k8s)
            from leadhub.briefing.schedule import start_briefing_schedule

            stop_briefing = start_briefing_schedule(settings, runtime.store)
        if runtime.mode == "embedded" and settings.retention.scheduled:  # cluster: the CronJob (deploy/k8s)
            from leadhub.readers.embedded import EmbeddedStore
            from leadhub.retention.schedule import start_retention_schedule

            store = runtime.store
            assert isinstance(store, EmbeddedStore)  # embedded mode's store
            stop_retention = start_retention_schedule(settings, store.index)
        context = build_context(settings, runtime=runtime)
        if not len(context.keys):
            typer.echo("warning: no API keys configured (api.keys); every request will get 401. "
                       "Create one with `leadhub api key create --name NAME --role admin`.", err=True)  # fmt: skip
        host, port = host or settings.api.host, port or settings.api.port
        typer.echo(f"leadhub API on http://{host}:{port}/ (API docs at /docs); stop with Ctrl-C", err=True)
        uvicorn.run(create_app(context), host=host, port=port, log_level="info")
    finally:
        if stop_ingestion:
            stop_ingestion()
        if stop_briefing:
            stop_briefing()
        if stop_retention:
            stop_retention()
        runtime.close()


@key_app.command("create")
def create_key(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="Who holds the key; becomes the actor of their case events."),
    role: str = typer.Option(..., "--role", help="analyst, officer, intake or admin."),
    department: list[str] = typer.Option([], "--department", help="Officers: a department they act for (repeatable, * = all)."),
    group: str = typer.Option(None, "--group", help="Experience officers (intake): their group, an id of reports.groups."),
    email: str = typer.Option(None, "--email", help="Where their notifications go."),
    lang: str = typer.Option("zh", "--lang", help="The language of their notifications: zh or en."),
) -> None:
    """Make a new key: prints the key (give it to its holder, once) and the settings entry (only its hash)."""
    import yaml
    from pydantic import ValidationError

    from leadhub.access import key_digest, new_key
    from leadhub.api.settings import ApiKeySpec
    from schemas.errors import LeadhubError
    from schemas.validation import describe_errors

    taken = {spec.name for spec in ctx.obj.settings.api.keys}
    if name in taken:
        raise LeadhubError(
            f"an API key named {name!r} already exists in api.keys",
            hint="choose another --name (the name is the actor of case events, so it must be unique)",
        )
    groups = ctx.obj.settings.reports.group_ids
    if role == "intake" and group is None:
        raise LeadhubError("an experience officer (--role intake) needs --group", hint=f"groups: {', '.join(groups)}")
    if group is not None and group not in groups:
        raise LeadhubError(
            f"unknown group {group!r}", hint=f"use one of reports.groups: {', '.join(groups)} (or add it to reports.groups)"
        )
    try:
        key = new_key()
        spec = ApiKeySpec(name=name, sha256=key_digest(key), role=role, departments=department, group=group, email=email, lang=lang)
    except ValidationError as exc:
        raise LeadhubError(
            f"invalid key: {describe_errors(exc, root='key')}", hint="roles are analyst, officer, intake, admin; --email like name@example.cn; --lang zh or en"
        ) from None
    typer.echo(f"key (shown once): {key}")
    typer.echo("add to leadhub.yaml under api.keys:")
    typer.echo(yaml.safe_dump([spec.model_dump(exclude_none=True)], allow_unicode=True, sort_keys=False))
