"""Replaying a dead letter: the kept bytes go back as they were, a fixed record is checked first, and a
letter that kept only a prefix of its record is never sent as if it were the record."""

from __future__ import annotations

import pytest

from leadhub.dlq import build_replay
from schemas.dead_letters import DeadLetter
from schemas.leads import RawLead
from schemas.serialization import encode

RECORD = b'{"source": "hotline-12345", "channel": "hotline", "external_id": "r1", "body": "' + "路灯不亮".encode() * 2000 + b'"'


def test_a_whole_letter_replays_its_original_bytes_with_its_key():
    letter = DeadLetter.of("normalize", ValueError("bad"), b"{broken", key=b"hotline-12345:r1", topic="leads.raw")
    replay = build_replay(letter)
    assert (replay.topic, replay.key, replay.value) == ("leads.raw", b"hotline-12345:r1", b"{broken")


def test_a_cut_letter_is_refused_unless_the_whole_record_is_given():
    letter = DeadLetter.of("normalize", ValueError("bad"), RECORD, keep_bytes=1024, key=b"k", topic="leads.raw")
    assert letter.truncated and len(letter.payload) == 1024
    with pytest.raises(ValueError, match="only the first 1024 of its .* bytes were kept.*--file"):
        build_replay(letter)
    fixed, _ = encode(RawLead(source="hotline-12345", channel="hotline", external_id="r1", body="路灯不亮"))
    replay = build_replay(letter, fixed)
    assert replay.topic == "leads.raw" and replay.value == fixed


def test_a_fixed_record_that_is_not_valid_for_the_topic_is_refused_before_sending():
    letter = DeadLetter.of("normalize", ValueError("bad"), b"{broken", key=b"k", topic="leads.raw")
    with pytest.raises(ValueError, match="not a valid RawLead"):
        build_replay(letter, b'{"source": "x"}')
