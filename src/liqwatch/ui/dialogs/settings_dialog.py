"""The settings dialog: thresholds, poll intervals, feed, notification options and theme.

Validation goes through `settings_from_dict`, the same function that reads the settings file, so the dialog can
never accept what the file would reject.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from liqwatch.store.settings import Settings, SettingsError, settings_from_dict, settings_to_dict
from liqwatch.ui.dialogs.entry_dialog import INVALID_STYLE, fields_of, number_or_text

_THRESHOLDS = (
    ("margin_warning_level", "Margin warning level", "warning at margin level <= this"),
    ("futures_warning_distance", "Futures warning distance", "fraction of the mark, e.g. 0.10"),
    ("futures_danger_distance", "Futures danger distance", "fraction of the mark, e.g. 0.05"),
    ("horizon_hours", "Touch-probability horizon (h)", "hours, 24 by default"),
)


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.original = settings
        self.result_settings: Settings | None = settings
        self.fields: dict[str, QWidget] = {}
        data = settings_to_dict(settings)
        layout = QVBoxLayout(self)

        feed_box = QGroupBox("Prices")
        feed = QFormLayout(feed_box)
        self.feed = QComboBox()
        self.feed.setEditable(True)
        self.feed.addItems(["demo", "binance", "binanceusdm", "binancecoinm", "bybit", "okx"])
        self.feed.setCurrentText(settings.feed)
        self.feed.setAccessibleName("Price feed")
        self.feed.setToolTip("'demo' (simulated prices) or a ccxt exchange id")
        self.feed.currentTextChanged.connect(self.validate)
        feed.addRow("Feed:", self.feed)
        self.fields["feed"] = self.feed
        for key, label in (("poll_interval_demo", "Poll interval, demo (s)"),
                           ("poll_interval_exchange", "Poll interval, exchange (s)")):
            feed.addRow(label + ":", self._line(key, label, data[key]))
        layout.addWidget(feed_box)

        limits_box = QGroupBox("Thresholds")
        limits = QFormLayout(limits_box)
        for key, label, tip in _THRESHOLDS:
            edit = self._line(key, label, data["thresholds"][key])
            edit.setToolTip(tip)
            limits.addRow(label + ":", edit)
        layout.addWidget(limits_box)

        notify_box = QGroupBox("Notifications and look")
        notify = QFormLayout(notify_box)
        self.desktop = QCheckBox("Desktop notifications")
        self.desktop.setChecked(settings.alerts.desktop_notifications)
        self.sound = QCheckBox("Sound")
        self.sound.setChecked(settings.alerts.sound)
        notify.addRow(self.desktop)
        notify.addRow(self.sound)
        self.theme = QComboBox()
        self.theme.addItems(["system", "light", "dark"])
        self.theme.setCurrentText(settings.theme)
        self.theme.setAccessibleName("Theme")
        self.theme.setToolTip("'system' follows the desktop's light or dark palette")
        notify.addRow("Theme:", self.theme)
        for box in (self.desktop, self.sound):
            box.toggled.connect(self.validate)
        self.theme.currentTextChanged.connect(self.validate)
        layout.addWidget(notify_box)

        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #d7372f;")
        layout.addWidget(self.problem_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.validate()

    def _line(self, key: str, label: str, value: Any) -> QLineEdit:
        edit = QLineEdit(f"{value:g}" if isinstance(value, float) else str(value))
        edit.setAccessibleName(label)
        edit.textChanged.connect(self.validate)
        self.fields[key] = edit
        return edit

    def build(self) -> dict[str, Any]:
        data = settings_to_dict(self.original)
        data["feed"] = self.feed.currentText().strip()
        for key in ("poll_interval_demo", "poll_interval_exchange"):
            data[key] = number_or_text(self.fields[key].text())  # type: ignore[attr-defined]
        for key, _, _ in _THRESHOLDS:
            data["thresholds"][key] = number_or_text(self.fields[key].text())  # type: ignore[attr-defined]
        data["alerts"]["desktop_notifications"] = self.desktop.isChecked()
        data["alerts"]["sound"] = self.sound.isChecked()
        data["theme"] = self.theme.currentText()
        return data

    @Slot()
    def validate(self) -> bool:
        problems: list[str] = []
        if not self.feed.currentText().strip():
            problems.append("feed must be 'demo' or a ccxt exchange id, got ''")
        if not problems:
            try:
                self.result_settings = settings_from_dict(self.build(), "settings")
            except SettingsError as exc:
                problems = [p.removeprefix("settings: ") for p in exc.problems]
        if problems:
            self.result_settings = None
        keys = list(self.fields)
        bad = {f for p in problems for f in fields_of(p, keys)}
        for key, widget in self.fields.items():
            widget.setStyleSheet(INVALID_STYLE if key in bad else "")
        self.problem_label.setText("\n".join(problems))
        self.problem_label.setVisible(bool(problems))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)
        return not problems
