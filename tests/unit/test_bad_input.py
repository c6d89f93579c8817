"""The bad-input corpus (tests/bad_input.py) through the stage handlers in one process, no services.

Every bad record must become exactly one dead letter (right stage, a reason, its original bytes and
key, where it came from) and nothing else; every good record must arrive on leads.routed exactly once,
cleaned; nothing may raise.
"""

from collections import Counter

import pytest

from leadhub.settings import RoutingSettings
from schemas.dead_letters import DeadLetter
from schemas.leads import Lead
from schemas.serialization import decode
from streams.local_runner import LocalRunner
from streams.records import Record
from tests.bad_input import CATEGORIES, corpus, routed_text_problems, summary


@pytest.fixture(scope="module")
def records():
    return corpus()


def test_the_corpus_is_large_deterministic_and_covers_every_category(records):
    counts = summary(records)
    bad = sum(c["bad"] for c in counts.values())
    good = sum(c["good"] for c in counts.values())
    assert bad >= 1000 and 300 <= good < bad
    for category in CATEGORIES:
        assert counts[category]["bad"] + counts[category]["good"] >= 10, category
        if category != "good":
            assert counts[category]["bad"] >= 8, category
    assert max(len(r.value or b"") for r in records) >= 5 * 1024 * 1024
    assert any(r.value == b"" for r in records) and any(r.value is None for r in records)
    good_ids = [r.expect.lead_id for r in records if not r.expect.bad]
    assert len(set(good_ids)) == len(good_ids)
    # Interleaved: good records are not bunched at either end.
    positions = [i for i, r in enumerate(records) if not r.expect.bad]
    assert positions[0] < len(records) // 10 and positions[-1] > len(records) * 9 // 10
    again = corpus()
    assert [(r.value, r.key, r.headers, r.expect) for r in again] == [(r.value, r.key, r.headers, r.expect) for r in records]


def _new(runner: LocalRunner, seen: dict[str, int]) -> dict[str, list]:
    out = {}
    for topic, outputs in runner.topics.items():
        out[topic] = outputs[seen.get(topic, 0) :]
        seen[topic] = len(outputs)
    return out


def test_every_bad_record_is_a_dead_letter_and_every_good_one_arrives_once(records):
    runner = LocalRunner(RoutingSettings())
    seen: dict[str, int] = {}
    problems: list[str] = []
    routed_ids: Counter = Counter()
    letters = 0
    for offset, (value, key, headers, expect) in enumerate(records):
        where = f"#{offset} {expect.category}/{expect.variant}"
        runner.submit([Record(value, key, headers, "leads.raw", 0, offset)])  # must not raise
        new = _new(runner, seen)
        dlq = [decode(o.value, o.headers, DeadLetter) for o in new.get("leads.dlq", [])]
        routed = [decode(o.value, o.headers, Lead) for o in new.get("leads.routed", [])]
        letters += len(dlq)
        routed_ids.update(lead.lead_id for lead in routed)
        if expect.bad:
            if len(dlq) != 1 or routed or new.get("leads.clean"):
                problems.append(f"{where}: {len(dlq)} dead letters, {len(routed)} routed (expected one dead letter)")
                continue
            (letter,) = dlq
            if letter.stage != expect.stage:
                problems.append(f"{where}: dead-lettered by {letter.stage}, expected {expect.stage}")
            if not letter.error.strip() or not letter.error_type:
                problems.append(f"{where}: dead letter without a reason")
            if expect.reason not in letter.error:
                problems.append(f"{where}: reason {letter.error[:200]!r} lacks {expect.reason!r}")
            if letter.payload != (value if value is not None else b""):
                problems.append(f"{where}: the dead letter's payload is not the original bytes")
            if (letter.key, letter.topic, letter.partition, letter.offset) != (key, "leads.raw", 0, offset):
                problems.append(f"{where}: the dead letter does not say where the record came from")
        else:
            if dlq:
                problems.append(f"{where}: good record dead-lettered: {dlq[0].error[:200]}")
                continue
            if [lead.lead_id for lead in routed] != [expect.lead_id]:
                problems.append(f"{where}: routed {[lead.lead_id for lead in routed]}, expected [{expect.lead_id}]")
                continue
            (lead,) = routed
            both = f"{lead.title}\n{lead.text}"
            problems += [f"{where}: {p}" for p in routed_text_problems(lead.title, lead.text)]
            problems += [f"{where}: {s!r} missing from the routed text" for s in expect.contains if s not in both]
            problems += [f"{where}: {s!r} still in the routed text" for s in expect.absent if s in both]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])

    bad = sum(r.expect.bad for r in records)
    good = len(records) - bad
    assert letters == bad and sum(routed_ids.values()) == good and bad + good == len(records)
    assert set(routed_ids) == {r.expect.lead_id for r in records if not r.expect.bad}
    assert set(routed_ids.values()) == {1}
    assert len(runner.topics["leads.dlq"]) == bad and len(runner.topics["leads.routed"]) == good
