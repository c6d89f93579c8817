import socket

import pytest

from deploy.local import manager
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


def test_local_opensearch_must_be_plain_http_opensearch(clean_env):
    settings = build_settings(overrides=parse_overrides(["search.backend=elasticsearch"]))
    with pytest.raises(ServiceError, match="plain-HTTP OpenSearch"):
        manager.local_services(settings)


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
    rows = manager.status(manager.local_services(settings))
    assert [(r.label, r.running, r.port) for r in rows] == [("Kafka", False, 1), ("OpenSearch", False, 2)]


def test_java_is_17_or_newer_here():
    import shutil

    assert java_major(shutil.which("java")) >= 17
