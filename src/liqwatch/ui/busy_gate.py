"""`BusyGate`: the GUI thread goes first on the GIL while it applies a snapshot or paints.

The poller (and the history writer) turn every poll into thousands of Python objects: 20–40 ms of Python per poll
for a 2,000-row book. Python runs one thread at a time, and a GUI thread that needs the interpreter for each of the
several hundred small callbacks of one repaint (`data`, the delegate, pyqtgraph's items) waits up to the switch
interval for each of them while a worker is busy: a 10 ms table repaint measured 740 ms next to a busy worker, and
the window's worst stalls in `benchmarks/bench_gui.py` were exactly the polls whose work overlapped a repaint.

So the GUI thread marks its heavy moments (`with gate.busy():`), and the workers call `gate.wait_idle()` between
small chunks of their loops: while the GUI is busy they sleep (releasing the GIL) instead of competing. A worker
never waits more than `MAX_HOLD_S` for one busy spell, so a long GUI operation cannot starve polling. Waiting is a
single attribute read when the GUI is idle.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_HOLD_S = 0.25  # the longest a worker defers to one busy spell of the GUI thread
SWITCH_INTERVAL_S = 0.001  # the interpreter's thread switch interval in the GUI process (CPython's default: 5 ms)


class BusyGate:
    """Marked busy by one thread (the GUI thread, re-entrantly); waited on by any other."""

    def __init__(self, max_hold_s: float = MAX_HOLD_S) -> None:
        self._idle = threading.Event()
        self._idle.set()
        self._depth = 0
        self._since = 0.0
        self._ended = time.monotonic()
        self.max_hold_s = max_hold_s

    @property
    def is_busy(self) -> bool:
        return not self._idle.is_set()

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Hold the workers back for the duration (GUI thread only; nesting is fine)."""
        self.hold()
        try:
            yield
        finally:
            self.release()

    def hold(self) -> None:
        """Start (or nest) a busy spell; every `hold` needs one `release` (GUI thread only)."""
        self._depth += 1
        if self._depth == 1:
            self._since = time.monotonic()
            self._idle.clear()

    def release(self) -> None:
        if self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            self._ended = time.monotonic()
            self._idle.set()

    def idle_for(self) -> float:
        """Seconds since the last busy spell ended (0 while busy). A spell older than `max_hold_s` counts as over,
        as it does for `wait_idle`: a spell left open by mistake must not hold the window's own work back."""
        now = time.monotonic()
        if self._depth and now - self._since < self.max_hold_s:
            return 0.0
        return now - (self._since + self.max_hold_s if self._depth else self._ended)

    def wait_idle(self) -> None:
        """Called by workers between chunks of work: return at once if the GUI is idle, else when it is (or when
        it has been busy for `max_hold_s`)."""
        if self._idle.is_set():
            return
        remaining = self._since + self.max_hold_s - time.monotonic()
        if remaining > 0:
            self._idle.wait(remaining)


GUI_BUSY = BusyGate()  # the process's one GUI thread


def favour_gui_thread() -> None:
    """Set the GUI process's thread switch interval to 1 ms: a GUI callback that finds a worker running Python
    (between its `wait_idle` calls) then waits at most ~1 ms for the interpreter instead of 5 ms. Called once by
    the app at start-up (and by the GUI benchmark, which measures the app's behaviour)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
