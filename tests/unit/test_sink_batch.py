"""The sink's batch clock: due by count, bytes or age, and how long the open batch may still wait."""

from sinks.batch import BatchClock, BatchLimits


def test_an_empty_batch_is_never_due_and_has_no_deadline():
    clock = BatchClock(BatchLimits(max_items=3, max_bytes=100, max_age_s=0.1))
    assert not clock.due(1_000.0)
    assert clock.seconds_left(1_000.0) is None


def test_due_by_count_bytes_or_age_whichever_first():
    by_count = BatchClock(BatchLimits(max_items=2, max_bytes=10_000, max_age_s=10))
    by_count.add(1, now=0.0)
    assert not by_count.due(0.0)
    by_count.add(1, now=0.0)
    assert by_count.due(0.0)

    by_bytes = BatchClock(BatchLimits(max_items=100, max_bytes=10, max_age_s=10))
    by_bytes.add(11, now=0.0)
    assert by_bytes.due(0.0)

    by_age = BatchClock(BatchLimits(max_items=100, max_bytes=10_000, max_age_s=0.1))
    by_age.add(1, now=5.0)
    assert not by_age.due(5.05)
    assert by_age.due(5.11)


def test_seconds_left_counts_from_the_first_record_and_never_goes_negative():
    clock = BatchClock(BatchLimits(max_age_s=0.1))
    clock.add(1, now=5.0)
    clock.add(1, now=5.08)  # a later record does not extend the batch's deadline
    assert abs(clock.seconds_left(5.03) - 0.07) < 1e-9
    assert clock.seconds_left(5.5) == 0.0
    clock.reset()
    assert clock.seconds_left(5.5) is None
