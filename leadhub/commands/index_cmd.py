"""`leadhub index init [--migrate]`."""

from __future__ import annotations

import typer

from adapters.search_backend import SearchBackend, SearchUnavailable
from leadhub.index_admin import init_indices

app = typer.Typer(help="Search-engine index templates, versioned indices and aliases.", no_args_is_help=True)


@app.command("init")
def init(
    ctx: typer.Context,
    migrate: bool = typer.Option(
        False, "--migrate", help="If a live index no longer fits the mapping: create the next version, reindex, switch the alias."
    ),
) -> None:
    """Put the index templates and make sure each alias points to an index that fits them. Idempotent."""
    settings = ctx.obj.settings.search
    backend = SearchBackend.from_settings(settings)
    try:
        for outcome in init_indices(backend, settings, migrate=migrate):
            typer.echo(str(outcome))
    except SearchUnavailable as exc:
        raise SearchUnavailable(
            f"cannot reach {settings.backend} at {settings.url}", hint="start it (`leadhub services up`) or fix search.url"
        ) from exc
    finally:
        backend.close()
