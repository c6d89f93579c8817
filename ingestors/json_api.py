"""JSON APIs of departments and hotline systems: a field mapping over dotted paths, page or cursor
pagination, and a since-cursor for incremental polls. A ready preset reads any Open311 GeoReport v2
`GET /requests` endpoint, JSON or XML (ingestors/open311_records.py), and polls it so a request that
changes later is read again (see Open311Polling)."""

from __future__ import annotations

import datetime as dt
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

from ingestors import open311_records
from ingestors.base import (
    ContractSample,
    FetchContext,
    KindOptions,
    Problem,
    SourceKind,
    SourceUnavailable,
)
from schemas.leads import Attachment, RawLead
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
    "extra_fields": {name: name for name in open311_records.EXTRA_FIELDS},
}  # fmt: skip


class Open311Polling(BaseModel):
    """How ``preset: open311`` polls. The spec filters by when a request was made, so a cursor on
    requested_datetime never sees a request closed later: where the server has a "changed since"
    parameter the cursor follows updated_datetime; otherwise each poll asks again for the trailing
    ``repoll_days`` before the newest request seen (what did not change is not sent again). A page of
    ``row_cap`` rows is followed by the page before its oldest request (``end_date``)."""

    model_config = ConfigDict(extra="forbid")
    updated_after_param: str | None = Field(
        None, description="The server's own changed-since parameter (e.g. updated_after); unset: re-poll a trailing window."
    )
    repoll_days: float = Field(30.0, gt=0, le=90, description="Without updated_after_param: days before the newest request asked again.")
    row_cap: int = Field(1000, ge=1, description="Rows the server gives at most (the spec's default 1,000): a full page pages on.")
    api_key: SecretStr | None = Field(None, description="Sent as the api_key query parameter (a secret: give it as ${ENV:NAME}).")


class JsonApiOptions(KindOptions):
    url: str
    preset: Literal["open311"] | None = Field(None, description="open311: GeoReport v2 requests (JSON or XML, FixMyStreet's too).")
    open311: Open311Polling = Open311Polling()
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
    attachments: list[Attachment] = []
    if options.preset == "open311":
        # The source's own position places the lead (route reads extra.geo); its photo is an attachment.
        if where := open311_records.geo(record):
            extra["geo"] = where
        attachments = [Attachment(url=url) for url in open311_records.media(record) if len(url) <= 2048]
    return RawLead(
        source=ctx.source, channel=ctx.channel, external_id=text.get("external_id") or "",
        title=text.get("title") or "", body=text.get("body") or "", url=text.get("url"),
        author=text.get("author"), location_text=text.get("location_text"),
        published_at=parse_local_time(value.get("published_at"), options.date_formats, ctx.timezone),
        contact=contact or None, extra=extra, attachments=attachments,
    )  # fmt: skip


def records_of(payload: Any, options: JsonApiOptions) -> list[Any]:
    """The list of records in a decoded JSON document."""
    if options.preset == "open311":
        try:
            return open311_records.from_json(payload)
        except open311_records.NotOpen311 as exc:
            raise SourceUnavailable(str(exc)) from None
    records = dig(payload, options.records_path)
    if not isinstance(records, list):
        raise SourceUnavailable(f"no list of records at {options.records_path or 'the top level'}")
    return records


def records_in(data: bytes, options: JsonApiOptions) -> list[Any]:
    """The records of a response body: JSON, or XML for an Open311 server."""
    if options.preset == "open311" and open311_records.looks_like_xml(data):
        try:
            return open311_records.from_xml(data)
        except open311_records.NotOpen311 as exc:
            raise SourceUnavailable(str(exc)) from None
    try:
        payload = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceUnavailable(f"not JSON: {exc}") from None
    return records_of(payload, options)


def leads_from_records(records: list[Any], options: JsonApiOptions, ctx: FetchContext) -> Iterator[RawLead | Problem]:
    for number, record in enumerate(records):
        try:
            yield record_to_lead(record, options, ctx)
        except ValueError as exc:
            reason = describe_errors(exc, limit=1) if isinstance(exc, ValidationError) else str(exc)
            yield Problem(f"record {number}: {reason}", json.dumps(record, ensure_ascii=False, default=str).encode(), record=number)


