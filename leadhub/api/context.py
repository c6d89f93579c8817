"""What every request handler needs, built once per app and passed in (never read from globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram

from enrichers.hot_issues_settings import HotIssueSettings
from enrichers.places import Gazetteer, load_gazetteer
from enrichers.taxonomy import Taxonomy
from leadhub.access import KeyRing
from leadhub.api.sessions import SessionManager
from leadhub.api.settings import ApiSettings
from leadhub.briefing.settings import BriefingSettings
from leadhub.case_actions import Publisher
from leadhub.performance_settings import PerformanceSettings
from leadhub.readers.contract import ReadStore
from leadhub.reports_settings import ReportsSettings
from leadhub.runtime import open_runtime
from leadhub.settings import Settings
from schemas.errors import ConfigError

if TYPE_CHECKING:
    from leadhub.api.photos import Photos
    from leadhub.embedded import EmbeddedPipeline
    from leadhub.runtime import Runtime


@dataclass
class ApiMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "leadhub_api_requests", "HTTP requests by route and status.", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram("leadhub_api_request_seconds", "Request latency.", ["route"], registry=self.registry)
        self.events = Counter("leadhub_api_case_events", "Case events published, by action.", ["action"], registry=self.registry)
        self.reports = Counter("leadhub_api_field_reports", "Field reports published.", registry=self.registry)


@dataclass
class ApiContext:
    settings: ApiSettings
    store: ReadStore
    publisher: Publisher
    taxonomy: Taxonomy
    keys: KeyRing
    metrics: ApiMetrics = field(default_factory=ApiMetrics)
    # Place filters accept the gazetteer's names and aliases (稠城 = 稠城街道).
    gazetteer: Gazetteer = field(default_factory=load_gazetteer)
    # Web logins; the default lives and dies with the process (tests). build_context persists them.
    sessions: SessionManager = field(default_factory=SessionManager.ephemeral)
    # The attachments store (officers' photos); None: this server keeps no photos (a report with one is a 503).
    photos: Photos | None = None
    # Officers' groups, themed activities, what a dissatisfied rating does (the ``reports`` section).
    reports: ReportsSettings = field(default_factory=ReportsSettings)
    # Time limits department performance is judged by (the ``performance`` section).
    performance: PerformanceSettings = field(default_factory=PerformanceSettings)
    # The briefing's zone and length of its lists (the ``briefing`` section).
    briefing: BriefingSettings = field(default_factory=BriefingSettings)
    # How leads cluster into hot issues and how heat is weighed (the ``hot_issues`` section).
    hot_issues: HotIssueSettings = field(default_factory=HotIssueSettings)


def build_sessions(settings: Settings) -> SessionManager:
    """Sessions signed with api.session_secret, else with a secret generated once into a 0600 file."""
    from leadhub.api.sessions import load_or_create_secret

    api = settings.api
    local = settings.local_dir
    if api.session_secret is not None:
        secret = api.session_secret.get_secret_value().encode("utf-8")
        if len(secret) < 16:
            raise ConfigError("api.session_secret is shorter than 16 characters", hint="use a long random string")
    else:
        path = api.session_secret_file or local / "session-secret"
        try:
            secret = load_or_create_secret(path)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read or create the session secret: {exc}", hint="check api.session_secret_file") from None
    return SessionManager(secret, api.session_ttl_s, api.sessions_db or local / "api-sessions.sqlite")


def build_context(settings: Settings, pipeline: EmbeddedPipeline | None = None, *, runtime: Runtime | None = None) -> ApiContext:
    """The API over the runtime's store and publisher (the one given, else one opened for the mode;
    ``pipeline``: embedded mode's, when the caller already has one)."""
    from enrichers.taxonomy import DEFAULT_TAXONOMY, TaxonomyError, load_taxonomy

    try:
        taxonomy = load_taxonomy(settings.routing.taxonomy or DEFAULT_TAXONOMY)
    except TaxonomyError as exc:
        raise ConfigError(str(exc), hint="fix routing.taxonomy") from None
    from enrichers.places import DEFAULT_GAZETTEER, GazetteerError

    try:
        # Place filters read the same gazetteer the route stage placed the leads with.
        gazetteer = load_gazetteer(settings.routing.gazetteer or DEFAULT_GAZETTEER)
    except GazetteerError as exc:
        raise ConfigError(str(exc), hint="fix routing.gazetteer") from None
    keys = KeyRing(settings.api.keys)
    runtime = runtime or open_runtime(settings, pipeline)
    from adapters.attachments import AttachmentStore
    from leadhub.api.photos import Photos

    photos = Photos(AttachmentStore(settings.attachments.folder(settings.local_dir)), settings.attachments)
    return ApiContext(
        settings.api, runtime.store, runtime.publisher, taxonomy, keys, gazetteer=gazetteer, sessions=build_sessions(settings),
        reports=settings.reports, performance=settings.performance, photos=photos, briefing=settings.briefing,
        hot_issues=settings.hot_issues,
    )
