"""Imported items: the window shows the exchange's figure of record beside the computed one and flags a gap."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt

from liqwatch.domain.model import ExchangeFigures
from liqwatch.domain.reconcile import reconcile_book
from liqwatch.ui.models.columns import column_index
from liqwatch.ui.models.table_model import PositionsModel
from tests.ui.snapshots import example_portfolio, make_snapshot


def _imported(exchange_liq: float | None):
    portfolio = example_portfolio()
    account = portfolio.futures_accounts[0]
    btc = replace(account.positions[0], exchange_figures=ExchangeFigures(liquidation_price=exchange_liq))
    account = replace(account, positions=(btc, *account.positions[1:]), source="imported")
    return replace(portfolio, futures_accounts=(account, *portfolio.futures_accounts[1:])), account.position_key(0)


def _check_cell(exchange_liq: float | None, qtbot) -> tuple[str, str]:
    portfolio, key = _imported(exchange_liq)
    snapshot = make_snapshot(portfolio)
    snapshot = replace(snapshot, reconciled=reconcile_book(portfolio, snapshot.risk))
    model = PositionsModel()
    model.apply_snapshot(snapshot)
    index = model.index(model.row_for_key(key), column_index("exchange_check"))
    return index.data(), index.data(Qt.ItemDataRole.ToolTipRole)


def test_disagreement_is_flagged_with_both_figures(qtbot) -> None:
    # computed: (3000 − 30000) / (0.5 × 0.004 − 0.5) = 54,216.87; the exchange says 54,500
    text, tip = _check_cell(54500.0, qtbot)
    assert text.startswith("⚠ liquidation price")
    assert "exchange 54,500.00 vs computed 54,216.87" in text
    assert "54,216.87" in tip


def test_agreement_and_missing_exchange_figure(qtbot) -> None:
    text, _ = _check_cell(27000 / 0.498, qtbot)
    assert text == "agrees with exchange"
    text, tip = _check_cell(0.0, qtbot)  # Binance sends "0" for no liquidation price
    assert text == "computed (exchange reports none)"
    assert "exchange reports none; computed 54,216.87" in tip


def test_manual_rows_have_no_check(qtbot) -> None:
    model = PositionsModel()
    model.apply_snapshot(make_snapshot(example_portfolio()))
    assert model.index(0, column_index("exchange_check")).data() == ""
