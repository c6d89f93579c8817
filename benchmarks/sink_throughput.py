"""Sink throughput against raw bulk indexing of the same documents, in the same run.

    leadhub services up && python -m benchmarks.sink_throughput [--leads 20000] [--engine elasticsearch]

Raw: the client's own helpers.bulk (opensearch-py's or elasticsearch-py's) over the lead documents, chunks of 2,000 (the physical limit
here), after a warm-up, measured before and after the sink; the sink is compared with their mean. Sink: the same leads, already on a fresh leads.routed topic, consumed by SearchSink until
every one is acknowledged and its offset committed. Target (issue 6): sink >= 80 % of raw.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid

from kafka import KafkaProducer

from adapters.kafka_clients import kafka_python_options
from adapters.search_backend import SearchBackend
from benchmarks.common import (
    add_engine_option,
    client_helpers,
    delete_topics,
    engine_overrides,
    print_table,
    read_csv,
    result_name,
    write_json,
)
from leadhub.index_admin import init_indices
from leadhub.settings import build_settings, parse_overrides
from leadhub.topics_admin import ensure_topics
from schemas.index_templates import MAPPING_VERSION
from schemas.leads import Category, Lead
from schemas.serialization import encode
from schemas.topics import topic_specs
from sinks.writer import SearchSink


def make_leads(n: int, run: str) -> list[Lead]:
    rows = read_csv("board_messages.csv")
    return [
        Lead(
            lead_id=f"{run}-{i}", source="board", channel="complaint_platform", external_id=str(i),
            title=rows[i % len(rows)]["留言主题"], text=rows[i % len(rows)]["留言详情"],
            fetched_at="2024-05-01T10:00:00+08:00", category=Category(level1="城乡建设"), case_id=f"{run}-{i}",
        )  # fmt: skip
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    add_engine_option(parser)
    args = parser.parse_args()
    run = uuid.uuid4().hex[:8]
    overrides = [*engine_overrides(args.engine), f"kafka.topic_prefix=b{run}.", f"search.index_prefix=b{run}"]
    settings = build_settings(overrides=parse_overrides(overrides))
    backend = SearchBackend.from_settings(settings.search)
    helpers = client_helpers(backend)
    init_indices(backend, settings.search)
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(**kafka_python_options(settings.kafka))
    ensure_topics(admin, topic_specs(settings.kafka.topic_prefix), 1)
    admin.close()
    leads = make_leads(args.leads, run)
    docs = [lead.model_dump(mode="json") for lead in leads]

    def raw_bulk(index: str) -> float:
        """Seconds for the client's own bulk helper to index every document into ``index``."""
        backend.create_index(index)
        started = time.perf_counter()
        helpers.bulk(backend.client, ({"_index": index, "_id": d["lead_id"], "_source": d} for d in docs), chunk_size=2000)
        elapsed = time.perf_counter() - started
        backend.delete_index(index)
        return elapsed

    # The engine's speed drifts (JIT warm-up, merges): warm it up, then measure raw before and after
    # the sink and compare the sink with their mean.
    # named as a month of leads, so the leads template (mapping and analyzers) makes them
    raw_bulk(f"b{run}-leads-v{MAPPING_VERSION}-raw1")
    raw_before = raw_bulk(f"b{run}-leads-v{MAPPING_VERSION}-raw2")

    producer = KafkaProducer(**kafka_python_options(settings.kafka), acks="all", linger_ms=20, batch_size=1 << 20)
    for lead in leads:
        value, headers = encode(lead)
        producer.send(f"b{run}.leads.routed", value=value, key=lead.lead_id.encode(), headers=headers)
    producer.flush()
    producer.close()

    sink = SearchSink(settings, group_id=f"bench-{run}")
    thread = threading.Thread(target=sink.run, kwargs={"report_every_s": 3600}, daemon=True)
    started = time.perf_counter()
    thread.start()
    while sink.metrics.documents < len(leads) and time.perf_counter() - started < 600:
        time.sleep(0.02)
    done = time.monotonic()
    startup_s = (sink.metrics.first_record_at or done) - (done - (time.perf_counter() - started))
    # Throughput from the first record read to the last document committed: joining the consumer
    # group at start-up (a few seconds, once per process) is not throughput.
    sink_s = done - (sink.metrics.first_record_at or done)
    sink.stop()
    thread.join(timeout=60)
    raw_after = raw_bulk(f"b{run}-leads-v{MAPPING_VERSION}-raw3")
    raw_s = (raw_before + raw_after) / 2

    print(f"sink start-up (group join, metadata) before the first record: {startup_s:.2f} s")
    rows = [
        {"writer": "raw helpers.bulk, before the sink", "documents": len(docs), "seconds": round(raw_before, 2), "docs_per_s": round(len(docs) / raw_before)},
        {"writer": "raw helpers.bulk, after the sink", "documents": len(docs), "seconds": round(raw_after, 2), "docs_per_s": round(len(docs) / raw_after)},
        {"writer": "leadhub sink (Kafka -> bulk, committed)", "documents": sink.metrics.documents, "seconds": round(sink_s, 2), "docs_per_s": round(sink.metrics.documents / sink_s)},
    ]
    ratio = (sink.metrics.documents / sink_s) / (len(docs) / raw_s)
    print_table(f"{backend.backend}: sink throughput vs the mean raw rate (target: >= 80 %); ratio {ratio:.2f}", rows)
    write_json(result_name("sink_throughput", backend.backend), {"args": vars(args), "engine": backend.backend, "results": rows, "ratio": round(ratio, 3), "sink_startup_s": round(startup_s, 2)})
    for kind in ("leads", "cases"):
        for index in backend.get_alias(f"b{run}-{kind}"):
            backend.delete_index(index)
    backend.close()
    delete_topics(settings.kafka, (f"b{run}.",))


if __name__ == "__main__":
    main()
