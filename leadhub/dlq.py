"""Dead letters, read back and replayed, in either mode.

Where they are kept: embedded mode writes them into the embedded index (its ``dead_letters`` table,
ids 1, 2, …); the cluster sends every stage's and the search sink's to the ``leads.dlq`` topic, the
only place the cluster keeps them (the sink indexes none), ids ``PARTITION:OFFSET``.

A replay sends a record back to where it failed, as Logstash's dead-letter-queue input feeds a
pipeline again: the original bytes, or a fixed record in their place. Embedded: through the local
runner into the index. Cluster: produced to the topic the record was read from (``leads.raw`` for
records that never reached Kafka, as a source's bad row) with its original key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from schemas.cases import Case, CaseEvent
from schemas.dead_letters import DeadLetter
from schemas.errors import LeadhubError, RetryableError, StartupError
from schemas.leads import Lead, RawLead
from schemas.redaction import redact
from schemas.serialization import DecodeError, decode, encode
from schemas.validation import describe_errors

# The topics a record can be replayed into, and what each one carries.
REPLAYABLE: dict[str, type[BaseModel]] = {
    "leads.raw": RawLead, "leads.clean": Lead, "leads.routed": Lead, "cases.events": CaseEvent, "cases.state": Case,
}  # fmt: skip


class UnknownDeadLetter(LeadhubError):
    pass


@dataclass(frozen=True)
class Entry:
    id: str
    letter: DeadLetter


class DeadLetterStore(Protocol):
    where: str  # "the embedded index X" / "leads.dlq on Kafka at Y", for messages

    def list(self, limit: int) -> list[Entry]:
        """The newest ``limit``, newest first."""
        ...

    def get(self, entry_id: str) -> Entry | None: ...

    def close(self) -> None: ...


# --- what a dead letter says ----------------------------------------------------------------


def source_of(letter: DeadLetter) -> str | None:
    """The source the record came from: an ingest stage names it, a lead carries it."""
    if letter.stage.startswith("ingest:"):
        return letter.stage.partition(":")[2]
    try:
        found = json.loads(letter.payload)
    except ValueError:
        return None
    value = found.get("source") if isinstance(found, dict) else None
    return value if isinstance(value, str) else None


def where(letter: DeadLetter) -> str:
    """Where the record was: a file's row, or a topic's partition and offset."""
    details = letter.details or {}
    if "row" in details:
        return f"{details['file']} row {details['row']}" if details.get("file") else f"row {details['row']}"
    if letter.topic is not None and letter.offset is not None:
        return f"{letter.topic}[{letter.partition}]@{letter.offset}"
    if details.get("url"):
        return str(details["url"])
    return letter.topic or ""


def reason(letter: DeadLetter) -> str:
    """The error in words, without the place it names again when ``where`` already says it."""
    place = where(letter)
    return letter.error.removeprefix(f"{place}: ") if place else letter.error


def summary(entry: Entry, with_payload: bool = False) -> dict[str, Any]:
    letter = entry.letter
    data: dict[str, Any] = {
        "id": entry.id, "stage": letter.stage, "error_type": letter.error_type, "reason": reason(letter),
        "source": source_of(letter), "where": where(letter), "at": letter.at.isoformat(),
        "topic": letter.topic, "partition": letter.partition, "offset": letter.offset,
        "key": letter.key.decode("utf-8", "replace") if letter.key is not None else None,
        "details": letter.details, "payload_bytes": len(letter.payload),
    }  # fmt: skip
    if with_payload:
        data["payload_base64"] = letter.model_dump(mode="json", include={"payload"})["payload"]
        data["payload_text"] = payload_text(letter.payload)
    return data


def payload_text(payload: bytes) -> str | None:
    """The original bytes as text when they are UTF-8 (None when they are not: show them as base64)."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- the embedded index ---------------------------------------------------------------------


