"""When to flush: by count, by bytes, or by age, whichever comes first (pure; the clock is given)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BatchLimits:
    max_items: int = 2000
    max_bytes: int = 8 * 1024 * 1024
    # A lone lead waits at most this long; with the index's 1 s refresh it is searchable within about
    # 1.2 s. Under load batches still grow: the next one fills while one is in flight.
    max_age_s: float = 0.1


@dataclass
class BatchClock:
    limits: BatchLimits = field(default_factory=BatchLimits)
    items: int = 0
    bytes: int = 0
    opened_at: float | None = None

    def add(self, size: int, now: float) -> None:
        if self.opened_at is None:
            self.opened_at = now
        self.items += 1
        self.bytes += size

    def due(self, now: float) -> bool:
        if not self.items:
            return False
        return (
            self.items >= self.limits.max_items
            or self.bytes >= self.limits.max_bytes
            or now - (self.opened_at or now) >= self.limits.max_age_s
        )

    def seconds_left(self, now: float) -> float | None:
        """Until the open batch is due by age; None when no batch is open."""
        if self.opened_at is None:
            return None
        return max(0.0, self.opened_at + self.limits.max_age_s - now)

    def reset(self) -> None:
        self.items = self.bytes = 0
        self.opened_at = None
