"""Add or edit a margin account (name, mode, pair, levels and the asset balances)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTableWidget, QTableWidgetItem, QWidget

from liqwatch.domain.model import MarginAccount, Portfolio
from liqwatch.store.portfolio_write import margin_account_to_dict, portfolio_to_dict
from liqwatch.ui.dialogs.entry_dialog import EntryDialog, number_or_text

ASSET_COLUMNS = ("asset", "total", "borrowed", "interest", "daily_rate")


class MarginAccountDialog(EntryDialog):
    def __init__(self, portfolio: Portfolio, index: int | None = None, parent: QWidget | None = None) -> None:
        self.index = index
        account = portfolio.margin_accounts[index] if index is not None else None
        super().__init__("Edit margin account" if account else "Add margin account", portfolio, parent)
        self.original = account
        d = margin_account_to_dict(account) if account else {}
        self.add_line("name", "Name", d.get("name", ""), "unique name, e.g. Binance cross")
        self.add_line("exchange", "Exchange", d.get("exchange", ""), "ccxt id, e.g. binance (optional)")
        self.add_choice("mode", "Mode", ["cross", "isolated"], d.get("mode", "cross"))
        self.add_line("symbol", "Pair", d.get("symbol", ""), "isolated only, e.g. ETH/USDT")
        self.add_line("liquidation_level", "Liquidation level", _num(d.get("liquidation_level", 1.1)))
        self.add_line("margin_call_level", "Margin call level", _num(d.get("margin_call_level", 1.3)))
        self.add_line("warning_level", "Warning level", _num(d.get("warning_level", "")),
                      "this account only; empty: the global warning level")
        self.table = QTableWidget(0, len(ASSET_COLUMNS))
        self.table.setHorizontalHeaderLabels(["Asset", "Total", "Borrowed", "Interest", "Daily rate"])
        self.table.setAccessibleName("Asset balances")
        self.table.setMinimumHeight(140)
        for asset in d.get("assets", [{"asset": "USDT", "total": 0.0}]):
            self.add_asset_row(asset)
        self.table.itemChanged.connect(self.validate)
        self.form.addRow("Assets:", self.table)
        self.fields["asset"] = self.table
        buttons = QHBoxLayout()
        add, remove = QPushButton("Add asset"), QPushButton("Remove asset")
        add.clicked.connect(self._add_clicked)
        remove.clicked.connect(self._remove_clicked)
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        self.form.addRow("", buttons)
        self.resize(560, 480)
        self.finish_layout()

    def add_asset_row(self, asset: dict[str, Any] | None = None) -> None:
        asset = asset or {}
        row = self.table.rowCount()
        blocked = self.table.blockSignals(True)
        self.table.insertRow(row)
        for c, key in enumerate(ASSET_COLUMNS):
            value = asset.get(key, "")
            self.table.setItem(row, c, QTableWidgetItem(_num(value) if value != "" else ""))
        self.table.blockSignals(blocked)

    @Slot()
    def _add_clicked(self) -> None:
        self.add_asset_row()
        self.validate()

    @Slot()
    def _remove_clicked(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self.validate()

    def set_cell(self, row: int, key: str, text: str) -> None:
        self.table.item(row, ASSET_COLUMNS.index(key)).setText(text)

    def entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("name", "exchange", "symbol"):
            self.put_optional(out, key, numeric=False)
        out["mode"] = self.text("mode")
        if out["mode"] == "cross":
            out.pop("symbol", None)
        for key in ("liquidation_level", "margin_call_level", "warning_level"):
            self.put_optional(out, key)
        assets = []
        for r in range(self.table.rowCount()):
            item: dict[str, Any] = {}
            for c, key in enumerate(ASSET_COLUMNS):
                cell = self.table.item(r, c)
                text = cell.text().strip() if cell else ""
                if text:
                    item[key] = text if key == "asset" else number_or_text(text)
            if item:
                assets.append(item)
        out["assets"] = assets
        return out

    def build(self) -> dict[str, Any]:
        data = portfolio_to_dict(self.portfolio)
        accounts = list(data.get("margin_account", []))
        if self.index is None:
            accounts.append(self.entry())
        else:
            accounts[self.index] = self.entry()
        data["margin_account"] = accounts
        return data

    def new_portfolio(self) -> Portfolio:
        """The original portfolio with this account added or replaced (other accounts untouched)."""
        assert self.result_portfolio is not None
        i = self.index if self.index is not None else len(self.portfolio.margin_accounts)
        edited: MarginAccount = self.result_portfolio.margin_accounts[i]
        accounts = list(self.portfolio.margin_accounts)
        if self.index is None:
            accounts.append(edited)
        else:
            accounts[self.index] = edited
        return replace(self.portfolio, margin_accounts=tuple(accounts))


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
