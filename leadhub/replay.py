"""`leadhub replay`: route stored leads again through the current taxonomy, gazetteer and model.

Only routing changes (category, department, place, priority; enrichers/route.py ``reroute``); dedup is
not run again, so every lead stays in its case. A case takes its primary lead's new routing by the
one rule the sinks write by (sinks/documents.py ``apply_case_routing``): what a person decided stays.
A lead or case an officer recategorized (``category_source: "human"``) is skipped and counted.

Leads are read in a fixed order (reported time, then id) a page at a time; after each page the
position and the counts so far go to a small state file under ``settings.local_dir``, named after the
run's arguments and store, so an interrupted run resumes there. Writes are idempotent: a lead whose
routing comes out the same is not written, so a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from enrichers.categorize import Categorizer
from enrichers.places import DEFAULT_GAZETTEER, Gazetteer, GazetteerError, load_gazetteer
from enrichers.route import REROUTED_FIELDS, SYSTEM_ACTOR, reroute
from leadhub.settings import Settings
from schemas.errors import ConfigError
from schemas.leads import Lead

PAGE_SIZE = 500


@dataclass(frozen=True)
class ReplayArgs:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    unhandled_only: bool = False

    def key(self, where: str) -> str:
        """The checkpoint's name: the same arguments on the same store resume the same run."""
        text = json.dumps([where, _iso(self.since), _iso(self.until), self.unhandled_only])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Counts:
    scanned: int = 0  # leads read
    updated: int = 0  # leads written (any routing field changed: category, department, place, priority)
    changed_category: int = 0
    changed_department: int = 0
    changed: int = 0  # category or department changed
    skipped_human: int = 0  # lead or case an officer recategorized: kept
    skipped_handled: int = 0  # --unhandled-only: the case is being handled, or a person acted on it
    cases_updated: int = 0


@dataclass
class StoredLead:
    doc: dict[str, Any]  # the stored document, as the store has it
    cursor: list[Any]  # the store's position of this lead (resume after it)
    version: Any = None  # what a guarded write needs (engine: _seq_no, _primary_term)


@dataclass
class Rerouted:
    stored: StoredLead
    lead: Lead
    changes: dict[str, Any]  # JSON fields that differ from the stored document


class ReplayStore(Protocol):
    """A store's side of a replay (engine: ``EngineReplayStore``, embedded: ``EmbeddedReplayStore``)."""

    where: str

    def total(self, since: dt.datetime | None, until: dt.datetime | None) -> int: ...
    def page(self, since: dt.datetime | None, until: dt.datetime | None, after: list[Any] | None, size: int) -> list[StoredLead]: ...
    def cases(self, case_ids: list[str]) -> dict[str, dict[str, Any]]: ...
    def write(self, leads: list[Rerouted], cases: dict[str, dict[str, Any]]) -> tuple[int, int]:
        """Write the leads' changes (skipping one a person decided meanwhile) and the cases' routing;
        returns (leads, cases) written."""
        ...


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def load_routing(settings: Settings) -> tuple[Categorizer, Gazetteer]:
    """The route stage's categorizer and gazetteer as the settings name them now."""
    from streams.pipeline import build_categorizer

    try:
        gazetteer = load_gazetteer(settings.routing.gazetteer or DEFAULT_GAZETTEER)
    except GazetteerError as exc:
        raise ConfigError(str(exc), hint="fix routing.gazetteer") from None
    return build_categorizer(settings.routing), gazetteer


def human_decided(lead_doc: dict[str, Any], case_doc: dict[str, Any] | None) -> bool:
    return lead_doc.get("category_source") == "human" or (case_doc or {}).get("category_source") == "human"


def unhandled(case_doc: dict[str, Any] | None) -> bool:
    """A case still new on which no person acted (the route stage's own entries do not count)."""
    if case_doc is None:
        return True
    return case_doc.get("status", "new") == "new" and all(e.get("actor") == SYSTEM_ACTOR for e in case_doc.get("history") or [])


def changes_of(stored: dict[str, Any], lead: Lead) -> dict[str, Any]:
    new = lead.model_dump(mode="json", include=set(REROUTED_FIELDS))
    return {name: value for name, value in new.items() if stored.get(name) != value}


