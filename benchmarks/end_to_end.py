"""End to end: leads produced to leads.raw until every one is searchable, through the real streams
worker and sink (subprocesses), with the physical limits measured in the same run.

    leadhub services up && python -m benchmarks.end_to_end [--leads 50000] [--rate 200] [--seconds 30] [--warmup 30]
        [--engine elasticsearch]

1. Throughput: N RawLeads (the real board and labelled messages, then generated re-posts of them:
   hotline transcripts, prefixed reposts, previews, edits, summaries) produced as fast as Kafka takes
   them; the clock stops when the leads index counts all N.
2. Freshness: after a warm-up at the same rate (--warmup, not measured), new leads produced at a
   steady rate; a poller searches for the outstanding ids every 50 ms and records when each becomes
   searchable; p50/p99 of produce -> searchable, and by hop from the timestamps of the leads'
   records on leads.clean and leads.routed.
3. Physical limits, same documents and bytes: raw bulk indexing of the final lead documents with the
   client's own helpers.bulk, and raw Kafka produce + consume of the same RawLead bytes.
4. CPU milliseconds per lead (user + system) of the worker and the sink in the throughput phase, and
   their peak RSS (VmHWM); and where the cores went in that phase: how many the machine kept busy,
   and the share of each process, the broker and the engine included when `leadhub services up`
   runs them here.

Targets (issue 9): end to end >= 0.5 x raw bulk rate; p99 freshness <= 1.5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from itertools import islice
from pathlib import Path
from typing import Any

import confluent_kafka
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from adapters.kafka_clients import kafka_python_options
from adapters.search_backend import SearchBackend
from benchmarks.common import (
    RESULTS,
    add_engine_option,
    client_helpers,
    delete_topics,
    engine_overrides,
    machine_busy_s,
    print_table,
    process_cpu_s,
    read_csv,
    result_name,
    write_json,
)
from benchmarks.repost_set import REPOST_KINDS, _variant
from leadhub.cli import main as leadhub
from leadhub.settings import build_settings, parse_overrides
from schemas.leads import RawLead
from schemas.serialization import encode

CHANNEL_OF = {"original": ("board", "complaint_platform"), "hotline": ("hotline-12345", "hotline"),
              "prefix": ("forum-yiwu", "forum"), "preview": ("news-yiwu", "news"), "edit": ("board", "complaint_platform"),
              "summary": ("hotline-12345", "hotline")}  # fmt: skip
BASE_TIME = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def corpus() -> list[tuple[str, str]]:
    rows = read_csv("board_messages.csv")
    texts = [(r["留言主题"], r["留言详情"]) for r in rows]
    texts += [(r["title"], r["text"]) for r in read_csv("messages_labelled.csv")]
    return [(t.strip(), x.strip()) for t, x in texts if x.strip()]


def make_leads(n: int, run: str, texts: list[tuple[str, str]], seed: int = 11) -> list[RawLead]:
    """The first len(texts) leads are the messages; the rest re-posts of them from other channels."""
    rng = random.Random(seed)
    leads = []
    for i in range(n):
        j = i % len(texts)
        title, text = texts[j]
        kind = "original" if i < len(texts) else rng.choice(REPOST_KINDS)
        if kind != "original":
            title, text = _variant(kind, title, text, rng)
        source, channel = CHANNEL_OF[kind]
        at = BASE_TIME + dt.timedelta(seconds=10 * j + i // len(texts))
        leads.append(RawLead(source=source, channel=channel, external_id=f"{run}-{i}", title=title, body=text, published_at=at))
    return leads


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree_cpu_s(pid: int) -> float:
    """``process_cpu_s`` of the process and every process under it: Elasticsearch's `bin/elasticsearch` is a
    launcher JVM whose server JVM is its child."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += process_cpu_s(current)
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # ended meanwhile
            continue
    return total


