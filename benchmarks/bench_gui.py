"""GUI update: the real `MainWindow` (offscreen) with a 2,000-position book and a new snapshot every 250 ms.

A plain worker thread plays the poller: every 250 ms it takes the next moving price batch, builds the snapshot the
way the poller does (`CompiledBook.evaluate` → `to_risk()`, funding figures on every position as in the demo,
quotes for every price, deferring to the GUI thread through `GUI_BUSY` like the poller), has the window's
`TablePreparer` make its rows (as `PollerController(prepare=...)` does in the poller thread) and emits the batch
through a queued signal into `MainWindow.on_snapshot`, exactly like `PollerController.table_ready`. That work runs
concurrently with the GUI thread, so its share of the GIL is part of what is measured. The window's own 100 ms
coalescing timer then applies them. Measured, on the main thread:

- `gui_max_stall_ms`: the longest lateness of a 5 ms precise `QTimer` (how long the event loop could not run),
  from `SETTLE_S` after the first snapshot was applied (the book is then in the window, as the issue puts it);
  per run the maximum, then the median over runs. The initial load (first apply, its repaint, the first
  selection and plots) is reported apart as `gui_first_load_stall_ms`.
  Details: `gui_stall_p99_ms` (99th percentile of the probe's lateness, median over runs) and
  `gui_top_stalls_ms` (each run's five worst), to tell a typical poll from an outlier.
- `gui_apply_median_ms`: the duration of `MainWindow.apply_snapshot` itself (the table batch and status bar; for
  a book this big the plots and the history sampling are separate steps, which the stall figure includes), median
  over every steady-state apply of every run.
- `gui_emit_to_applied_median_ms` (detail): from the worker's emit to `snapshot_applied`, which includes waiting
  for the coalescing timer (0–100 ms by design), so it is reported apart.
- `gui_first_apply_ms` (detail): the initial load of the whole book into an empty table.

Paint time is included in the stall figure (the offscreen platform renders into an image like a real screen).
"""

from __future__ import annotations

import itertools
import os
import statistics
import threading
import time
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from benchmarks.book_factory import make_book, moved
from liqwatch.domain.funding_vector import funded_book
from liqwatch.domain.snapshot import BookSnapshot, FeedHealth, Quote
from liqwatch.domain.vectorised import CompiledBook
from liqwatch.sources.funding import simulated_funding
from liqwatch.ui.busy_gate import GUI_BUSY, favour_gui_thread

INTERVAL_S = 0.25
SETTLE_S = 0.5  # after the first apply: the initial load's repaint and first selection, reported apart
PROBE_MS = 5


def price_batches(positions: int, count: int) -> tuple[Any, list[dict[str, float]]]:
    """A book and `count` successive price batches for it, prices walking."""
    portfolio, prices = make_book(positions)
    rng = np.random.default_rng(5)
    batches = []
    for _ in range(count):
        prices = moved(prices, rng)
        batches.append(prices)
    return portfolio, batches


def snapshot_of(book: CompiledBook, portfolio: Any, prices: dict[str, float], sequence: int,
                now: float, pause: Callable[[], None] | None = None, funding: bool = False) -> BookSnapshot:
    """What the poller builds from one price batch (`pause`: the poller's, see `liqwatch.ui.busy_gate`), with
    the simulation's funding figures on every position when `funding` (as the demo and exchanges have)."""
    arrays = book.evaluate(prices)
    quotes = {k: Quote(k, v, "mark", "bench", now) for k, v in prices.items()}
    risk = arrays.to_risk(pause)
    if funding:  # as `PollerController._evaluate` does
        symbols = sorted({p.symbol for a in portfolio.futures_accounts for p in a.positions})
        infos = simulated_funding(symbols, now, 7)
        risk = funded_book(arrays, risk, infos, now, pause=pause)
    return BookSnapshot(
        sequence=sequence, time=now, portfolio=portfolio, risk=risk,
        quotes=MappingProxyType(quotes), health=(FeedHealth("bench", "ok", last_success=now),), arrays=arrays,
    )


def make_snapshots(positions: int, count: int, t0: float) -> tuple[Any, list[BookSnapshot]]:
    """`count` snapshots of one book, prices walking, stamped `INTERVAL_S` apart from `t0`."""
    portfolio, batches = price_batches(positions, count)
    book = CompiledBook(portfolio)
    return portfolio, [snapshot_of(book, portfolio, prices, i + 1, t0 + i * INTERVAL_S)
                       for i, prices in enumerate(batches)]


class Emitter(QObject):
    """Lives in the GUI thread; `snapshot_ready` is emitted from the worker thread, so delivery is queued."""

    snapshot_ready = Signal(object)


class Recorder(QObject):
    """GUI-thread receiver of `snapshot_applied` and of the probe timer."""

    def __init__(self) -> None:
        super().__init__()
        self.applied: dict[int, float] = {}
        self.ticks: list[float] = []

    @Slot(object)
    def on_applied(self, snapshot: BookSnapshot) -> None:
        self.applied[snapshot.sequence] = time.perf_counter()

    @Slot()
    def on_tick(self) -> None:
        self.ticks.append(time.perf_counter())


