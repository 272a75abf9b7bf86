"""Carrying-cost and leverage columns (issue 9): funding from the snapshot's funded rows, never a stand-in 0."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from liqwatch.domain.funding import FundingInfo, funding_figures, with_funding
from liqwatch.ui.models.columns import column_index
from liqwatch.ui.models.table_model import PositionsModel, SortRole
from tests.ui.snapshots import T0, example_portfolio, make_snapshot


def _cell(model: PositionsModel, key: str, column: str, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    return model.data(model.index(model.row_for_key(key), column_index(column)), role)


@pytest.fixture
def model(qtbot) -> PositionsModel:  # qtbot provides the QApplication
    return PositionsModel()


def test_funding_columns_show_the_funded_figures(model: PositionsModel) -> None:
    portfolio = example_portfolio()
    snapshot = make_snapshot(portfolio)
    btc_key = portfolio.futures_accounts[0].position_key(0)
    infos = {"BTC/USDT:USDT": FundingInfo("BTC/USDT:USDT", 0.0001, 8.0, T0 + 3600, "test", None)}
    funded = with_funding(snapshot.risk, funding_figures(snapshot.risk, infos, T0, portfolio))
    model.apply_snapshot(replace(snapshot, risk=funded))
    # 0.5 BTC long at mark 60,010 and +0.01 %: pays 0.5 × 60010 × 0.0001 = 3.0005 per 8 h, 9.0015 per day
    assert _cell(model, btc_key, "funding_rate") == "+0.0100 % / 8 h"
    assert _cell(model, btc_key, "next_funding") == "+3.00"
    raw = model.data(model.index(model.row_for_key(btc_key), column_index("carry_per_day")), SortRole)
    assert raw == pytest.approx(0.5 * 60010 * 0.0001 * 3)
    eth_key = portfolio.futures_accounts[0].position_key(1)
    assert _cell(model, eth_key, "funding_rate") == "—"  # no rate known for ETH: unknown, not 0


def test_margin_rows_show_interest_and_time_to_call(model: PositionsModel) -> None:
    portfolio = example_portfolio()
    model.apply_snapshot(make_snapshot(portfolio))
    key = portfolio.margin_accounts[0].key
    assert _cell(model, key, "carry_per_day") == "+6.00"  # 30,000 USDT × 0.0002 per day
    assert _cell(model, key, "hours_to_call") == "> 10 years"  # 158,457 h
    assert _cell(model, key, "funding_rate") == ""  # not applicable to a margin account
    assert _cell(model, key, "effective_leverage") == "1.50×"  # 90,500 / 60,498.75
