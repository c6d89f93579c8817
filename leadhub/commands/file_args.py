"""One check for every file a command is told to read, so each bad path is one line naming it (exit 2).

Checked before the command does any work, so a typo fails at once rather than after a model loaded or
half the input was written. The reader still handles what only reading can find (bad bytes, I/O errors).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from schemas.errors import ConfigError


def check_readable(path: Path | str, what: str, *, streams: bool = True) -> Path:
    """``path`` if it can be opened for reading, else a ConfigError naming ``what`` (e.g. "--data") and the path.

    ``streams``: a pipe or character device (``<(zcat x.gz)``, /dev/stdin) is accepted too, for readers
    that read once from start to end; False insists on a regular file.
    """
    path = Path(path)
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise ConfigError(f"{what} {path} does not exist") from None
    except PermissionError:
        raise ConfigError(f"{what} {path} cannot be read: permission denied on a folder above it") from None
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc.strerror or exc}") from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise ConfigError(f"{what} {path} is a directory, not a file")
    stream = stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)
    if not (stat.S_ISREG(mode) or (streams and stream)):
        raise ConfigError(f"{what} {path} is not a regular file ({_kind(mode)})")
    if stream:
        # Opening a named pipe to test it and closing it again could leave its writer with no reader.
        return path
    # os.access answers "yes" for root whatever the mode; only opening tells the truth.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except PermissionError:
        raise ConfigError(f"{what} {path} cannot be read: permission denied") from None
    except OSError as exc:
        reason = "not a file" if exc.errno == errno.ENXIO else exc.strerror or str(exc)
        raise ConfigError(f"{what} {path} cannot be read: {reason}") from None
    os.close(fd)
    return path


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISSOCK, "a socket"), (stat.S_ISFIFO, "a pipe"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a file"
