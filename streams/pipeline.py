"""Build the route stage's pure parts from the routing settings (once per process)."""

from __future__ import annotations

from enrichers.categorize import Categorizer
from enrichers.classifier import ModelFileError, TextClassifier
from enrichers.dedup import DedupConfig, Deduplicator, DedupState
from enrichers.places import DEFAULT_GAZETTEER, GazetteerError, load_gazetteer
from enrichers.route import CaseBook, CaseRouter, CaseStatusView
from enrichers.taxonomy import DEFAULT_TAXONOMY, TaxonomyError, load_taxonomy
from schemas.errors import ConfigError
from streams.settings import RoutingSettings


def build_categorizer(routing: RoutingSettings) -> Categorizer:
    try:
        model = TextClassifier.load(routing.model) if routing.model else None
        taxonomy = load_taxonomy(routing.taxonomy or DEFAULT_TAXONOMY)
    except (ModelFileError, TaxonomyError) as exc:
        raise ConfigError(str(exc), hint="fix routing.model / routing.taxonomy") from None
    return Categorizer(taxonomy, model, triage_threshold=routing.triage_threshold)


def build_router(routing: RoutingSettings, dedup_state: DedupState, cases: CaseBook, statuses: CaseStatusView) -> CaseRouter:
    try:
        gazetteer = load_gazetteer(routing.gazetteer or DEFAULT_GAZETTEER)
    except GazetteerError as exc:
        raise ConfigError(str(exc), hint="fix routing.gazetteer") from None
    return CaseRouter(
        categorizer=build_categorizer(routing),
        gazetteer=gazetteer,
        dedup=Deduplicator(dedup_state, DedupConfig(window_days=routing.dedup_window_days)),
        cases=cases,
        statuses=statuses,
        on_closed=routing.on_closed_case,
        due_days=routing.case_due_days,
        urgent_due_days=routing.urgent_due_days,
    )
