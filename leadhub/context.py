"""What every command receives: the settings, built once on first use."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from leadhub.settings import Settings


class AppContext:
    def __init__(self, build: Callable[[], Settings]) -> None:
        self._build = build

    @cached_property
    def settings(self) -> Settings:
        return self._build()
