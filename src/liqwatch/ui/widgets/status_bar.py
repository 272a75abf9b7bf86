"""Status bar: feed source, last update time, per-exchange health and the worst status.

`add_permanent(widget)` lets other parts of the UI (alerts) add their own indicators on the right.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.domain.status import Status
from liqwatch.ui.theme import STATUS_COLOURS, STATUS_LABELS, status_icon

HEALTH_TEXT = {"ok": "ok", "retrying": "retrying", "stale": "STALE", "down": "DOWN"}
HEALTH_COLOUR = {"ok": STATUS_COLOURS[Status.OK], "retrying": STATUS_COLOURS[Status.WARNING],
                 "stale": STATUS_COLOURS[Status.DANGER], "down": STATUS_COLOURS[Status.DANGER]}


class StatusBar(QStatusBar):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Status bar")
        self.feed_label = QLabel("Feed: —")
        self.feed_label.setAccessibleName("Price feed")
        self.updated_label = QLabel("No data yet")
        self.updated_label.setAccessibleName("Last update")
        self.health_label = QLabel("")
        self.health_label.setAccessibleName("Feed health per exchange")
        self.worst_icon = QLabel()
        self.worst_label = QLabel("")
        self.worst_label.setAccessibleName("Worst status")
        for widget in (self.feed_label, self.updated_label, self.health_label):
            self.addWidget(widget)
        self.addPermanentWidget(self.worst_icon)
        self.addPermanentWidget(self.worst_label)
        self._last_time: float | None = None

    def add_permanent(self, widget: QWidget, stretch: int = 0) -> None:
        self.addPermanentWidget(widget, stretch)

    def set_feed(self, text: str) -> None:
        self.feed_label.setText(f"Feed: {text}")

    def show_snapshot(self, snapshot: BookSnapshot, worst: Status | None = None) -> None:
        """`worst`: the book's worst status if already known (the poller thread works it out for big books)."""
        self._last_time = snapshot.time
        self.updated_label.setText("Updated " + time.strftime("%H:%M:%S", time.localtime(snapshot.time)))
        parts = []
        for h in snapshot.health:
            colour = HEALTH_COLOUR.get(h.state, STATUS_COLOURS[Status.UNKNOWN])
            parts.append(f'{h.source}: <b style="color:{colour}">{HEALTH_TEXT.get(h.state, h.state)}</b>')
        self.health_label.setText(" · ".join(parts))
        self.health_label.setToolTip("\n".join(f"{h.source}: {h.state} {h.message}".strip() for h in snapshot.health))
        if worst is None:
            worst = snapshot.risk.worst_status
        self.worst_icon.setPixmap(status_icon(worst).pixmap(16, 16))
        self.worst_label.setText(f'Worst: <b style="color:{STATUS_COLOURS[worst]}">{STATUS_LABELS[worst]}</b>'
                                 + (" (feed stale)" if snapshot.feed_stale else ""))
