"""The ingest settings section: where the sources and the scheduler's state live."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from schemas.sections import Section


class IngestSettings(Section):
    sources: Path = Field(Path("sources.yaml"), description="The configured sources.")
    state_db: Path | None = Field(None, description="Per-source state (SQLite); default .local/ingest-state.sqlite.")
    metrics_file: Path | None = Field(None, description="Scheduler metrics (.prom); default .local/ingest-metrics.prom.")
