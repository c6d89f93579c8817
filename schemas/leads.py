"""RawLead (what an ingestor produces) and Lead (what the stages make of it)."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from schemas.timezones import AwareDatetime, now

Channel = Literal["hotline", "complaint_platform", "forum", "news", "department", "officer"]
CHANNELS: tuple[str, ...] = Channel.__args__  # type: ignore[attr-defined]

SOURCE_NAME = r"^[a-z0-9][a-z0-9_.-]{0,99}$"


def lead_id_for(source: str, external_id: str) -> str:
    """Stable id of a lead: the same item from the same source is always the same lead.

    A fixed hash of fixed bytes, so it does not change across processes, machines or versions.
    """
    digest = hashlib.sha256(f"{source}\x1f{external_id}".encode()).hexdigest()
    return digest[:32]


class Strict(BaseModel):
    """Input from outside leadhub: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Internal(BaseModel):
    """Written and read by leadhub's own stages: newer writers may add fields older readers ignore."""

    model_config = ConfigDict(extra="ignore")


class Contact(Strict):
    """How to reach the reporter. Restricted: never copied into text, shown only to officers."""

    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=50)
    email: str | None = Field(None, max_length=320)
    address: str | None = Field(None, max_length=500)


def http_url(value: str | None) -> str | None:
    """Links leadhub may show or fetch: http(s) only (no javascript:, file:, data:)."""
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value


class Attachment(Strict):
    """A link the source gave (http or https), or a photo leadhub stores itself: then ``id`` is set and
    ``url`` is its path on leadhub's own site, ``/attachments/{id}`` (served only to who may see it)."""

    url: str = Field(..., max_length=2048, description="Where the attachment can be fetched: http(s), or /attachments/{id}.")
    name: str | None = Field(None, max_length=300)
    media_type: str | None = Field(None, max_length=100, description="e.g. image/jpeg")
    id: str | None = Field(None, pattern=r"^[0-9a-f]{32}$", description="A stored photo's id in the attachments store.")
    size: int | None = Field(None, ge=0, description="A stored photo's size in bytes.")
    width: int | None = Field(None, ge=1)
    height: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _where(self) -> Attachment:
        # A stored photo is linked by its own id only; anything else is an outside http(s) link.
        if self.id is not None:
            if self.url != f"/attachments/{self.id}":
                raise ValueError("a stored attachment's url is /attachments/{id}")
        else:
            http_url(self.url)
        return self

    @property
    def stored(self) -> bool:
        return self.id is not None


class RawLead(Strict):
    """One report from one source, as an ingestor saw it. The contract every connector writes."""

    source: str = Field(..., pattern=SOURCE_NAME, description="Name of the configured source (sources.yaml).")
    channel: Channel = Field(..., description="Which kind of channel the source is.")
    external_id: str = Field(
        ..., min_length=1, max_length=512, description="The item's id at the source; stable across fetches."
    )
    url: str | None = Field(None, max_length=2048, description="Link to the item at the source.")
    title: str = Field("", max_length=2000, description="Title or subject; may be empty.")
    body: str = Field("", description="Full text as published (HTML allowed: normalize strips it).")
    author: str | None = Field(None, max_length=300, description="Public author name or handle.")
    contact: Contact | None = Field(None, description="Restricted reporter contact; never put it in body.")
    location_text: str | None = Field(None, max_length=1000, description="Where, as the source states it.")
    published_at: AwareDatetime | None = Field(
        None, description="When the source published it; naive times are read in the source's time zone."
    )
    fetched_at: AwareDatetime = Field(default_factory=now, description="When leadhub fetched it.")
    lang: str | None = Field(None, max_length=20, description="Language if the source states it (zh, en, …).")
    attachments: list[Attachment] = Field(default_factory=list, max_length=100)
    extra: dict[str, Any] = Field(default_factory=dict, description="Source-specific fields, kept as given.")

    @model_validator(mode="before")
    @classmethod
    def _derived_lead_id(cls, data: Any) -> Any:
        # lead_id is written out with the rest; reading it back must agree with its derivation.
        if isinstance(data, dict) and "lead_id" in data:
            data = dict(data)
            given = data.pop("lead_id")
            source, external_id = data.get("source"), data.get("external_id")
            if isinstance(source, str) and isinstance(external_id, str) and given != lead_id_for(source, external_id):
                raise ValueError("lead_id does not match source and external_id")
        return data

    _http_url = field_validator("url")(lambda value: http_url(value))

    @model_validator(mode="after")
    def _has_content(self) -> RawLead:
        if not self.title.strip() and not self.body.strip():
            raise ValueError("a lead needs a title or a body")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lead_id(self) -> str:
        return lead_id_for(self.source, self.external_id)

    @property
    def key(self) -> str:
        """Kafka key on leads.raw."""
        return f"{self.source}:{self.external_id}"


