"""The streams worker alone: N leads already on leads.raw, timed until all are on leads.routed; then,
with ``--rate``, leads produced one at a time at a steady rate, as live sources send them.

    leadhub services up && python -m benchmarks.worker_speed [--leads 20000] [--rate 200 --seconds 40]
        [--set streams.batch_size=1] [--set hot_issues.enabled=false] [--profile DIR]

No sink and no search engine: this is the worker's ceiling on this machine, and its CPU cost per lead
(user + system seconds of the worker process / leads), which stays meaningful when other work
shares the cores. The leads are end_to_end's (real messages, then re-posts of them).

Burst: after one lead has gone through (start-up not timed), N leads produced as fast as Kafka takes
them; the stages take full batches.
Steady: after a warm-up of ``--warmup`` seconds at the rate (not measured), ``--seconds`` more at
the rate; the worker's CPU in that phase / its leads. At a low rate the batches are small and the
per-batch and per-message costs (faust, the Kafka client, commits) weigh most.
``--profile DIR``: py-spy samples the worker in each phase (collapsed stacks, ``DIR/<phase>.txt``) and
the top functions by own and by inclusive time are printed; it slows the worker, so those runs'
CPU figures are not the ones to quote.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from adapters.kafka_clients import kafka_python_options
from benchmarks.common import RESULTS, delete_topics, print_table, process_cpu_s, write_json
from benchmarks.end_to_end import _free_port, _peak_rss_mb, _steady, _steady_producer, corpus, make_leads
from leadhub.cli import main as leadhub
from leadhub.settings import build_settings, parse_overrides
from schemas.serialization import encode


def _cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of the process: system time is mostly the sockets (loopback TCP)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")


def _routed(consumer: KafkaConsumer, partitions: list[TopicPartition]) -> int:
    return sum(consumer.end_offsets(partitions).values())


class Sampler:
    """py-spy recording one process into a collapsed-stack file, for one phase."""

    def __init__(self, out: Path | None, pid: int) -> None:
        self.out, self.pid, self.proc = out, pid, None

    def __enter__(self) -> Sampler:
        if self.out is not None:
            self.proc = subprocess.Popen([shutil.which("py-spy") or "py-spy", "record", "--pid", str(self.pid), "--format", "raw",
                                          "--rate", "200", "--nonblocking", "-o", str(self.out)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(2)  # py-spy writes its file on SIGINT
            self.proc.wait(timeout=60)


def top_functions(path: Path, n: int = 25) -> list[dict]:
    """The functions of a py-spy collapsed-stack file by own samples, with their inclusive share."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_short(f) for f in stack.split(";")]
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    return [{"function": name, "own_pct": 100 * count / total, "inclusive_pct": 100 * inclusive[name] / total}
            for name, count in own.most_common(n)]  # fmt: skip


