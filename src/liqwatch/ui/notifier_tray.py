"""Notifications through the tray icon's balloon (Windows, macOS, X11 tray hosts without a D-Bus server).

Only used when a real tray exists: offscreen and on trayless desktops `supportsMessages()` still says true and
`showMessage` "works" while nothing appears, so the caller never builds this without `isSystemTrayAvailable()`.
"""

from __future__ import annotations

from PySide6.QtWidgets import QSystemTrayIcon

from liqwatch.ui.notifier import Notification

BALLOON_MS = 15_000
_ICON = {
    "info": QSystemTrayIcon.MessageIcon.Information,
    "warning": QSystemTrayIcon.MessageIcon.Warning,
    "danger": QSystemTrayIcon.MessageIcon.Critical,
    "critical": QSystemTrayIcon.MessageIcon.Critical,
}


class TrayNotifier:
    name = "tray"

    def __init__(self, tray: QSystemTrayIcon) -> None:
        self._tray = tray

    def notify(self, notification: Notification) -> bool:
        if not self._tray.isVisible():
            return False
        icon = _ICON.get(notification.severity, QSystemTrayIcon.MessageIcon.Information)
        self._tray.showMessage(notification.title, notification.body, icon, BALLOON_MS)
        return True
