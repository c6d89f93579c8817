"""The bad-input corpus on the real Kafka through the real faust worker (`leadhub streams worker`).

A representative subset of tests/bad_input.py (every variant of every category, every record of a
megabyte or more, the 5 MB post among them, and 100 plain good leads) goes to leads.raw of a fresh
topic prefix; leads.dlq and leads.routed are read back. Every bad record must be exactly one dead
letter naming its partition and offset, with the right stage, a reason and its original bytes and key;
every good record must be routed exactly once, cleaned; the worker must not crash or log a failure of
its own. (A routed lead whose document the search engine refuses is tests/integration/test_sink.py's.)
"""

import asyncio
import time
from collections import Counter

import pytest
from aiokafka import AIOKafkaProducer
from kafka import KafkaConsumer

from adapters.kafka_clients import aiokafka_options, kafka_python_options
from schemas.dead_letters import DeadLetter
from schemas.leads import Lead
from schemas.serialization import decode
from schemas.topics import DLQ_MAX_BYTES
from tests.bad_input import corpus, representative, routed_text_problems, summary
from tests.integration.test_streams_worker import pipeline  # noqa: F401 - the worker fixture

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def records():
    return representative(corpus())


def test_bad_records_are_dead_letters_and_good_ones_arrive_once_on_the_real_worker(pipeline, records, kafka_settings, tmp_path):  # noqa: F811
    _send, _send_lead, _wait_for, worker = pipeline
    prefix = worker.args[worker.args.index("--set") + 1].split("=", 1)[1]
    counts = summary(records)
    assert all(c["bad"] + c["good"] for c in counts.values()), counts
    assert max(len(r.value or b"") for r in records) >= 5 * 1024 * 1024

    started = time.monotonic()

    async def produce():  # aiokafka, as the worker: kafka-python's pure-Python CRC takes seconds a 5 MB
        producer = AIOKafkaProducer(**aiokafka_options(kafka_settings), acks="all", max_request_size=DLQ_MAX_BYTES)
        await producer.start()
        try:
            futures = [await producer.send(f"{prefix}leads.raw", r.value, key=r.key, headers=r.headers) for r in records]
            return await asyncio.gather(*futures)  # a 5 MB record too: leads.raw takes up to 8 MiB
        finally:
            await producer.stop()

    sent = {(meta.partition, meta.offset): record for meta, record in zip(asyncio.run(produce()), records, strict=True)}

    bad = {where: r for where, r in sent.items() if r.expect.bad}
    good = {r.expect.lead_id: r for r in sent.values() if not r.expect.bad}
    consumer = KafkaConsumer(
        f"{prefix}leads.routed", f"{prefix}leads.dlq", **kafka_python_options(kafka_settings),
        group_id=f"bad-input-{prefix}", auto_offset_reset="earliest", check_crcs=False,  # Kafka's job, and slow here
    )  # fmt: skip
    letters: list[DeadLetter] = []
    routed: list[Lead] = []
    try:
        deadline = time.monotonic() + 120
        settle = None
        while time.monotonic() < deadline:
            assert worker.proc.poll() is None, "the worker exited: " + worker.log_path.read_text(errors="replace")[-3000:]
            for batch in consumer.poll(timeout_ms=500).values():
                for m in batch:
                    if m.topic.endswith("leads.dlq"):
                        letters.append(decode(m.value, m.headers, DeadLetter))
                    else:
                        routed.append(decode(m.value, m.headers, Lead))
            complete = len(letters) >= len(bad) and {lead.lead_id for lead in routed} >= set(good)
            if complete and settle is None:
                settle = time.monotonic() + 3  # a little longer: a duplicate would show now
            if settle is not None and time.monotonic() > settle:
                break
    finally:
        consumer.close()
    elapsed = time.monotonic() - started

    problems = []
    by_origin = Counter((d.topic, d.partition, d.offset) for d in letters)
    for (partition, offset), record in bad.items():
        e = record.expect
        where = f"{partition}@{offset} {e.category}/{e.variant}"
        mine = [d for d in letters if (d.topic, d.partition, d.offset) == (f"{prefix}leads.raw", partition, offset)]
        if len(mine) != 1:
            problems.append(f"{where}: {len(mine)} dead letters")
            continue
        (letter,) = mine
        if letter.stage != e.stage or e.reason not in letter.error or not letter.error_type:
            problems.append(f"{where}: {letter.stage}: {letter.error[:200]!r}, expected {e.stage}: {e.reason!r}")
        if letter.payload != (record.value if record.value is not None else b"") or letter.key != record.key:
            problems.append(f"{where}: the dead letter's payload or key is not the original")
    strays = [origin for origin, n in by_origin.items() if (origin[1], origin[2]) not in bad or n > 1]
    problems += [f"dead letter for a record that is not bad, or twice: {origin}" for origin in strays]

    arrivals = Counter(lead.lead_id for lead in routed)
    for lead_id, record in good.items():
        e = record.expect
        where = f"{e.category}/{e.variant} {lead_id}"
        if arrivals[lead_id] != 1:
            problems.append(f"{where}: routed {arrivals[lead_id]} times")
            continue
        lead = next(lead for lead in routed if lead.lead_id == lead_id)
        both = f"{lead.title}\n{lead.text}"
        problems += [f"{where}: {p}" for p in routed_text_problems(lead.title, lead.text)]
        problems += [f"{where}: {s!r} missing" for s in e.contains if s not in both]
        problems += [f"{where}: {s!r} still there" for s in e.absent if s in both]
    problems += [f"routed but not a good record: {lead_id}" for lead_id in set(arrivals) - set(good)]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])
    assert len(letters) + len(routed) == len(records) == len(bad) + len(good)

    log = worker.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "Crashed" not in log, log[-3000:]
    print(f"\n{len(records)} records ({len(bad)} bad, {len(good)} good, "
          f"{sum(len(r.value or b'') for r in records) / 1e6:.1f} MB) through the worker in {elapsed:.1f} s")  # fmt: skip


