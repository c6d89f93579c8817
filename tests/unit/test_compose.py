"""deploy/docker-compose.yml cannot run here (no Docker engine); check that it agrees with the settings."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from leadhub.settings import Settings, build_settings

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "docker-compose.yml"
LEADHUB_PROCESSES = ["streams-worker", "sink", "api", "ingest-scheduler"]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def _host_ports(service):
    return {int(p.split(":")[0]): int(p.split(":")[1]) for p in service.get("ports", [])}


def test_host_ports_match_the_default_settings(compose):
    defaults = Settings()
    kafka_port = int(defaults.kafka.servers[0].rsplit(":", 1)[1])
    search_port = urlsplit(defaults.search.url).port
    assert _host_ports(compose["services"]["kafka"]).get(kafka_port) == kafka_port
    assert _host_ports(compose["services"]["opensearch"]).get(search_port) == 9200
    assert f"HOST://127.0.0.1:{kafka_port}" in compose["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]


def test_elasticsearch_is_an_opt_in_profile(compose):
    for name in ("elasticsearch", "kibana"):
        assert compose["services"][name]["profiles"] == ["elasticsearch"]
    assert "profiles" not in compose["services"]["opensearch"]


@pytest.mark.parametrize("name", LEADHUB_PROCESSES)
def test_leadhub_processes_use_valid_settings(compose, name, clean_env, monkeypatch):
    service = compose["services"][name]
    env = service["environment"]
    assert service["command"][0] in {"streams", "sink", "api", "ingest"}
    for key, value in env.items():
        assert key.startswith("LEADHUB_")
        # Resolve ${VAR:-default} the way compose does when VAR is unset.
        monkeypatch.setenv(key, re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value)))
    settings = build_settings()  # raises ConfigError on any unknown or invalid LEADHUB_ key
    kafka_internal = compose["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert f"INTERNAL://{settings.kafka.bootstrap_servers}" in kafka_internal
    assert settings.search.url == "http://opensearch:9200"


def test_every_service_with_state_has_a_volume_and_a_health_check(compose):
    for name in ("kafka", "opensearch", "elasticsearch"):
        service = compose["services"][name]
        assert service.get("volumes"), name
        assert service.get("healthcheck"), name
    assert set(compose["volumes"]) == {"kafka-data", "opensearch-data", "elasticsearch-data"}
