import pytest
from kafka.admin import KafkaAdminClient, NewTopic

from adapters.kafka_clients import kafka_python_options
from leadhub.cli import main
from schemas.topics import topic_specs

pytestmark = pytest.mark.integration


def test_topics_create_twice(kafka_settings, unique, capsys):
    prefix = f"t{unique}."
    assert main(["--set", f"kafka.topic_prefix={prefix}", "topics", "create"]) == 0
    first = capsys.readouterr().out
    assert first.count("created") == len(topic_specs(prefix))
    assert main(["--set", f"kafka.topic_prefix={prefix}", "topics", "create"]) == 0
    second = capsys.readouterr().out
    assert "created" not in second and second.count("exists") == len(topic_specs(prefix)) and "MISMATCH" not in second

    admin = KafkaAdminClient(**kafka_python_options(kafka_settings))
    try:
        described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics([s.name for s in topic_specs(prefix)])}
    finally:
        admin.close()
    assert described == {s.name: s.partitions for s in topic_specs(prefix)}


def test_an_existing_topic_that_disagrees_fails_clearly(kafka_settings, unique, capsys):
    prefix = f"m{unique}."
    admin = KafkaAdminClient(**kafka_python_options(kafka_settings))
    try:
        # Longer than the spec: a shorter retention is allowed (`leadhub retention run` lowers it to
        # retention.contact_days), a longer one keeps personal data past what the spec promises.
        admin.create_topics([NewTopic(f"{prefix}leads.raw", 2, 1, topic_configs={"retention.ms": "2592000000"})],
                            wait_for_metadata=True)  # fmt: skip
    finally:
        admin.close()
    assert main(["--set", f"kafka.topic_prefix={prefix}", "topics", "create"]) == 2
    captured = capsys.readouterr()
    assert f"exists   {prefix}leads.raw  MISMATCH: 2 partitions, spec says 6" in captured.out
    assert "retention.ms=2592000000, spec says 1209600000" in captured.out
    assert "disagree with their spec" in captured.err and "Traceback" not in captured.err