def leads_from_page(payload: Any, options: JsonApiOptions, ctx: FetchContext) -> Iterator[RawLead | Problem]:
    yield from leads_from_records(records_of(payload, options), options, ctx)


def _stamp(value: Any, timezone: str) -> dt.datetime | None:
    """A record's date-time for comparing (naive: the source's zone); None if it has none readable."""
    if value in (None, ""):
        return None
    try:
        return parse_local_time(value, [], timezone)
    except ValueError:
        return None


def _newest(current: str | None, records: list[Any], field: str, timezone: str) -> str | None:
    best, best_at = current, _stamp(current, timezone)
    for record in records:
        value = record.get(field) if isinstance(record, dict) else None
        at = _stamp(value, timezone)
        if at is not None and (best_at is None or at > best_at):
            best, best_at = str(value), at
    return best


def _oldest_requested(records: list[Any], timezone: str) -> dt.datetime | None:
    stamps = [_stamp(r.get("requested_datetime"), timezone) for r in records if isinstance(r, dict)]
    return min((s for s in stamps if s is not None), default=None)


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
        if opts.preset == "open311":
            try:
                yield from self._poll_open311(http, ctx)
            finally:
                http.close()
            return
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

    def _poll_open311(self, http: Any, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        opts, polling = self.options, self.options.open311
        since, updated = ctx.state.get("since"), ctx.state.get("updated")
        query: dict[str, Any] = {"api_key": polling.api_key.get_secret_value()} if polling.api_key else {}
        if polling.updated_after_param and updated:
            query[polling.updated_after_param] = updated
        elif (newest := _stamp(since, ctx.timezone)) is not None:
            query["start_date"] = (newest - dt.timedelta(days=polling.repoll_days)).isoformat()
        end: dt.datetime | None = None
        for _ in range(opts.pagination.max_pages):
            response = http.get(_with_query(opts.url, query | ({"end_date": end.isoformat()} if end else {})))
            try:
                records = records_in(response.content, opts)
            except SourceUnavailable as exc:
                raise SourceUnavailable(f"{redact(response.url)}: {exc}") from None
            yield from leads_from_records(records, opts, ctx)
            since = _newest(since, records, "requested_datetime", ctx.timezone)
            updated = _newest(updated, records, "updated_datetime", ctx.timezone)
            if len(records) < polling.row_cap:
                break
            oldest = _oldest_requested(records, ctx.timezone)
            if oldest is None or (end is not None and oldest >= end):
                ctx.warnings.append(f"a full page of {len(records)} requests at one requested_datetime: the rest is not reachable by end_date")
                break
            end = oldest  # the server's row cap: the page before the oldest request read
        else:
            ctx.warnings.append(f"stopped after pagination.max_pages ({opts.pagination.max_pages}) full pages; the next poll goes on")
        if since:
            ctx.state["since"] = since
        if updated:
            ctx.state["updated"] = updated

    @classmethod
    def contract_sample(cls) -> ContractSample:
        records = [
            {"service_request_id": "r-1", "service_name": "路灯", "description": "路灯不亮",
             "requested_datetime": "2024-05-06T09:00:00+08:00"},
            {"service_request_id": "r-2", "service_name": "垃圾", "description": "垃圾未清运",
             "requested_datetime": "2024-05-06T10:00:00+08:00"},
        ]  # fmt: skip
        # The next poll asks again for the 30 days before the newest request (a later status change is read);
        # this server has nothing there any more, so the run fetches nothing (unchanged rows are never re-sent).
        newest = "/requests.json?" + urlencode({"start_date": "2024-04-06T10:00:00+08:00"})
        return ContractSample({"url": "{base_url}/requests.json", "preset": "open311", "allow_private_network": True},
                              leads=2, served={"/requests.json": json.dumps(records).encode(), newest: b"[]"})  # fmt: skip

    def parse_document(self, data: bytes, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        yield from leads_from_records(records_in(data, self.options), self.options, ctx)
