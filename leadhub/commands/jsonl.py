"""Read JSONL from a file or stdin, one object per line, naming the line of any bad input."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from schemas.errors import ConfigError, RecordError

# auto: UTF-8, else GB18030 (a superset of GBK and GB2312), decided line by line so that one
# mis-encoded line is skipped with its number rather than stopping the whole input.
ENCODINGS = ("auto", "utf-8", "gb18030")
_BOM = "\ufeff"  # UTF-8's EF BB BF, and GB18030's 84 31 95 33, both decode to it


def decode_line(raw: bytes, encoding: str) -> str:
    """The line as text; UnicodeDecodeError when it is not in ``encoding`` (auto: neither UTF-8 nor GB18030)."""
    if encoding != "auto":
        return raw.decode(encoding)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def read_jsonl(
    path: Path | None, required: tuple[str, ...], encoding: str = "auto"
) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    """(line number, object) for each line; a bad line yields a RecordError instead of stopping."""
    if path is None or str(path) == "-":
        # Tests and embedders may hand a text stream without bytes underneath; it is already decoded.
        yield from _parse(getattr(sys.stdin, "buffer", sys.stdin), required, encoding)
        return
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise ConfigError(f"input {path} cannot be read: {exc.strerror or exc}") from None
    with stream:
        try:
            yield from _parse(stream, required, encoding)
        except OSError as exc:
            raise ConfigError(f"input {path} cannot be read: {exc.strerror or exc}") from None


def _parse(lines: Iterable[bytes | str], required: tuple[str, ...], encoding: str) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    for number, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            try:
                line = decode_line(raw, encoding)
            except UnicodeDecodeError:
                what = "neither UTF-8 nor GB18030 text" if encoding == "auto" else f"not {encoding} text (try --encoding auto)"
                yield number, RecordError(f"line {number}: {what}")
                continue
        else:
            line = raw
        if number == 1:
            line = line.removeprefix(_BOM)
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, RecordError(f"line {number}: not JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            yield number, RecordError(f"line {number}: not a JSON object")
            continue
        missing = [key for key in required if key not in obj]
        if missing:
            yield number, RecordError(f"line {number}: missing {', '.join(missing)}")
            continue
        yield number, obj


def write_jsonl(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
