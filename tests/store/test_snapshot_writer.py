"""The background snapshot writer: batches commit, flush waits, close drains, a slow disk never blocks submit."""

from __future__ import annotations

import threading

from liqwatch.store.db import open_database
from liqwatch.store.history import HistoryStore
from liqwatch.store.snapshot_writer import SnapshotWriter
from tests.store.factories import T0, at, make_snapshot


def test_submitted_snapshots_are_committed_by_flush_and_close() -> None:
    base = make_snapshot()
    commits: list[int] = []
    writer = SnapshotWriter(batch_size=7, compact_every=None, on_commit=commits.append)
    for i in range(30):
        assert writer.submit(at(base, T0 + i))
    assert writer.flush(timeout=10)
    assert writer.written_snapshots == 30 and writer.written_rows == 30 * len(base.risk)
    assert commits and commits[-1] == 30 * len(base.risk)
    assert len(commits) >= 30 // 7  # batches, not one transaction per snapshot… nor one for everything
    for i in range(30, 40):
        writer.submit(at(base, T0 + i))
    assert writer.close(timeout=10)  # close drains the queue
    assert not writer.submit(at(base, T0 + 99))
    conn = open_database()
    assert HistoryStore(conn).count() == 40 * len(base.risk)
    conn.close()


def test_a_stalled_disk_drops_and_counts_instead_of_blocking(monkeypatch) -> None:
    release = threading.Event()
    entered = threading.Event()
    original = HistoryStore.write_snapshots

    def slow(self, snapshots):
        entered.set()
        release.wait(10)
        return original(self, snapshots)

    monkeypatch.setattr(HistoryStore, "write_snapshots", slow)
    base = make_snapshot()
    writer = SnapshotWriter(max_queue=3, batch_size=1, compact_every=None)
    try:
        writer.submit(at(base, T0))
        assert entered.wait(5)  # the writer thread is stuck in the first batch
        accepted = [writer.submit(at(base, T0 + i)) for i in range(1, 10)]  # returns at once, never blocks
        assert accepted == [True] * 3 + [False] * 6
        assert writer.dropped == 6
    finally:
        release.set()
        assert writer.close(timeout=10)
    assert writer.written_snapshots == 4


def test_writer_compacts_on_its_own_thread() -> None:
    base = make_snapshot()
    now = [T0 + 3 * 86400.0]
    writer = SnapshotWriter(compact_every=60.0, clock=lambda: now[0])
    for i in range(120):  # two minutes of rows every second, two days old
        writer.submit(at(base, T0 + 86400 + i))
    writer.flush(10)
    now[0] += 61  # due
    writer.submit(at(base, now[0]))
    writer.flush(10)
    assert writer.close(10)
    conn = open_database()
    key = base.risk.futures[0].key
    times = HistoryStore(conn).history(key).time
    conn.close()
    assert len(times) <= 3 + 1  # one per minute bucket (2–3 buckets) plus the fresh row