class GeoPoint(Internal):
    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)


class Place(Internal):
    town: str | None = Field(None, description="Town or sub-district (镇/街道).")
    community: str | None = Field(None, description="Community or village (社区/村).")
    address: str | None = Field(None, description="The address snippet found in the text.")
    geo: GeoPoint | None = None


class Category(Internal):
    level1: str
    level2: str | None = None


class OfficialReply(Internal):
    """A department's published answer to a board thread (领导留言板 replies): the source's words,
    who answered and when, as the board shows them."""

    text: str
    unit: str | None = Field(None, description="The replying unit (回复单位).")
    at: AwareDatetime | None = Field(None, description="When it replied; None when the board's time was unreadable.")
    at_text: str | None = Field(None, description="The board's reply time as written, when it could not be read.")

    @classmethod
    def from_extra(cls, extra: dict[str, Any]) -> OfficialReply | None:
        """From the ``extra`` a board ingestor writes (reply, reply_unit, reply_time, reply_time_text)."""
        text = extra.get("reply")
        if not isinstance(text, str) or not text.strip():
            return None
        try:
            return cls(text=text.strip(), unit=extra.get("reply_unit") or None, at=extra.get("reply_time") or None,
                       at_text=extra.get("reply_time_text") or None)  # fmt: skip
        except ValueError:  # a time that does not parse: the words are still the reply
            return cls(text=text.strip(), unit=extra.get("reply_unit") or None, at_text=str(extra.get("reply_time")))


class Lead(Internal):
    """A lead after the stages: clean masked text, category, department, place, priority, case."""

    lead_id: str
    source: str
    channel: Channel
    external_id: str
    url: str | None = None
    title: str = ""
    text: str = Field("", description="Normalized text with personal data masked.")
    author: str | None = None
    contact: Contact | None = Field(None, description="Restricted.")
    location_text: str | None = None
    published_at: AwareDatetime | None = None
    fetched_at: AwareDatetime
    lang: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)
    pii_types: list[str] = Field(default_factory=list, description="Kinds of personal data masked.")
    fingerprint: str | None = Field(None, description="Hash of the exact normalized content.")
    category: Category | None = None
    department: str | None = None
    confidence: float | None = Field(None, ge=0, le=1)
    needs_triage: bool = False
    place: Place | None = None
    priority: int = Field(0, ge=0, le=100)
    priority_reasons: list[str] = Field(default_factory=list)
    case_id: str | None = None
    is_primary: bool = False
    official_reply: OfficialReply | None = Field(None, description="The department's published answer, if the source has one.")
    category_source: Literal["route", "human"] | None = Field(
        None, description="human: category/department are an officer's (its case was recategorized); replay keeps them."
    )
    decided_by: str | None = Field(None, description="Who recategorized the lead's case.")
    decided_at: AwareDatetime | None = Field(None, description="When the lead's case was recategorized.")
    reporter_group: str | None = Field(None, description="Experience officers' reports: the officer's group (reports.groups).")
    activity: str | None = Field(None, description="Experience officers' reports: the themed activity named (reports.activities).")
    entities: list[str] = Field(
        default_factory=list, description="Named estates, companies, schools, roads, projects, villages, communities in the text (their join keys; hot issues)."
    )
    model_version: str | None = Field(
        None, max_length=200,
        description="The category model that routed the lead: a version of routing.model_dir (v0003), `default`, a model"
        " file's name, or `rules` when no model took part.",
    )  # fmt: skip

    @classmethod
    def from_raw(cls, raw: RawLead, **fields: Any) -> Lead:
        data = raw.model_dump(exclude={"body"})
        data.setdefault("text", raw.body)
        data["official_reply"] = OfficialReply.from_extra(raw.extra)
        if raw.channel == "officer":  # an officer's report names its group and activity in extra (leadhub.intake)
            for name in ("reporter_group", "activity"):
                value = raw.extra.get(name)
                data[name] = value if isinstance(value, str) and value else None
        return cls(**(data | fields))
