"""One exception tree, grouped by what the caller does with an error.

- ``StartupError``: the process cannot do its job as configured; fail at start-up with the message.
- ``RetryableError``: a dependency is briefly unavailable; back off and try again.
- ``RecordError``: one record cannot be handled; it goes to dead letters and the stage goes on.

Every error carries a ``hint``: what the person reading it should do next.
"""

from __future__ import annotations

from schemas.redaction import redact


class LeadhubError(Exception):
    """Base of every error leadhub raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        # Errors are printed, logged and stored (dead letters, ingest state); a URL quoted in one may
        # carry a password or a token, so it is hidden once, here, for every error of ours.
        message, hint = redact(message), (None if hint is None else redact(hint))
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class StartupError(LeadhubError):
    """Configuration or environment makes the command impossible; nothing to retry."""


class ConfigError(StartupError):
    """Settings or a data file are invalid."""


class ServiceError(StartupError):
    """A local service (Kafka, OpenSearch) could not be resolved, started or reached."""


class RetryableError(LeadhubError):
    """A transient failure of a dependency: the same call may succeed later."""


class RecordError(LeadhubError):
    """One record cannot be processed; the stage turns it into a dead letter and goes on."""
