"""The one settings object, built once by the CLI and passed down.

Precedence, lowest first: defaults < ``leadhub.yaml`` < environment (``LEADHUB_…``, nested with
``__``) < command-line overrides. Components never read the environment themselves.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from adapters.kafka_clients import KafkaSettings
from adapters.search_backend import SearchSettings
from deploy.local.settings import LocalServicesSettings
from ingestors.settings import IngestSettings
from schemas.dead_letters import set_payload_limit
from schemas.errors import ConfigError
from schemas.redaction import redact_data
from schemas.sections import Section
from schemas.validation import describe_errors
from streams.settings import RoutingSettings, StreamsSettings

# The sections owned by the packages below are re-exported: the root is the one place that names them all.
__all__ = [
    "ApiKeySpec", "ApiSettings", "CliSettings", "DeadLetterSettings", "EmbeddedSettings", "IngestSettings",
    "KafkaSettings", "LocalServicesSettings", "RoutingSettings", "SearchSettings", "Settings", "StreamsSettings",
    "build_settings", "parse_overrides",
]

DEFAULT_CONFIG_FILE = Path("leadhub.yaml")
CONFIG_FILE_ENV = "LEADHUB_CONFIG"










class DeadLetterSettings(Section):
    """Applied process-wide by build_settings (every dead letter is built by DeadLetter.of)."""

    max_payload_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, le=8 * 1024 * 1024,
        description="A dead letter keeps a record's bytes whole up to this; a bigger one keeps this many "
        "first bytes plus the whole's length and SHA-256. At most 8 MiB (leads.dlq's records are 12 MiB).",
    )  # fmt: skip




class ApiKeySpec(Section):
    """One API key: only its SHA-256 is stored (`leadhub api key create` prints both)."""

    name: str = Field(..., min_length=1, max_length=100, description="Who holds the key; the actor of their events.")
    sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$", description="Hex SHA-256 of the key.")
    role: Literal["analyst", "officer", "intake", "admin"]
    departments: list[str] = Field(
        default_factory=list, description="For officers: the departments whose cases they may act on ('*' = all)."
    )


class ApiSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    keys: list[ApiKeySpec] = Field(default_factory=list, description="API keys and their roles.")
    event_wait_s: float = Field(
        5.0, ge=0, description="How long an action waits to see itself in the index before answering 202."
    )
    max_page_size: int = Field(200, ge=1, le=10_000)
    # Each word of a query is a phrase match over every text field (embedded: short ones scan rows);
    # an analyst's 185 -words once took 14 s of CPU. Past these a search is a 422 that says so.
    max_query_terms: int = Field(16, ge=1, le=200, description="Most words and \"phrases\" in one search's q.")
    max_query_exclusions: int = Field(8, ge=0, le=200, description="Most -words (exclusions) in one search's q.")
    extra_departments: list[str] = Field(
        default_factory=list, description="Departments a case may be assigned to besides the taxonomy's (e.g. 市信访局)."
    )
    public_url: str | None = Field(
        None, description="Base URL printed and used in Open311 links; https here marks the session cookie Secure."
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body accepted (a bigger one gets 413)."
    )
    session_ttl_s: int = Field(8 * 3600, ge=60, le=30 * 24 * 3600, description="How long a web login lasts.")
    session_secret: SecretStr | None = Field(
        None, description="Signs web sessions; shared by all API replicas. Unset: generated once into session_secret_file."
    )
    session_secret_file: Path | None = Field(None, description="Where a generated secret is kept; default .local/session-secret.")
    sessions_db: Path | None = Field(
        None, description="Ended (logged-out) sessions until they expire (SQLite); default .local/api-sessions.sqlite."
    )

    @field_validator("keys")
    @classmethod
    def _unique_names(cls, keys: list[ApiKeySpec]) -> list[ApiKeySpec]:
        # The name is the actor of every case event: two holders under one name could not be told apart.
        names = [spec.name for spec in keys]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"API key names must be unique; repeated: {', '.join(repeated)}")
        return keys


class CliSettings(Section):
    """Who the terminal user is, for what the CLI prints (reporters' contacts follow leadhub.access)."""

    role: Literal["analyst", "officer", "admin"] = Field(
        "analyst", description="analyst: no contacts; officer: contacts of the departments' cases; admin: all."
    )
    departments: list[str] = Field(default_factory=list, description="For role officer: their departments ('*' = all).")


class EmbeddedSettings(Section):
    """Embedded mode: no Kafka, no search cluster; one process, one SQLite file."""

    path: Path | None = Field(None, description="The embedded index file; default .local/embedded.sqlite.")
    schedule_sources: bool = Field(True, description="`leadhub api serve` also runs the sources on their schedules.")




class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEADHUB_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    mode: Literal["cluster", "embedded"] = Field(
        "cluster", description="cluster: Kafka + OpenSearch/Elasticsearch; embedded: one process and a SQLite index."
    )
    kafka: KafkaSettings = KafkaSettings()
    search: SearchSettings = SearchSettings()
    services: LocalServicesSettings = LocalServicesSettings()
    routing: RoutingSettings = RoutingSettings()
    streams: StreamsSettings = StreamsSettings()
    ingest: IngestSettings = IngestSettings()
    api: ApiSettings = ApiSettings()
    embedded: EmbeddedSettings = EmbeddedSettings()
    dead_letters: DeadLetterSettings = DeadLetterSettings()
    cli: CliSettings = CliSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win. build_settings sets model_config["yaml_file"] per build.
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("yaml_file"):
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file_encoding="utf-8"))
        return tuple(sources)

    @property
    def local_dir(self) -> Path:
        """The default home of local state (embedded index, ingest state, sessions, demo): the parent of
        the local services' folder, so one setting (services.home) moves them all."""
        return self.services.resolved_home().parent

    def redacted(self) -> dict[str, Any]:
        """The effective settings as plain data, every secret replaced by ``**********``: SecretStr
        fields, and passwords and tokens inside URLs (search.url, kafka.bootstrap_servers, …)."""
        return redact_data(self.model_dump(mode="json"))


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["kafka.bootstrap_servers=h:9092", ...]`` into a nested dict for the settings."""
    nested: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"override {pair!r} is not KEY=VALUE",
                hint="write it like --set search.url=http://127.0.0.1:9200",
            )
        node = nested
        *parents, leaf = [part.strip() for part in key.split(".")]
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {pair!r} conflicts with an earlier one")
        node[leaf] = value
    return nested


def build_settings(config_file: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Build the settings once.

    ``config_file`` None means $LEADHUB_CONFIG if set, else ./leadhub.yaml if it exists.
    """
    explicit = config_file is not None or CONFIG_FILE_ENV in os.environ
    path = Path(config_file or os.environ.get(CONFIG_FILE_ENV) or DEFAULT_CONFIG_FILE)
    if explicit and not path.is_file():
        raise ConfigError(
            f"config file {path} does not exist",
            hint="pass an existing file with --config, or unset LEADHUB_CONFIG",
        )
    yaml_file = path if path.is_file() else None

    # A subclass per build keeps the YAML path out of global state.
    bound = type("Settings", (Settings,), {"model_config": {**Settings.model_config, "yaml_file": yaml_file}})
    try:
        settings = bound(**(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, yaml_file), hint="fix the value or remove it") from None
    except (OSError, ValueError, yaml.YAMLError) as exc:  # YAML syntax errors and unreadable files
        raise ConfigError(f"cannot read settings from {path}: {exc}", hint=f"check {path}") from None
    set_payload_limit(settings.dead_letters.max_payload_bytes)
    return settings


def _describe(exc: ValidationError, yaml_file: Path | None) -> str:
    sources = f"{yaml_file}, " if yaml_file else ""
    problems = describe_errors(exc, root="settings")
    return f"invalid settings (from {sources}LEADHUB_* environment or --set): {problems}"
