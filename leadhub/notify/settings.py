"""The ``notify`` settings section: channels, retries, and which status changes reach the officers."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from adapters.notify_senders import SmtpSettings, WebhookSettings
from schemas.cases import Status
from schemas.sections import Section

DEFAULT_STATUSES = [Status.accepted, Status.assigned, Status.resolved, Status.closed]


class RetrySettings(Section):
    attempts: int = Field(4, ge=1, le=20, description="Tries per message, the first one included.")
    backoff_s: float = Field(1.0, ge=0, le=600, description="Wait before the second try; doubled before each next one.")
    max_backoff_s: float = Field(60.0, ge=0, le=3600, description="Longest wait between two tries.")


class NotifySettings(Section):
    enabled: bool = Field(False, description="Send notices at all (status changes, and what other parts send).")
    smtp: SmtpSettings | None = Field(None, description="E-mail over SMTP; unset: no e-mail.")
    webhooks: list[WebhookSettings] = Field(default_factory=list, description="Webhooks every notice goes to.")
    retry: RetrySettings = RetrySettings()
    statuses: list[Status] = Field(
        default_factory=lambda: list(DEFAULT_STATUSES),
        description="A report's officer hears when its case reaches one of these.",
    )
    state_db: Path | None = Field(
        None, description="What was sent (the dedup record), failures and the embedded outbox (SQLite); default .local/notify.sqlite."
    )
    group_id: str = Field("leadhub-notify", min_length=1, description="`notify run`: the Kafka consumer group.")
    case_wait_s: float = Field(
        10.0, ge=0, le=600, description="`notify run`: how long to wait for an event to show in the case's history."
    )

    @field_validator("webhooks")
    @classmethod
    def _unique_names(cls, hooks: list[WebhookSettings]) -> list[WebhookSettings]:
        names = [hook.name for hook in hooks]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"webhook names must be unique; repeated: {', '.join(repeated)}")
        return hooks