class EmbeddedDeadLetters:
    def __init__(self, index) -> None:  # sinks.embedded_index.EmbeddedIndex
        self.index = index
        self.where = f"the embedded index {index.path}"

    def list(self, limit: int) -> list[Entry]:
        rows = self.index.db.execute("SELECT id, doc FROM dead_letters ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [Entry(str(row[0]), DeadLetter.model_validate_json(row[1])) for row in rows]

    def get(self, entry_id: str) -> Entry | None:
        if not entry_id.isdigit():
            return None
        row = self.index.db.execute("SELECT id, doc FROM dead_letters WHERE id = ?", (int(entry_id),)).fetchone()
        return Entry(str(row[0]), DeadLetter.model_validate_json(row[1])) if row else None

    def last_id(self) -> int:
        return self.index.db.execute("SELECT coalesce(max(id), 0) FROM dead_letters").fetchone()[0]

    def close(self) -> None:
        self.index.close()


# --- the leads.dlq topic --------------------------------------------------------------------


def parse_offset_id(entry_id: str) -> tuple[int, int] | None:
    partition, sep, offset = entry_id.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        return None
    return int(partition), int(offset)


def letter_of(value: bytes | None, headers, partition: int, offset: int, topic: str) -> DeadLetter:
    """The dead letter in a leads.dlq record; one that is itself unreadable is shown, not skipped."""
    try:
        return decode(value, headers, DeadLetter)
    except DecodeError as exc:
        return DeadLetter(stage="dlq", error_type="UnreadableDeadLetter", error=f"this leads.dlq record is not a dead letter: {exc.message}",
                          payload=value or b"", topic=topic, partition=partition, offset=offset)  # fmt: skip


class KafkaDeadLetters:
    """Reads leads.dlq without a consumer group (nothing is committed: listing changes nothing)."""

    def __init__(self, kafka) -> None:  # leadhub.settings.KafkaSettings
        from kafka import KafkaConsumer
        from kafka.errors import KafkaError

        from adapters.kafka_clients import kafka_python_options

        self.topic = kafka.topic_prefix + "leads.dlq"
        self.where = redact(f"{self.topic} on Kafka at {kafka.bootstrap_servers}")  # printed: no password
        try:
            # A short bootstrap: a Kafka that is not there is said in seconds, not after the client's 30+ s.
            self.consumer = KafkaConsumer(**kafka_python_options(kafka), group_id=None, enable_auto_commit=False,
                                          request_timeout_ms=20_000, bootstrap_timeout_ms=5_000)  # fmt: skip
            partitions = self.consumer.partitions_for_topic(self.topic)
        except KafkaError as exc:
            raise RetryableError(f"cannot reach Kafka at {kafka.bootstrap_servers}: {exc}; start it (`leadhub services up`) or set kafka.bootstrap_servers") from None
        if not partitions:
            self.consumer.close()
            raise StartupError(f"there is no topic {self.topic} on Kafka at {kafka.bootstrap_servers}; run `leadhub topics create`")
        from kafka import TopicPartition

        self.partitions = [TopicPartition(self.topic, p) for p in sorted(partitions)]

    def _read(self, starts: dict, ends: dict) -> Iterator[tuple[int, int, Any]]:
        wanted = [tp for tp in self.partitions if starts[tp] < ends[tp]]
        if not wanted:
            return
        self.consumer.assign(wanted)
        for tp in wanted:
            self.consumer.seek(tp, starts[tp])
        remaining = set(wanted)
        while remaining:
            batches = self.consumer.poll(timeout_ms=5_000)
            if not batches:
                raise RetryableError(f"{self.where} did not answer in time; try again")
            for tp, records in batches.items():
                for record in records:
                    if record.offset < ends[tp]:
                        yield tp.partition, record.offset, record
                if self.consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
                    self.consumer.pause(tp)

    def list(self, limit: int) -> list[Entry]:
        ends = self.consumer.end_offsets(self.partitions)
        begins = self.consumer.beginning_offsets(self.partitions)
        starts = {tp: max(begins[tp], ends[tp] - limit) for tp in self.partitions}
        entries = [
            (record.timestamp, Entry(f"{p}:{o}", letter_of(record.value, record.headers, p, o, self.topic)))
            for p, o, record in self._read(starts, ends)
        ]
        entries.sort(key=lambda pair: pair[0], reverse=True)
        return [entry for _, entry in entries[:limit]]

    def get(self, entry_id: str) -> Entry | None:
        found = parse_offset_id(entry_id)
        if found is None:
            return None
        partition, offset = found
        tp = next((tp for tp in self.partitions if tp.partition == partition), None)
        if tp is None:
            return None
        begin, end = self.consumer.beginning_offsets([tp])[tp], self.consumer.end_offsets([tp])[tp]
        if not begin <= offset < end:
            return None
        for p, o, record in self._read({tp: offset}, {tp: offset + 1}):
            return Entry(entry_id, letter_of(record.value, record.headers, p, o, self.topic))
        return None

    def close(self) -> None:
        self.consumer.close()


def open_dead_letters(settings) -> DeadLetterStore:
    if settings.mode == "embedded":
        from leadhub.embedded import open_existing_index

        return EmbeddedDeadLetters(open_existing_index(settings))
    return KafkaDeadLetters(settings.kafka)


# --- replay ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replay:
    topic: str  # logical name
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def replay_topic(letter: DeadLetter, prefix: str = "") -> str:
    """Where the record failed: the topic it was read from, else leads.raw (a source's record)."""
    topic = letter.topic or ""
    if prefix and topic.startswith(prefix):
        topic = topic[len(prefix):]
    return topic if topic in REPLAYABLE else "leads.raw"


def build_replay(letter: DeadLetter, fixed: bytes | None = None, prefix: str = "", sources: Sequence[Any] | None = None) -> Replay:
    """The record to send again: the original bytes (as they were: the stage judges them again), or
    ``fixed``, which must be a valid record for the topic (else ValueError, and nothing is sent).

    A source's dead letter holds the source's own record (an export's row, an API's record), not a
    RawLead: it, or its fix, goes through that source's mapping from ``sources`` (the SourceConfigs)."""
    topic = replay_topic(letter, prefix)
    model = REPLAYABLE[topic]
    if fixed is None and letter.truncated:
        # Only a prefix of the record was kept: sending it would be a different, broken record.
        raise ValueError(
            f"only the first {len(letter.payload)} of its {letter.payload_length} bytes were kept "
            "(dead_letters.max_payload_bytes); give the whole record with --file"
        )
    if letter.stage.startswith("ingest:") and topic == "leads.raw":
        as_lead = _source_record_as_lead(letter, letter.payload if fixed is None else fixed, sources)
        if as_lead is not None:
            value, headers = encode(as_lead)
            return Replay(topic, letter.key or as_lead.key.encode(), value, headers)
    if fixed is None:
        return Replay(topic, letter.key, letter.payload, [])
    try:
        record = model.model_validate_json(fixed)
    except ValidationError as exc:
        problems = describe_errors(exc, limit=3, root="record")
        raise ValueError(f"not a valid {model.__name__} for {topic}: {problems}") from None
    value, headers = encode(record)
    key = letter.key
    if key is None and isinstance(record, RawLead):
        key = record.key.encode()  # leads.raw's key: source:external_id
    return Replay(topic, key, value, headers)


# The kinds whose dead letters hold one record of the source as JSON, and the function of the kind's
# module that maps such a record to a RawLead (the one the source itself ran on it).
RECORD_MAPPINGS = {"hotline_files": ("ingestors.hotline_files", "row_to_lead"), "json_api": ("ingestors.json_api", "record_to_lead")}


def _source_record_as_lead(letter: DeadLetter, data: bytes, sources: Sequence[Any] | None) -> RawLead | None:
    """The RawLead a source's record (or its fix) makes; None when ``data`` is a RawLead already (sent as
    it is); ValueError when the record still fails or the source cannot map it."""
    try:
        RawLead.model_validate_json(data)
        return None
    except ValidationError:
        pass
    import importlib

    from ingestors.base import FetchContext
    from ingestors.sources import build_kind

    name = letter.stage.partition(":")[2]
    config = next((s for s in sources or [] if s.name == name), None)
    if config is None or config.kind not in RECORD_MAPPINGS:
        what = f"source {name} is not in the sources file" if config is None else f"a {config.kind} source's record cannot be mapped again"
        raise ValueError(f"{what}; give the fixed record as a RawLead (`leadhub ingest preview` prints them)")
    try:
        row = json.loads(data)
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc.args[0] if exc.args else exc}): give {name}'s record as JSON, as `leadhub dlq show ID --raw` prints it") from None
    module, function = RECORD_MAPPINGS[config.kind]
    mapping = getattr(importlib.import_module(module), function)
    kind = build_kind(config)
    ctx = FetchContext(source=config.name, channel=config.channel, timezone=config.timezone, state={})
    try:
        return mapping(row, kind.options, ctx)
    except ValidationError as exc:
        problems = describe_errors(exc, limit=3, root="record")
        raise ValueError(f"still not a lead for source {name}: {problems}") from None
    except ValueError as exc:
        raise ValueError(f"still not a lead for source {name}: {exc}") from None
