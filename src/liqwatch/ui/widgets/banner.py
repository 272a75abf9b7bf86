"""The in-window alert banner: where alerts show when the desktop has no tray (and so maybe no notifications).

It stays until dismissed, because a banner that vanishes on a timer can be missed by a trader who looked away.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from liqwatch.ui.notifier import Notification

# Background / text colours per severity; readable in light and dark themes alike.
_COLOURS = {
    "info": ("#dbeafe", "#1e3a8a"),
    "warning": ("#fef3c7", "#78350f"),
    "danger": ("#fee2e2", "#7f1d1d"),
    "critical": ("#7f1d1d", "#ffffff"),
}


class AlertBanner(QFrame):
    """Shows the latest batched notification: the title in bold, one line per alert, and a Dismiss button."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title_label = QLabel(self)
        self.title_label.setObjectName("alertBannerTitle")
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        self.body_label = QLabel(self)
        self.body_label.setObjectName("alertBannerBody")
        self.body_label.setTextFormat(Qt.TextFormat.PlainText)
        self.body_label.setWordWrap(True)
        self.dismiss_button = QPushButton("Dismiss", self)
        self.dismiss_button.clicked.connect(self.dismiss)
        text = QVBoxLayout()
        text.addWidget(self.title_label)
        text.addWidget(self.body_label)
        layout = QHBoxLayout(self)
        layout.addLayout(text, 1)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self.severity = "info"
        self.hide()

    def show_notification(self, notification: Notification) -> None:
        self.severity = notification.severity
        background, foreground = _COLOURS.get(notification.severity, _COLOURS["info"])
        self.setStyleSheet(
            f"QFrame#alertBanner {{ background: {background}; border: 1px solid {foreground}; }}"
            f" QFrame#alertBanner QLabel {{ color: {foreground}; }}"
        )
        self.title_label.setText(notification.title)
        self.body_label.setText(notification.body)
        self.show()

    def dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
