"""Desktop notifications: one batched message per poll, sent through the best channel the desktop offers.

Why batching: a crash moves many positions at once, and ten pop-ups in one second bury the one that matters. One
poll's alerts become one `Notification` whose title carries the worst severity and the count and whose body lists
every alert, worst first.

Why several channels: Qt's tray balloon silently fails on GNOME and Wayland, so on Linux the freedesktop
Notifications service is used when a server owns that name (`notifier_dbus`); elsewhere the tray balloon
(`notifier_tray`); with neither, the window itself (`notifier_banner`) and a visible "desktop notifications
unavailable" note, so the trader knows where alerts will show.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtWidgets import QSystemTrayIcon

    from liqwatch.domain.alerts import Alert

log = logging.getLogger(__name__)

# Severity order of `liqwatch.domain.alerts.Severity`; "critical" is liquidation.
SEVERITY_RANK = {"info": 0, "warning": 1, "danger": 2, "critical": 3}
SEVERITY_LABEL = {"info": "Info", "warning": "Warning", "danger": "Danger", "critical": "Liquidation"}
# freedesktop urgency byte: 0 low, 1 normal, 2 critical (critical ones stay until dismissed).
URGENCY = {"info": 0, "warning": 1, "danger": 2, "critical": 2}
MAX_BODY_LINES = 8
UNAVAILABLE_NOTE = "Desktop notifications unavailable: alerts show in this window"


@dataclass(frozen=True, slots=True)
class Notification:
    """What a notifier shows: already formatted, so every channel says the same thing."""

    title: str
    body: str
    severity: str
    urgency: int
    count: int
    alert_ids: tuple[str, ...] = ()

    @property
    def lines(self) -> list[str]:
        return self.body.splitlines()


def worst_severity(severities: Iterable[str]) -> str:
    worst = "info"
    for severity in severities:
        if SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK[worst]:
            worst = severity
    return worst


def batch_notification(alerts: Sequence[Alert], max_lines: int = MAX_BODY_LINES) -> Notification | None:
    """One notification for one poll's alerts, worst first; None when there is nothing to say."""
    if not alerts:
        return None
    ordered = sorted(alerts, key=lambda a: -SEVERITY_RANK.get(a.severity, 0))  # stable: engine order kept
    severity = worst_severity(a.severity for a in ordered)
    label = SEVERITY_LABEL.get(severity, severity.title())
    if len(ordered) == 1:
        only = ordered[0]
        title = f"LiqWatch: {only.title}"  # the engine's title already names the severity
    else:
        title = f"LiqWatch {label}: {len(ordered)} alerts"
    lines = [a.text for a in ordered[:max_lines]]
    if len(ordered) > max_lines:
        lines.append(f"… and {len(ordered) - max_lines} more (see the alert log)")
    return Notification(
        title=title,
        body="\n".join(lines),
        severity=severity,
        urgency=URGENCY.get(severity, 1),
        count=len(ordered),
        alert_ids=tuple(a.id for a in ordered),
    )


class Notifier(Protocol):
    """A channel that shows a notification. `notify` must not block the GUI thread; False = not shown."""

    name: str

    def notify(self, notification: Notification) -> bool: ...


class NullNotifier:
    """No desktop channel (disabled in settings, or none exists)."""

    name = "none"

    def notify(self, notification: Notification) -> bool:
        return False


class CompositeNotifier:
    """Sends to every channel (a desktop one and the in-window banner); shown when any of them showed it."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self.notifiers = tuple(notifiers)
        self.name = "+".join(n.name for n in self.notifiers) or "none"

    def notify(self, notification: Notification) -> bool:
        shown = False
        for notifier in self.notifiers:
            try:
                shown = notifier.notify(notification) or shown
            except Exception:  # one broken channel must not silence the others
                log.exception("notifier %s failed", notifier.name)
        return shown


def desktop_notifier(tray: QSystemTrayIcon | None, enabled: bool = True) -> Notifier:
    """The best desktop channel here: freedesktop D-Bus on Linux when a server runs, else the tray balloon."""
    if not enabled:
        return NullNotifier()
    if sys.platform.startswith("linux"):
        from liqwatch.ui.notifier_dbus import DBusNotifier, notification_service_available

        if notification_service_available():
            return DBusNotifier()
    if tray is not None:
        from liqwatch.ui.notifier_tray import TrayNotifier

        return TrayNotifier(tray)
    return NullNotifier()
