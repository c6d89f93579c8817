"""The streams worker alone: N leads already on leads.raw, timed until all are on leads.routed.

    leadhub services up && python -m benchmarks.worker_speed [--leads 20000] [--set streams.batch_size=1]

No sink and no search engine: this is the worker's ceiling on this machine, and its CPU cost per lead
(user + system seconds of the worker process / leads), which stays meaningful when other work
shares the cores. The leads are end_to_end's (real messages, then re-posts of them).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from adapters.kafka_clients import kafka_python_options
from benchmarks.common import RESULTS, delete_topics, print_table, write_json
from benchmarks.end_to_end import _cpu_s, _free_port, _peak_rss_mb, corpus, make_leads
from leadhub.cli import main as leadhub
from leadhub.settings import build_settings, parse_overrides
from schemas.serialization import encode


def _routed(consumer: KafkaConsumer, partitions: list[TopicPartition]) -> int:
    return sum(consumer.end_offsets(partitions).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--set", dest="extra", action="append", default=[], help="extra setting for the worker, KEY=VALUE")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    overrides = [f"kafka.topic_prefix=w{run}.", f"streams.app_id=ws-{run}", f"streams.web_port={_free_port()}", *args.extra]
    cli = [a for o in overrides for a in ("--set", o)]
    assert leadhub([*cli, "topics", "create"]) == 0
    settings = build_settings(overrides=parse_overrides(overrides))
    leads = make_leads(args.leads, run, corpus())
    producer = KafkaProducer(**kafka_python_options(settings.kafka), acks="all", linger_ms=5, batch_size=1 << 20)
    for lead in leads:
        value, headers = encode(lead)
        producer.send(f"w{run}.leads.raw", value=value, key=lead.key.encode(), headers=headers)
    producer.flush()
    producer.close()

    consumer = KafkaConsumer(**kafka_python_options(settings.kafka))
    routed = [TopicPartition(f"w{run}.leads.routed", p) for p in consumer.partitions_for_topic(f"w{run}.leads.routed")]
    log = RESULTS / f"worker_speed-{run}.log"
    RESULTS.mkdir(parents=True, exist_ok=True)
    worker = subprocess.Popen([sys.executable, "-m", "leadhub", *cli, "streams", "worker", "--loglevel", "warning"],
                              stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd="/tmp")  # fmt: skip
    try:
        # The clock starts at the first routed lead, so start-up and group joins are not timed.
        while _routed(consumer, routed) == 0:
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited with {worker.returncode}; see {log}")
            time.sleep(0.05)
        started, cpu_before, done_before = time.perf_counter(), _cpu_s(worker.pid), _routed(consumer, routed)
        deadline = started + 1800
        while (done := _routed(consumer, routed)) < len(leads) and time.perf_counter() < deadline:
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited with {worker.returncode}; see {log}")
            time.sleep(0.1)
        seconds, cpu = time.perf_counter() - started, _cpu_s(worker.pid) - cpu_before
        rss = _peak_rss_mb(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        consumer.close()
        delete_topics(settings.kafka, (f"w{run}.", f"ws-{run}"))
    timed = done - done_before
    row = {"leads": timed, "seconds": round(seconds, 2), "per_s": timed / seconds, "cpu_ms_per_lead": 1000 * cpu / timed,
           "peak_rss_mb": rss}  # fmt: skip
    print_table("streams worker alone (normalize + route), leads.raw -> leads.routed", [row])
    write_json("worker_speed", {"args": vars(args), "result": row})


if __name__ == "__main__":
    main()
