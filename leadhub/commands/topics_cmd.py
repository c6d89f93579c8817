"""`leadhub topics create`."""

from __future__ import annotations

import typer
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from adapters.kafka_clients import kafka_python_options
from leadhub.topics_admin import TopicMismatch, ensure_topics
from schemas.errors import RetryableError
from schemas.topics import topic_specs

app = typer.Typer(help="Kafka topics from the specs in schemas/topics.py.", no_args_is_help=True)


@app.command("create")
def create(ctx: typer.Context) -> None:
    """Create the topics that are missing, report those that exist; fail if one disagrees with its spec."""
    kafka = ctx.obj.settings.kafka
    try:
        admin = KafkaAdminClient(**kafka_python_options(kafka), request_timeout_ms=15_000)
    except KafkaError as exc:
        raise RetryableError(
            f"cannot reach Kafka at {kafka.bootstrap_servers}: {exc}",
            hint="start it (`leadhub services up`) or fix kafka.bootstrap_servers",
        ) from None
    try:
        specs = topic_specs(kafka.topic_prefix)
        report = ensure_topics(admin, specs, kafka.replication_factor)
    finally:
        admin.close()
    by_name = {spec.name: spec for spec in specs}
    for name in report.created:
        spec = by_name[name]
        typer.echo(f"created  {name} ({spec.partitions} partitions, key {spec.key}, value {spec.value})")
    for name in report.existing:
        typer.echo(f"exists   {name}" + ("  MISMATCH: " + "; ".join(report.mismatches[name]) if name in report.mismatches else ""))
    if report.mismatches:
        raise TopicMismatch(
            f"{len(report.mismatches)} existing topic(s) disagree with their spec: {', '.join(report.mismatches)}",
            hint="fix them with kafka-configs/kafka-topics (partitions can only grow), or use a new kafka.topic_prefix",
        )
