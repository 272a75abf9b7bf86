"""What-if figures come from the same engine; the liquidation list agrees with it; gauges order and click-select."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt

from liqwatch.domain.engine import evaluate_book
from liqwatch.domain.status import Status
from liqwatch.store.settings import Settings
from liqwatch.ui.main_window import MainWindow
from liqwatch.ui.models.columns import Column
from liqwatch.ui.models.what_if import WhatIf, shocked_prices, snapshot_prices
from liqwatch.ui.widgets.gauges import GaugePanel
from tests.ui.snapshots import example_portfolio, make_snapshot


@pytest.fixture
def window(qtbot) -> MainWindow:
    portfolio = example_portfolio()
    w = MainWindow(Settings(), portfolio)
    qtbot.addWidget(w)
    w.apply_snapshot(make_snapshot(portfolio))
    qtbot.waitUntil(lambda: bool(w.gauges.keys) and not w._steps, timeout=2000)  # the plots are steps of their own
    return w


def test_shocked_prices_move_every_non_pegged_asset_and_its_futures() -> None:
    portfolio = example_portfolio()
    prices = {"BTC": 100.0, "BTC/USDT:USDT": 101.0, "USDT": 1.0, "ETH": 10.0}
    out = shocked_prices(portfolio, prices, -0.2, {"ETH": 0.1})
    assert out == pytest.approx({"BTC": 80.0, "BTC/USDT:USDT": 80.8, "USDT": 1.0, "ETH": 11.0})


def test_slider_changes_the_table_as_the_engine_says(window: MainWindow, qtbot) -> None:
    window.what_if_dock.show()
    window.what_if_panel.set_shock(-0.08)
    qtbot.waitUntil(lambda: window.model.rows()[0].what_if, timeout=2000)
    snapshot = window.snapshot
    expected = evaluate_book(snapshot.portfolio, shocked_prices(snapshot.portfolio, snapshot_prices(snapshot), -0.08),
                             None, snapshot.volatilities)
    by_key = {r.key: r for r in expected}
    for i, row in enumerate(window.model.rows()):
        want = by_key[row.risk.key]
        assert row.risk.status == want.status
        if want.distance is None:
            assert row.risk.distance is None
        else:
            assert row.risk.distance == pytest.approx(want.distance, rel=1e-9)
        assert "(what-if)" in window.model.index(i, Column.STATUS).data()
        assert window.model.index(i, Column.DISTANCE).data(Qt.ItemDataRole.FontRole).italic()
    # the BTC perpetual is within 9.65 % of liquidation: an 8 % fall puts it in danger
    btc = by_key["futures:Binance USDⓈ-M:BTC/USDT:USDT:long:0"]
    assert btc.status is Status.DANGER
    window.what_if_panel.reset()
    qtbot.waitUntil(lambda: not window.model.rows()[0].what_if, timeout=2000)


def test_per_asset_override_only_moves_that_asset(window: MainWindow, qtbot) -> None:
    window.what_if_dock.show()
    window.what_if_panel.set_override("ETH", 0.2)
    qtbot.waitUntil(lambda: window.model.rows()[0].what_if, timeout=2000)
    rows = {r.risk.key: r.risk for r in window.model.rows()}
    live = {r.key: r for r in window.snapshot.risk}
    assert rows["margin:Binance cross"].margin_level == pytest.approx(live["margin:Binance cross"].margin_level)
    eth_short = "futures:Binance USDⓈ-M:ETH/USDT:USDT:short:1"
    assert rows[eth_short].mark_price == pytest.approx(live[eth_short].mark_price * 1.2)


def test_liquidation_list_matches_the_engine_at_each_shock() -> None:
    snapshot = make_snapshot(example_portfolio())
    what_if = WhatIf()
    order = what_if.liquidation_order(snapshot)
    assert [abs(x.shock) for x in order] == sorted(abs(x.shock) for x in order)
    assert {x.key for x in order} == {r.key for r in snapshot.risk}
    prices = snapshot_prices(snapshot)
    for item in order:
        at = {r.key: r for r in evaluate_book(snapshot.portfolio, shocked_prices(
            snapshot.portfolio, prices, item.shock), None, snapshot.volatilities)}
        before = {r.key: r for r in evaluate_book(snapshot.portfolio, shocked_prices(
            snapshot.portfolio, prices, item.shock - 0.001 * (1 if item.shock > 0 else -1)), None,
            snapshot.volatilities)}
        assert at[item.key].status is Status.LIQUIDATION
        assert before[item.key].status is not Status.LIQUIDATION
    # for an isolated position the answer is known in closed form: liq / mark - 1
    btc = next(r for r in snapshot.risk if r.key.endswith("BTC/USDT:USDT:long:0"))
    found = next(x for x in order if x.key == btc.key)
    assert found.shock == pytest.approx(btc.liquidation_price / btc.mark_price - 1, abs=2e-4)


def test_gauges_riskiest_first_and_click_selects_the_row(window: MainWindow, qtbot) -> None:
    gauges = window.gauges
    risks = list(window.snapshot.risk)
    first = gauges.keys[0]
    top = next(r for r in risks if r.key == first)
    assert top.status.rank == max(r.status.rank for r in risks)
    ranks = [next(r for r in risks if r.key == k).status.rank for k in gauges.keys]
    assert ranks == sorted(ranks, reverse=True)
    # click on the second bar: its row becomes the table's selection and the bar is outlined
    window.show()
    qtbot.waitExposed(window)
    target = gauges.keys[1]
    with qtbot.waitSignal(gauges.bar_clicked, timeout=2000) as blocker:
        vb = gauges.getPlotItem().vb
        scene_pos = vb.mapViewToScene(QPointF(2.0, 1.0))
        view_pos = gauges.mapFromScene(scene_pos)
        qtbot.mouseClick(gauges.viewport(), Qt.MouseButton.LeftButton, pos=view_pos)
    assert blocker.args == [target]
    assert window.selected_key() == target
    assert gauges._highlight.isVisible()
    assert gauges._highlight.opts["y"][0] == 1.0


def test_selecting_a_row_highlights_its_bar(window: MainWindow) -> None:
    key = window.gauges.keys[3]
    window.select_key(key)
    assert window.gauges._highlight.opts["y"][0] == 3.0
    assert window.history_plot.key == key


def test_gauge_update_reuses_items_no_rebuild(qtbot) -> None:
    panel = GaugePanel()
    qtbot.addWidget(panel)
    portfolio = example_portfolio()
    panel.set_rows(list(make_snapshot(portfolio).risk))
    items = list(panel.getPlotItem().items)
    panel.set_rows(list(make_snapshot(portfolio, {"BTC": 55000.0}).risk))
    assert list(panel.getPlotItem().items) == items
