"""`AlertLogWriter`: the alert log's disk writes on a thread of their own (plain Python, no Qt).

Every alert is stored fsynced (`AlertLog.append`: a trader may need the record later). Done on the GUI thread, that
fsync lands exactly when alerts fire, i.e. during a crash, and on a slow disk it is tens of milliseconds of a frozen
window. The window therefore hands alerts and acknowledgements to this writer, which never blocks the caller and
keeps their order; `close()` writes whatever is still queued before the thread ends. The app calls it on quit, and
it is registered with `atexit` too: the thread is a daemon, so a writer the app never got to close cannot keep the
process alive, but what it holds is still written when the interpreter exits.
"""

from __future__ import annotations

import atexit
import logging
import queue
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from liqwatch.store.alert_log import AlertLog
from liqwatch.store.db import start_connection_thread

log = logging.getLogger(__name__)

_STOP = object()


class AlertLogWriter:
    """Background writer for `AlertLog`. Use as a context manager or call `close()`."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._queue: queue.Queue[object] = queue.Queue()
        self._closed = False
        self.errors = 0
        self.written = 0
        self._thread = start_connection_thread(path, self._serve, name="liqwatch-alert-log", daemon=True)
        atexit.register(self.close)

    def append(self, alerts: Iterable[Any] | Any) -> None:
        """Queue alerts (immutable records) for storing; never blocks."""
        self._put(("append", [alerts] if hasattr(alerts, "id") else list(alerts)))

    def acknowledge(self, alert_ids: Iterable[str] | str, at: float) -> None:
        self._put(("acknowledge", [alert_ids] if isinstance(alert_ids, str) else list(alert_ids), at))

    def _put(self, item: tuple[Any, ...]) -> None:
        if self._closed:
            log.error("alert log writer is closed; %s not stored", item[0])
            return
        self._queue.put(item)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is written (or failed). False on timeout."""
        done = threading.Event()
        self._put(("flush", done))
        return done.wait(timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Write what is queued and stop the thread; True if it stopped within `timeout`."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            atexit.unregister(self.close)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> AlertLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self, conn: sqlite3.Connection) -> None:
        store = AlertLog(conn)
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            kind, *args = item  # type: ignore[misc]
            try:
                if kind == "append":
                    self.written += store.append(args[0])
                elif kind == "acknowledge":
                    store.acknowledge(args[0], args[1])
                elif kind == "flush":
                    args[0].set()
            except Exception:  # logged and counted; the next alerts are still stored
                self.errors += 1
                log.exception("could not store %s in the alert log", kind)
