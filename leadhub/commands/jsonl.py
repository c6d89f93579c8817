"""Read JSONL from a file or stdin, one object per line, naming the line of any bad input."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from leadhub.errors import RecordError


def read_jsonl(path: Path | None, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    """(line number, object) for each line; a bad line yields a RecordError instead of stopping."""
    stream: TextIO = sys.stdin if path is None or str(path) == "-" else path.open(encoding="utf-8")
    try:
        for number, line in enumerate(stream, 1):
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
    finally:
        if stream is not sys.stdin:
            stream.close()


def write_jsonl(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