def _service_pids(settings: Any, engine: str) -> dict[str, int]:
    """The broker's and the engine's processes when `leadhub services up` started them here and the run
    uses them (none when Kafka or the engine run elsewhere)."""
    from deploy.local import manager

    try:
        services = manager.local_services(settings, [engine])
    except Exception:  # noqa: BLE001 - settings no local service can stand for (an https engine, a host without port)
        return {}
    pids = {}
    for role, service in zip(("broker", "engine"), services, strict=True):
        record = service.record()
        local = service.host in ("127.0.0.1", "localhost", "::1")
        if record is not None and local and record.port == service.port and record.alive():
            pids[role] = record.pid
    return pids


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def hop_times(settings, topic: str, keys: set[str], timeout: float = 30.0) -> dict[str, float]:
    """When each of these leads was put on a topic keyed by lead id (leads.clean, leads.routed): the
    record's timestamp, which the worker's producer stamps as it sends (CreateTime), read after the
    measured phase. Consumers watching live during the phase cost the machine a fifth of a core at
    200/s, taken from the worker being measured."""
    consumer = KafkaConsumer(**kafka_python_options(settings.kafka), enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = consumer.end_offsets(partitions)
    stamped: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    try:
        while any(consumer.position(tp) < ends[tp] for tp in partitions) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500, max_records=10_000).values():
                for record in records:
                    key = record.key.decode()
                    if key in keys:
                        stamped.setdefault(key, record.timestamp / 1000)
    finally:
        consumer.close()
    return stamped


