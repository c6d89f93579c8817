"""sources.yaml: the configured sources, each validated by its kind's own options model."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ingestors.base import SourceKind, load_kinds
from schemas.errors import ConfigError
from schemas.leads import SOURCE_NAME, Channel
from schemas.validation import describe_errors

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30s, 10m, 6h or 1d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., pattern=SOURCE_NAME)
    kind: str
    channel: Channel
    schedule: str = Field("every 1h", description="'every 10m' or a cron line '*/15 * * * *'.")
    expect_every: str | None = Field(None, description="Stale if no success within this long, e.g. 1d.")
    timezone: str = "Asia/Shanghai"
    enabled: bool = True
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("expect_every")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: list[SourceConfig]


# ${ENV:NAME} in an option value: a secret (an API token, a password in a URL) kept out of sources.yaml.
_ENV_REFERENCE = re.compile(r"\$\{ENV:([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(value: Any, environ: Mapping[str, str], where: str) -> Any:
    """``value`` with every ``${ENV:NAME}`` in its strings replaced from ``environ``; a variable that is
    unset or empty is a start-up error naming it (and where it is used, never its value)."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if not environ.get(name):
                raise ConfigError(
                    f"{where}: environment variable {name} is not set",
                    hint=f"export {name}=… before starting leadhub, or take ${{ENV:{name}}} out of the sources file",
                )
            return environ[name]

        return _ENV_REFERENCE.sub(substitute, value)
    if isinstance(value, dict):
        return {key: expand_env(item, environ, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [expand_env(item, environ, f"{where}.{index}") for index, item in enumerate(value)]
    return value


def build_kind(config: SourceConfig, environ: Mapping[str, str] | None = None) -> SourceKind:
    """The source's kind with its options validated; ``${ENV:NAME}`` references are expanded here, from
    ``environ`` (default: the process environment), so the SourceConfig itself never holds a secret."""
    kinds = load_kinds()
    if config.kind not in kinds:
        raise ConfigError(f"source {config.name}: unknown kind {config.kind!r}", hint=f"kinds: {', '.join(sorted(kinds))}")
    cls = kinds[config.kind]
    options = expand_env(config.options, os.environ if environ is None else environ, f"source {config.name} options")
    try:
        return cls(cls.Options.model_validate(options))
    except ValidationError as exc:
        # ConfigError hides URL secrets in every message of its own: nothing to hide here first.
        raise ConfigError(f"source {config.name} ({config.kind}) options: {describe_errors(exc)}") from None


_SITE_FILE_SUFFIXES = (".yaml", ".yml", ".json")


def _resolve_site_file(source: SourceConfig, folder: Path) -> None:
    """A board's ``site: my_board.yaml`` names a file beside sources.yaml, wherever leadhub is started."""
    site = source.options.get("site")
    if isinstance(site, str) and site.endswith(_SITE_FILE_SUFFIXES) and not Path(site).is_absolute():
        source.options["site"] = str((folder / site).resolve())


def load_sources(path: Path) -> list[SourceConfig]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"sources file {path} does not exist", hint="create it or set ingest.sources") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"sources file {path} cannot be read: {exc}") from None
    try:
        parsed = SourcesFile.model_validate(data)
    except ValidationError as exc:
        problems = describe_errors(exc, limit=5)
        raise ConfigError(f"sources file {path}: {problems}") from None
    names = [s.name for s in parsed.sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"sources file {path}: names used twice: {', '.join(duplicates)}")
    for source in parsed.sources:
        _resolve_site_file(source, Path(path).parent)
        build_kind(source)  # every source's options are checked at start-up, not at its first run
    return parsed.sources