def _short(frame: str) -> str:
    # "handle_many (streams/stages.py:81)" -> without the line number, so a function is one row
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rpartition(":")[0] or where.rstrip(")")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=None, help="then leads/s at a steady rate, one lead at a time")
    parser.add_argument("--seconds", type=float, default=40.0, help="length of the measured steady phase")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds at the steady rate before it, not measured")
    parser.add_argument("--set", dest="extra", action="append", default=[], help="extra setting for the worker, KEY=VALUE")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy the worker in each phase into this folder")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    overrides = [f"kafka.topic_prefix=w{run}.", f"streams.app_id=ws-{run}", f"streams.web_port={_free_port()}", *args.extra]
    cli = [a for o in overrides for a in ("--set", o)]
    assert leadhub([*cli, "topics", "create"]) == 0
    settings = build_settings(overrides=parse_overrides(overrides))
    texts = corpus()
    leads = make_leads(args.leads, run, texts)
    encoded = [(lead.key.encode(), *encode(lead)) for lead in leads]
    warmup = make_leads(1, f"{run}s", texts[-1:])
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    consumer = KafkaConsumer(**kafka_python_options(settings.kafka))
    routed = [TopicPartition(f"w{run}.leads.routed", p) for p in consumer.partitions_for_topic(f"w{run}.leads.routed")]
    log = RESULTS / f"worker_speed-{run}.log"
    RESULTS.mkdir(parents=True, exist_ok=True)
    worker = subprocess.Popen([sys.executable, "-m", "leadhub", *cli, "streams", "worker", "--loglevel", "warning"],
                              stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd="/tmp")  # fmt: skip

    def wait_routed(n: int, timeout: float) -> int:
        deadline = time.perf_counter() + timeout
        while (done := _routed(consumer, routed)) < n and time.perf_counter() < deadline:
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited with {worker.returncode}; see {log}")
            time.sleep(0.1)
        return done

    rows = []
    try:
        # One lead through first, so start-up and group joins are not timed; the clock and the CPU count
        # start as the burst is produced (the worker normalizes it as it arrives).
        producer = KafkaProducer(**kafka_python_options(settings.kafka), acks="all", linger_ms=5, batch_size=1 << 20)
        value, headers = encode(warmup[0])
        producer.send(f"w{run}.leads.raw", value=value, key=warmup[0].key.encode(), headers=headers).get(timeout=30)
        wait_routed(1, 600)
        with Sampler(args.profile and args.profile / "burst.txt", worker.pid):
            started, cpu_before, split_before = time.perf_counter(), process_cpu_s(worker.pid), _cpu_split(worker.pid)
            for key, value, headers in encoded:
                producer.send(f"w{run}.leads.raw", value=value, key=key, headers=headers)
            producer.flush()
            done = wait_routed(1 + len(leads), 1800)
            seconds, cpu = time.perf_counter() - started, process_cpu_s(worker.pid) - cpu_before
            sys_s = _cpu_split(worker.pid)[1] - split_before[1]
        producer.close()
        timed = done - 1
        rows.append({"phase": "burst", "leads": timed, "seconds": round(seconds, 2), "per_s": timed / seconds,
                     "cpu_ms_per_lead": 1000 * cpu / timed, "of_it_system_ms": 1000 * sys_s / timed})  # fmt: skip
        if args.rate:
            steady_producer = _steady_producer(settings)
            warm = make_leads(int(args.rate * args.warmup), f"{run}w", texts[len(texts) // 2 :], seed=13)
            steady = make_leads(int(args.rate * args.seconds), f"{run}f", list(reversed(texts)), seed=12)
            _steady(steady_producer, f"w{run}.leads.raw", warm, args.rate)
            wait_routed(1 + len(leads) + len(warm), 600)
            with Sampler(args.profile and args.profile / "steady.txt", worker.pid):
                started, cpu_before, split_before = time.perf_counter(), process_cpu_s(worker.pid), _cpu_split(worker.pid)
                _steady(steady_producer, f"w{run}.leads.raw", steady, args.rate)
                done = wait_routed(1 + len(leads) + len(warm) + len(steady), 600)
                seconds, cpu = time.perf_counter() - started, process_cpu_s(worker.pid) - cpu_before
                sys_s = _cpu_split(worker.pid)[1] - split_before[1]
            timed = done - 1 - len(leads) - len(warm)
            rows.append({"phase": f"steady {args.rate:.0f}/s", "leads": timed, "seconds": round(seconds, 2), "per_s": timed / seconds,
                         "cpu_ms_per_lead": 1000 * cpu / timed, "of_it_system_ms": 1000 * sys_s / timed})  # fmt: skip
        rss = _peak_rss_mb(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        consumer.close()
        delete_topics(settings.kafka, (f"w{run}.", f"ws-{run}"))
    for row in rows:
        row["peak_rss_mb"] = rss
    print_table("streams worker alone (normalize + route), leads.raw -> leads.routed", rows)
    profiles = {}
    if args.profile:
        for phase in ("burst", "steady"):
            path = args.profile / f"{phase}.txt"
            if path.is_file():
                profiles[phase] = top_functions(path)
                print_table(f"py-spy, {phase}: top functions by own samples (% of the worker's samples)", profiles[phase])
    write_json("worker_speed", {"args": {**vars(args), "profile": str(args.profile) if args.profile else None}, "result": rows[0],
                                "phases": rows, "profiles": profiles})  # fmt: skip


if __name__ == "__main__":
    main()
