"""The briefing's settings section (`briefing:`): its time zone, where scheduled copies go, and who
gets them by e-mail."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.timezones import DEFAULT_TIMEZONE, zone

Format = Literal["xlsx", "html"]
FORMATS: tuple[Format, ...] = ("xlsx", "html")


class BriefingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scheduled: bool = Field(True, description="Embedded mode: `api serve` writes (and e-mails) the briefing on the schedule.")
    timezone: str = Field(DEFAULT_TIMEZONE, description="Weeks and months are counted in this zone's local days.")
    recipients: list[str] = Field(default_factory=list, description="E-mail addresses the scheduled briefing is sent to.")
    schedule: str = Field("0 8 * * 1", description="Cron expression (local time) of the scheduled briefing: Mondays 08:00.")
    period: Literal["week", "month"] = Field("week", description="The period the scheduled briefing covers.")
    formats: list[Format] = Field(default_factory=lambda: list(FORMATS))
    lang: Literal["zh", "en"] = "zh"
    out_dir: Path | None = Field(None, description="Where scheduled briefings are written (default: <local dir>/briefings).")
    top: int = Field(10, ge=1, le=100, description="Rows in the 'most reported' list.")

    @field_validator("recipients", "formats", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        # `--set briefing.recipients=a@x.cn,b@x.cn` and a CronJob's env give one string.
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a five-field cron line (e.g. '0 8 * * 1': Mondays 08:00)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value
