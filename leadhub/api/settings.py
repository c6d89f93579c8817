"""The API's settings section (``api`` in leadhub.yaml): where it listens, its keys, limits and sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from schemas.sections import Section


class ApiKeySpec(Section):
    """One API key: only its SHA-256 is stored (`leadhub api key create` prints both)."""

    name: str = Field(..., min_length=1, max_length=100, description="Who holds the key; the actor of their events.")
    sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$", description="Hex SHA-256 of the key.")
    role: Literal["analyst", "officer", "intake", "admin"]
    departments: list[str] = Field(
        default_factory=list, description="For officers: the departments whose cases they may act on ('*' = all)."
    )
    group: str | None = Field(None, max_length=64, description="Experience officers: their group (an id of reports.groups).")
    email: str | None = Field(
        None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="Where their notifications go."
    )
    lang: Literal["zh", "en"] = Field("zh", description="The language of the notifications they get.")


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
    open311_anonymous_read: bool = Field(
        False, description="Open311 GET without a key (the spec needs none for reading): services and requests."
    )
    open311_anonymous_media: bool = Field(
        False, description="With open311_anonymous_read: the requests' photos (media_url) without a key too."
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
