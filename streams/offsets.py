"""The worker's consumer never commits past a record it did not hand to a stage.

faust (0.15) commits, for each partition, up to the end of the first run of consecutive acknowledged
offsets, and guards against a missing record at the head of that run only when the partition already
has a committed offset (``if committed_offset:``; it also reads a committed 0 as none). A jump in the
fetched offsets it takes for a gap a compacted or transactional topic may have, and commits across it.
So records dropped in a rebalance (see streams/recovery.py) on a partition's first run, or skipped by
a fetch, were committed over: two workers once lost 4,216 leads of leads.clean, offsets 397-4,612.

The worker's input topics (leads.raw, leads.clean, cases.events) are neither compacted nor written in
transactions, so there every offset is a record (a transaction's commit marker, one offset, is still
stepped over, should another system write to them so: tests/integration/test_worker_offsets.py).
``GaplessCommits`` remembers the first offset handed to the streams since each assignment (or seek),
keeps a fetch's jump over records from counting as a gap, and when a record before an acknowledged
one was never acknowledged it stops the worker at once, before any commit passes it: the restart
reads them again from the committed offset (at least once; dedup takes the repeats as replays).
Stopping is the one sure way: the skipped records are out of faust's queues and its read offset is
past them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

log = logging.getLogger("leadhub.streams")

EXIT_SKIPPED = 75  # EX_TEMPFAIL: restart and it goes on


def head_gap(acked: list[int], committed: int | None, first_read: int | None) -> tuple[int, int] | None:
    """The offsets missing before the first acknowledged one, as (first, last), or None.

    ``committed``: the partition's committed offset (the next to read). faust itself lets a gap of one
    record pass after it, so that case is left to faust's check. ``first_read``: the first offset handed
    to the streams since the assignment, the base when nothing was committed yet."""
    if not acked:
        return None
    first_acked = min(acked)
    if committed is not None:
        return (committed, first_acked - 1) if first_acked - committed > 1 else None
    if first_read is not None and first_acked > first_read:
        return first_read, first_acked - 1
    return None


def _exit_for_restart(message: str) -> NoReturn:
    log.critical("%s; stopping the worker now, before an offset past them is committed: restart it to read them again", message)
    logging.shutdown()
    os._exit(EXIT_SKIPPED)


class GaplessCommits:
    """A mixin for faust's Consumer (before it in the bases): see the module."""

    # What happens on skipped records (a test records it instead).
    on_skipped: Callable[[str], Any] = staticmethod(_exit_for_restart)
    _acked: Any
    _committed_offset: Any
    callback: Callable[[Any], Awaitable[Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._first_read: dict[Any, int] = {}
        handed = self.callback

        # Called for every message fetched: it hands on faust's own awaitable, no coroutine of its own.
        def remembering(message: Any) -> Awaitable[Any]:
            self._first_read.setdefault(message.tp, message.offset)
            return handed(message)

        self.callback = remembering

    def _new_offset(self, tp: Any) -> int | None:
        missing = head_gap(self._acked[tp], self._committed_offset[tp], self._first_read.get(tp))
        if missing is not None:
            self.on_skipped(
                f"{tp.topic}[{tp.partition}]: offsets {missing[0]}-{missing[1]} were never handled, and a later one was"
            )
            return None
        return super()._new_offset(tp)  # type: ignore[misc]

    async def _add_gap(self, tp: Any, offset_from: int, offset_to: int) -> None:
        # faust: the fetch went from offset_from - 1 to offset_to, and it would fill that in as acknowledged.
        # Left out, a jump of one offset (a transaction's commit marker) passes _new_offset's check as
        # faust's own did; more is records this worker never got, and no commit passes them.
        if offset_to - offset_from > 1:
            log.error("%s[%s]: the fetch jumped over offsets %d-%d", tp.topic, tp.partition, offset_from, offset_to - 1)

    async def seek(self, partition: Any, offset: int) -> None:
        await super().seek(partition, offset)  # type: ignore[misc]
        if offset is not None:
            self._first_read[partition] = offset

    async def on_partitions_revoked(self, revoked: set[Any]) -> None:
        for tp in revoked:
            self._first_read.pop(tp, None)
        await super().on_partitions_revoked(revoked)  # type: ignore[misc]
