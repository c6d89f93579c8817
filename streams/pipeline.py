"""Build the route stage's pure parts from the routing settings (once per process)."""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from pathlib import Path

from enrichers.categorize import Categorizer
from enrichers.classifier import ModelFileError, TextClassifier
from enrichers.dedup import DedupConfig, Deduplicator, DedupState
from enrichers.model_versions import VersionError, current_model, pointer_path
from enrichers.models import DEFAULT_MODEL
from enrichers.places import DEFAULT_GAZETTEER, GazetteerError, load_gazetteer
from enrichers.route import CaseBook, CaseRouter, CaseStatusView
from enrichers.taxonomy import DEFAULT_TAXONOMY, TaxonomyError, load_taxonomy
from schemas.errors import ConfigError
from streams.settings import RoutingSettings

log = logging.getLogger(__name__)


# What Lead.model_version says when no model took part.
RULES_ONLY = "rules"


def model_choice(routing: RoutingSettings) -> tuple[str, Path | None]:
    """The model routing.model names and what leads record it as: ("rules", None) for rules only
    (`none`, null, or `default` while nothing is promoted and the default model is not built); with
    `default`, the version promoted in routing.model_dir ("v0003") comes first, then the package's
    default model ("default"); a file is recorded by its name."""
    if routing.model is None or routing.model == "none":
        return RULES_ONLY, None
    if routing.model == "default":
        if routing.model_dir is not None:
            try:
                promoted = current_model(routing.model_dir)
            except VersionError as exc:
                raise ConfigError(str(exc), hint="promote a version again: leadhub model promote VERSION") from None
            if promoted is not None:
                return promoted
        if not DEFAULT_MODEL.is_file():
            # Not a warning: no model may ship (the training data's terms), so this is every fresh install.
            log.info("the default model %s is not built (`leadhub model build-default`): categories from rules only", DEFAULT_MODEL)
            return RULES_ONLY, None
        return "default", DEFAULT_MODEL
    return Path(routing.model).name, Path(routing.model)


def model_path(routing: RoutingSettings) -> Path | None:
    """The classifier file routing.model names: None for rules only."""
    return model_choice(routing)[1]


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
        version, path = model_choice(routing)
        model = load_model(path) if path else None
        taxonomy = load_taxonomy(routing.taxonomy or DEFAULT_TAXONOMY)
    except (ModelFileError, TaxonomyError) as exc:
        raise ConfigError(str(exc), hint="fix routing.model / routing.taxonomy") from None
    return Categorizer(taxonomy, model, triage_threshold=routing.triage_threshold, model_version=version)


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


class ModelWatch:
    """Keeps ``router.categorizer`` on the promoted model version while the stages run (no restart).

    With routing.model `default` it watches routing.model_dir's pointer file (`current`; replaced
    whole by `leadhub model promote` / `rollback`): when its mtime or inode changes, the categorizer is
    built again and put in place in one assignment, so a batch is routed wholly by the old model or the
    new one (each lead records which). A version that cannot be loaded is logged and the old model
    kept until the pointer changes again. Other routing.model values never change while running.
    """

    def __init__(self, routing: RoutingSettings, router: CaseRouter) -> None:
        self.routing = routing
        self.router = router
        self.pointer = pointer_path(routing.model_dir) if routing.model == "default" and routing.model_dir else None
        self._stamp = self._read_stamp()
        self._checked = time.monotonic()

    def _read_stamp(self) -> tuple[int, int] | None:
        if self.pointer is None:
            return None
        try:
            st = self.pointer.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_ino

    def changed(self) -> bool:
        """Whether the pointer file moved since the last look (and remember that it did)."""
        stamp = self._read_stamp()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        return True

    def load(self) -> Categorizer | None:
        """The categorizer of the version the pointer names now; None (logged) when it cannot be built.
        Safe to run off the event loop: it touches nothing the stages use."""
        try:
            return build_categorizer(self.routing)
        except ConfigError as exc:
            log.error("model version not switched, still routing with %s: %s", self.router.categorizer.model_version, exc)
            return None

    def swap(self, categorizer: Categorizer | None) -> bool:
        if categorizer is None or categorizer.model_version == self.router.categorizer.model_version:
            return False
        old, self.router.categorizer = self.router.categorizer.model_version, categorizer
        log.info("routing with model version %s (was %s)", categorizer.model_version, old)
        return True

    def check(self) -> bool:
        """Look now; True when another version took over."""
        self._checked = time.monotonic()
        return self.changed() and self.swap(self.load())

    def check_due(self) -> bool:
        """``check`` at most every routing.model_check_seconds (the embedded runner calls it per batch)."""
        if self.pointer is None or time.monotonic() - self._checked < self.routing.model_check_seconds:
            return False
        return self.check()