def _run_loop(app: Any, timeout_s: float, finished: Callable[[], bool]) -> None:
    """Run the real event loop (not a processEvents spin) until `finished()` or `timeout_s`."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s
    check = QTimer()
    check.setInterval(20)
    check.timeout.connect(lambda: loop.quit() if finished() or time.perf_counter() >= deadline else None)
    check.start()
    loop.exec()
    check.stop()


def _one_run(positions: int, duration_s: float) -> dict[str, Any]:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from liqwatch.store.settings import Settings
    from liqwatch.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    favour_gui_thread()  # as `liqwatch.ui.main.run_gui` does
    count = int(duration_s / INTERVAL_S) + 1
    portfolio, batches = price_batches(positions, count)
    book = CompiledBook(portfolio)

    window = MainWindow(Settings(), portfolio)
    window.resize(1280, 800)
    window.show()
    emitter = Emitter()  # lives in the GUI thread; emitted from the worker thread below → queued delivery
    emitter.snapshot_ready.connect(window.on_snapshot, Qt.ConnectionType.QueuedConnection)
    recorder = Recorder()
    window.snapshot_applied.connect(recorder.on_applied)

    apply_ms: dict[int, float] = {}
    original_apply = window.apply_snapshot

    def timed_apply(snapshot: BookSnapshot, batch: Any = None) -> None:  # `_apply_pending` calls this one
        start = time.perf_counter()
        original_apply(snapshot, batch)
        apply_ms[snapshot.sequence] = (time.perf_counter() - start) * 1000

    window.apply_snapshot = timed_apply  # type: ignore[method-assign]

    emitted: dict[int, float] = {}
    done = threading.Event()

    prepare = window.table_preparer.prepare

    def feed() -> None:  # the poller's part: evaluate, snapshot, table rows, emit
        next_at = time.perf_counter()
        for sequence, prices in enumerate(batches, start=1):
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            snapshot = snapshot_of(book, portfolio, prices, sequence, time.time(), GUI_BUSY.wait_idle, funding=True)
            batch = prepare(snapshot)
            emitted[sequence] = time.perf_counter()
            emitter.snapshot_ready.emit(batch)
            next_at += INTERVAL_S
        done.set()

    ticks = recorder.ticks
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(PROBE_MS)
    probe.timeout.connect(recorder.on_tick)
    _run_loop(app, 0.2, lambda: False)  # first show and paint of the empty window
    probe.start()
    worker = threading.Thread(target=feed, name="bench-emitter", daemon=True)
    worker.start()
    _run_loop(app, duration_s + 5.0, lambda: done.is_set() and len(recorder.applied) >= len(batches))
    _run_loop(app, 0.3, lambda: False)  # let the last apply paint
    probe.stop()
    worker.join()

    first_seq = 1
    first_done = recorder.applied.get(first_seq, ticks[0] if ticks else time.perf_counter())
    steady = [t for t in ticks if t > first_done + SETTLE_S]
    gaps = [(b - a) * 1000 - PROBE_MS for a, b in itertools.pairwise(steady)]
    load = [t for t in ticks if t <= first_done + SETTLE_S]
    load_gaps = [(b - a) * 1000 - PROBE_MS for a, b in itertools.pairwise(load)]
    result = {
        "max_stall_ms": max(gaps) if gaps else float("nan"),
        "p99_stall_ms": float(np.percentile(gaps, 99)) if gaps else float("nan"),
        "top_stalls_ms": sorted(gaps)[-5:],
        "first_load_stall_ms": max(load_gaps) if load_gaps else float("nan"),
        "apply_ms": [ms for seq, ms in apply_ms.items() if seq != first_seq],
        "emit_to_applied_ms": [(recorder.applied[s] - emitted[s]) * 1000 for s in recorder.applied
                               if s in emitted and s != first_seq],
        "first_apply_ms": apply_ms.get(first_seq, float("nan")),
        "applied": len(recorder.applied),
        "emitted": len(emitted),
        "rows": window.model.rowCount(),
    }
    del window.apply_snapshot
    window.close()
    window.deleteLater()
    emitter.deleteLater()
    recorder.deleteLater()
    _run_loop(app, 0.05, lambda: False)
    return result


def run(scale: float = 1.0) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    positions = max(40, int(2000 * scale))
    duration = 4.0 if scale >= 0.5 else 1.5
    runs = [_one_run(positions, duration) for _ in range(3)]
    applies = [ms for r in runs for ms in r["apply_ms"]]
    latencies = [ms for r in runs for ms in r["emit_to_applied_ms"]]
    if not applies:
        raise RuntimeError(f"no snapshot was applied: {[(r['emitted'], r['applied']) for r in runs]}")
    return {
        "gui_max_stall_ms": round(statistics.median(r["max_stall_ms"] for r in runs), 2),
        "gui_apply_median_ms": round(statistics.median(applies), 2),
        "gui_apply_max_ms": round(max(applies), 2),
        "gui_emit_to_applied_median_ms": round(statistics.median(latencies), 2),
        "gui_first_apply_ms": round(statistics.median(r["first_apply_ms"] for r in runs), 2),
        "gui_first_load_stall_ms": round(statistics.median(r["first_load_stall_ms"] for r in runs), 2),
        "gui_stall_runs_ms": [round(r["max_stall_ms"], 2) for r in runs],  # type: ignore[dict-item]
        "gui_stall_p99_ms": round(statistics.median(r["p99_stall_ms"] for r in runs), 2),
        "gui_top_stalls_ms": [[round(g, 1) for g in r["top_stalls_ms"]] for r in runs],  # type: ignore[dict-item]
        "gui_rows": runs[0]["rows"],
        "gui_snapshots_applied": sum(r["applied"] for r in runs),
    }


if __name__ == "__main__":
    print(run(float(os.environ.get("BENCH_SCALE", "1.0"))))
