"""The scheduler's metrics in Prometheus text format, for the node exporter's textfile collector
(or anything that reads a .prom file): per source stale, consecutive failures, last success."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ingestors.scheduler import SourceClock


def render(clocks: Iterable[SourceClock]) -> str:
    lines = [
        "# HELP leadhub_ingest_source_stale 1 if the source has not succeeded within its expect_every.",
        "# TYPE leadhub_ingest_source_stale gauge",
        "# HELP leadhub_ingest_source_failures Consecutive failed runs of the source.",
        "# TYPE leadhub_ingest_source_failures gauge",
        "# HELP leadhub_ingest_source_last_success_seconds Unix time of the source's last successful run.",
        "# TYPE leadhub_ingest_source_last_success_seconds gauge",
    ]
    for clock in clocks:
        label = f'{{source="{clock.config.name}"}}'
        lines.append(f"leadhub_ingest_source_stale{label} {int(clock.stale)}")
        lines.append(f"leadhub_ingest_source_failures{label} {clock.failures}")
        if clock.last_success is not None:
            lines.append(f"leadhub_ingest_source_last_success_seconds{label} {clock.last_success.timestamp():.0f}")
    return "\n".join(lines) + "\n"


def write(path: Path, clocks: Iterable[SourceClock]) -> None:
    """Atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(render(clocks), encoding="utf-8")
    os.replace(tmp, path)
