"""The briefing's settings section (`briefing:`): its time zone, where scheduled copies go, and who
gets them by e-mail."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.timezones import DEFAULT_TIMEZONE, zone


class BriefingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = Field(DEFAULT_TIMEZONE, description="Weeks and months are counted in this zone's local days.")
    recipients: list[str] = Field(default_factory=list, description="E-mail addresses the scheduled briefing is sent to.")
    schedule: str = Field("0 8 * * 1", description="Cron expression (local time) of the scheduled briefing: Mondays 08:00.")
    period: Literal["week", "month"] = Field("week", description="The period the scheduled briefing covers.")
    formats: list[Literal["xlsx", "html"]] = Field(default_factory=lambda: ["xlsx", "html"])
    lang: Literal["zh", "en"] = "zh"
    out_dir: Path | None = Field(None, description="Where scheduled briefings are written (default: <local dir>/briefings).")
    top: int = Field(10, ge=1, le=100, description="Rows in the 'most reported' list.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value
