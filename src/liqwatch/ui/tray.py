"""The system-tray icon: the book's worst status at a glance, a summary tooltip, and the alert controls.

The menu and its actions exist whether or not a tray does, so the window can offer the same actions (and tests can
drive them offscreen); the `QSystemTrayIcon` itself is created only when `isSystemTrayAvailable()` is true — offscreen
or on a trayless desktop `supportsMessages()` and `show()` pretend to work and nothing appears.
"""

from __future__ import annotations

import logging
import math

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from liqwatch.domain.risk import FuturesRisk, Risk
from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.domain.status import Status

log = logging.getLogger(__name__)

TRAY_STATES = ("ok", "warning", "danger", "stale")
SNOOZE_CHOICES = (("15 minutes", 15 * 60.0), ("1 hour", 3600.0), ("Until restart", math.inf))
_FALLBACK_COLOURS = {"ok": "#2e7d32", "warning": "#f9a825", "danger": "#c62828", "stale": "#9e9e9e"}


def tray_state(snapshot: BookSnapshot) -> str:
    """The tray drawing for a snapshot.

    Danger (and liquidation) wins over stale: the last good figures already say "act now". Stale wins over
    warning and ok, because a calm green icon over blind data is the one lie a monitor must not tell; an unknown
    status (a missing price) is stale for the same reason.
    """
    worst = snapshot.risk.worst_status
    if worst in (Status.DANGER, Status.LIQUIDATION):
        return "danger"
    if snapshot.feed_stale or snapshot.stale_keys or worst is Status.UNKNOWN:
        return "stale"
    return "warning" if worst is Status.WARNING else "ok"


def _drawn_icon(state: str) -> QIcon:
    """A plain disc in the status colour, for a development tree whose icons are not rendered yet."""
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(_FALLBACK_COLOURS.get(state, "#9e9e9e")))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(2, 2, 28, 28)
    painter.end()
    return QIcon(pixmap)


def state_icon(state: str) -> QIcon:
    try:
        from liqwatch.ui.icons import status_icon

        icon = status_icon(state)
        if not icon.isNull():
            return icon
    except (ImportError, FileNotFoundError, ValueError) as exc:
        log.debug("tray icon %s not bundled (%s); drawing one", state, exc)
    return _drawn_icon(state)


def figure_text(risk: Risk) -> str:
    """The one figure that says how close a row is: distance to liquidation, or margin level."""
    from liqwatch.ui.format import fmt_percent

    if isinstance(risk, FuturesRisk):
        if risk.distance is None:
            return "no price"
        return f"{fmt_percent(risk.distance, 1)} to liquidation"
    if risk.margin_level is None:
        return "no price"
    if math.isinf(risk.margin_level):
        return "nothing borrowed"
    return f"margin level {risk.margin_level:.2f}"


def tooltip_text(snapshot: BookSnapshot, limit: int = 3) -> str:
    """`LiqWatch — DANGER` then the worst `limit` positions with their figure (tooltips are plain text)."""
    state = tray_state(snapshot)
    lines = [f"LiqWatch — {state.upper()}"]
    if snapshot.feed_stale or snapshot.stale_keys:
        lines.append("Prices stale: figures may be out of date")
    for risk in snapshot.risk.by_risk()[:limit]:
        stale = " (stale)" if snapshot.is_stale(risk) else ""
        lines.append(f"{risk.name}: {risk.status.value}, {figure_text(risk)}{stale}")
    if len(lines) == 1:
        lines.append("No positions")
    return "\n".join(lines)


class TrayController(QObject):
    """Owns the alert-control actions and, when a tray exists, the icon that shows them."""

    show_window_requested = Signal()
    snooze_all_requested = Signal(float)  # seconds; math.inf = until restart
    unsnooze_requested = Signal()
    pause_toggled = Signal(bool)
    quit_requested = Signal()

    def __init__(self, parent: QObject | None = None, *, tray_available: bool | None = None) -> None:
        super().__init__(parent)
        self.state = "ok"
        self.menu = QMenu("Alerts")
        self.show_action = QAction("Show window", self)
        self.show_action.triggered.connect(self.show_window_requested)
        self.snooze_menu = QMenu("Snooze all alerts", self.menu)
        self.snooze_actions: list[QAction] = []
        for label, seconds in SNOOZE_CHOICES:
            action = QAction(label, self)
            action.setData(seconds)
            action.triggered.connect(lambda _checked=False, s=seconds: self.snooze_all_requested.emit(s))
            self.snooze_menu.addAction(action)
            self.snooze_actions.append(action)
        self.snooze_menu.addSeparator()
        self.unsnooze_action = QAction("Resume alerts now", self)
        self.unsnooze_action.triggered.connect(self.unsnooze_requested)
        self.snooze_menu.addAction(self.unsnooze_action)
        self.pause_action = QAction("Pause alerts", self)
        self.pause_action.setCheckable(True)
        self.pause_action.toggled.connect(self.pause_toggled)
        self.quit_action = QAction("Quit LiqWatch", self)
        self.quit_action.triggered.connect(self.quit_requested)
        self.menu.addAction(self.show_action)
        self.menu.addSeparator()
        self.menu.addMenu(self.snooze_menu)
        self.menu.addAction(self.pause_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)

        available = QSystemTrayIcon.isSystemTrayAvailable() if tray_available is None else tray_available
        self.icon: QSystemTrayIcon | None = None
        if available:
            self.icon = QSystemTrayIcon(state_icon("ok"), self)
            self.icon.setToolTip("LiqWatch — waiting for the first prices")
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._on_activated)
            self.icon.show()

    @property
    def available(self) -> bool:
        return self.icon is not None

    def update_snapshot(self, snapshot: BookSnapshot) -> None:
        state = tray_state(snapshot)
        if self.icon is None:
            self.state = state
            return
        if state != self.state:
            self.icon.setIcon(state_icon(state))
        self.state = state
        self.icon.setToolTip(tooltip_text(snapshot))

    def set_snoozed_text(self, text: str | None) -> None:
        """Show in the menu (and so on the tray) that alerts are snoozed, and until when."""
        self.snooze_menu.setTitle(f"Snooze all alerts ({text})" if text else "Snooze all alerts")

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_window_requested.emit()

    def hide(self) -> None:
        if self.icon is not None:
            self.icon.hide()
