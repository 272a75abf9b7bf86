"""The GUI-thread hub of alerting: snapshot in, alerts out to every place a trader may look.

One slot receives each poll's `BookSnapshot`, runs the pure `AlertEngine`, and within the same call sends the
poll's alerts as ONE batched notification (so a crash that moves ten positions is one message, not ten), then
updates the tray and fans the alerts out (`alerts_fired`: the log dock; the store; the hooks). It measures the
processing time from receiving the snapshot to the notification call (`last_latency_ms`) and, because the
snapshot carries its poll time, from the poll to the notification call (`last_latency_from_poll_ms`).

Nothing here may fail silently: an engine or store error is logged with its traceback and shown in the status
bar (`message`), and the next poll is processed as usual.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QApplication

from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.ui.busy_gate import GUI_BUSY
from liqwatch.ui.notifier import Notification, Notifier, batch_notification

if TYPE_CHECKING:
    from liqwatch.domain.alerts import Alert, AlertEngine
    from liqwatch.ui.tray import TrayController

log = logging.getLogger(__name__)


class AlertCenter(QObject):
    alerts_fired = Signal(object)  # tuple[Alert, ...] of one poll, after the notification call
    notified = Signal(object)  # the Notification sent
    message = Signal(str)  # status-bar text (errors, snooze state, hook failures)

    def __init__(
        self,
        engine: AlertEngine,
        notifier: Notifier,
        *,
        tray: TrayController | None = None,
        sound: bool = False,
        clock: Callable[[], float] = time.time,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.notifier = notifier
        self.tray = tray
        self.sound = sound
        self._clock = clock
        self.last_latency_ms: float | None = None
        self.last_latency_from_poll_ms: float | None = None
        self.last_notification: Notification | None = None
        self.last_snapshot: BookSnapshot | None = None
        self.snoozed_until: float | None = None
        self.paused = False
        self.sinks: list[Callable[[Sequence[Alert]], Any]] = []  # store, hooks: called after the notification

    @Slot(object)
    def on_snapshot(self, snapshot: BookSnapshot) -> None:
        with GUI_BUSY.busy():  # the poller's per-row work waits while alerts are worked out (see `busy_gate`)
            self._on_snapshot(snapshot)

    def _on_snapshot(self, snapshot: BookSnapshot) -> None:
        received = time.perf_counter()
        self.last_snapshot = snapshot
        now = self._clock()
        try:
            alerts = list(self.engine.process(snapshot, now))
        except Exception:
            log.exception("the alert engine failed on poll %s", snapshot.sequence)
            self.message.emit("Alert engine error: alerts may be missing (see the log file)")
            alerts = []
        if alerts:
            self._notify(alerts, received, snapshot)
        if self.tray is not None:
            self.tray.update_snapshot(snapshot)
        if self.snoozed_until is not None and now >= self.snoozed_until:
            self._set_snoozed(None)
        if alerts:
            self.alerts_fired.emit(tuple(alerts))
            for sink in self.sinks:
                try:
                    sink(alerts)
                except Exception:
                    log.exception("alert sink %r failed", sink)
                    self.message.emit("Could not record alerts (see the log file)")

    def _notify(self, alerts: list[Alert], received: float, snapshot: BookSnapshot) -> None:
        notification = batch_notification(alerts)
        if notification is None:
            return
        try:
            shown = self.notifier.notify(notification)
        except Exception:
            log.exception("notifier %s failed", getattr(self.notifier, "name", self.notifier))
            shown = False
        self.last_latency_ms = (time.perf_counter() - received) * 1000.0
        self.last_latency_from_poll_ms = max(0.0, (self._clock() - snapshot.time) * 1000.0)
        log.debug(
            "alert latency: %.2f ms from receiving poll %s, %.1f ms from the poll (%d alerts, via %s)",
            self.last_latency_ms, snapshot.sequence, self.last_latency_from_poll_ms, len(alerts),
            getattr(self.notifier, "name", "?"),
        )
        if not shown:
            log.info("alert not shown on the desktop: %s", notification.title)
        if self.sound:
            QApplication.beep()
        self.last_notification = notification
        self.notified.emit(notification)

    # Controls: the tray menu and the window's Alerts menu drive these.

    @Slot(float)
    def snooze_all(self, seconds: float) -> None:
        """Silence every alert but liquidation for `seconds` (math.inf: until LiqWatch restarts)."""
        until = math.inf if math.isinf(seconds) else self._clock() + seconds
        self.engine.snooze_all(until)
        self._set_snoozed(until)

    @Slot()
    def unsnooze_all(self) -> None:
        self.engine.unsnooze(None)
        self._set_snoozed(None)

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        self.engine.set_paused(paused)
        self.paused = paused
        self.message.emit("Alerts paused (liquidation still alerts)" if paused else "Alerts resumed")

    def _set_snoozed(self, until: float | None) -> None:
        self.snoozed_until = until
        if until is None:
            text = None
        elif math.isinf(until):
            text = "until restart"
        else:
            text = "until " + time.strftime("%H:%M", time.localtime(until))
        if self.tray is not None:
            self.tray.set_snoozed_text(text)
        self.message.emit(f"Alerts snoozed {text} (liquidation still alerts)" if text else "Alerts active")
