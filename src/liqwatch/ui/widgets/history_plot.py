"""History of the selected row: margin level with its liquidation and margin-call lines, or mark price with the
liquidation price. Data comes from the in-memory `HistoryStore` (and the store's history for older data when the
window is given a reader); `setDownsampling(mode="peak")` and `setClipToView(True)` keep a day of 1-second samples
smooth, `DateAxisItem` shows wall-clock time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg

from liqwatch.domain.risk import MarginRisk, Risk
from liqwatch.domain.status import Status
from liqwatch.ui.theme import STATUS_COLOURS


class HistoryPlot(pg.PlotWidget):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.setAccessibleName("History of the selected account or position")
        self.setBackground(None)
        plot = self.getPlotItem()
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        self.legend = plot.addLegend(offset=(10, 5))
        self.curve = plot.plot([], [], pen=pg.mkPen("#3d6fb6", width=2), name="value")
        self.reference = plot.plot([], [], pen=pg.mkPen(STATUS_COLOURS[Status.LIQUIDATION], width=1.5,
                                                         style=pg.QtCore.Qt.PenStyle.DashLine), name="liquidation")
        self.liq_line = pg.InfiniteLine(angle=0, movable=False,
                                        pen=pg.mkPen(STATUS_COLOURS[Status.LIQUIDATION], width=1.5),
                                        label="liquidation {value:.3f}", labelOpts={"position": 0.05})
        self.call_line = pg.InfiniteLine(angle=0, movable=False,
                                         pen=pg.mkPen(STATUS_COLOURS[Status.DANGER], width=1,
                                                      style=pg.QtCore.Qt.PenStyle.DashLine),
                                         label="margin call {value:.3f}", labelOpts={"position": 0.05})
        plot.addItem(self.liq_line)
        plot.addItem(self.call_line)
        self.key: str | None = None
        self.show_empty("Select a row to see its history")

    def _name_curve(self, name: str) -> None:
        """The legend entry follows what the curve shows (margin level or mark price)."""
        for sample, label in self.legend.items:
            if getattr(sample, "item", None) is self.curve and label.text != name:
                label.setText(name)
        self.curve.opts["name"] = name

    def show_empty(self, title: str) -> None:
        self.key = None
        self.curve.setData([], [])
        self.reference.setData([], [])
        self.liq_line.setVisible(False)
        self.call_line.setVisible(False)
        self.getPlotItem().setTitle(title)

    def show_series(self, risk: Risk, times: np.ndarray, values: np.ndarray, references: np.ndarray) -> None:
        """Plot one row's samples (times in epoch seconds); NaN values show as gaps."""
        self.key = risk.key
        plot = self.getPlotItem()
        connect = "finite"
        self.curve.setData(times, values, connect=connect)
        if isinstance(risk, MarginRisk):
            plot.setTitle(f"{risk.name}: margin level")
            plot.setLabel("left", "margin level")
            self._name_curve("margin level")
            self.reference.setData([], [])
            self.liq_line.setPos(risk.liquidation_level)
            self.call_line.setPos(risk.margin_call_level)
            self.liq_line.setVisible(True)
            self.call_line.setVisible(True)
        else:
            plot.setTitle(f"{risk.name}: mark price and liquidation price")
            plot.setLabel("left", "price")
            self._name_curve("mark price")
            self.reference.setData(times, references, connect=connect)
            self.liq_line.setVisible(False)
            self.call_line.setVisible(False)
