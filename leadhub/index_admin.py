"""`leadhub index init [--migrate]`: templates, versioned indices behind aliases, and migrations."""

from __future__ import annotations

import re
from dataclasses import dataclass

from adapters.search_backend import SearchBackend
from leadhub.settings import SearchSettings
from schemas.errors import StartupError
from schemas.index_templates import (
    INDEX_KINDS,
    MAPPING_VERSION,
    alias_name,
    incompatibilities,
    index_name,
    index_template,
    mappings,
)


class IncompatibleIndex(StartupError):
    """The live index cannot take the documents this leadhub writes."""


class MigrationFailed(StartupError):
    """A migration stopped before switching the alias; the old index still serves."""


@dataclass
class IndexOutcome:
    alias: str
    index: str
    action: str  # created | up to date | migrated

    def __str__(self) -> str:
        return f"{self.alias} -> {self.index}: {self.action}"


def init_indices(backend: SearchBackend, settings: SearchSettings, *, migrate: bool = False) -> list[IndexOutcome]:
    outcomes = []
    cjk_bigram = backend.has_token_filter("cjk_bigram")  # the analyzer the engine can run (schemas.index_templates)
    for kind in INDEX_KINDS:
        template = index_template(
            settings.index_prefix, kind, shards=settings.number_of_shards, replicas=settings.number_of_replicas,
            refresh_interval=settings.refresh_interval, cjk_bigram=cjk_bigram,
        )  # fmt: skip
        backend.put_index_template(alias_name(settings.index_prefix, kind), template)
        outcome = _ensure(backend, settings.index_prefix, kind, migrate)
        if outcome.action == "up to date":  # a new index has it from the template; a live one needs telling
            backend.put_index_settings(outcome.index, {"refresh_interval": settings.refresh_interval})
        outcomes.append(outcome)
    return outcomes


def _ensure(backend: SearchBackend, prefix: str, kind: str, migrate: bool) -> IndexOutcome:
    alias = alias_name(prefix, kind)
    behind = sorted(backend.get_alias(alias))
    if not behind:
        if backend.index_exists(alias):
            raise IncompatibleIndex(
                f"{alias} is a plain index, but leadhub keeps it as an alias over versioned indices",
                hint=f"reindex it into {index_name(prefix, kind, 1)} and make {alias} an alias of that, "
                f"or delete {alias} if its data is disposable",
            )
        first = _free_index(backend, prefix, kind, 1)
        backend.create_index(first, {"aliases": {alias: {}}})
        return IndexOutcome(alias, first, "created")
    if len(behind) > 1:
        raise IncompatibleIndex(
            f"alias {alias} points to several indices ({', '.join(behind)})",
            hint="leave it on one index (POST _aliases) and run the command again",
        )
    live = behind[0]
    live_mapping = backend.get_mapping(live)[live]["mappings"]
    problems = incompatibilities(mappings(kind), live_mapping)
    if not problems:
        return IndexOutcome(alias, live, "up to date")
    live_version = live_mapping.get("_meta", {}).get("leadhub_mapping_version")
    if isinstance(live_version, int) and live_version > MAPPING_VERSION:
        raise IncompatibleIndex(
            f"{live} was made by a newer leadhub (mapping version {live_version} > {MAPPING_VERSION})",
            hint="upgrade leadhub; never migrate an index back to an older mapping",
        )
    if not migrate:
        raise IncompatibleIndex(
            f"{live} (behind {alias}) does not fit this leadhub's mapping: " + "; ".join(problems[:5])
            + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""),
            hint="run `leadhub index init --migrate` to reindex into a new version and switch the alias",
        )
    return _migrate(backend, prefix, kind, alias, live)


def _migrate(backend: SearchBackend, prefix: str, kind: str, alias: str, live: str) -> IndexOutcome:
    match = re.search(r"-v(\d+)$", live)
    target = _free_index(backend, prefix, kind, int(match.group(1)) + 1 if match else 1)
    backend.create_index(target)
    backend.refresh(live)
    before = backend.count(live)
    result = backend.reindex(live, target)
    failures = result.get("failures") or []
    after = backend.count(target)
    if failures or after != before:
        raise MigrationFailed(
            f"reindexing {live} into {target} copied {after} of {before} documents"
            + (f"; first failure: {failures[0]}" if failures else ""),
            hint=f"{alias} still points to {live}; fix the cause, delete {target} and run --migrate again",
        )
    backend.update_aliases([{"remove": {"index": live, "alias": alias}}, {"add": {"index": target, "alias": alias}}])
    return IndexOutcome(alias, target, f"migrated from {live} ({after} documents; {live} kept, delete it when satisfied)")


def _free_index(backend: SearchBackend, prefix: str, kind: str, generation: int) -> str:
    # A leftover of a failed migration keeps its name; take the next free generation.
    while backend.index_exists(index_name(prefix, kind, generation)):
        generation += 1
    return index_name(prefix, kind, generation)
