"""The trayless fallback: the in-window banner plus the taskbar attention flag.

Without a tray the window is the only surface LiqWatch owns, so an alert shows there (and the taskbar entry asks
for attention) whatever other channel also carried it.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QApplication, QWidget

from liqwatch.ui.notifier import Notification
from liqwatch.ui.widgets.banner import AlertBanner

log = logging.getLogger(__name__)


class BannerNotifier:
    name = "banner"

    def __init__(self, banner: AlertBanner, window: QWidget) -> None:
        self.banner = banner
        self._window = window

    def notify(self, notification: Notification) -> bool:
        self.banner.show_notification(notification)
        log.info("alert banner shown: %s", notification.title)
        QApplication.alert(self._window)  # taskbar attention flag; 0 = until the window is activated
        return True
