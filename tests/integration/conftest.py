"""Integration tests use the real Kafka and OpenSearch (and Elasticsearch) that `leadhub services up` started.

Outside CI a missing service skips these tests with the command to run; in CI (CI=true) it fails them.
The engine-facing suites take `engine` (or `engine_search`) and run once per engine: OpenSearch and the
local Elasticsearch 9 (`leadhub services up --engine both`).
"""

import contextlib
import os
import re
import uuid
import warnings
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from adapters.search_backend import NotFound, SearchBackend, SearchSettings
from deploy.local.runtime import port_in_use

pytestmark = pytest.mark.integration


def _kafka_address(settings) -> tuple[str, int]:
    host, _, port = settings.kafka.servers[0].partition(":")
    return host, int(port)


def _search_address(settings) -> tuple[str, int]:
    url = urlsplit(settings.search.url)
    return url.hostname, url.port or 9200


def _require(name: str, host: str, port: int, command: str = "leadhub services up") -> None:
    if port_in_use(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}; run `{command}` first"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def kafka_settings(settings):
    _require("Kafka", *_kafka_address(settings))
    return settings.kafka


@pytest.fixture(scope="session")
def search(settings):
    _require("OpenSearch", *_search_address(settings))
    backend = SearchBackend.from_settings(settings.search)
    yield backend
    backend.close()


ENGINES = ("opensearch", "elasticsearch")
ENGINE_LABELS = {"opensearch": "OpenSearch", "elasticsearch": "Elasticsearch"}


@dataclass(frozen=True)
class Engine:
    """One search engine the engine-facing suites run on: its name and how leadhub reaches it."""

    name: str  # opensearch | elasticsearch (search.backend)
    url: str

    @property
    def overrides(self) -> list[str]:
        """`--set` values that point leadhub at this engine."""
        return [f"search.backend={self.name}", f"search.url={self.url}"]

    @property
    def cli_args(self) -> list[str]:
        return [arg for value in self.overrides for arg in ("--set", value)]

    def search_settings(self, **changes) -> SearchSettings:
        return SearchSettings(backend=self.name, url=self.url, **changes)


def engine_url(settings, name: str) -> str:
    """The engine's URL: search.url for the configured backend, the local services' port for the other."""
    if settings.search.backend == name:
        return settings.search.url
    if name == "elasticsearch":
        return f"http://127.0.0.1:{settings.services.elasticsearch_port}"
    return "http://127.0.0.1:9200"


@pytest.fixture(scope="session", params=ENGINES)
def engine(request, settings) -> Engine:
    """Each engine in turn (session scope: pytest runs every test of one engine, then the other's)."""
    chosen = Engine(request.param, engine_url(settings, request.param))
    parts = urlsplit(chosen.url)
    _require(ENGINE_LABELS[chosen.name], parts.hostname, parts.port or 9200, "leadhub services up --engine both")
    return chosen


@pytest.fixture(scope="session")
def engine_search(engine):
    backend = SearchBackend.from_settings(engine.search_settings())
    yield backend
    backend.close()


