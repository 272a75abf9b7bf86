"""Writes `BookSnapshot`s to the history in batches on its own thread (plain Python, no Qt).

The GUI thread (or the poller) calls `submit(snapshot)`, which never blocks: the snapshot goes into a bounded queue.
The writer thread takes everything waiting (up to `batch_size` snapshots) and writes it in one transaction, so a
crash loses at most the batch in flight and never leaves half of one. If the disk falls so far behind that the queue
fills, the newest snapshot is refused and counted in `dropped` (and logged): the window must never freeze because
the disk is slow, and a gap in history is visible, a frozen monitor is not.

Compaction (`HistoryStore.compact`) runs on the same thread every `compact_every` seconds, so retention needs no
extra thread and never competes with the writer for the lock.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.store.db import start_connection_thread
from liqwatch.store.history import HistoryStore, RetentionPolicy

log = logging.getLogger(__name__)

_STOP = object()


class SnapshotWriter:
    """Background batch writer. Use `with SnapshotWriter(...) as writer:` or call `close()`."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        max_queue: int = 10_000,
        batch_size: int = 500,
        retention: RetentionPolicy | None = None,
        compact_every: float | None = 3600.0,
        clock: Callable[[], float] = time.time,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        """`on_commit(total_rows)` is called on the writer thread after each committed batch."""
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._batch_size = batch_size
        self._retention = retention or RetentionPolicy()
        self._compact_every = compact_every
        self._clock = clock
        self._on_commit = on_commit
        self._lock = threading.Lock()
        self.dropped = 0
        self.written_rows = 0
        self.written_snapshots = 0
        self.errors = 0
        self.last_error: str | None = None
        self._closed = False
        self._thread = start_connection_thread(path, self._serve, name="liqwatch-snapshot-writer", daemon=False)

    # -- producer side ---------------------------------------------------------------------------------------
    def submit(self, snapshot: BookSnapshot) -> bool:
        """Queue a snapshot for writing; never blocks. False if the writer is closed or the queue is full."""
        if self._closed:
            return False
        try:
            self._queue.put_nowait(snapshot)
        except queue.Full:
            with self._lock:
                self.dropped += 1
                dropped = self.dropped
            if dropped == 1 or dropped % 1000 == 0:
                log.warning("history writer is behind: %d snapshot(s) not recorded so far", dropped)
            return False
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is committed (or failed). False on timeout."""
        if not self._thread.is_alive():
            return self._queue.unfinished_tasks == 0
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def close(self, timeout: float | None = 10.0) -> bool:
        """Write what is queued, stop the thread; True if it stopped within `timeout`."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    # -- writer thread ---------------------------------------------------------------------------------------
    def _serve(self, conn: sqlite3.Connection) -> None:
        store = HistoryStore(conn)
        next_compact = self._clock() if self._compact_every is not None else None
        stopping = False
        while not stopping:
            timeout = None if next_compact is None else max(0.0, next_compact - self._clock())
            try:
                first = self._queue.get(timeout=timeout)
            except queue.Empty:
                first = None
            batch: list[BookSnapshot] = []
            taken = 0
            if first is not None:
                taken = 1
                if first is _STOP:
                    stopping = True
                else:
                    batch.append(first)  # type: ignore[arg-type]
                while len(batch) < self._batch_size and not stopping:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    taken += 1
                    if item is _STOP:
                        stopping = True
                    else:
                        batch.append(item)  # type: ignore[arg-type]
            try:
                if batch:
                    self._write(store, batch)
            finally:
                for _ in range(taken):
                    self._queue.task_done()
            if next_compact is not None and self._clock() >= next_compact and not stopping:
                self._compact(store)
                next_compact = self._clock() + float(self._compact_every or 0)

    def _write(self, store: HistoryStore, batch: list[BookSnapshot]) -> None:
        try:
            rows = store.write_snapshots(batch)
        except sqlite3.Error as exc:
            self.errors += 1
            self.last_error = str(exc)
            log.error("could not record %d snapshot(s) in the history: %s", len(batch), exc)
            return
        except Exception as exc:  # a bug: keep the thread alive (flush/close must not hang), log the traceback
            self.errors += 1
            self.last_error = repr(exc)
            log.exception("bug while recording %d snapshot(s) in the history", len(batch))
            return
        self.written_rows += rows
        self.written_snapshots += len(batch)
        if self._on_commit is not None:
            self._on_commit(self.written_rows)

    def _compact(self, store: HistoryStore) -> None:
        try:
            removed = store.compact(self._clock(), self._retention)
            log.info("history compacted: %s", removed)
        except sqlite3.Error as exc:
            self.errors += 1
            self.last_error = str(exc)
            log.error("history compaction failed: %s", exc)
