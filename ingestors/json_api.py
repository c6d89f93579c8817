"""JSON APIs of departments and hotline systems: a field mapping over dotted paths, page or cursor
pagination, and a since-cursor for incremental polls. A ready preset reads any Open311 GeoReport v2
`GET /requests.json` endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)

from ingestors.base import (
    ContractSample,
    FetchContext,
    KindOptions,
    Problem,
    SourceKind,
    SourceUnavailable,
)
from schemas.leads import RawLead
from schemas.redaction import redact
from schemas.timezones import DEFAULT_DATE_FORMATS, parse_local_time
from schemas.validation import describe_errors

LEAD_FIELDS = ("external_id", "title", "body", "url", "author", "location_text", "published_at",
               "contact_name", "contact_phone", "contact_email", "contact_address")  # fmt: skip


class Pagination(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["none", "page", "cursor"] = "none"
    page_param: str = "page"
    start_page: int = 1
    page_size_param: str | None = None
    page_size: int = 100
    cursor_param: str = "cursor"
    next_cursor_path: str = "next_cursor"
    max_pages: int = Field(50, ge=1)


class Since(BaseModel):
    """Ask only for records after the newest one seen: ``param`` in the query, ``field`` in a record."""

    model_config = ConfigDict(extra="forbid")
    param: str
    field: str


OPEN311 = {
    "records_path": "",
    "fields": {
        "external_id": "service_request_id", "title": "service_name", "body": "description",
        "location_text": "address", "published_at": "requested_datetime",
    },
    "extra_fields": {"lat": "lat", "long": "long", "status": "status", "updated_datetime": "updated_datetime",
                     "agency_responsible": "agency_responsible", "service_code": "service_code"},
    "since": {"param": "start_date", "field": "requested_datetime"},
}  # fmt: skip


class JsonApiOptions(KindOptions):
    url: str
    preset: Literal["open311"] | None = Field(None, description="open311: the GeoReport v2 requests.json mapping.")
    records_path: str = Field("", description="Dotted path to the list of records ('' = the top-level list).")
    fields: dict[str, str] = Field(default_factory=dict, description="RawLead field -> dotted path in a record.")
    extra_fields: dict[str, str] = Field(default_factory=dict, description="extra key -> dotted path.")
    pagination: Pagination = Pagination()
    since: Since | None = None
    headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Sent with every request to the API's own host (never along a redirect elsewhere). Values "
        "are secrets: never printed; give them as ${ENV:NAME} in sources.yaml.",
    )
    date_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_DATE_FORMATS))
    allow_private_network: bool = False
    timeout_s: float = Field(20.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset") == "open311":
            return {**OPEN311, **{k: v for k, v in data.items() if k != "preset"}, "preset": "open311"}
        return data

    @model_validator(mode="after")
    def _mapping(self) -> JsonApiOptions:
        unknown = set(self.fields) - set(LEAD_FIELDS)
        if unknown:
            raise ValueError(f"fields maps unknown RawLead fields: {', '.join(sorted(unknown))}")
        if "external_id" not in self.fields:
            raise ValueError("fields must map external_id")
        return self


def dig(obj: Any, path: str) -> Any:
    """The value at a dotted path ('' = the object itself; numbers index lists); None if absent."""
    if path == "":
        return obj
    for part in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


def record_to_lead(record: Any, options: JsonApiOptions, ctx: FetchContext) -> RawLead:
    if not isinstance(record, dict):
        raise ValueError("record is not an object")
    value = {field: dig(record, path) for field, path in options.fields.items()}
    text = {k: (None if v is None else str(v).strip() or None) for k, v in value.items() if k != "published_at"}
    contact = {k.removeprefix("contact_"): v for k, v in text.items() if k.startswith("contact_") and v}
    extra = {key: dig(record, path) for key, path in options.extra_fields.items() if dig(record, path) is not None}
    return RawLead(
        source=ctx.source, channel=ctx.channel, external_id=text.get("external_id") or "",
        title=text.get("title") or "", body=text.get("body") or "", url=text.get("url"),
        author=text.get("author"), location_text=text.get("location_text"),
        published_at=parse_local_time(value.get("published_at"), options.date_formats, ctx.timezone),
        contact=contact or None, extra=extra,
    )  # fmt: skip


def leads_from_page(payload: Any, options: JsonApiOptions, ctx: FetchContext) -> Iterator[RawLead | Problem]:
    records = dig(payload, options.records_path)
    if not isinstance(records, list):
        raise SourceUnavailable(f"no list of records at {options.records_path or 'the top level'}")
    for number, record in enumerate(records):
        try:
            yield record_to_lead(record, options, ctx)
        except ValueError as exc:
            reason = describe_errors(exc, limit=1) if isinstance(exc, ValidationError) else str(exc)
            yield Problem(f"record {number}: {reason}", json.dumps(record, ensure_ascii=False, default=str).encode(), record=number)


def _with_query(url: str, params: dict[str, Any]) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | {k: str(v) for k, v in params.items()}
    return urlunsplit(parts._replace(query=urlencode(query)))


class JsonApiKind(SourceKind):
    kind = "json_api"
    Options = JsonApiOptions
    options: JsonApiOptions

    def fetch(self, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        opts = self.options
        headers = {name: value.get_secret_value() for name, value in opts.headers.items()}
        http = ctx.http.open(allow_private=opts.allow_private_network, timeout_s=opts.timeout_s, headers=headers)
        params: dict[str, Any] = {}
        if opts.since and ctx.state.get("since"):
            params[opts.since.param] = ctx.state["since"]
        if opts.pagination.type == "page":
            params[opts.pagination.page_param] = opts.pagination.start_page
            if opts.pagination.page_size_param:
                params[opts.pagination.page_size_param] = opts.pagination.page_size
        newest = ctx.state.get("since")
        try:
            for _ in range(opts.pagination.max_pages):
                response = http.get(_with_query(opts.url, params))
                try:
                    payload = json.loads(response.content)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise SourceUnavailable(f"{redact(response.url)}: not JSON ({exc})") from None
                items = list(leads_from_page(payload, opts, ctx))
                yield from items
                if opts.since:
                    for record in dig(payload, opts.records_path) or []:
                        stamp = dig(record, opts.since.field) if isinstance(record, dict) else None
                        if stamp is not None and (newest is None or str(stamp) > str(newest)):
                            newest = str(stamp)
                if opts.pagination.type == "page":
                    if not items:
                        break
                    params[opts.pagination.page_param] += 1
                elif opts.pagination.type == "cursor":
                    cursor = dig(payload, opts.pagination.next_cursor_path)
                    if not cursor:
                        break
                    params[opts.pagination.cursor_param] = cursor
                else:
                    break
        finally:
            http.close()
        if newest:
            ctx.state["since"] = newest

    @classmethod
    def contract_sample(cls) -> ContractSample:
        records = [
            {"service_request_id": "r-1", "service_name": "路灯", "description": "路灯不亮",
             "requested_datetime": "2024-05-06T09:00:00+08:00"},
            {"service_request_id": "r-2", "service_name": "垃圾", "description": "垃圾未清运",
             "requested_datetime": "2024-05-06T10:00:00+08:00"},
        ]  # fmt: skip
        newest = "/requests.json?" + urlencode({"start_date": "2024-05-06T10:00:00+08:00"})
        return ContractSample({"url": "{base_url}/requests.json", "preset": "open311", "allow_private_network": True},
                              leads=2, served={"/requests.json": json.dumps(records).encode(), newest: b"[]"})  # fmt: skip

    def parse_document(self, data: bytes, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        try:
            payload = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceUnavailable(f"not JSON: {exc}") from None
        yield from leads_from_page(payload, self.options, ctx)
