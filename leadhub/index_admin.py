"""`leadhub index init [--migrate]`: templates, versioned indices behind aliases, and migrations.

Leads live in monthly indices (schemas/index_templates.py): init puts their template (which puts
each new month behind the alias), makes the current month so the alias is never empty, installs the
lifecycle policy that force-merges (and may move) old months where the engine has one, and moves
leads from an older layout (one ``<prefix>-leads-vN`` index, or months of an older mapping) into
this version's months with --migrate.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from adapters.search_backend import SearchBackend
from leadhub.settings import SearchSettings
from schemas.errors import StartupError
from schemas.index_policies import ilm_policy, ism_policy, policy_name
from schemas.index_templates import (
    INDEX_KINDS,
    MAPPING_VERSION,
    MONTHLY_KINDS,
    alias_name,
    incompatibilities,
    index_name,
    index_template,
    is_current_month_index,
    lead_index,
    mappings,
    month_of,
    monthly_index,
    monthly_pattern,
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


def init_indices(
    backend: SearchBackend, settings: SearchSettings, *, migrate: bool = False, now: dt.datetime | None = None
) -> list[IndexOutcome]:
    outcomes = []
    cjk_bigram = backend.has_token_filter("cjk_bigram")  # the analyzer the engine can run (schemas.index_templates)
    lifecycle = backend.lifecycle_kind()
    for kind in INDEX_KINDS:
        alias = alias_name(settings.index_prefix, kind)
        template = index_template(
            settings.index_prefix, kind, shards=settings.number_of_shards, replicas=settings.number_of_replicas,
            refresh_interval=settings.refresh_interval, cjk_bigram=cjk_bigram,
            lifecycle=policy_name(alias) if lifecycle == "ilm" else None,
        )  # fmt: skip
        if kind in MONTHLY_KINDS:
            outcome = _ensure_months(backend, settings, alias, template, migrate, now or dt.datetime.now(dt.UTC))
            outcomes += [outcome, _policy(backend, settings, alias, lifecycle)]
            continue
        backend.put_index_template(alias, template)
        outcome = _ensure(backend, settings.index_prefix, kind, migrate)
        if outcome.action == "up to date":  # a new index has it from the template; a live one needs telling
            backend.put_index_settings(outcome.index, {"refresh_interval": settings.refresh_interval})
        outcomes.append(outcome)
    return outcomes


def _policy(backend: SearchBackend, settings: SearchSettings, alias: str, lifecycle: str | None) -> IndexOutcome:
    """The policy that settles old months, or one line saying why there is none."""
    name = policy_name(alias)
    where = f"policy {name}"
    if lifecycle is None:
        module = "ILM" if backend.backend == "elasticsearch" else "ISM (index-management plugin)"
        return IndexOutcome(where, monthly_pattern(alias), f"not installed: this {backend.backend} has no {module}; "
                            f"months are still separate indices (force-merge an old one with POST <index>/_forcemerge?max_num_segments=1)")  # fmt: skip
    make = ilm_policy if lifecycle == "ilm" else ism_policy
    backend.put_lifecycle_policy(name, make(alias, settings.months_merge_after, settings.months_warm_nodes), monthly_pattern(alias))
    moved = f", moved to {settings.months_warm_nodes} nodes" if settings.months_warm_nodes else ""
    return IndexOutcome(where, monthly_pattern(alias), f"{lifecycle.upper()} installed (months force-merged after {settings.months_merge_after}{moved})")


def _ensure_months(
    backend: SearchBackend, settings: SearchSettings, alias: str, template: dict, migrate: bool, now: dt.datetime
) -> IndexOutcome:
    """The monthly leads behind ``alias``: this version's months checked, the current one made (an alias
    over no index would answer searches with a 404), an older layout refused or, with ``migrate``,
    copied into months and taken off the alias."""
    behind = sorted(backend.get_alias(alias))
    if not behind:
        _refuse_plain_index(backend, alias, "monthly indices", f"{monthly_pattern(alias)} indices behind an alias {alias}")
    backend.put_index_template(alias, template)
    # A month the engine made while nothing put new months behind the alias: a sink of this version
    # that wrote before `index init` after an upgrade (the older template's <alias>-v* matches a month
    # too). Its leads are searchable only once it is behind the alias.
    stray = [index for index in backend.index_names(monthly_pattern(alias))
             if index not in behind and is_current_month_index(alias, index)]  # fmt: skip
    months = sorted([index for index in behind if is_current_month_index(alias, index)] + stray)
    older = [index for index in behind if index not in months]
    if months:
        live = backend.get_mapping(monthly_pattern(alias))
        for index in months:
            problems = incompatibilities(mappings("leads"), live[index]["mappings"])
            if problems:
                raise IncompatibleIndex(
                    f"{index} ({'behind' if index in behind else 'a month of'} {alias}) does not fit this leadhub's mapping: " + "; ".join(problems[:5]),
                    hint="it was not made from the template (was a lead written before `leadhub index init`?): "
                    "copy it out, delete it, run `leadhub index init` and write its leads again",
                )
        backend.put_index_settings(monthly_pattern(alias), {"refresh_interval": settings.refresh_interval})
    if stray:
        backend.update_aliases([{"add": {"index": index, "alias": alias}} for index in stray])
    current = monthly_index(alias, month_of(now))
    made = not backend.index_exists(current)
    if made:
        backend.create_index(current)  # the template adds the alias
    span = f"{len(set(months) | {current})} month(s), {monthly_pattern(alias)}"
    if not older:
        return IndexOutcome(alias, current, f"created ({span})" if not months else f"up to date ({span})")
    for index in older:
        _refuse_newer(index, backend.get_mapping(index)[index]["mappings"])
    if not migrate:
        raise IncompatibleIndex(
            f"{', '.join(older)} (behind {alias}) hold leads in an older layout; this leadhub keeps leads in monthly "
            f"indices {monthly_pattern(alias)}",
            hint="stop the search sink and the API, then run `leadhub index init --migrate` to copy them into "
            "monthly indices and take them off the alias",
        )
    moved = []
    for index in older:
        # Searches see a lead twice while it is in both (the months are behind the alias from their
        # creation); never missing is the better half of that.
        backend.refresh(index)
        before = backend.count(index)
        # Create, not overwrite: a lead the sink has filed in its month since is newer than this copy.
        result = backend.copy(index, lambda doc: lead_index(alias, doc), keep_newer=True)
        _copied_all(f"copying {index} into monthly indices", before, result["created"] + result["kept"], result,
                    hint=f"{alias} still includes {index}; fix the cause and run --migrate again (copies are idempotent)")  # fmt: skip
        backend.update_aliases([{"remove": {"index": index, "alias": alias}}])
        moved.append(f"{index} ({before} documents" + (f", {result['kept']} already in their month kept" if result["kept"] else "") + ")")
    return IndexOutcome(alias, current, f"migrated from {', '.join(moved)} into {monthly_pattern(alias)}; "
                        f"{', '.join(older)} kept, delete when satisfied")  # fmt: skip


def _refuse_newer(index: str, mapping: dict) -> None:
    version = mapping.get("_meta", {}).get("leadhub_mapping_version")
    if isinstance(version, int) and version > MAPPING_VERSION:
        raise IncompatibleIndex(
            f"{index} was made by a newer leadhub (mapping version {version} > {MAPPING_VERSION})",
            hint="upgrade leadhub; never migrate an index back to an older mapping",
        )


def _ensure(backend: SearchBackend, prefix: str, kind: str, migrate: bool) -> IndexOutcome:
    alias = alias_name(prefix, kind)
    behind = sorted(backend.get_alias(alias))
    if not behind:
        _refuse_plain_index(backend, alias, "versioned indices", f"{index_name(prefix, kind, 1)} and make {alias} an alias of that")
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
    _refuse_newer(live, live_mapping)
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
    after = backend.count(target)
    _copied_all(f"reindexing {live} into {target}", before, after, result,
                hint=f"{alias} still points to {live}; fix the cause, delete {target} and run --migrate again")  # fmt: skip
    backend.update_aliases([{"remove": {"index": live, "alias": alias}}, {"add": {"index": target, "alias": alias}}])
    return IndexOutcome(alias, target, f"migrated from {live} ({after} documents; {live} kept, delete it when satisfied)")


def _refuse_plain_index(backend: SearchBackend, alias: str, layout: str, instead: str) -> None:
    if backend.index_exists(alias):
        raise IncompatibleIndex(
            f"{alias} is a plain index, but leadhub keeps it as an alias over {layout}",
            hint=f"reindex it into {instead}, or delete {alias} if its data is disposable",
        )


def _copied_all(what: str, before: int, after: int, result: dict, *, hint: str) -> None:
    """A copy that lost documents or reported failures stops before the alias moves."""
    failures = result.get("failures") or []
    if failures or after != before:
        first = f"; first failure: {failures[0]}" if failures else ""
        raise MigrationFailed(f"{what} copied {after} of {before} documents{first}", hint=hint)


def _free_index(backend: SearchBackend, prefix: str, kind: str, generation: int) -> str:
    # A leftover of a failed migration keeps its name; take the next free generation.
    while backend.index_exists(index_name(prefix, kind, generation)):
        generation += 1
    return index_name(prefix, kind, generation)