def case_routing(lead: Lead) -> dict[str, Any] | None:
    """What a case takes from its primary lead (its id is the case's): category, department and place,
    as the route stage gives a new case; nothing when the lead has no category (the case keeps its own)."""
    if lead.case_id != lead.lead_id or lead.category is None:
        return None
    return lead.model_dump(mode="json", include={"category", "department", "place"})


class Checkpoint:
    """The position and counts of an unfinished run, in a small JSON file written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> tuple[list[Any] | None, Counts]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data["after"], Counts(**data["counts"])
        except FileNotFoundError:
            return None, Counts()
        except (ValueError, KeyError, TypeError):
            return None, Counts()  # an unreadable checkpoint: start over (writes are idempotent)

    def save(self, after: list[Any], counts: Counts, args: ReplayArgs) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = {"after": after, "counts": asdict(counts), "since": _iso(args.since), "until": _iso(args.until),
                "unhandled_only": args.unhandled_only, "saved_at": dt.datetime.now(dt.UTC).isoformat()}  # fmt: skip
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def checkpoint_for(settings: Settings, store: ReplayStore, args: ReplayArgs) -> Checkpoint:
    return Checkpoint(settings.local_dir / "replay" / f"{args.key(store.where)}.json")


@dataclass
class ReplayRun:
    store: ReplayStore
    categorizer: Categorizer
    gazetteer: Gazetteer
    args: ReplayArgs
    checkpoint: Checkpoint
    page_size: int = PAGE_SIZE
    max_leads: int | None = None  # stop (as if interrupted) after this many leads in this run
    progress: Callable[[Counts, int, float], None] = lambda counts, total, rate: None
    finished: bool = field(default=False, init=False)

    def run(self, *, restart: bool = False) -> Counts:
        """Replay from the checkpoint (or the start); returns the counts of the whole run so far.
        ``finished`` says whether every lead was seen (the checkpoint is then removed)."""
        after, counts = (None, Counts()) if restart else self.checkpoint.load()
        total = self.store.total(self.args.since, self.args.until)
        started, seen_here = time.monotonic(), 0
        while True:
            size = self.page_size if self.max_leads is None else min(self.page_size, self.max_leads - seen_here)
            if size <= 0:
                return counts
            page = self.store.page(self.args.since, self.args.until, after, size)
            if not page:
                break
            self._replay_page(page, counts)
            after = page[-1].cursor
            self.checkpoint.save(after, counts, self.args)
            seen_here += len(page)
            self.progress(counts, total, seen_here / max(time.monotonic() - started, 1e-6))
        self.checkpoint.clear()
        self.finished = True
        return counts

    def _replay_page(self, page: list[StoredLead], counts: Counts) -> None:
        cases = self.store.cases(sorted({s.doc["case_id"] for s in page if s.doc.get("case_id")}))
        todo: list[tuple[StoredLead, Lead]] = []
        for stored in page:
            counts.scanned += 1
            case = cases.get(stored.doc.get("case_id") or "")
            if human_decided(stored.doc, case):
                counts.skipped_human += 1
            elif self.args.unhandled_only and not unhandled(case):
                counts.skipped_handled += 1
            else:
                todo.append((stored, Lead.model_validate(stored.doc)))
        results = self.categorizer.categorize_many([(lead.title, lead.text) for _, lead in todo])
        rerouted: list[Rerouted] = []
        routing: dict[str, dict[str, Any]] = {}
        for (stored, lead), category in zip(todo, results, strict=True):
            new = reroute(lead, category, self.gazetteer)
            if (case_fields := case_routing(new)) is not None:
                routing[new.lead_id] = case_fields
            changes = changes_of(stored.doc, new)
            if not changes:
                continue
            rerouted.append(Rerouted(stored, new, changes))
            counts.changed_category += "category" in changes
            counts.changed_department += "department" in changes
            counts.changed += bool({"category", "department"} & changes.keys())
        if rerouted or routing:
            leads_written, cases_written = self.store.write(rerouted, routing)
            counts.updated += leads_written
            counts.cases_updated += cases_written
