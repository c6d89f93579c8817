"""The sink's counters: the writer counts what it wrote, the consumer loop the lag and the first record."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class SinkMetrics:
    started: float = field(default_factory=time.monotonic)
    documents: int = 0
    case_events: int = 0
    dead_letters: int = 0
    retries: int = 0
    batches: int = 0
    lag: int | None = None
    first_record_at: float | None = None  # monotonic; throughput is measured from here, not from start-up

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return (
            f"documents {self.documents} ({self.documents / elapsed:.0f}/s), case events {self.case_events}, "
            f"dead letters {self.dead_letters}, retries {self.retries}, batches {self.batches}, lag {self.lag}"
        )