def test_an_inbox_of_bad_files_through_ingest_run_on_the_real_kafka(kafka_settings, tmp_path, capsys):
    """tests/bad_input.py's inbox corpus through `leadhub ingest run` into the real Kafka: the good
    files' leads on leads.raw, their bad rows on leads.dlq (capped by dead_letters.max_payload_bytes,
    with the length and hash of the whole), every bad file in failed/ with its reason, exit 0."""
    import hashlib
    import json
    import os
    import uuid

    import yaml

    from leadhub.cli import main
    from schemas import dead_letters
    from schemas.leads import RawLead
    from tests.bad_input import INBOX_HEADER, inbox_corpus, inbox_options, inbox_rows

    run = uuid.uuid4().hex[:8]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    corpus = inbox_corpus()
    for f in corpus:
        f.make(inbox / f.name)
    sources = {"sources": [{"name": "hotline-bad", "kind": "hotline_files", "channel": "hotline", "options": inbox_options(inbox)}]}
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    args = ["--set", f"kafka.topic_prefix=bf{run}.", "--set", f"ingest.sources={tmp_path / 'sources.yaml'}",
            "--set", f"ingest.state_db={tmp_path / 'state.sqlite'}", "--set", "dead_letters.max_payload_bytes=4096"]  # fmt: skip
    try:
        assert main([*args, "topics", "create"]) == 0
        capsys.readouterr()
        assert main([*args, "ingest", "run", "hotline-bad"]) == 0  # bad files are not a failure of the source
    finally:
        dead_letters.set_payload_limit(dead_letters.PAYLOAD_KEEP_MAX)  # the process-wide limit, back for later tests
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err

    consumer = KafkaConsumer(
        f"bf{run}.leads.raw", f"bf{run}.leads.dlq", **kafka_python_options(kafka_settings),
        group_id=f"bf{run}", auto_offset_reset="earliest", consumer_timeout_ms=8000,
    )  # fmt: skip
    raw, letters = [], []
    for m in consumer:
        if m.topic.endswith("leads.raw"):
            raw.append(decode(m.value, m.headers, RawLead))
        else:
            letters.append(decode(m.value, m.headers, DeadLetter))
    consumer.close()

    assert sorted(lead.external_id for lead in raw) == sorted(i for f in corpus for i in f.leads)
    assert len(letters) == sum(f.problems for f in corpus) == 1
    (letter,) = letters
    assert letter.stage == "ingest:hotline-bad" and "max_cell_chars" in letter.error and letter.details["row"] == 3
    assert len(letter.payload) == 4096 and letter.payload_length > 600_000 and "dead_letters.max_payload_bytes" in letter.error
    long_row = inbox_rows("LONGFIELD", 3)[1]
    long_row[3] = "噪" * 200_000  # as e-longfield.csv's second row: the whole that the letter's hash names
    whole = json.dumps(dict(zip(INBOX_HEADER, long_row, strict=True)), ensure_ascii=False).encode("utf-8")
    assert letter.payload == whole[:4096] and letter.payload_length == len(whole)
    assert letter.payload_sha256 == hashlib.sha256(whole).hexdigest()
    for f in corpus:
        if f.outcome == "failed":
            assert os.path.lexists(inbox / "failed" / f.name), f.name
            assert f.reason in (inbox / "failed" / f"{f.name}.reason.txt").read_text("utf-8"), f.name
    assert os.readlink(inbox / "failed" / "h-passwd.csv") == "/etc/passwd"
    assert not any("root:" in lead.body for lead in raw)
