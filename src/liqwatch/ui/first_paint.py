"""Start-up benchmark hook: report the first paint of a window, then quit.

Enabled only by `LIQWATCH_BENCH_FIRST_PAINT=1` (see `ui/main.py` and `benchmarks/bench_startup.py`, whose bare
reference window uses this same function). On the first `Paint` event delivered to the window or any of its
children it prints `liqwatch-first-paint <time.monotonic()>` (a system-wide clock on Linux, so the parent process
can subtract its own start stamp) and quits after `LIQWATCH_BENCH_LINGER_MS` (default 0) milliseconds.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer

MARKER = "liqwatch-first-paint"


class _FirstPaint(QObject):
    def __init__(self, app: Any, window: Any) -> None:
        super().__init__(app)
        self.window = window
        self.seen = False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if not self.seen and event.type() == QEvent.Type.Paint and self._inside(obj):
            self.seen = True
            print(f"{MARKER} {time.monotonic():.6f}", flush=True)
            sys.stdout.flush()
            QTimer.singleShot(int(os.environ.get("LIQWATCH_BENCH_LINGER_MS", "0") or 0),
                              self.parent().quit)  # type: ignore[union-attr]
        return False

    def _inside(self, obj: QObject | None) -> bool:
        while obj is not None:
            if obj is self.window:
                return True
            obj = obj.parent()
        return False


def report_first_paint(app: Any, window: Any) -> QObject:
    hook = _FirstPaint(app, window)
    app.installEventFilter(hook)
    return hook
