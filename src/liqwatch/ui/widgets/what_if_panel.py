"""The what-if panel: a price-shock slider (−50 % … +50 %), per-asset overrides and the liquidation list.

This is a view: it holds no risk maths. It reports the shock and overrides through `changed`; the window evaluates
them with `liqwatch.ui.models.what_if.WhatIf` (the live engine) and hands back the liquidation list to show.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from liqwatch.ui.format import fmt_percent
from liqwatch.ui.models.what_if import Liquidation
from liqwatch.ui.theme import WHAT_IF_COLOUR


class WhatIfPanel(QWidget):
    changed = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("What-if panel")
        layout = QVBoxLayout(self)
        title = QLabel("What-if: shocked prices (figures shown in italics, not live)")
        title.setWordWrap(True)
        title.setStyleSheet(f"color: {WHAT_IF_COLOUR}; font-style: italic;")
        layout.addWidget(title)

        row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(-500, 500)  # tenths of a percent
        self.slider.setPageStep(50)
        self.slider.setSingleStep(5)
        self.slider.setTickInterval(100)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setAccessibleName("Price shock for all non-pegged assets")
        self.slider.setToolTip("Move every non-pegged asset's price by this percentage (−50 % … +50 %)")
        self.value_label = QLabel("0.0 %")
        self.value_label.setMinimumWidth(70)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bold = QFont()
        bold.setBold(True)
        self.value_label.setFont(bold)
        reset = QPushButton("Reset")
        reset.setAccessibleName("Reset the what-if shock")
        reset.clicked.connect(self.reset)
        row.addWidget(QLabel("All assets:"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.value_label)
        row.addWidget(reset)
        layout.addLayout(row)
        self.slider.valueChanged.connect(self._on_slider)

        self.overrides_box = QGroupBox("Per-asset overrides")
        self._grid = QGridLayout(self.overrides_box)
        self._override_widgets: dict[str, tuple[QCheckBox, QDoubleSpinBox]] = {}
        layout.addWidget(self.overrides_box)

        layout.addWidget(QLabel("Liquidates first (shock of all assets at which each one is liquidated):"))
        self.liquidations = QTreeWidget()
        self.liquidations.setAccessibleName("Positions in the order they liquidate")
        self.liquidations.setHeaderLabels(["Account / position", "At shock"])
        self.liquidations.setRootIsDecorated(False)
        self.liquidations.setColumnWidth(0, 230)
        layout.addWidget(self.liquidations, 1)

    @property
    def shock(self) -> float:
        return self.slider.value() / 1000.0

    def set_shock(self, fraction: float) -> None:
        self.slider.setValue(round(fraction * 1000))

    def overrides(self) -> dict[str, float]:
        return {asset: spin.value() / 100.0 for asset, (box, spin) in self._override_widgets.items() if box.isChecked()}

    def set_override(self, asset: str, fraction: float | None) -> None:
        box, spin = self._override_widgets[asset]
        if fraction is not None:
            spin.setValue(fraction * 100)
        box.setChecked(fraction is not None)

    def set_assets(self, assets: list[str]) -> None:
        """One override row per non-pegged asset; kept when the asset list is unchanged."""
        if list(self._override_widgets) == assets:
            return
        for box, spin in self._override_widgets.values():
            box.deleteLater()
            spin.deleteLater()
        self._override_widgets.clear()
        for i, asset in enumerate(assets):
            box = QCheckBox(asset)
            box.setAccessibleName(f"Override the shock for {asset}")
            spin = QDoubleSpinBox()
            spin.setRange(-99.0, 500.0)
            spin.setSuffix(" %")
            spin.setDecimals(1)
            spin.setAccessibleName(f"Shock for {asset}")
            spin.setEnabled(False)
            box.toggled.connect(spin.setEnabled)
            box.toggled.connect(self._emit_changed)
            spin.valueChanged.connect(self._emit_changed)
            self._grid.addWidget(box, i // 2, (i % 2) * 2)
            self._grid.addWidget(spin, i // 2, (i % 2) * 2 + 1)
            self._override_widgets[asset] = (box, spin)

    @Slot()
    def reset(self) -> None:
        blocked = [w.blockSignals(True) for pair in self._override_widgets.values() for w in pair]
        for box, spin in self._override_widgets.values():
            box.setChecked(False)
            spin.setValue(0.0)
            spin.setEnabled(False)
        for pair in self._override_widgets.values():
            for w in pair:
                w.blockSignals(False)
        del blocked
        self.slider.setValue(0)
        self.changed.emit()

    @Slot(int)
    def _on_slider(self, value: int) -> None:
        self.value_label.setText(fmt_percent(value / 1000.0, 1, plus=True))
        self.changed.emit()

    @Slot()
    def _emit_changed(self, *_: Any) -> None:
        self.changed.emit()

    def show_liquidations(self, items: list[Liquidation], search_range: tuple[float, float]) -> None:
        self.liquidations.clear()
        current = self.shock
        for item in items:
            text = "now" if item.shock == 0.0 else fmt_percent(item.shock, 1, plus=True)
            row = QTreeWidgetItem([item.name, text])
            row.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            reached = item.shock == 0.0 or (item.shock < 0 and current <= item.shock) or (
                item.shock > 0 and current >= item.shock)
            if reached:
                font = QFont()
                font.setBold(True)
                row.setFont(0, font)
                row.setFont(1, font)
                row.setToolTip(0, "Liquidated at the current what-if shock")
            self.liquidations.addTopLevelItem(row)
        if not items:
            lo, hi = search_range
            self.liquidations.addTopLevelItem(QTreeWidgetItem(
                [f"nothing liquidates between {fmt_percent(lo, 0)} and {fmt_percent(hi, 0, plus=True)}", ""]))
