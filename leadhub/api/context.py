"""What every request handler needs, built once per app and passed in (never read from globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram

from enrichers.taxonomy import Taxonomy
from leadhub.access import KeyRing
from leadhub.case_actions import Publisher
from leadhub.read_store import ReadStore
from leadhub.errors import ConfigError
from leadhub.settings import ApiSettings, Settings


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


def build_context(settings: Settings) -> ApiContext:
    """The production wiring: the search engine as the store, Kafka as the publisher."""
    from enrichers.taxonomy import DEFAULT_TAXONOMY, TaxonomyError, load_taxonomy
    from leadhub.case_actions import KafkaPublisher
    from leadhub.read_store import EngineStore
    from leadhub.search_backend import SearchBackend

    try:
        taxonomy = load_taxonomy(settings.routing.taxonomy or DEFAULT_TAXONOMY)
    except TaxonomyError as exc:
        raise ConfigError(str(exc), hint="fix routing.taxonomy") from None
    store = EngineStore(SearchBackend.from_settings(settings.search), settings.search.index_prefix)
    return ApiContext(settings.api, store, KafkaPublisher(settings.kafka), taxonomy, KeyRing(settings.api.keys))
