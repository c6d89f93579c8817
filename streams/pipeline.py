"""Build the route stage's pure parts from the routing settings (once per process)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from enrichers.categorize import Categorizer
from enrichers.classifier import ModelFileError, TextClassifier
from enrichers.dedup import DedupConfig, Deduplicator, DedupState
from enrichers.models import DEFAULT_MODEL
from enrichers.places import DEFAULT_GAZETTEER, GazetteerError, load_gazetteer
from enrichers.route import CaseBook, CaseRouter, CaseStatusView
from enrichers.taxonomy import DEFAULT_TAXONOMY, TaxonomyError, load_taxonomy
from schemas.errors import ConfigError
from streams.settings import RoutingSettings

log = logging.getLogger(__name__)


def model_path(routing: RoutingSettings) -> Path | None:
    """The classifier file routing.model names: None for rules only (`none`, null, or `default` while
    the default model is not built)."""
    if routing.model is None or routing.model == "none":
        return None
    if routing.model == "default":
        if not DEFAULT_MODEL.is_file():
            # Not a warning: no model may ship (the training data's terms), so this is every fresh install.
            log.info("the default model %s is not built (`leadhub model build-default`): categories from rules only", DEFAULT_MODEL)
            return None
        return DEFAULT_MODEL
    return Path(routing.model)


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> TextClassifier:
    # One copy per file version in a process: the embedded runtime and its tests build many routers,
    # and the classifier is only read. A rebuilt file has a new mtime, so it is loaded again.
    return TextClassifier.load(path)


def load_model(path: Path) -> TextClassifier:
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return TextClassifier.load(path)  # says why, as a ModelFileError
    return _load(path, mtime)


def build_categorizer(routing: RoutingSettings) -> Categorizer:
    try:
        path = model_path(routing)
        model = load_model(path) if path else None
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
