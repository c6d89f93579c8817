"""The embedded mode's settings section (`embedded`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from schemas.sections import Section


class EmbeddedSettings(Section):
    """Embedded mode: no Kafka, no search cluster; one process, one SQLite file."""

    path: Path | None = Field(None, description="The embedded index file; default .local/embedded.sqlite.")
    schedule_sources: bool = Field(True, description="`leadhub api serve` also runs the sources on their schedules.")
