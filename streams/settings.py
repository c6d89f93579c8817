"""The streams' settings sections: the route stage's rules (routing) and the worker's (streams)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from schemas.sections import Section

if TYPE_CHECKING:
    from enrichers.hotspots import HotspotConfig


class RoutingSettings(Section):
    """Categories, places, priority and dedup (the route stage and the offline commands)."""

    taxonomy: Path | None = Field(None, description="Taxonomy YAML; default: the bundled one.")
    gazetteer: Path | None = Field(None, description="Gazetteer YAML; default: the bundled Yiwu one.")
    model: Literal["default", "none"] | Path | None = Field(
        "default",
        description="The category classifier: `default` the package's default model (rules only while it is not built),"
        " `none` (or null) rules only, or a file from `leadhub model train`. With `default`, a version promoted"
        " in model_dir (`leadhub model promote`) comes first.",
    )
    model_dir: Path | None = Field(
        None, description="Where `leadhub model train` writes model versions (v0001, v0002, …) and `current` names the promoted one;"
        " default: <local dir>/models.",
    )  # fmt: skip
    model_check_seconds: float = Field(
        30.0, gt=0, le=3600,
        description="How often the running stages look whether another model version was promoted (then load it, no restart).",
    )  # fmt: skip
    triage_threshold: float | None = Field(
        None, ge=0, le=1,
        description="Below this confidence a lead needs triage; unset: the model's own, chosen on validation (its card), 0.5 for rules only.",
    )  # fmt: skip
    source_timezone: str = Field("Asia/Shanghai", description="How naive times from sources are read.")
    dedup_window_days: float = Field(30.0, gt=0)
    case_due_days: float = Field(5.0, gt=0, description="A new case is due this long after its first report.")
    urgent_due_days: float = Field(1.0, gt=0, description="... or this long when its priority is urgent (>= 70).")
    on_closed_case: Literal["flag", "reopen"] = Field(
        "flag", description="A new report on a resolved/closed case: raise its priority (flag) or reopen it."
    )


class StreamsSettings(Section):
    app_id: str = Field("leadhub-streams", description="Faust app id: consumer group and table prefix.")
    web_port: int = Field(6066, description="The worker's metrics/health port.")
    batch_size: int = Field(
        500, ge=1, le=10_000, description="Most records a stage takes at once (a case's state goes out once per batch)."
    )
    batch_wait_ms: int = Field(
        20, ge=1, le=10_000, description="How long a stage waits to fill a batch before it handles what it has."
    )
    producer_linger_ms: int = Field(
        # 25 rather than 5: at a steady 200 leads/s it halved the broker's CPU (47 % -> 23 % of a core),
        # for at most 25 ms more on each of the worker's two hops.
        25, ge=0, le=1_000, description="How long the worker's producer gathers records into one request."
    )
    producer_batch_bytes: int = Field(
        262_144, ge=1_024, le=16 * 1024 * 1024,
        description="Largest batch of records the worker's producer sends to one partition at once (faust's default: 16 KB).",
    )  # fmt: skip
    fetch_min_bytes: int = Field(
        # At a steady 200 leads/s each lead woke the consumer's fetch on its own (the broker answers a
        # fetch as soon as one byte is there): fetching and waking the loop were ~40 % of the worker.
        65_536, ge=1, le=50 * 1024 * 1024,
        description="The broker holds a fetch until this much is there, or fetch_wait_ms has passed.",
    )  # fmt: skip
    fetch_wait_ms: int = Field(
        50, ge=0, le=1_500, description="Longest the broker holds a fetch for fetch_min_bytes (at most this much more on each hop)."
    )


class HotspotSettings(Section):
    """Hotspots (enrichers/hotspots.py): surges of a category in a town, and cases growing across channels."""

    enabled: bool = Field(True, description="Detect hotspots as leads are routed (worker and embedded mode).")
    window_hours: float = Field(24.0, gt=0, le=24 * 31, description="A surge's window: leads of the pair counted in the last this many hours.")
    baseline_windows: int = Field(
        14, ge=1, le=365, description="The pair's baseline: its mean count over this many windows before the current one."
    )
    p_threshold: float = Field(
        0.001, gt=0, lt=1, description="A surge when the one-sided Poisson P(X >= count | baseline) is at most this."
    )
    min_count: int = Field(5, ge=1, description="... and the window holds at least this many leads.")
    case_hours: float = Field(48.0, gt=0, le=24 * 31, description="A growing case: reports within this many hours ...")
    case_min_reports: int = Field(5, ge=2, description="... at least this many ...")
    case_min_channels: int = Field(2, ge=1, description="... from at least this many channels.")
    notify_max_age_hours: float = Field(
        48.0, gt=0, description="A hotspot detected longer ago than this (leads of the past arriving late, a backfill) is recorded, not announced."
    )
    notify_to: list[str] = Field(
        default_factory=list, description="E-mail addresses told of each new hotspot (with notify.smtp); every notify webhook is told too."
    )

    def config(self) -> HotspotConfig:
        from enrichers.hotspots import HotspotConfig  # scipy: loaded by the stages only, not by every command

        return HotspotConfig(
            window_hours=self.window_hours, baseline_windows=self.baseline_windows, p_threshold=self.p_threshold,
            min_count=self.min_count, case_hours=self.case_hours, case_min_reports=self.case_min_reports,
            case_min_channels=self.case_min_channels,
        )  # fmt: skip