class Poller(threading.Thread):
    """Records when each produced lead id first becomes searchable."""

    def __init__(self, backend: SearchBackend, index: str) -> None:
        # Wall-clock times (time.time), comparable with the Kafka record timestamps of the hops.
        super().__init__(daemon=True)
        self.backend, self.index = backend, index
        self.produced: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self._outstanding: dict[str, None] = {}  # in production order; scanning `produced` grew with the run
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def add(self, lead_id: str, at: float) -> None:
        with self.lock:
            self.produced[lead_id] = at
            self._outstanding[lead_id] = None

    def run(self) -> None:
        while not self.stopped.is_set():
            # The oldest outstanding leads only (leads arrive about in order): asking for thousands of
            # ids every 50 ms would load the engine it measures more as the lag grows.
            with self.lock:
                outstanding = list(islice(self._outstanding, 500))
            if outstanding:
                body = {"size": len(outstanding), "_source": False, "query": {"ids": {"values": outstanding}}}
                answer = self.backend.search(self.index, body)
                now = time.time()
                with self.lock:
                    for hit in answer["hits"]["hits"]:
                        self.seen.setdefault(hit["_id"], now)
                        self._outstanding.pop(hit["_id"], None)
            self.stopped.wait(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=200.0, help="Leads/s in the freshness phase.")
    parser.add_argument("--seconds", type=float, default=30.0, help="Length of the freshness phase.")
    parser.add_argument("--warmup", type=float, default=30.0, help="Seconds at the steady rate before the freshness phase, not measured.")
    parser.add_argument("--workers", type=int, default=1, help="Streams worker processes (two lost leads once: README).")
    add_engine_option(parser)
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    overrides = [*engine_overrides(args.engine), f"kafka.topic_prefix=e{run}.", f"search.index_prefix=e{run}", f"streams.app_id=e2e-{run}"]
    cli = [a for o in overrides for a in ("--set", o)]
    assert leadhub([*cli, "topics", "create"]) == 0 and leadhub([*cli, "index", "init"]) == 0
    settings = build_settings(overrides=parse_overrides(overrides))
    backend = SearchBackend.from_settings(settings.search)
    helpers = client_helpers(backend)
    leads_index = f"e{run}-leads"
    texts = corpus()
    leads = make_leads(args.leads, run, texts)
    steady = make_leads(int(args.rate * args.seconds), f"{run}f", list(reversed(texts)), seed=12)
    encoded = [(lead.key.encode(), *encode(lead)) for lead in leads]
    print(f"{len(leads):,} leads ({min(len(texts), len(leads)):,} messages + re-posts), freshness phase {len(steady):,} at {args.rate:.0f}/s")

    logs = RESULTS / f"end_to_end-{run}"
    logs.mkdir(parents=True, exist_ok=True)
    # Each worker runs every stage; faust spreads the partitions among them (leads.clean's one goes to one).
    workers = {f"worker{i}" if args.workers > 1 else "worker": ["--set", f"streams.web_port={_free_port()}", "streams", "worker",
               "--loglevel", "warning"] for i in range(1, args.workers + 1)}  # fmt: skip
    procs = {
        name: subprocess.Popen([sys.executable, "-m", "leadhub", *cli, *command], stdout=(logs / f"{name}.log").open("wb"),
                               stderr=subprocess.STDOUT, cwd=logs)  # fmt: skip
        for name, command in (*workers.items(), ("sink", ["sink", "run"]))
    }
    producer = KafkaProducer(**kafka_python_options(settings.kafka), acks="all", linger_ms=5, batch_size=1 << 20)
    topic = f"e{run}.leads.raw"
    try:
        # Warm-up: one lead through everything, so start-up and group joins are not timed.
        warm = RawLead(source="warmup", channel="forum", external_id=run, body="义乌市稠城街道某小区电梯停运，物业不修。")
        value, headers = encode(warm)
        producer.send(topic, value=value, key=warm.key.encode(), headers=headers).get(timeout=30)
        _wait_count(backend, leads_index, 1, timeout=240, procs=procs)

        watched = {**{name: proc.pid for name, proc in procs.items()}, **_service_pids(settings, backend.backend)}
        cpu_before = {name: _tree_cpu_s(pid) for name, pid in watched.items()}
        busy_before = machine_busy_s()
        started = time.perf_counter()
        for key, value, headers in encoded:
            producer.send(topic, value=value, key=key, headers=headers)
        producer.flush()
        produced_s = time.perf_counter() - started
        _wait_count(backend, leads_index, 1 + len(leads), timeout=1800, procs=procs)
        e2e_s = time.perf_counter() - started
        cpu_ms_per_lead = {name: round(1000 * (_tree_cpu_s(proc.pid) - cpu_before[name]) / len(leads), 3) for name, proc in procs.items()}
        cores = {"machine": round((machine_busy_s() - busy_before) / e2e_s, 2),
                 **{name: round((_tree_cpu_s(pid) - cpu_before[name]) / e2e_s, 2) for name, pid in watched.items()}}  # fmt: skip
        cases = backend.count(f"e{run}-cases")

        # Warm-up at the steady rate, not measured: a JVM that has just started spends up to half a
        # core compiling (seen: OpenSearch's C2 compiler threads at 52 % of a core minutes after start),
        # which a long-running engine does not.
        warm_leads = make_leads(int(args.rate * args.warmup), f"{run}w", texts[len(texts) // 2 :], seed=13)
        steady_producer = _steady_producer(settings)
        _steady(steady_producer, topic, warm_leads, args.rate)
        _wait_count(backend, leads_index, 1 + len(leads) + len(warm_leads), timeout=600, procs=procs)

        poller = Poller(backend, leads_index)
        poller.start()
        pids = {**{name: proc.pid for name, proc in procs.items()}, "load generator": os.getpid()}
        cpu_before = {name: process_cpu_s(pid) for name, pid in pids.items()}
        _steady(steady_producer, topic, steady, args.rate, poller.add)
        deadline = time.time() + 60
        while len(poller.seen) < len(steady) and time.time() < deadline:
            time.sleep(0.1)
        poller.stopped.set()
        steady_cpu_ms_per_lead = {name: round(1000 * (process_cpu_s(pid) - cpu_before[name]) / len(steady), 3) for name, pid in pids.items()}
        t0 = min(poller.produced.values())
        keys = set(poller.produced)
        cleaned, routed = hop_times(settings, f"e{run}.leads.clean", keys), hop_times(settings, f"e{run}.leads.routed", keys)
        latencies = sorted(poller.seen[k] - poller.produced[k] for k in poller.seen)
        with (logs / "freshness.csv").open("w") as f:  # one row a lead, for plotting lag over time
            f.write("lead_id,produced_s,clean_s,routed_s,searchable_s\n")
            for k, at in poller.produced.items():
                times = [d.get(k) for d in (cleaned, routed, poller.seen)]
                f.write(",".join([k, f"{at - t0:.4f}", *("" if t is None else f"{t - t0:.4f}" for t in times)]) + "\n")
        hop = lambda start, end: sorted(end[k] - start[k] for k in start if k in end)  # noqa: E731
        # The hop boundaries are Kafka timestamps in whole milliseconds.
        hop_rows = [("  produce -> leads.clean (normalize)", hop(poller.produced, cleaned)),
                    ("  leads.clean -> leads.routed (route)", hop(cleaned, routed)),
                    ("  leads.routed -> searchable (sink + refresh)", hop(routed, poller.seen))]  # fmt: skip
        rss = {name: _peak_rss_mb(proc.pid) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        producer.close()

    # Physical limits on the same documents and bytes.
    docs = [hit["_source"] for hit in helpers.scan(backend.client, index=leads_index, query={"query": {"match_all": {}}})]
    raw_index = f"e{run}-leads-raw"
    live = backend.client.indices.get(index=leads_index)
    live = live[next(iter(live))]
    # The same mappings and the same analyzers they name (the leads index's analysis settings).
    backend.create_index(raw_index, {"mappings": live["mappings"], "settings": {"analysis": live["settings"]["index"]["analysis"]}})
    t = time.perf_counter()
    helpers.bulk(backend.client, ({"_index": raw_index, "_id": d["lead_id"], "_source": d} for d in docs), chunk_size=2000)
    backend.refresh(raw_index)
    bulk_s = time.perf_counter() - t
    kafka_produce_s, kafka_consume_s = _raw_kafka(settings, run, encoded)

    n = len(leads)
    rows = [
        {"measure": "end to end (produce -> all searchable)", "leads": n, "seconds": e2e_s, "per_s": n / e2e_s},
        {"measure": "  of which producing to leads.raw", "leads": n, "seconds": produced_s, "per_s": n / produced_s},
        {"measure": "raw bulk, same final documents", "leads": len(docs), "seconds": bulk_s, "per_s": len(docs) / bulk_s},
        {"measure": "raw Kafka produce, same bytes", "leads": n, "seconds": kafka_produce_s, "per_s": n / kafka_produce_s},
        {"measure": "raw Kafka consume, same bytes", "leads": n, "seconds": kafka_consume_s, "per_s": n / kafka_consume_s},
    ]
    print_table("Throughput", rows)
    fresh = {"rate": args.rate, "leads": len(steady), **_spread(latencies)}
    hops = [{"hop": "produce -> searchable", **_spread(latencies)}, *({"hop": name, **_spread(values)} for name, values in hop_rows)]
    print_table("Freshness (searchable: polled every 50 ms)", hops)
    ratio = (n / e2e_s) / (len(docs) / bulk_s)
    summary = {"e2e_over_raw_bulk": ratio, "target_ratio": 0.5, "p99_s": fresh["p99_s"], "target_p99_s": 1.5,
               "cases": cases, "cpu_ms_per_lead": cpu_ms_per_lead, "cores_busy": cores, "steady_cpu_ms_per_lead": steady_cpu_ms_per_lead, "peak_rss_mb": rss}  # fmt: skip
    print_table(f"Summary ({backend.backend})", [summary])
    # freshness.csv's times are seconds after freshness_t0 (Unix time): to line them up with the logs.
    write_json(result_name("end_to_end", backend.backend), {"engine": backend.backend, "throughput": rows, "freshness": fresh, "freshness_hops": hops, **summary, "logs": str(logs),
                              "freshness_t0": t0})  # fmt: skip
    for kind in ("leads", "cases"):
        for index in backend.get_alias(f"e{run}-{kind}"):
            backend.delete_index(index)
    backend.delete_index(raw_index)
    backend.close()
    delete_topics(settings.kafka, (f"e{run}.", f"e2e-{run}"))


def _steady_producer(settings) -> confluent_kafka.Producer:
    """The steady phase's producer: librdkafka (C). kafka-python sending one lead at a time cost
    about 2 ms of CPU a lead (40 % of a core at 200/s, measured alone), which the load generator
    took from the worker it measures; librdkafka costs 0.3-0.4 ms."""
    if settings.kafka.security_protocol != "PLAINTEXT":
        raise SystemExit("the end-to-end benchmark runs against a plaintext Kafka (the local one: `leadhub services up`)")
    return confluent_kafka.Producer({"bootstrap.servers": ",".join(settings.kafka.servers), "acks": "all", "linger.ms": 0})


def _steady(producer: confluent_kafka.Producer, topic: str, leads: list[RawLead], rate: float, produced=None) -> None:
    """Produces the leads at a steady rate, each sent on its own as a live source would; `produced`
    hears each lead id and the wall-clock time just before it was sent."""
    interval = 1.0 / rate
    t0 = time.perf_counter()
    for i, lead in enumerate(leads):
        delay = t0 + i * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        value, headers = encode(lead)
        at = time.time()
        producer.produce(topic, value=value, key=lead.key.encode(), headers=headers)
        producer.flush()  # each lead leaves now, as a live source's would
        if produced is not None:
            produced(lead.lead_id, at)


def _spread(latencies: list[float]) -> dict:
    """Count and p50/p90/p99/max/mean of sorted latencies (None when there are none)."""
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else None  # noqa: E731
    return {"seen": len(latencies), "p50_s": p(0.50), "p90_s": p(0.90), "p99_s": p(0.99),
            "max_s": latencies[-1] if latencies else None, "mean_s": statistics.fmean(latencies) if latencies else None}  # fmt: skip


# The count standing still this long means leads are not coming (the run at 2026-12-07 20:24 with two
# workers: 4,216 leads.clean records committed and never routed); the benchmark says so, not waits 30 min.
STALLED_S = 120.0


def _wait_count(backend: SearchBackend, index: str, n: int, *, timeout: float, procs: dict) -> None:
    deadline = time.perf_counter() + timeout
    count, since = -1, time.perf_counter()
    while time.perf_counter() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise SystemExit(f"the {name} exited with {proc.returncode}; see its log")
        # No forced refresh: that would cost the engine what the raw bulk run does not pay; documents
        # become searchable with the index's own refresh (1 s).
        now = backend.count(index)
        if now >= n:
            return
        if now != count:
            count, since = now, time.perf_counter()
        elif now and time.perf_counter() - since > STALLED_S:  # (a worker may take minutes to start)
            raise SystemExit(f"{index} has stood at {now} of {n} documents for {STALLED_S:.0f} s: {n - now} leads lost or stuck;"
                             " compare the end offsets of leads.raw, leads.clean and leads.routed, and see the logs")  # fmt: skip
        time.sleep(0.2)
    raise SystemExit(f"{index} has {backend.count(index)} of {n} documents after {timeout:.0f} s")


def _raw_kafka(settings, run: str, encoded) -> tuple[float, float]:
    from kafka.admin import KafkaAdminClient, NewTopic

    topic = f"e{run}.raw-limit"
    admin = KafkaAdminClient(**kafka_python_options(settings.kafka))
    admin.create_topics([NewTopic(topic, 6, 1)])
    admin.close()
    producer = KafkaProducer(**kafka_python_options(settings.kafka), acks="all", linger_ms=5, batch_size=1 << 20)
    t = time.perf_counter()
    for key, value, headers in encoded:
        producer.send(topic, value=value, key=key, headers=headers)
    producer.flush()
    produce_s = time.perf_counter() - t
    producer.close()
    consumer = KafkaConsumer(topic, **kafka_python_options(settings.kafka), group_id=f"raw-{run}",
                             auto_offset_reset="earliest", consumer_timeout_ms=10_000)  # fmt: skip
    t = time.perf_counter()
    got = 0
    for _ in consumer:
        got += 1
        if got == len(encoded):
            break
    consume_s = time.perf_counter() - t
    consumer.close()
    return produce_s, consume_s


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
