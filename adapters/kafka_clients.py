"""Kafka client options built from the settings, for kafka-python and for aiokafka (faust).

Pure functions: they return keyword arguments, so every security option is testable without a broker.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr

from schemas.errors import ConfigError
from schemas.sections import Section


class KafkaSettings(Section):
    bootstrap_servers: str = Field(
        "127.0.0.1:9092", description="Comma-separated host:port list of Kafka brokers."
    )
    client_id: str = "leadhub"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_check_hostname: bool = True
    topic_prefix: str = Field("", pattern=r"^[a-zA-Z0-9._-]*$", description="Prepended to every topic name.")
    replication_factor: int = Field(1, ge=1, description="For topics that `leadhub topics create` makes.")

    @property
    def servers(self) -> list[str]:
        return [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]


def _check(settings: KafkaSettings) -> None:
    if settings.security_protocol.startswith("SASL_"):
        if not settings.sasl_mechanism:
            raise ConfigError(
                f"kafka.security_protocol={settings.security_protocol} needs kafka.sasl_mechanism",
                hint="set kafka.sasl_mechanism to PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
            )
        if not settings.sasl_username or settings.sasl_password is None:
            raise ConfigError(
                "SASL needs kafka.sasl_username and kafka.sasl_password",
                hint="set both, e.g. LEADHUB_KAFKA__SASL_USERNAME and LEADHUB_KAFKA__SASL_PASSWORD",
            )


def _uses_tls(settings: KafkaSettings) -> bool:
    return settings.security_protocol in ("SSL", "SASL_SSL")


def _shared(settings: KafkaSettings) -> dict[str, Any]:
    """Options both clients spell the same way."""
    _check(settings)
    options: dict[str, Any] = {
        "bootstrap_servers": settings.servers,
        "client_id": settings.client_id,
        "security_protocol": settings.security_protocol,
    }
    if settings.security_protocol.startswith("SASL_"):
        options.update(
            sasl_mechanism=settings.sasl_mechanism,
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=settings.sasl_password.get_secret_value(),  # type: ignore[union-attr]
        )
    return options


def kafka_python_options(settings: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments shared by kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient."""
    options = _shared(settings)
    if _uses_tls(settings):
        options["ssl_check_hostname"] = settings.ssl_check_hostname
        for key in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            value = getattr(settings, key)
            if value is not None:
                options[key] = str(value)
    return options


def aiokafka_options(settings: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for aiokafka's producer and consumer (the client faust runs on)."""
    options = _shared(settings)
    if _uses_tls(settings):
        options["ssl_context"] = ssl_context(settings)
    return options


def ssl_context(settings: KafkaSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(
        cafile=str(settings.ssl_cafile) if settings.ssl_cafile else None
    )
    context.check_hostname = settings.ssl_check_hostname
    if settings.ssl_certfile:
        context.load_cert_chain(
            str(settings.ssl_certfile), str(settings.ssl_keyfile) if settings.ssl_keyfile else None
        )
    return context
