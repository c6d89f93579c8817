"""The terminal's settings section (`cli`): who runs the commands, for what they may print."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.sections import Section


class CliSettings(Section):
    """Who the terminal user is, for what the CLI prints (reporters' contacts follow leadhub.access)."""

    role: Literal["analyst", "officer", "admin"] = Field(
        "analyst", description="analyst: no contacts; officer: contacts of the departments' cases; admin: all."
    )
    departments: list[str] = Field(default_factory=list, description="For role officer: their departments ('*' = all).")
