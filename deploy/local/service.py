"""The shape every local service has; manager.py drives any of them the same way."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from deploy.local.runtime import ProcessRecord, classpath_resolved, resolve_classpath


class LocalService(ABC):
    name: str
    label: str

    def __init__(self, home: Path, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.dir = home / self.name
        self.lib = self.dir / "lib"
        self.logs = self.dir / "logs"
        self.state_file = self.dir / "state.json"
        self.stdout_log = self.logs / "stdout.log"

    @property
    @abstractmethod
    def main_log(self) -> Path:
        """The log to name when the service fails."""

    pom: Path

    @property
    @abstractmethod
    def maven_properties(self) -> dict[str, str]:
        """The versions the pom is resolved with."""

    def resolved(self) -> bool:
        return classpath_resolved(self.lib, self.maven_properties)

    def resolve(self) -> None:
        """Download the jars; a no-op when these versions are already there."""
        versions = ", ".join(self.maven_properties.values())
        resolve_classpath(self.pom, self.lib, self.maven_properties, self.logs / "maven.log", f"{self.label} {versions}")

    @abstractmethod
    def prepare(self, java: str) -> None:
        """Write configuration, format storage: whatever must exist before the first start."""

    @abstractmethod
    def command(self, java: str) -> list[str]: ...

    @abstractmethod
    def ready(self) -> bool:
        """True when the service answers as a client needs it to."""

    # An optional hook, not a forgotten @abstractmethod: most services have nothing to check beyond ready().
    def check_started(self) -> None:  # noqa: B027
        """Raise ServiceError if the service came up, but not as asked (e.g. on another port)."""

    def environment(self) -> dict[str, str] | None:
        """The process's environment; None inherits ours."""
        return None

    def run_as(self) -> tuple[int, int] | None:
        """(uid, gid) to run as; None runs as we do."""
        return None

    @property
    def marker(self) -> str:
        return str(self.dir)

    def record(self) -> ProcessRecord | None:
        return ProcessRecord.load(self.state_file)
