"""A search of exclusions only (``-水``) on the embedded index counts every row and subtracts the rows
the excluded term matches (leadhub/readers/embedded.py, EmbeddedStore._all_but). Those are two reads;
with another connection committing leads between them, the total would mix two states of the file
(too many or too few, even negative). They are one read transaction: the total is always that of one
committed state."""

from __future__ import annotations

import threading
import time

import pytest

from leadhub.queries import SearchRequest
from leadhub.readers.embedded import EmbeddedStore
from schemas.leads import Lead
from sinks.embedded_index import EmbeddedIndex

WET, DRY = 3, 7  # leads a writer's batch adds with 水 and without: 水 matches under half (the subtracting path)
PREFILL = 20  # batches before the searches start
CHANNELS = ("forum", "hotline", "news", "complaint_platform")
SEARCH_SECONDS = 2.0
PAUSE_S = 0.002


def _lead(lead_id: str, wet: bool, n: int) -> Lead:
    text = f"第{n}号楼的自来水管破裂，楼道积水" if wet else f"第{n}号楼的电梯停运，物业无人处理"
    return Lead(lead_id=lead_id, source="forum-yiwu", channel=CHANNELS[n % len(CHANNELS)], external_id=lead_id,
                title="报修", text=text, fetched_at="2024-05-01T08:00:00+08:00", fingerprint=lead_id)  # fmt: skip


def _write_batch(index: EmbeddedIndex, batch: int) -> None:
    """One committed state more: WET leads with 水 and DRY without (ids say which: w-/d-)."""
    with index.batch():
        for i in range(WET):
            index.write_lead(_lead(f"w-{batch}-{i}", True, batch * 10 + i))
        for i in range(DRY):
            index.write_lead(_lead(f"d-{batch}-{i}", False, batch * 10 + i))


def _dry(index: EmbeddedIndex) -> int:
    """The rows without 水, counted by their ids (not through the text index the search uses)."""
    return index.db.execute("SELECT count(*) FROM leads WHERE lead_id LIKE 'd-%'").fetchone()[0]


@pytest.fixture
def writing(tmp_path):
    """The file, PREFILL batches in it, and a thread committing batches through its own connection
    until the test ends; yields the reader's index and the number of batches written so far."""
    path = tmp_path / "e.sqlite"
    writer = EmbeddedIndex(path)
    for batch in range(PREFILL):
        _write_batch(writer, batch)
    written = [PREFILL]
    stop = threading.Event()
    failed: list[BaseException] = []

    def write() -> None:
        try:
            while not stop.is_set():
                _write_batch(writer, written[0])
                written[0] += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
            failed.append(exc)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    reader = EmbeddedIndex(path)
    yield reader, written
    stop.set()
    thread.join(timeout=30)
    assert not failed, f"the writer failed: {failed[0]!r}"
    reader.close()
    writer.close()


@pytest.mark.parametrize("facets", [False, True], ids=["total", "facets"])
def test_exclusions_only_total_is_one_snapshot_while_another_connection_writes(writing, facets, monkeypatch):
    reader, written = writing
    store = EmbeddedStore(reader)
    subtracted = []  # the searches that took the every-row-less-the-excluded path, the one under test
    all_but = EmbeddedStore._all_but
    monkeypatch.setattr(EmbeddedStore, "_all_but", lambda self, *a: subtracted.append(1) or all_but(self, *a))
    # A reader put off between its reads (another thread, a busy machine): a pause after each read of
    # the kept counts, so the writer commits in between far more often than the microseconds between
    # two statements would let it (without one read transaction, mixed totals within the first searches).
    counts = EmbeddedStore._counts
    monkeypatch.setattr(EmbeddedStore, "_counts", lambda self, *a, **k: (counts(self, *a, **k), time.sleep(PAUSE_S))[0])

    searches, totals = 0, set()
    started_at = written[0]
    deadline = time.monotonic() + SEARCH_SECONDS
    while time.monotonic() < deadline:
        before = _dry(reader)
        page = store.search(SearchRequest(kind="leads", q="-水", facets=facets, size=5))
        after = _dry(reader)
        searches += 1
        totals.add(page.total)
        # Between the states before and after the search, and one of them: a committed state has DRY
        # rows without 水 a batch. Counts and subtracted rows of states k batches apart are off by k x WET.
        assert before <= page.total <= after, (before, page.total, after)
        assert page.total % DRY == 0, f"{page.total} rows without 水: no committed state has that many"
        assert all("水" not in hit["text"] for hit in page.hits)
        if facets:
            assert sum(bucket.count for bucket in page.facets["channel"]) == page.total

        # In a read transaction of the test's own, the search reads that snapshot: exactly its recount.
        reader.db.execute("BEGIN")
        try:
            inside = store.search(SearchRequest(kind="leads", q="-水", facets=facets, size=0)).total
            assert inside == _dry(reader)
        finally:
            reader.db.execute("COMMIT")

    assert len(subtracted) == 2 * searches, "the searches did not subtract the excluded rows: nothing was tested"
    assert written[0] - started_at >= 5 and len(totals) >= 5, (
        f"the writer committed {written[0] - started_at} batches during {searches} searches: too few to race"
    )
