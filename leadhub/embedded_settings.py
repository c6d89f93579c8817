"""The embedded mode's settings section (`embedded`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from schemas.sections import Section


class EmbeddedSettings(Section):
    """Embedded mode: no Kafka, no search cluster; one process, one SQLite file."""

    path: Path | None = Field(None, description="The embedded index file; default .local/embedded.sqlite.")
    normalize_processes: int = Field(
        1,
        ge=0,
        description="Processes that normalize a large ingest (100 leads or more at once; with the hot-issue hints) while this"
        " one routes and writes: about 1.5 ms of a lead's CPU moves to another core. 0: all in this process.",
    )
    schedule_sources: bool = Field(True, description="`leadhub api serve` also runs the sources on their schedules.")
