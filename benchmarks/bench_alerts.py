"""Alert latency: from the AlertCenter receiving the poll whose prices cross thresholds to the notification call.

Drives the real `AlertCenter` (real `AlertEngine`, tray controller without an icon) offscreen with a fake notifier
that only records the time of the call. Each trial uses a fresh engine: a calm poll arms it, then the crash poll
(every price down 12 %, pushing many positions over their thresholds at once) is timed. The book is the example
portfolio plus a generated one of `1000 × scale` positions, so the figure includes evaluating every row's state.
"""

from __future__ import annotations

import os
import statistics

from benchmarks.book_factory import make_book
from liqwatch.domain.snapshot import BookSnapshot, FeedHealth
from liqwatch.domain.vectorised import CompiledBook


def _snapshot(book: CompiledBook, portfolio, prices: dict[str, float], sequence: int, now: float) -> BookSnapshot:  # type: ignore[no-untyped-def]
    arrays = book.evaluate(prices)
    return BookSnapshot(sequence=sequence, time=now, portfolio=portfolio, risk=arrays.to_risk(),
                        health=(FeedHealth("bench", "ok", last_success=now),), arrays=arrays)


def run(scale: float = 1.0) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from liqwatch.domain.alerts import AlertEngine
    from liqwatch.store.settings import Settings
    from liqwatch.ui.alert_center import AlertCenter
    from liqwatch.ui.notifier import Notification
    from liqwatch.ui.tray import TrayController

    app = QApplication.instance() or QApplication([])
    settings = Settings()
    portfolio, prices = make_book(max(50, int(1000 * scale)))
    book = CompiledBook(portfolio)
    crashed = {k: v * 0.88 for k, v in prices.items()}
    t0 = 1_700_000_000.0
    calm = _snapshot(book, portfolio, prices, 1, t0)
    crash = _snapshot(book, portfolio, crashed, 2, t0 + 2.0)

    class Recorder:
        name = "bench"

        def __init__(self) -> None:
            self.calls: list[Notification] = []

        def notify(self, notification: Notification) -> bool:
            self.calls.append(notification)
            return True

    latencies: list[float] = []
    alerts_per_poll = 0
    tray = TrayController(tray_available=False)
    clock_now = [t0]
    for trial in range(max(5, int(30 * min(scale, 1.0)))):
        recorder = Recorder()
        clock_now[0] = t0
        center = AlertCenter(AlertEngine(settings.alerts, settings.thresholds), recorder, tray=tray,
                             clock=lambda: clock_now[0])
        center.on_snapshot(calm)
        before = len(recorder.calls)
        clock_now[0] = t0 + 2.0
        center.on_snapshot(crash)
        if len(recorder.calls) != before + 1:
            raise RuntimeError(f"trial {trial}: the crash poll sent {len(recorder.calls) - before} notifications")
        assert center.last_latency_ms is not None
        latencies.append(center.last_latency_ms)
        alerts_per_poll = recorder.calls[-1].count
        center.deleteLater()
    app.processEvents()
    return {
        "alert_latency_ms": statistics.median(latencies),
        "alert_latency_max_ms": max(latencies),
        "alert_batch_size": float(alerts_per_poll),
        "alert_book_positions": float(len(calm.risk)),
    }


if __name__ == "__main__":
    print(run(float(os.environ.get("BENCH_SCALE", "1.0"))))
