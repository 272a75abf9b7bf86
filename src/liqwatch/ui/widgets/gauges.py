"""Distance-to-liquidation gauges: one horizontal bar per account/position, riskiest at the top.

Bars are one `BarGraphItem` whose arrays are replaced in place (`setOpts`), labels are a pool of `TextItem`s that
are re-used, so an update never rebuilds the scene and never flickers. The futures warning and danger distances
are drawn as bands. Clicking a bar emits `bar_clicked(key)`; `select_key` outlines the selected row's bar.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor

from liqwatch.domain.risk import Risk, sort_by_risk
from liqwatch.domain.status import Status
from liqwatch.domain.thresholds import Thresholds
from liqwatch.ui.format import fmt_percent
from liqwatch.ui.theme import STATUS_COLOURS, STATUS_LABELS, is_dark

MAX_BARS = 60  # the riskiest rows get a bar (plus the selected row); a 2,000-row book stays smooth
MAX_LABELS = 30  # labels for the riskiest rows; each is re-set only when its text or place changes
X_MAX = 100.0  # percent; longer distances are drawn clipped at the right edge


def _risk_order(r: Risk) -> tuple[int, float]:
    """The order of `sort_by_risk`: worst status first, then the smallest distance."""
    return (-r.status.rank, r.distance if r.distance is not None else math.inf)


class GaugePanel(pg.PlotWidget):
    bar_clicked = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Distance to liquidation gauges")
        self.setBackground(None)
        self.keys: list[str] = []
        self.distances: list[float | None] = []
        self._selected: str | None = None
        self._labels: list[pg.TextItem] = []
        self._label_state: list[tuple[str, float, float, str] | None] = []
        self._brushes = {status: pg.mkBrush(QColor(colour)) for status, colour in STATUS_COLOURS.items()}
        self._no_pen = pg.mkPen(None)
        self.total_rows = 0
        self._shown_rows = -1
        self._thresholds = Thresholds()
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=True)
        plot.getAxis("left").setStyle(showValues=False)
        plot.getAxis("left").setTicks([])
        plot.setLabel("bottom", "distance to liquidation (% of price)")
        plot.invertY(True)
        self._danger_band = pg.LinearRegionItem((0, 5), movable=False, brush=pg.mkBrush(215, 55, 47, 40),
                                                pen=pg.mkPen(None))
        self._warning_band = pg.LinearRegionItem((5, 10), movable=False, brush=pg.mkBrush(208, 138, 0, 35),
                                                 pen=pg.mkPen(None))
        for band in (self._danger_band, self._warning_band):
            band.setZValue(-10)
            plot.addItem(band)
        self._bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brushes=[])
        self._highlight = pg.BarGraphItem(x0=[], y=[], height=0.86, width=[], brush=pg.mkBrush(None),
                                          pen=pg.mkPen("#3d6fb6", width=3))
        plot.addItem(self._bars)
        plot.addItem(self._highlight)
        self.scene().sigMouseClicked.connect(self._on_click)
        self.set_thresholds(self._thresholds)

    def ensure_labels(self, count: int = MAX_LABELS) -> None:
        """Make (hidden) label items up to `count`: about 1 ms each, so a big book makes them in a step of their
        own before its first `set_rows` rather than inside it."""
        plot = self.getPlotItem()
        while len(self._labels) < min(count, MAX_LABELS):
            label = pg.TextItem(anchor=(0, 0.5))
            label.setVisible(False)
            plot.addItem(label)
            self._labels.append(label)
            self._label_state.append(None)

    def set_thresholds(self, thresholds: Thresholds) -> None:
        self._thresholds = thresholds
        danger = thresholds.futures_danger_distance * 100
        warning = thresholds.futures_warning_distance * 100
        self._danger_band.setRegion((0, danger))
        self._warning_band.setRegion((danger, warning))
        self._danger_band.setToolTip(f"Danger band: within {danger:g} % of liquidation (futures threshold)")
        self._warning_band.setToolTip(f"Warning band: within {warning:g} % of liquidation (futures threshold)")

    def set_rows(self, risks: list[Risk], what_if: bool = False) -> None:
        """Show the riskiest `MAX_BARS` of `risks` (and the selected row), riskiest first, updated in place."""
        self.total_rows = len(risks)
        if len(risks) > MAX_BARS:
            ordered = sort_by_risk(heapq.nsmallest(MAX_BARS, risks, key=_risk_order))
            if self._selected not in {r.key for r in ordered}:
                selected = next((r for r in risks if r.key == self._selected), None)
                if selected is not None:
                    ordered.append(selected)
        else:
            ordered = sort_by_risk(risks)
        n = len(ordered)
        self.keys = [r.key for r in ordered]
        self.distances = [r.distance for r in ordered]
        width = np.array([min(X_MAX, (d or 0.0) * 100) if d is not None else 0.0 for d in self.distances])
        y = np.arange(n, dtype=float)
        brushes = [self._brushes[r.status] for r in ordered]
        self._bars.setOpts(x0=np.zeros(n), y=y, width=width, height=0.7, brushes=brushes,
                           pens=[self._no_pen] * n)
        text_colour = "#e6e6e6" if is_dark(self.palette()) else "#202124"
        self.ensure_labels(n)
        prefix = "what-if · " if what_if else ""
        for i, label in enumerate(self._labels):
            if i >= n:
                if self._label_state[i] is not None:
                    label.setVisible(False)
                    self._label_state[i] = None
                continue
            r = ordered[i]
            text = f"{prefix}{r.name}  {self._figure(r)}  [{STATUS_LABELS[r.status]}]"
            state = (text, min(X_MAX, (self.distances[i] or 0.0) * 100) + 0.8, float(i), text_colour)
            if state == self._label_state[i]:
                continue  # unchanged: no scene update, no repaint
            label.setText(text, color=text_colour)
            label.setPos(state[1], state[2])
            label.setVisible(True)
            self._label_state[i] = state
        if n != self._shown_rows:  # re-frame only when the row count changes: keeps the trader's scroll position
            self._shown_rows = n
            plot = self.getPlotItem()
            plot.setXRange(0, X_MAX + 40, padding=0)
            visible = min(n, 12)
            plot.setYRange(-0.6, max(visible, 1) - 0.4, padding=0)
            plot.setLimits(yMin=-1, yMax=max(n, 1) + 0.5)
        self._update_highlight()

    @staticmethod
    def _figure(r: Risk) -> str:
        if r.distance is not None:
            return fmt_percent(r.distance, 1)
        if r.status is Status.UNKNOWN:
            return "— (price missing)"
        level = getattr(r, "margin_level", None)
        return "no debt" if level is not None and math.isinf(level) else "—"

    @Slot(str)
    def select_key(self, key: str | None) -> None:
        self._selected = key
        self._update_highlight()

    def _update_highlight(self) -> None:
        if self._selected in self.keys:
            i = self.keys.index(self._selected)
            d = self.distances[i]
            w = max(1.0, min(X_MAX, (d or 0.0) * 100))
            self._highlight.setOpts(x0=[0.0], y=[float(i)], width=[w], height=0.86)
            self._highlight.setVisible(True)
        else:
            self._highlight.setVisible(False)

    def key_at_y(self, y: float) -> str | None:
        i = round(y)
        return self.keys[i] if 0 <= i < len(self.keys) and abs(y - i) <= 0.45 else None

    def _on_click(self, event: Any) -> None:
        point = self.getPlotItem().vb.mapSceneToView(event.scenePos())
        key = self.key_at_y(point.y())
        if key is not None:
            self.bar_clicked.emit(key)
