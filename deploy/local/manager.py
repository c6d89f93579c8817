"""`leadhub services up|down|status`: drive the local services the same way, whatever they are."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from adapters.kafka_clients import KafkaSettings
from adapters.search_backend import SearchSettings
from deploy.local.elasticsearch import ElasticsearchService
from deploy.local.kafka import KafkaService
from deploy.local.opensearch import OpenSearchService
from deploy.local.runtime import (
    ProcessRecord,
    exit_status,
    find_java,
    port_in_use,
    start_background,
)
from deploy.local.service import LocalService
from deploy.local.settings import LocalServicesSettings
from schemas.errors import ServiceError


class ServicesSettings(Protocol):
    """What `leadhub services` reads of the settings root (leadhub.settings.Settings is one)."""

    @property
    def services(self) -> LocalServicesSettings: ...

    @property
    def kafka(self) -> KafkaSettings: ...

    @property
    def search(self) -> SearchSettings: ...


def services_home(settings: ServicesSettings) -> Path:
    return settings.services.resolved_home()


ENGINES = ("opensearch", "elasticsearch")


def engines_of(choice: str) -> list[str]:
    """`--engine opensearch|elasticsearch|both` as the list services.engines holds."""
    if choice == "both":
        return list(ENGINES)
    if choice not in ENGINES:
        raise ServiceError(f"unknown engine {choice!r}", hint="use --engine opensearch, elasticsearch or both")
    return [choice]


def local_services(settings: ServicesSettings, engines: list[str] | None = None) -> list[LocalService]:
    """Kafka and the search engines ``engines`` (default services.engines), in start order."""
    home = services_home(settings)
    chosen = engines if engines is not None else list(settings.services.engines)
    services: list[LocalService] = [KafkaService(home, settings.kafka, settings.services)]
    if "opensearch" in chosen:
        services.append(OpenSearchService(home, settings.search, settings.services))
    if "elasticsearch" in chosen:
        services.append(ElasticsearchService(home, settings.search, settings.services))
    return services


@dataclass
class ServiceStatus:
    label: str
    running: bool
    pid: int | None
    port: int
    since: float | None
    log: Path
    note: str = ""


def status(services: list[LocalService]) -> list[ServiceStatus]:
    rows = []
    for service in services:
        record = service.record()
        running = bool(record and record.alive())
        note = ""
        if record and not running:
            note = "stopped since last `up` (stale state)"
        elif not record and port_in_use(service.host, service.port):
            note = f"port {service.port} is held by a process leadhub did not start"
        rows.append(
            ServiceStatus(
                label=service.label,
                running=running,
                pid=record.pid if running and record else None,
                port=service.port,
                since=record.started_at if running and record else None,
                log=service.main_log,
                note=note,
            )
        )
    return rows


def up(services: list[LocalService], java_setting: str | None, timeout_s: float, say=print) -> None:
    java = find_java(java_setting)
    to_wait: list[tuple[LocalService, int]] = []
    for service in services:
        record = service.record()
        if record and record.alive():
            say(f"{service.label} already runs (pid {record.pid}, port {record.port})")
            to_wait.append((service, record.pid))
            continue
        if port_in_use(service.host, service.port):
            raise ServiceError(
                f"port {service.port} for {service.label} is already in use by a process leadhub did not start",
                hint=f"stop that process (see `ss -ltnp 'sport = :{service.port}'`) or configure another port",
            )
        if not service.resolved():
            say(f"{service.label}: downloading from Maven Central (first time only) …")
            service.resolve()
        service.prepare(java)
        service.logs.mkdir(parents=True, exist_ok=True)
        service.stdout_log.write_bytes(b"")
        pid = start_background(
            service.command(java), service.stdout_log, service.dir, env=service.environment(), run_as=service.run_as()
        )
        ProcessRecord(
            pid=pid, port=service.port, started_at=time.time(), log=str(service.main_log), marker=service.marker
        ).save(service.state_file)
        say(f"{service.label}: started (pid {pid}), waiting for it to answer on port {service.port} …")
        to_wait.append((service, pid))

    deadline = time.monotonic() + timeout_s
    for service, pid in to_wait:
        _wait_ready(service, pid, deadline, timeout_s)
        service.check_started()
        say(f"{service.label}: ready on {service.host}:{service.port}; log: {service.main_log}")


def _wait_ready(service: LocalService, pid: int, deadline: float, timeout_s: float) -> None:
    while True:
        if service.ready():
            return
        record = service.record()
        code = exit_status(pid)
        if code is not None or not (record and record.alive()):
            service.state_file.unlink(missing_ok=True)
            raise ServiceError(
                f"{service.label} exited during start-up" + (f" with status {code}" if code is not None else ""),
                hint=f"read {service.main_log} and {service.stdout_log}",
            )
        if time.monotonic() > deadline:
            raise ServiceError(
                f"{service.label} did not answer within {timeout_s:.0f} s",
                hint=f"read {service.main_log}; raise services.start_timeout_s on a slow machine",
            )
        time.sleep(0.5)


def down(services: list[LocalService], say=print) -> None:
    # Reverse order: clients of Kafka or OpenSearch started later stop first.
    for service in reversed(services):
        record = service.record()
        if record is None:
            say(f"{service.label}: not started by leadhub")
            continue
        if record.alive():
            record.stop()
            say(f"{service.label}: stopped (pid {record.pid})")
        else:
            say(f"{service.label}: was not running")
        service.state_file.unlink(missing_ok=True)
