"""The retention section (`retention:`): how long reporters' contacts, leads and closed cases are kept
(PIPL: personal data no longer than the purpose needs), and when `leadhub retention run` runs by itself."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RetentionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_days: int | None = Field(
        180, ge=1,
        description="Reporters' contacts are removed from leads reported more than this many days ago, and dead letters"
        " (their original bytes may hold a contact) older than this are deleted. None: keep them.",
    )  # fmt: skip
    lead_years: float | None = Field(
        None, gt=0,
        description="Leads and closed (closed, rejected) cases untouched for this many years are deleted (or archived, see"
        " archive_dir); open cases and their leads are kept. None: keep everything.",
    )  # fmt: skip
    archive_dir: Path | None = Field(
        None, description="If set, what lead_years removes is first written here as retention-<time>.jsonl.gz (without contacts)."
    )
    scheduled: bool = Field(True, description="Embedded mode: `api serve` runs the retention on the schedule.")
    schedule: str = Field("30 3 * * *", description="Cron expression (local time, briefing.timezone) of the run: daily 03:30.")
    vacuum: bool = Field(
        True,
        description="Embedded: rewrite the SQLite file after a run that changed it, so removed contacts leave no bytes behind.",
    )

    @field_validator("contact_days", "lead_years", "archive_dir", mode="before")
    @classmethod
    def _unset(cls, value: object) -> object:
        # `--set retention.lead_years=none` and an environment variable can only say "unset" as text.
        return None if isinstance(value, str) and value.strip().lower() in ("", "none", "null", "off") else value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a five-field cron line (e.g. '30 3 * * *': daily 03:30)")
        return value
