"""Wires alerting into the running app: engine, tray, notifications, banner, alert-log dock, store, hooks.

`install_alerts(app, window, poller, settings)` is called once by `liqwatch.ui.main` after the window exists. The
choices it makes, in order of what the desktop offers:

- a tray exists → tray icon (worst status, tooltip, menu), closing the window hides it to the tray;
- Linux with a notification server on the session bus → freedesktop notifications (urgency critical for danger);
  otherwise the tray balloon;
- no tray → the in-window banner plus the taskbar attention flag for every alert, and, when no desktop channel
  exists either, a visible "desktop notifications unavailable" note in the status bar.

`install_alerts` claims the single instance (`liqwatch.ui.single_instance.claim_single_instance`, a no-op when
`run_gui` already claimed it) so that a duplicate never keeps running.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from liqwatch.domain.alerts import AlertEngine
from liqwatch.store.settings import Settings
from liqwatch.ui.alert_center import AlertCenter
from liqwatch.ui.notifier import (
    UNAVAILABLE_NOTE,
    CompositeNotifier,
    Notification,
    Notifier,
    NullNotifier,
    desktop_notifier,
)
from liqwatch.ui.notifier_banner import BannerNotifier
from liqwatch.ui.single_instance import (
    claim_single_instance,
    claimed_instance,
    raise_window,
    release_single_instance,
)
from liqwatch.ui.tray import TrayController
from liqwatch.ui.widgets.alert_log import AlertLogDock
from liqwatch.ui.widgets.banner import AlertBanner

log = logging.getLogger(__name__)

STORE_HISTORY_ROWS = 500


class _StatusRelay(QObject):
    """Carries messages from hook worker threads to the GUI thread (a queued signal)."""

    text = Signal(str)


class _CloseWatcher(QObject):
    """Says once per session that closing hid the window to the tray (LiqWatch keeps watching)."""

    def __init__(self, window: QMainWindow, notifier: Notifier, tray: TrayController) -> None:
        super().__init__(window)
        self._window = window
        self._notifier = notifier
        self._tray = tray
        self.told = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        closing = watched is self._window and event.type() == QEvent.Type.Close and not self.told
        if closing and getattr(self._window, "close_to_tray", False) and not QApplication.closingDown():
            self.told = True
            QTimer.singleShot(0, self._tell)
        return False

    @Slot()
    def _tell(self) -> None:
        text = "LiqWatch keeps watching from the tray. Quit from the tray menu or File → Quit."
        note = Notification("LiqWatch is still running", text, "info", 1, 0)
        if not self._notifier.notify(note) and self._tray.icon is not None:
            self._tray.icon.showMessage(note.title, note.body)


@dataclass
class AlertsWiring:
    """Everything `install_alerts` built, kept alive by the window (`window.alerts_wiring`)."""

    center: AlertCenter | None
    tray: TrayController | None
    notifier: Notifier
    dock: AlertLogDock | None
    banner: AlertBanner | None = None
    note: QLabel | None = None
    duplicate: bool = False
    store: Any = None
    hooks: Any = None
    extras: list[Any] = field(default_factory=list)


def install_alerts(app: QApplication, window: QMainWindow, poller: Any, settings: Settings) -> AlertsWiring:
    if not claim_single_instance():
        log.info("LiqWatch is already running; asked it to show its window")
        window.hide()
        QTimer.singleShot(0, lambda: app.exit(0))
        wiring = AlertsWiring(None, None, NullNotifier(), None, duplicate=True)
        window.alerts_wiring = wiring  # type: ignore[attr-defined]
        return wiring
    instance = claimed_instance()
    if instance is not None:
        instance.raise_requested.connect(lambda: raise_window(window))
        instance.listen()  # `run_gui` took the lock before the window; knocks are answered from now on

    status = window.statusBar()
    tray = TrayController(window)
    desktop = desktop_notifier(tray.icon, settings.alerts.desktop_notifications)
    banner: AlertBanner | None = None
    note: QLabel | None = None
    notifier: Notifier = desktop
    if tray.icon is None:
        banner = AlertBanner(window)
        if hasattr(window, "show_banner_area"):
            window.show_banner_area(banner)
        else:
            window.banner_container.addWidget(banner)  # type: ignore[attr-defined]
        notifier = CompositeNotifier([desktop, BannerNotifier(banner, window)])
    if isinstance(desktop, NullNotifier):
        reason = UNAVAILABLE_NOTE if settings.alerts.desktop_notifications else "Desktop notifications off"
        note = QLabel(reason)
        note.setObjectName("notificationsUnavailable")
        note.setStyleSheet("QLabel { color: #b91c1c; font-weight: bold; padding: 0 6px; }")
        note.setToolTip("No notification server on the session D-Bus and no system tray: alerts show as a "
                        "banner at the top of this window and flash the taskbar entry.")
        status.addPermanentWidget(note)
    if hasattr(desktop, "failed"):
        desktop.failed.connect(lambda text: status.showMessage(text, 15_000))

    engine = AlertEngine(settings.alerts, settings.thresholds)
    center = AlertCenter(engine, notifier, tray=tray, sound=settings.alerts.sound, parent=window)
    center.message.connect(lambda text: status.showMessage(text, 10_000))
    poller.snapshot_ready.connect(center.on_snapshot)

    tray.show_window_requested.connect(lambda: raise_window(window))
    tray.snooze_all_requested.connect(center.snooze_all)
    tray.unsnooze_requested.connect(center.unsnooze_all)
    tray.pause_toggled.connect(center.set_paused)
    tray.quit_requested.connect(getattr(window, "quit_app", app.quit))
    window.menuBar().addMenu(tray.menu)  # the same controls, reachable with or without a tray
    if tray.icon is not None:
        window.close_to_tray = True  # type: ignore[attr-defined]
        watcher = _CloseWatcher(window, desktop, tray)
        window.installEventFilter(watcher)

    dock = AlertLogDock(window)
    if hasattr(window, "add_dock"):
        window.add_dock(dock, Qt.DockWidgetArea.BottomDockWidgetArea)
    else:
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    dock.add_alerts(engine.log)
    center.alerts_fired.connect(dock.add_alerts)

    wiring = AlertsWiring(center, tray, notifier, dock, banner, note)
    wiring.store = _attach_store(center, dock, status)
    wiring.hooks = _attach_hooks(center, settings, status, wiring)

    def shutdown() -> None:
        tray.hide()
        if hasattr(desktop, "close"):
            desktop.close()
        if wiring.hooks is not None:
            wiring.hooks.close(timeout=2.0)
        if wiring.store is not None:
            wiring.store.close()  # writes what is still queued
        release_single_instance()

    app.aboutToQuit.connect(shutdown)
    window.alerts_wiring = wiring  # type: ignore[attr-defined]
    return wiring


def _attach_store(center: AlertCenter, dock: AlertLogDock, status: Any) -> Any:
    """Persist alerts and acknowledgements in the database and show the earlier ones; absent store → memory only.

    The writes go through `AlertLogWriter`, on its own thread: each is fsynced, and alerts fire during a crash."""
    try:
        from liqwatch.store.alert_log import AlertLog
        from liqwatch.store.alert_log_writer import AlertLogWriter
        from liqwatch.store.db import open_database
    except ImportError:
        return None
    try:
        conn = open_database()
        try:
            dock.add_alerts(AlertLog(conn).recent(STORE_HISTORY_ROWS))
        finally:
            conn.close()
        writer = AlertLogWriter()
    except Exception as exc:
        log.exception("cannot open the alert log")
        status.showMessage(f"Alert log not saved: {exc}", 15_000)
        return None
    center.sinks.append(writer.append)
    dock.acknowledged.connect(lambda ids: writer.acknowledge(ids, time.time()))
    return writer


def _attach_hooks(center: AlertCenter, settings: Settings, status: Any, wiring: AlertsWiring) -> Any:
    """Send every alert to the configured hooks (webhooks, commands) off the GUI thread."""
    if not settings.alert_hooks:
        return None
    try:
        from liqwatch.sources.hooks import keyring_lookup
        from liqwatch.sources.hooks_dispatch import HookDispatcher
    except ImportError:
        return None
    relay = _StatusRelay()
    relay.text.connect(lambda text: status.showMessage(text, 15_000))
    wiring.extras.append(relay)
    try:
        dispatcher = HookDispatcher.from_settings(list(settings.alert_hooks), keyring_lookup, relay.text.emit)
    except ValueError as exc:  # HookError: an invalid hook entry, named field by field
        status.showMessage(f"Alert hooks disabled: {exc}", 30_000)
        return None
    center.sinks.append(dispatcher.submit)
    return dispatcher
