"""Integration tests use the real Kafka and OpenSearch that `leadhub services up` started.

Outside CI a missing service skips these tests with the command to run; in CI (CI=true) it fails them.
"""

import os
import uuid

import pytest

from deploy.local.runtime import port_in_use
from leadhub.search_backend import SearchBackend

pytestmark = pytest.mark.integration


def _require(name: str, host: str, port: int) -> None:
    if port_in_use(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}; run `leadhub services up` first"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def kafka_settings(settings):
    host, _, port = settings.kafka.servers[0].partition(":")
    _require("Kafka", host, int(port))
    return settings.kafka


@pytest.fixture(scope="session")
def search(settings):
    from urllib.parse import urlsplit

    url = urlsplit(settings.search.url)
    _require("OpenSearch", url.hostname, url.port or 9200)
    backend = SearchBackend.from_settings(settings.search)
    yield backend
    backend.close()


@pytest.fixture
def unique():
    """A fresh suffix so tests never see each other's topics or indices."""
    return uuid.uuid4().hex[:10]
