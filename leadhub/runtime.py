"""The mode chosen in one place: what this installation reads, publishes to and ingests into.

``open_runtime(settings)`` is the only code that looks at ``settings.mode`` to pick components:

| part | cluster | embedded |
|---|---|---|
| ``store`` (read side) | the search engine (EngineStore) | the embedded index (EmbeddedStore) |
| ``publisher`` (case events, field reports) | Kafka (KafkaPublisher) | the pipeline in this process |
| ``open_outlet()`` (ingested RawLeads) | a checked Kafka producer | the pipeline's runner outlet |

Parts are made on first use, so a command pays only for what it touches (`ingest run` in cluster
mode never opens a search client; a search never opens a Kafka producer). Start-up errors stay where
they were: an embedded file that cannot be opened fails in ``open_runtime``, the engine on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ingestors.scheduler import ClosableOutlet, run_in_background, schedule_sources
from leadhub.case_actions import Publisher
from leadhub.readers.contract import ReadStore
from leadhub.settings import Settings

if TYPE_CHECKING:
    from adapters.search_backend import SearchBackend
    from leadhub.embedded import EmbeddedPipeline
    from sinks.embedded_index import EmbeddedIndex


class Runtime(Protocol):
    mode: str
    # `api serve` runs the sources on their schedules itself (embedded), or leaves that to
    # `leadhub ingest schedule` (cluster, its own process).
    serves_schedule: bool

    @property
    def store(self) -> ReadStore: ...
    @property
    def publisher(self) -> Publisher: ...
    def open_outlet(self) -> ClosableOutlet: ...
    def describe(self) -> str: ...
    def close(self) -> None: ...


def open_runtime(settings: Settings, pipeline: EmbeddedPipeline | None = None, *, existing: bool = False) -> Runtime:
    """The runtime for ``settings.mode``.

    ``pipeline``: embedded mode's pipeline when the caller already has one (the demo, tests); the caller
    then closes it. ``existing``: a reader's runtime; in embedded mode a missing file is then an error,
    never a new empty index (which would answer every search with nothing, silently)."""
    if settings.mode == "embedded":
        return EmbeddedRuntime(settings, pipeline, existing=existing)
    return ClusterRuntime(settings)


class ClusterRuntime:
    mode = "cluster"
    serves_schedule = False

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._backend: SearchBackend | None = None

    @cached_property
    def store(self) -> ReadStore:
        from adapters.search_backend import SearchBackend
        from leadhub.readers.engine import EngineStore

        self._backend = SearchBackend.from_settings(self._settings.search)
        return EngineStore(self._backend, self._settings.search.index_prefix)

    @cached_property
    def publisher(self) -> Publisher:
        from leadhub.case_actions import KafkaPublisher

        return KafkaPublisher(self._settings.kafka)

    def open_outlet(self) -> ClosableOutlet:
        from adapters.producer import CheckedProducer

        return CheckedProducer(self._settings.kafka)

    def describe(self) -> str:
        return f"cluster mode: Kafka at {self._settings.kafka.bootstrap_servers}, search at {self._settings.search.url}"

    def close(self) -> None:
        if "publisher" in self.__dict__:
            self.publisher.close()
        if self._backend is not None:
            self._backend.close()


class EmbeddedRuntime:
    mode = "embedded"

    def __init__(self, settings: Settings, pipeline: EmbeddedPipeline | None = None, *, existing: bool = False) -> None:
        from leadhub.embedded import open_existing_index

        self._settings = settings
        self.serves_schedule = settings.embedded.schedule_sources
        self._owned = pipeline is None  # a pipeline handed in is closed by whoever made it
        self._index: EmbeddedIndex | None = None
        if pipeline is not None:
            self.__dict__["pipeline"] = pipeline
        elif existing:
            self._index = open_existing_index(settings)  # the stages are built only if something is sent
        else:
            _ = self.pipeline  # a writer: its errors (file not writable, bad taxonomy) at start-up

    @cached_property
    def pipeline(self) -> EmbeddedPipeline:
        from leadhub.embedded import EmbeddedPipeline

        return EmbeddedPipeline(self._settings, index=self._index)

    @cached_property
    def store(self) -> ReadStore:
        if self._index is not None and "pipeline" not in self.__dict__:
            from leadhub.readers.embedded import EmbeddedStore

            return EmbeddedStore(self._index)
        return self.pipeline.store

    @cached_property
    def publisher(self) -> Publisher:
        from leadhub.embedded import EmbeddedPublisher

        publisher: Publisher = EmbeddedPublisher(self.pipeline)
        if self._settings.notify.enabled:  # the officers hear of their reports' status changes from this process
            from leadhub.notify.embedded import NotifyingPublisher

            publisher = NotifyingPublisher(publisher, self._settings, self.store)
        return publisher

    def open_outlet(self) -> ClosableOutlet:
        return self.pipeline.outlet()

    def describe(self) -> str:
        from leadhub.embedded import embedded_path

        return f"embedded mode: {self.pipeline.path if 'pipeline' in self.__dict__ else embedded_path(self._settings)}"

    def close(self) -> None:
        if "publisher" in self.__dict__:
            self.publisher.close()  # the notifier's worker, if any (the pipeline's own publisher holds nothing)
        if not self._owned:
            return
        if "pipeline" in self.__dict__:
            self.pipeline.close()  # the index too, also when it was opened as a reader's
        elif self._index is not None:
            self._index.close()


def ingest_state_path(settings: Settings) -> Path:
    """Where the sources' state (cursors, seen items) is kept: ingest.state_db, else beside the rest."""
    if settings.ingest.state_db:
        return settings.ingest.state_db
    return settings.local_dir / "ingest-state.sqlite"


def start_scheduled_ingestion(settings: Settings, runtime: Runtime) -> Callable[[], None]:
    """Run the configured sources on their schedules in a background thread, into the runtime's outlets;
    returns ``stop`` (waits for running sources, then closes the ingest state)."""
    from ingestors.sources import load_sources
    from ingestors.state import IngestState

    sources = load_sources(settings.ingest.sources)
    state = IngestState(ingest_state_path(settings))
    stop_loop = run_in_background(schedule_sources(sources, runtime.open_outlet, state))

    def stop() -> None:
        stop_loop()
        state.close()

    return stop
