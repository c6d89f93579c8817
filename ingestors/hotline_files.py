"""Hotline work orders from files dropped into an inbox folder: CSV, XLSX or JSON.

Columns are mapped to RawLead fields by the source's options. Each file moves to done/ once its
leads are in Kafka, or to failed/ with a .reason.txt beside it when it cannot be read at all; a
malformed row becomes a dead letter with its row number and the rest of the file proceeds.

One file never stops the others: whatever is wrong with it (a link, a directory, no permission,
corrupt, a decompression bomb, too many rows, nested too deep, an unknown encoding) sends it to
failed/ with a reason naming the limit or the fix, and the next file is read. A file that is still
being written stays for the next run. Every size limit is an option (see HotlineFileOptions).
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import hashlib
import io
import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from ingestors.base import (
    ContractSample,
    FetchContext,
    KindOptions,
    Problem,
    SourceKind,
    SourceUnavailable,
)
from ingestors.safe_files import (
    MiB,
    NotReady,
    Refused,
    check_zip,
    over_limit,
    read_dropped_file,
)
from schemas.leads import RawLead
from schemas.private_files import FILE_MODE, private_dir
from schemas.timezones import DEFAULT_DATE_FORMATS, parse_local_time
from schemas.validation import describe_errors

CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email", "contact_address")
FORMATS = (".csv", ".xlsx", ".json")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
WARN_NAMES = 5  # names listed in one warning; the rest are counted

log = logging.getLogger("leadhub.ingest")


class HotlineFileOptions(KindOptions):
    inbox: Path = Field(..., description="Folder new export files are dropped into; done/ and failed/ go beside them.")
    columns: dict[str, str] = Field(
        ..., description="RawLead field -> column name: external_id and body required; title, published_at, "
        "location_text, author, url, contact_name, contact_phone, contact_email, contact_address optional.",
    )  # fmt: skip
    encoding: Literal["auto", "utf-8", "gbk", "gb18030"] = "auto"
    date_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_DATE_FORMATS))
    sheet: str | None = Field(None, description="XLSX sheet name (default: the first).")
    patterns: list[str] = Field(
        default_factory=lambda: ["*.csv", "*.xlsx", "*.json"],
        description="Which inbox files to read (case-insensitive); a matched file not named .csv/.xlsx/.json "
        "goes to failed/. Names starting with '.' or '~$' (partial uploads, Excel's lock files) are never read.",
    )  # fmt: skip
    max_file_bytes: int = Field(64 * MiB, ge=1, description="A bigger file goes to failed/ unread.")
    max_unzipped_bytes: int = Field(
        128 * MiB, ge=1, description="An .xlsx whose members unpack to more goes to failed/ before it is opened."
    )
    max_compression_ratio: float = Field(
        100.0, gt=1, description="An .xlsx member (over 1 MiB unpacked) compressed better than this goes to failed/: "
        "a decompression bomb. Real sheets compress 5-30 to 1.",
    )  # fmt: skip
    max_zip_members: int = Field(10_000, ge=1, description="An .xlsx of more zip members goes to failed/.")
    max_cell_chars: int = Field(
        200_000, ge=1, description="A row with a longer cell is a dead letter (normalize keeps 100,000 characters)."
    )
    max_rows: int = Field(200_000, ge=1, description="A file with more non-blank rows goes to failed/: split the export.")
    settle_s: float = Field(
        0.0, ge=0, description="A file modified less than this many seconds ago is left for the next run. 0 trusts "
        "writers to drop files whole (write under another name, then rename); a file that changes while it is "
        "read is left for the next run either way.",
    )  # fmt: skip

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


def _decoded(data: bytes, encoding: str) -> str:
    try:
        return decode_text(data, encoding)
    except UnicodeDecodeError as exc:
        if data.startswith(UTF16_BOMS):
            raise Refused("UTF-16 text (Excel's 'Unicode text'): save it as 'CSV UTF-8' or .xlsx") from None
        if encoding == "auto":
            raise Refused(f"neither UTF-8 nor GB18030/GBK text (bad byte at {exc.start}): save it as UTF-8") from None
        raise Refused(f"not {encoding} text ({exc.reason} at byte {exc.start}): fix option encoding, or use auto") from None


def _check_header(header: list[str], options: HotlineFileOptions, name: str, ctx: FetchContext | None) -> None:
    present = set(header)
    required = [options.columns[f] for f in ("external_id", "body") if options.columns[f] not in present]
    if required:
        shown = ", ".join(repr(h) for h in header[:20]) + (" …" if len(header) > 20 else "")
        raise Refused(f"no column {', '.join(map(repr, required))} in the header ({shown or 'none'}): fix option columns or the export")
    optional = [column for column in options.columns.values() if column not in present]
    if optional and ctx is not None:
        ctx.warnings.append(f"{name}: no column {', '.join(map(repr, optional))}; those fields stay empty")


def _csv_rows(text: str, options: HotlineFileOptions, name: str, ctx: FetchContext | None) -> Iterator[tuple[int, Any]]:
    # csv's field limit (128 KiB by default) is process-wide; raising it only ever admits more, and the
    # text is already bounded by max_file_bytes. An over-long cell is then max_cell_chars' to judge, per row.
    csv.field_size_limit(max(csv.field_size_limit(), options.max_file_bytes))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
        if not header:
            raise Refused("no header row: the file holds no CSV")
        _check_header(list(header), options, name, ctx)
        yield from enumerate(reader, start=2)
    except csv.Error as exc:
        raise Refused(f"not readable as CSV near line {reader.line_num}: {exc}") from None


def _json_rows(text: str) -> Iterator[tuple[int, Any]]:
    try:
        loaded = json.loads(text)
    except RecursionError:
        raise Refused("JSON nested deeper than the parser can follow: records must be flat objects") from None
    except ValueError as exc:  # JSONDecodeError, and integers longer than Python converts
        raise Refused(f"not valid JSON: {exc}") from None
    records = loaded.get("records", loaded.get("data")) if isinstance(loaded, dict) else loaded
    if not isinstance(records, list):
        raise Refused("JSON must be a list of records, or an object with 'records' or 'data'")
    yield from enumerate(records, start=1)


def _xlsx_rows(data: bytes, options: HotlineFileOptions, name: str, ctx: FetchContext | None) -> Iterator[tuple[int, Any]]:
    check_zip(data, max_unzipped_bytes=options.max_unzipped_bytes, max_ratio=options.max_compression_ratio,
              max_members=options.max_zip_members)  # fmt: skip
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if options.sheet is not None and options.sheet not in book.sheetnames:
            raise Refused(f"no sheet named {options.sheet!r} (sheets: {', '.join(book.sheetnames) or 'none'}): fix option sheet")
        sheet = book[options.sheet] if options.sheet is not None else next(iter(book.worksheets), None)
        if sheet is None or not hasattr(sheet, "iter_rows"):
            raise Refused("the workbook has no worksheet to read" + (f" named {options.sheet!r}" if options.sheet else ""))
        # The stated dimension (up to A1:XFD1048576) would pad every row to 16,384 cells and the
        # sheet to a million rows; the cells actually present are what counts.
        sheet.reset_dimensions()
        header: list[str] | None = None
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if not any(v not in (None, "") for v in row):
                continue
            if header is None:  # the first row with anything in it
                header = [str(h).strip() if h is not None else "" for h in row]
                _check_header(header, options, name, ctx)
                continue
            # A sheet's rows need not be as wide as its header (a row ends at its last cell): not strict.
            yield number, dict(zip(header, row, strict=False))
        if header is None:
            raise Refused("the sheet is empty: no header row")
    finally:
        book.close()


def read_rows(name: str, data: bytes, options: HotlineFileOptions, ctx: FetchContext | None = None) -> Iterator[tuple[int, Any]]:
    """(row number, row) of the file; raises Refused, with the reason, when the file cannot be read."""
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        hint = " (old Excel: save it as .xlsx)" if suffix == ".xls" else ""
        raise Refused(f"unknown file type {suffix or '(no extension)'!r}{hint}: exports are read as .csv, .xlsx or .json")
    if len(data) > options.max_file_bytes:
        raise over_limit("the file", len(data), options.max_file_bytes, "max_file_bytes")
    if not data:
        raise Refused("an empty file (0 bytes): nothing to read")
    if suffix == ".xlsx":
        rows = _xlsx_rows(data, options, name, ctx)
    elif suffix == ".json":
        rows = _json_rows(_decoded(data, options.encoding))
    else:
        rows = _csv_rows(_decoded(data, options.encoding), options, name, ctx)
    while True:
        try:
            item = next(rows, None)
        except Refused:
            raise
        except Exception as exc:  # a parser choking on the file: the file's fault, said so
            raise Refused(f"cannot be read as {suffix}: {type(exc).__name__}: {str(exc)[:500]}") from exc
        if item is None:
            return
        yield item


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
    too_long = [(column, len(v)) for column, v in row.items() if isinstance(v, str) and len(v) > options.max_cell_chars]
    if too_long:
        column, length = too_long[0]
        raise ValueError(f"column {column!r} holds {length:,} characters, over the limit of {options.max_cell_chars:,} (option max_cell_chars)")
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
    """Each row as a lead or a Problem; raises Refused when the file as a whole cannot be read."""
    for count, (number, row) in enumerate(read_rows(name, data, options, ctx), start=1):
        if count > options.max_rows:
            raise Refused(f"more than {options.max_rows:,} rows, the limit (option max_rows): split the export, or raise it")
        try:
            yield row_to_lead(row, options, ctx)
        except Exception as exc:  # the row's data broke it: that row is a dead letter
            if isinstance(exc, ValidationError):
                reason = describe_errors(exc, limit=1, root="row")
            else:
                reason = str(exc)
                if not isinstance(exc, ValueError):
                    log.warning("%s row %s: %s", name, number, reason, exc_info=exc)
            payload = json.dumps(row, ensure_ascii=False, default=str).encode("utf-8")
            yield Problem(f"{name} row {number}: {reason}", payload, file=name, row=number)


def _matches(name: str, patterns: list[str]) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)


def _listed(names: list[str], what: str) -> str:
    shown = ", ".join(names[:WARN_NAMES]) + (f" and {len(names) - WARN_NAMES} more" if len(names) > WARN_NAMES else "")
    return f"{what}: {shown}"


NOTE_SUFFIX = ".reason.txt"
NAME_MAX_BYTES = 255  # a file name's limit on Linux filesystems


def _note_name(name: str) -> str:
    """``name`` + .reason.txt, or, when that passes the file-name limit, a cut name made unique by a
    hash (the note then starts with the file's whole name)."""
    if len((name + NOTE_SUFFIX).encode("utf-8", "surrogateescape")) <= NAME_MAX_BYTES:
        return name + NOTE_SUFFIX
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    room = NAME_MAX_BYTES - len(NOTE_SUFFIX) - len(digest) - 1
    cut = name.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    return f"{cut}~{digest}{NOTE_SUFFIX}"


class HotlineFilesKind(SourceKind):
    kind = "hotline_files"
    Options = HotlineFileOptions
    options: HotlineFileOptions

    def _entries(self, ctx: FetchContext) -> list[os.DirEntry]:
        inbox = self.options.inbox
        try:
            with os.scandir(inbox) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            raise SourceUnavailable(f"inbox {inbox} cannot be listed: {exc.strerror or exc}") from None
        chosen, ignored, folders = [], [], []
        for entry in entries:
            if entry.name in ("done", "failed") or entry.name.startswith((".", "~$")):
                continue
            if not _matches(entry.name, self.options.patterns):
                ignored.append(entry.name)
            elif entry.is_dir(follow_symlinks=False):
                folders.append(entry.name)
            else:
                chosen.append(entry)
        if ignored:
            ctx.warnings.append(_listed(ignored, f"{len(ignored)} inbox file(s) match no pattern and were left there"))
        if folders:
            ctx.warnings.append(_listed(folders, "folders in the inbox are not read"))
        return chosen

    def fetch(self, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        self._processed: list[Path] = []
        waiting: list[str] = []
        for entry in self._entries(ctx):
            path = Path(entry.path)
            try:
                if entry.is_symlink():  # refused by name: its target is never opened, not even stat'ed
                    raise Refused(f"a symbolic link (to {os.readlink(path)!r}): links in the inbox are never followed; put the file itself there")
                data = read_dropped_file(path, max_bytes=self.options.max_file_bytes, settle_s=self.options.settle_s)
                items = list(leads_from_file(path.name, data, self.options, ctx))
            except NotReady as exc:
                waiting.append(f"{path.name} ({exc})")
                continue
            except FileNotFoundError:  # taken away between the listing and now
                continue
            except Exception as exc:  # noqa: BLE001 - whatever is wrong with one file, the next one is read
                self._fail(path, exc, ctx)
                continue
            self._processed.append(path)
            yield from items
        if waiting:
            ctx.warnings.append(_listed(waiting, "left for the next run"))

    def _fail(self, path: Path, exc: Exception, ctx: FetchContext) -> None:
        if isinstance(exc, Refused):
            reason = str(exc)
        elif isinstance(exc, PermissionError):
            reason = f"permission denied: make it readable by the user leadhub runs as ({exc.strerror})"
        elif isinstance(exc, OSError):
            reason = f"cannot be read: {exc.strerror or exc}"
        else:  # not a bad file we know of: a failure of ours, so loudly
            log.exception("%s: unexpected failure reading %s", ctx.source, path, exc_info=exc)
            reason = f"{type(exc).__name__}: {str(exc)[:500]}"
        try:
            self._move(path, "failed", reason)
        except OSError as move_error:
            ctx.warnings.append(f"{path.name}: {reason}; could not move it to failed/: {move_error}")

    def acknowledge(self, ctx: FetchContext) -> None:
        for path in getattr(self, "_processed", []):
            if path.exists():
                self._move(path, "done")
        self._processed = []

    def _move(self, path: Path, folder: str, reason: str | None = None) -> None:
        target = path.parent / folder
        if not os.path.lexists(target):
            private_dir(target)  # done/ and failed/ hold exports with reporters' contacts: 0700
        if target.is_symlink() or not target.is_dir():  # a planted link would carry our writes elsewhere
            raise SourceUnavailable(f"{target} is not a plain folder (a link?): files cannot be moved there")
        destination = target / path.name
        if os.path.lexists(destination):  # the same file name dropped again: keep both
            destination = target / f"{path.stem}.{dt.datetime.now():%Y%m%d%H%M%S%f}{path.suffix}"
        shutil.move(str(path), destination)  # a rename: a link moves as the link, never its target
        if reason:
            note = destination.with_name(_note_name(destination.name))
            fd = os.open(note, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as out:  # a name may not be UTF-8
                out.write(f"{reason}\n" if note.name == destination.name + NOTE_SUFFIX else f"{destination.name}: {reason}\n")

    @classmethod
    def contract_sample(cls) -> ContractSample:
        export = "工单编号,诉求内容,受理时间\nWO-1,小区电梯停运,2024-05-01 09:12:33\nWO-2,路口红绿灯坏了,2024-05-02 08:00:00\n"
        return ContractSample({"inbox": "{folder}", "columns": {"external_id": "工单编号", "body": "诉求内容",
                                                               "published_at": "受理时间"}},
                              leads=2, files={"export.csv": export.encode("gbk")})  # fmt: skip

    def parse_document(self, data: bytes, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        name = ctx.state.get("file_name", "document.csv")
        try:
            yield from leads_from_file(name, data, self.options, ctx)
        except Refused as exc:
            raise SourceUnavailable(f"{name}: {exc}") from None