@pytest.fixture(scope="session", autouse=True)
def leave_no_test_topics_or_indices(settings):
    """Deletes, when the session ends, the topics and indices its tests created on the shared services.

    Every test names its own with a fresh suffix, so nothing else would ever delete them: a developer's
    Kafka collected hundreds of topics, enough to keep it busy while idle. The pipeline's own names
    (no prefix) and system indices are kept even if they first appeared during the session.

    Only this session's own: deleting every topic and index that appeared during the session also
    deleted those of another session running at the same time on the same services, under its tests
    (and a benchmark's, mid-run). Indices: those this session's SearchBackend created (create_index),
    on each engine. Topics: the new ones that carry the run token of a topic this session
    created (its prefix's random part, e.g. k3f9a.. -> 3f9a..), which also names the streams workers'
    own topics (app ids such as lh-test-<run>).
    """
    from kafka.admin import KafkaAdminClient

    from adapters.kafka_clients import kafka_python_options
    from leadhub.topics_admin import delete_topics
    from schemas.topics import TOPICS

    kafka_up = port_in_use(*_kafka_address(settings))
    admin = KafkaAdminClient(**kafka_python_options(settings.kafka)) if kafka_up else None
    topics_before = set(admin.list_topics()) if admin else set()
    created: set[tuple[str, str]] = set()  # (engine, index) made by this session
    tokens: set[str] = set()  # run tokens of the topics made by this session
    create_index = SearchBackend.create_index
    create_topics = KafkaAdminClient.create_topics

    def recording_create_topics(self, new_topics, *args, **kwargs):
        for topic in new_topics:
            tokens.add(_run_token(topic.name))
        return create_topics(self, new_topics, *args, **kwargs)

    def recording_create(self, name, body=None):
        create_index(self, name, body)
        created.add((self.backend, name))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SearchBackend, "create_index", recording_create)
        patch.setattr(KafkaAdminClient, "create_topics", recording_create_topics)
        yield
    keep = {spec.name for spec in TOPICS}
    engines = []
    try:
        if admin:
            new_topics = sorted(set(admin.list_topics()) - topics_before - keep)
            tokens.discard("")
            mine = [t for t in new_topics if not t.startswith("__") and any(token in t for token in tokens)]
            delete_topics(admin, mine)
        for name in ENGINES:
            parts = urlsplit(engine_url(settings, name))
            mine = sorted(index for engine, index in created if engine == name and not index.startswith("."))
            if mine and port_in_use(parts.hostname, parts.port or 9200):
                search = SearchBackend.from_settings(Engine(name, engine_url(settings, name)).search_settings())
                engines.append(search)
                # A month of leads the session made (index init makes the current one) has siblings
                # the engine made when the sink wrote other months: those are the session's too.
                months = {re.sub(r"-(\d{4}\.\d{2}|undated)$", "-*", index) for index in mine if re.search(r"-v\d+-(\d{4}\.\d{2}|undated)$", index)}
                mine = sorted(set(mine).union(*(search.index_names(pattern) for pattern in months)))
                for index in mine:
                    with contextlib.suppress(NotFound):  # deleted already, by its test
                        search.delete_index(index)
    except Exception as exc:  # tidying up is not a test: say what is left, never fail the run for it
        warnings.warn(f"could not delete every topic and index the tests created: {exc!r}", stacklevel=1)
    finally:
        if admin:
            admin.close()
        for search in engines:
            search.close()


def _run_token(topic: str) -> str:
    """The random part of a test topic's prefix (k3f9a2c1d. -> 3f9a2c1d); "" for the pipeline's own names.
    Too short a token (a run id that began with letters) would match others' topics: the whole prefix then."""
    prefix, dot, _ = topic.partition(".")
    if not dot or topic in {spec.name for spec in _topic_specs()}:
        return ""
    token = prefix.lstrip("abcdefghijklmnopqrstuvwxyz")
    return token if len(token) >= 6 else prefix + "."


def _topic_specs():
    from schemas.topics import TOPICS

    return TOPICS


@pytest.fixture
def unique():
    """A fresh suffix so tests never see each other's topics or indices."""
    return uuid.uuid4().hex[:10]


# --- the API suites (tests/api_suite.py, tests/api_security_suite.py, ...) on each engine: fresh topics and
# indices, the seed through Kafka and the search sink, one key per role. Their embedded half runs in
# tests/unit (tests/unit/conftest.py gives it its `env`); the `client` is in tests/conftest.py.


@pytest.fixture(scope="module")
def env(settings, kafka_settings, engine):
    """Each API suite once per engine (`engine`: OpenSearch, then the local Elasticsearch)."""
    from tests import api_env

    environment = api_env.start(engine.url, backend=engine.name)
    yield environment
    environment.close()
