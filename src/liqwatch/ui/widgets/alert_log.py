"""The alert log dock: every alert of this session (and, with the store, earlier ones), newest first.

Acknowledging is how a trader says "seen": unacknowledged rows are bold so nothing that fired while the window was
hidden goes unnoticed. Acknowledgements are passed to the store through the `acknowledged` signal.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from liqwatch.ui.notifier import SEVERITY_LABEL

Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    TIME = 0
    SEVERITY = 1
    TEXT = 2
    ACKNOWLEDGED = 3


HEADERS = {Column.TIME: "Time", Column.SEVERITY: "Severity", Column.TEXT: "Alert", Column.ACKNOWLEDGED: "Seen"}
ALERT_ID_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(slots=True)
class LogRow:
    id: str
    time: float
    severity: str
    title: str
    text: str
    acknowledged: bool = False


class AlertLogModel(QAbstractTableModel):
    """Rows newest first; an alert id appears once (re-delivered alerts are ignored)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[LogRow] = []
        self._ids: set[str] = set()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS.get(Column(section)) if 0 <= section < len(Column) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            if column is Column.TIME:
                return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row.time))
            if column is Column.SEVERITY:
                return SEVERITY_LABEL.get(row.severity, row.severity)
            if column is Column.TEXT:
                return row.text
            return "yes" if row.acknowledged else "no"
        if role == Qt.ItemDataRole.ToolTipRole and column is Column.TEXT:
            return f"{row.title}\n{row.text}"
        if role == Qt.ItemDataRole.FontRole and not row.acknowledged:
            font = QFont()
            font.setBold(True)
            return font
        if role == ALERT_ID_ROLE:
            return row.id
        return None

    def add_alerts(self, alerts: Iterable[Any]) -> int:
        """Insert alerts (domain `Alert`s or stored `LoggedAlert`s) newest first; returns how many were new."""
        new = [
            LogRow(a.id, a.time, a.severity, a.title, a.text, bool(getattr(a, "acknowledged", False)))
            for a in alerts
            if a.id not in self._ids
        ]
        if not new:
            return 0
        new.sort(key=lambda r: r.time, reverse=True)
        rows = sorted(new + self._rows, key=lambda r: r.time, reverse=True)
        if rows[: len(new)] == new:  # the usual case: newer than everything shown, inserted at the top
            self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
            self._rows = rows
            self.endInsertRows()
        else:  # older alerts loaded from the store: re-sort everything
            self.beginResetModel()
            self._rows = rows
            self.endResetModel()
        self._ids.update(r.id for r in new)
        return len(new)

    def row(self, i: int) -> LogRow:
        return self._rows[i]

    def acknowledge_rows(self, rows: Sequence[int]) -> list[str]:
        """Mark rows seen; returns the ids that changed."""
        changed = []
        for i in rows:
            if 0 <= i < len(self._rows) and not self._rows[i].acknowledged:
                self._rows[i].acknowledged = True
                changed.append(self._rows[i].id)
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(Column) - 1))
        return changed

    def acknowledge_all(self) -> list[str]:
        return self.acknowledge_rows(range(len(self._rows)))

    @property
    def unacknowledged(self) -> int:
        return sum(not r.acknowledged for r in self._rows)


class AlertLogDock(QDockWidget):
    """The dock: a table plus "Acknowledge" (selected rows) and "Acknowledge all"."""

    acknowledged = Signal(list)  # alert ids just acknowledged

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Alert log", parent)
        self.setObjectName("alertLogDock")
        self.model = AlertLogModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(Column.TEXT, QHeaderView.ResizeMode.Stretch)
        metrics = self.view.fontMetrics()
        for column, sample in ((Column.TIME, "2026-12-31 23:59:59"), (Column.SEVERITY, "Liquidation"),
                               (Column.ACKNOWLEDGED, "Seen")):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            self.view.setColumnWidth(column, metrics.horizontalAdvance(sample) + 24)
        self.acknowledge_button = QPushButton("Acknowledge")
        self.acknowledge_button.clicked.connect(self.acknowledge_selected)
        self.acknowledge_all_button = QPushButton("Acknowledge all")
        self.acknowledge_all_button.clicked.connect(self.acknowledge_all)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.acknowledge_button)
        buttons.addWidget(self.acknowledge_all_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.view)
        layout.addLayout(buttons)
        self.setWidget(body)
        self.model.rowsInserted.connect(self._update_title)
        self.model.modelReset.connect(self._update_title)
        self.model.dataChanged.connect(self._update_title)

    def add_alerts(self, alerts: Iterable[Any]) -> int:
        return self.model.add_alerts(alerts)

    def acknowledge_selected(self) -> list[str]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return self._emit(self.model.acknowledge_rows(rows))

    def acknowledge_all(self) -> list[str]:
        return self._emit(self.model.acknowledge_all())

    def _emit(self, ids: list[str]) -> list[str]:
        if ids:
            self.acknowledged.emit(ids)
        return ids

    def _update_title(self, *_args: object) -> None:
        count = self.model.unacknowledged
        self.setWindowTitle(f"Alert log ({count} new)" if count else "Alert log")
