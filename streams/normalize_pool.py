"""The normalize stage in other processes, beside the rest of the pipeline.

Embedded mode runs every stage in one process, and the normalize stage's hot-issue hints (the
segmentation of each lead: streams/hot_issue_stage.HotIssueHints) were a third of a lead's CPU there.
The stage is pure, so a pool process can normalize the next records while this one routes, places
and writes the ones before: the records and their order are the same, only where the work happens
differs. The cluster has no need of this: there normalize is its own faust agent, one per partition.

A pool that breaks (its process killed, out of memory) costs nothing but the speed: the records it
did not return are normalized here, and the next submit starts a new pool; a pool that never returned
anything (its processes cannot start) is not tried again.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from enrichers.hot_issues_settings import HotIssueSettings
from streams.hot_issue_stage import HotIssueHints
from streams.records import Output, Record
from streams.stages import NormalizeStage

log = logging.getLogger("leadhub.streams")

# Records a pool process normalizes at a time: every chunk costs a round trip of pickled records
# (~1 ms). The pipeline waits for the first chunk of a submit (50 leads with hints take ~80 ms), so the
# first ones are smaller.
CHUNK_RECORDS = 50
FIRST_CHUNK_RECORDS = 10
# A pool process holds ~350 MB (jieba's dictionaries, the models' imports): it ends after this long
# without a submit, as an office's steady trickle of leads never uses it, and a bulk import starts it
# again in ~2 s.
IDLE_SECONDS = 120.0
# A submit smaller than this is normalized in this process: a field report or a test's few leads are
# not worth starting a process for, and nothing of them would overlap.
MIN_RECORDS = 2 * CHUNK_RECORDS


def build_stage(source_timezone: str, hot_issues: HotIssueSettings | None) -> NormalizeStage:
    """The normalize stage as the local runner builds it (with the hot-issue hints when they are on)."""
    return NormalizeStage(source_timezone, annotate=HotIssueHints(hot_issues) if hot_issues is not None else None)


_STAGE: NormalizeStage | None = None  # a pool process's own stage, built once by _start


def _start(source_timezone: str, hot_issues: HotIssueSettings | None) -> None:
    global _STAGE  # noqa: PLW0603 - one stage a pool process, built when the process starts
    _STAGE = build_stage(source_timezone, hot_issues)


def _normalize(records: list[Record]) -> list[Output]:
    assert _STAGE is not None, "the pool process was not started through _start"
    return _STAGE.handle_many(records)


def _chunks(records: Sequence[Record]) -> list[list[Record]]:
    """CHUNK_RECORDS at a time, the first ones smaller (10, 20, 40): the pipeline waits for the first."""
    chunks, start, size = [], 0, FIRST_CHUNK_RECORDS
    while start < len(records):
        chunks.append(list(records[start : start + size]))
        start, size = start + size, min(2 * size, CHUNK_RECORDS)
    return chunks


class NormalizePool:
    """``processes`` processes running the normalize stage; ``normalized`` hands back a submit's outputs
    a chunk at a time, in the records' order."""

    def __init__(self, source_timezone: str, hot_issues: HotIssueSettings | None, processes: int = 1) -> None:
        if processes < 1:
            raise ValueError(f"a normalize pool needs at least one process, not {processes}")
        self.processes = processes
        self.idle_seconds = IDLE_SECONDS
        self._arguments = (source_timezone, hot_issues)
        self._here = build_stage(source_timezone, hot_issues)  # when the pool cannot
        self._executor: ProcessPoolExecutor | None = None
        self._worked = False  # has a pool returned a chunk (so its processes can start here)?
        self._given_up = False  # a pool failed before it returned anything: it would fail again
        self._lock = threading.Lock()  # the idle timer's thread against the submitting one
        self._busy = False
        self._idle: threading.Timer | None = None

    def worth(self, records: int) -> bool:
        return records >= MIN_RECORDS and not self._given_up

    def normalized(self, records: Sequence[Record]) -> Iterator[list[Output]]:
        """The normalize stage's outputs for ``records``, one list a chunk, in order. The pool works
        through the chunks while the caller handles the ones it was given; chunks not yet started
        when the caller stops are cancelled."""
        chunks = _chunks(records)
        with self._lock:
            self._busy = True
        futures = self._submit(chunks)
        try:
            for chunk, future in zip(chunks, futures, strict=True):
                yield self._result(chunk, future)
        finally:
            for future in futures:
                if future is not None:
                    future.cancel()
            self._rest()

    def _rest(self) -> None:
        with self._lock:
            self._busy = False
            if self._idle is not None:
                self._idle.cancel()
            self._idle = threading.Timer(self.idle_seconds, self._end_idle)
            self._idle.daemon = True
            self._idle.start()

    def _end_idle(self) -> None:
        with self._lock:
            if self._busy or self._executor is None:
                return
            executor, self._executor = self._executor, None
        executor.shutdown(wait=False)

    def _submit(self, chunks: list[list[Record]]) -> list[Future[list[Output]] | None]:
        try:
            executor = self._pool()
            return [executor.submit(_normalize, chunk) for chunk in chunks]
        except (BrokenProcessPool, OSError, RuntimeError) as exc:  # RuntimeError: the executor was shut down
            self._give_up(exc)
            return [None] * len(chunks)

    def _result(self, chunk: list[Record], future: Future[list[Output]] | None) -> list[Output]:
        if future is not None:
            try:
                outputs = future.result()
                self._worked = True
                return outputs
            except Exception as exc:  # noqa: BLE001 - the pool's failure (broken, cancelled, unpicklable) costs only speed
                if self._executor is not None:  # the chunks after the first failed one fail the same way
                    self._give_up(exc)
        return self._here.handle_many(chunk)

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn: the process embedded mode runs in has threads (the API server, the scheduler),
            # and forking a process with threads can copy a lock another thread held.
            self._executor = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=_start, initargs=self._arguments
            )  # fmt: skip
        return self._executor

    def _give_up(self, exc: BaseException) -> None:
        """Normalize here until the next submit, or for good when the pool never worked (it cannot start
        its processes here: a new one would fail the same way at every submit)."""
        self._given_up = not self._worked
        then = "in this process from now on" if self._given_up else "here; a new pool at the next submit"
        log.warning("normalize pool failed (%s: %s); normalizing %s", type(exc).__name__, exc, then)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def close(self) -> None:
        with self._lock:
            if self._idle is not None:
                self._idle.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
