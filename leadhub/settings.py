"""The one settings object, built once by the CLI and passed down.

Precedence, lowest first: defaults < ``leadhub.yaml`` < environment (``LEADHUB_…``, nested with
``__``) < command-line overrides. Components never read the environment themselves.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from adapters.attachment_settings import AttachmentSettings
from adapters.kafka_clients import KafkaSettings
from adapters.search_backend import SearchSettings
from deploy.local.settings import LocalServicesSettings
from enrichers.hot_issues_settings import HotIssueSettings
from ingestors.settings import IngestSettings
from leadhub.api.settings import ApiKeySpec, ApiSettings
from leadhub.briefing.settings import BriefingSettings
from leadhub.commands.settings import CliSettings
from leadhub.embedded_settings import EmbeddedSettings
from leadhub.notify.settings import NotifySettings
from leadhub.performance_settings import PerformanceSettings
from leadhub.reports_settings import ReportsSettings
from leadhub.retention.settings import RetentionSettings
from schemas.dead_letters import DeadLetterSettings, set_payload_limit
from schemas.errors import ConfigError
from schemas.redaction import redact_data
from schemas.validation import describe_errors
from streams.settings import HotspotSettings, RoutingSettings, StreamsSettings

# The sections owned by the packages below are re-exported: the root is the one place that names them all.
__all__ = [
    "ApiKeySpec", "ApiSettings", "CliSettings", "DeadLetterSettings", "EmbeddedSettings", "IngestSettings",
    "KafkaSettings", "LocalServicesSettings", "RoutingSettings", "SearchSettings", "Settings", "StreamsSettings",
    "build_settings", "parse_overrides",
]

DEFAULT_CONFIG_FILE = Path("leadhub.yaml")
CONFIG_FILE_ENV = "LEADHUB_CONFIG"


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
    hotspots: HotspotSettings = HotspotSettings()
    notify: NotifySettings = NotifySettings()
    attachments: AttachmentSettings = AttachmentSettings()
    reports: ReportsSettings = ReportsSettings()
    briefing: BriefingSettings = BriefingSettings()
    performance: PerformanceSettings = PerformanceSettings()
    hot_issues: HotIssueSettings = HotIssueSettings()
    retention: RetentionSettings = RetentionSettings()

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

    @model_validator(mode="after")
    def _model_dir_under_local_dir(self) -> Settings:
        # The routing section cannot see local_dir; the root places its default there (as embedded.path's).
        if self.routing.model_dir is None:
            self.routing = self.routing.model_copy(update={"model_dir": self.local_dir / "models"})
        return self

    @model_validator(mode="after")
    def _key_groups_known(self) -> Settings:
        # An officer's group is one of reports.groups: reports and statistics count by it.
        groups = self.reports.group_ids
        for spec in self.api.keys:
            if spec.group is not None and spec.group not in groups:
                raise ValueError(f"api.keys {spec.name}: unknown group {spec.group!r}; reports.groups: {', '.join(groups)}")
        return self

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
