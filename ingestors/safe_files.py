"""Reading files that strangers drop into a folder: no links followed, nothing read past its limits.

Pure of any source kind: `read_dropped_file` opens one inbox entry the safe way and returns its
bytes; `check_zip` looks at a zip container's directory (an .xlsx is one) before anything unpacks it.
Each refusal is a `Refused` whose text names the limit and the option that raises it, so whoever
reads `failed/<name>.reason.txt` knows what to change when the file is genuine.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import struct
import time
import zipfile
from pathlib import Path

MiB = 1024 * 1024
# Small members compress as well as they like (a blank styles.xml is 50:1): ratios count from here.
RATIO_FLOOR_BYTES = 1 * MiB
# The first bytes of an OLE2 compound file: an old .xls, or an encrypted .xlsx, renamed .xlsx.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_END = b"PK\x05\x06"  # end of central directory record
ZIP_END_SIZE = 22
ZIP_CENTRAL_ENTRY_MAX = 512  # bytes an .xlsx member's central-directory entry may average: a path, no extras


class Refused(Exception):
    """The file must not or cannot be read; it goes to failed/ with this text as its reason."""


class NotReady(Exception):
    """The file is still being written; it stays in the inbox for the next run."""


def over_limit(what: str, amount: float, limit: float, option: str, unit: str = "bytes") -> Refused:
    return Refused(
        f"{what} is {amount:,.0f} {unit}, over the limit of {limit:,.0f} (option {option}; raise it in the "
        f"source's options if the file is genuine)"
    )


def read_dropped_file(path: Path, *, max_bytes: int, settle_s: float = 0.0, now: float | None = None) -> bytes:
    """The bytes of a regular file at ``path``, read through a descriptor that cannot follow a link.

    Raises Refused (a link, not a regular file, empty, too big), NotReady (modified within
    ``settle_s`` seconds, or changed while it was read) or OSError (e.g. permission denied).
    """
    try:
        # O_NOFOLLOW: a link swapped in after the listing is refused here, not followed (ELOOP).
        # O_NONBLOCK: opening a FIFO someone left in the inbox must not hang the source.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused("a symbolic link: links in the inbox are never followed; put the file itself there") from None
        raise
    with os.fdopen(fd, "rb", buffering=0) as handle:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise Refused(f"not a regular file ({_kind_of(before.st_mode)}): only files are read")
        if settle_s and (now if now is not None else time.time()) - before.st_mtime < settle_s:
            raise NotReady(f"modified less than {settle_s:g} s ago (option settle_s): left for the next run")
        if before.st_size > max_bytes:
            raise over_limit("the file", before.st_size, max_bytes, "max_file_bytes")
        data = handle.read(max_bytes + 1)  # +1: a file that grew past the limit since fstat shows it
        after = os.fstat(fd)
    if len(data) > max_bytes:
        raise over_limit("the file", len(data), max_bytes, "max_file_bytes")
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or len(data) != after.st_size:
        raise NotReady("it changed while being read (still being written?): left for the next run")
    if not data:
        raise Refused("an empty file (0 bytes): nothing to read")
    return data


def _kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):  # fmt: skip
        if test(mode):
            return name
    return "not a file"


def check_zip(data: bytes, *, max_unzipped_bytes: int, max_ratio: float, max_members: int) -> None:
    """Refuse a zip (an .xlsx) whose members would unpack too big, too well or too many.

    Only the directory is read, nothing is inflated. The sizes it states bind: Python's zipfile never
    returns more than a member's stated size (and fails its CRC check past it), so a lying directory
    can only make the file unreadable, not bigger.
    """
    if data.startswith(OLE2_MAGIC):
        raise Refused("an old-format .xls or a password-protected workbook, named .xlsx: save it as a plain .xlsx")
    if not data.startswith(b"PK"):
        raise Refused("not an .xlsx: the file is not a zip container (corrupt, or another format renamed)")
    _check_member_count(data, max_members)
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, struct.error) as exc:
        raise Refused(f"a corrupt .xlsx (the zip cannot be opened: {exc})") from None
    total = 0
    for member in members:
        total += member.file_size
        if total > max_unzipped_bytes:
            raise over_limit("the .xlsx unzipped", sum(m.file_size for m in members), max_unzipped_bytes, "max_unzipped_bytes")
        if member.file_size > RATIO_FLOOR_BYTES:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > max_ratio:
                raise over_limit(f"the compression ratio of {member.filename!r} ({member.file_size:,} bytes)", ratio,
                                 max_ratio, "max_compression_ratio", unit="to 1")  # fmt: skip


def _check_member_count(data: bytes, max_members: int) -> None:
    # zipfile builds an object per directory entry before anyone can count them (~600 bytes each:
    # a 60 MB zip of empty members took 415 MB), so the count and the directory's size are read
    # from the end record first.
    at = data.rfind(ZIP_END, max(0, len(data) - ZIP_END_SIZE - 0xFFFF))
    if at < 0 or at + ZIP_END_SIZE > len(data):
        raise Refused("a corrupt .xlsx (no zip directory at its end: truncated, or still being copied?)")
    entries, directory_size = struct.unpack_from("<HI", data, at + 10)
    if entries > max_members or directory_size > max_members * ZIP_CENTRAL_ENTRY_MAX:
        raise over_limit("the .xlsx's member count", max(entries, directory_size // ZIP_CENTRAL_ENTRY_MAX),
                         max_members, "max_zip_members", unit="members")  # fmt: skip
