"""Hotline work orders from files dropped into an inbox folder: CSV, XLSX or JSON.

Columns are mapped to RawLead fields by the source's options. Each file moves to done/ once its
leads are in Kafka, or to failed/ with a .reason.txt beside it when it cannot be read at all; a
malformed row becomes a dead letter with its row number and the rest of the file proceeds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from ingestors.base import FetchContext, KindOptions, Problem, SourceKind, SourceUnavailable, register
from schemas.leads import RawLead
from schemas.timezones import DEFAULT_DATE_FORMATS, parse_local_time

CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email", "contact_address")


class HotlineFileOptions(KindOptions):
    inbox: Path = Field(..., description="Folder new export files are dropped into; done/ and failed/ go beside them.")
    columns: dict[str, str] = Field(
        ..., description="RawLead field -> column name: external_id and body required; title, published_at, "
        "location_text, author, url, contact_name, contact_phone, contact_email, contact_address optional.",
    )  # fmt: skip
    encoding: Literal["auto", "utf-8", "gbk", "gb18030"] = "auto"
    date_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_DATE_FORMATS))
    sheet: str | None = Field(None, description="XLSX sheet name (default: the first).")
    patterns: list[str] = Field(default_factory=lambda: ["*.csv", "*.xlsx", "*.json"])

    @model_validator(mode="after")
    def _known_columns(self) -> HotlineFileOptions:
        missing = {"external_id", "body"} - set(self.columns)
        if missing:
            raise ValueError(f"columns must map {', '.join(sorted(missing))}")
        unknown = set(self.columns) - {"external_id", "body", "title", "published_at", "location_text", "author", "url", *CONTACT_FIELDS}
        if unknown:
            raise ValueError(f"columns maps unknown fields: {', '.join(sorted(unknown))}")
        return self


def decode_text(data: bytes, encoding: str) -> str:
    if encoding != "auto":
        return data.decode(encoding)
    for candidate in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK and GB2312
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("auto", data, 0, 1, "neither UTF-8 nor GB18030")


def read_rows(name: str, data: bytes, options: HotlineFileOptions) -> list[dict[str, Any]]:
    """The file's rows as dicts; raises ValueError/UnicodeDecodeError when the file is unreadable."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book[options.sheet] if options.sheet else book.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        book.close()
        if not rows:
            return []
        header = [str(h).strip() if h is not None else "" for h in rows[0]]
        return [dict(zip(header, row)) for row in rows[1:] if any(v not in (None, "") for v in row)]
    text = decode_text(data, options.encoding)
    if suffix == ".json":
        loaded = json.loads(text)
        records = loaded.get("records", loaded.get("data")) if isinstance(loaded, dict) else loaded
        if not isinstance(records, list):
            raise ValueError("JSON must be a list of records, or an object with 'records' or 'data'")
        return records
    return list(csv.DictReader(io.StringIO(text)))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets turn order numbers into floats
    text = str(value).strip()
    return text or None


def row_to_lead(row: dict[str, Any], options: HotlineFileOptions, ctx: FetchContext) -> RawLead:
    """Raises ValueError (incl. pydantic's ValidationError) when the row cannot be a lead."""
    if not isinstance(row, dict):
        raise ValueError("record is not an object")
    cols = options.columns
    missing = [cols[f] for f in ("external_id", "body") if cols[f] not in row]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)}")
    value = {field: row.get(column) for field, column in cols.items()}
    contact = {f.removeprefix("contact_"): _text(value.pop(f)) for f in CONTACT_FIELDS if f in value}
    contact = {k: v for k, v in contact.items() if v}
    return RawLead(
        source=ctx.source, channel=ctx.channel,
        external_id=_text(value.get("external_id")) or "",
        title=_text(value.get("title")) or "", body=_text(value.get("body")) or "",
        author=_text(value.get("author")), url=_text(value.get("url")),
        location_text=_text(value.get("location_text")),
        published_at=parse_local_time(value.get("published_at"), options.date_formats, ctx.timezone),
        contact=contact or None,
    )  # fmt: skip


def leads_from_file(name: str, data: bytes, options: HotlineFileOptions, ctx: FetchContext) -> Iterator[RawLead | Problem]:
    for number, row in enumerate(read_rows(name, data, options), start=2 if not name.lower().endswith(".json") else 1):
        try:
            yield row_to_lead(row, options, ctx)
        except ValueError as exc:
            if isinstance(exc, ValidationError):
                first = exc.errors()[0]
                reason = f"{'.'.join(map(str, first['loc'])) or 'row'}: {first['msg']}"
            else:
                reason = str(exc)
            payload = json.dumps(row, ensure_ascii=False, default=str).encode("utf-8")
            yield Problem(f"{name} row {number}: {reason}", payload, file=name, row=number)


@register
class HotlineFilesKind(SourceKind):
    kind = "hotline_files"
    Options = HotlineFileOptions
    options: HotlineFileOptions

    def _files(self) -> list[Path]:
        inbox = self.options.inbox
        if not inbox.is_dir():
            raise SourceUnavailable(f"inbox {inbox} does not exist")
        return sorted({p for pattern in self.options.patterns for p in inbox.glob(pattern) if p.is_file()})

    def fetch(self, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        self._processed: list[Path] = []
        for path in self._files():
            try:
                items = list(leads_from_file(path.name, path.read_bytes(), self.options, ctx))
            except (ValueError, UnicodeDecodeError, OSError, KeyError) as exc:
                self._move(path, "failed", f"{type(exc).__name__}: {exc}")
                continue
            self._processed.append(path)
            yield from items

    def acknowledge(self, ctx: FetchContext) -> None:
        for path in getattr(self, "_processed", []):
            if path.exists():
                self._move(path, "done")
        self._processed = []

    def _move(self, path: Path, folder: str, reason: str | None = None) -> None:
        target = path.parent / folder
        target.mkdir(exist_ok=True)
        destination = target / path.name
        if destination.exists():  # the same file name dropped again: keep both
            destination = target / f"{path.stem}.{dt.datetime.now():%Y%m%d%H%M%S%f}{path.suffix}"
        shutil.move(str(path), destination)
        if reason:
            destination.with_name(destination.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")

    def parse_document(self, data: bytes, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        name = ctx.state.get("file_name", "document.csv")
        try:
            yield from leads_from_file(name, data, self.options, ctx)
        except (ValueError, UnicodeDecodeError, KeyError) as exc:
            raise SourceUnavailable(f"{name}: {exc}") from None
