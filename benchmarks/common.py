"""What every benchmark shares: where the shared data is, a table printer, a JSON writer, and the
clean-up of a run's Kafka topics."""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import platform
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LEADHUB_SHARED_DATA", REPO.parent / "shared" / "data"))
TEDDY = SHARED_DATA / "teddy2020"
RESULTS = REPO / "benchmarks" / "results"


def read_csv(name: str) -> list[dict[str, str]]:
    path = TEDDY / name
    if not path.is_file():
        raise SystemExit(f"{path} not found: the benchmarks read ../shared/data (set LEADHUB_SHARED_DATA to move it)")
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    widths = {c: max(len(str(c)), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    print(f"\n{title}")
    print("  ".join(str(c).ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        print("  ".join(_fmt(row.get(c)).ljust(widths[c]) for c in columns))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if value < 100 else f"{value:,.0f}"
    return str(value)


def write_json(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        **payload,
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    print(f"\nwrote {path}")
    return path


def delete_topics(kafka_settings: Any, prefixes: tuple[str, ...]) -> None:
    """Deletes a run's topics (and its worker's changelog topics): left behind, hundreds of them made
    Kafka itself busy enough to skew later runs."""
    from kafka.admin import KafkaAdminClient

    from adapters.kafka_clients import kafka_python_options
    from leadhub.topics_admin import delete_topics as delete

    admin = KafkaAdminClient(**kafka_python_options(kafka_settings))
    try:
        delete(admin, [topic for topic in admin.list_topics() if topic.startswith(prefixes)])
    finally:
        admin.close()


ENGINES = ("opensearch", "elasticsearch")


def add_engine_option(parser: Any) -> None:
    parser.add_argument(
        "--engine", choices=ENGINES, default=None,
        help="the search engine to run on (default: search.backend); the local Elasticsearch listens on "
        "services.elasticsearch_port (`leadhub services up --engine elasticsearch`)",
    )  # fmt: skip


def engine_overrides(engine: str | None) -> list[str]:
    """`--set` values pointing leadhub at ``engine`` (none: the configured search engine)."""
    from leadhub.settings import build_settings

    settings = build_settings()
    if engine is None or engine == settings.search.backend:
        return []
    port = settings.services.elasticsearch_port if engine == "elasticsearch" else 9200
    return [f"search.backend={engine}", f"search.url=http://127.0.0.1:{port}"]


def result_name(name: str, backend: str) -> str:
    """The JSON file's name: OpenSearch keeps the benchmark's own, another engine's run is beside it."""
    return name if backend == "opensearch" else f"{name}_{backend}"


def client_helpers(backend: Any) -> Any:
    """The bulk/scan helpers of the client ``backend`` (adapters.search_backend.SearchBackend) wraps."""
    return backend.helpers()


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used (Linux /proc; OSError once it is gone): a cost per
    lead that does not depend on what else the machine is doing, unlike the rates."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14 and 15)


def children_cpu() -> float:
    """CPU seconds the live child processes (the normalize pool's, embedded.normalize_processes) have used."""
    total = 0.0
    for child in multiprocessing.active_children():
        try:
            total += process_cpu_s(child.pid)
        except OSError:
            continue
    return total


def machine_busy_s() -> float:
    """CPU seconds all cores have spent busy since boot (everything but idle and I/O wait, /proc/stat):
    the difference over a phase, divided by its length, is how many cores the machine kept busy."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # guest time is within user
