"""The history plot spans more than the in-memory buffer: older samples come from the store."""

from __future__ import annotations

from dataclasses import replace

import pytest

from liqwatch.store.db import open_database
from liqwatch.store.history import HistoryStore
from liqwatch.store.settings import Settings
from liqwatch.ui.main import _stored_history_reader
from liqwatch.ui.main_window import MainWindow
from tests.ui.snapshots import T0, example_portfolio, make_snapshot


def test_plot_joins_stored_history_before_the_ring_buffer(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    import liqwatch.ui.main_window as main_window

    now = T0 + 3600
    monkeypatch.setattr(main_window.time, "time", lambda: now)
    portfolio = example_portfolio()
    key = portfolio.futures_accounts[0].position_key(0)
    # an hour ago (a previous run): BTC at 61,000, written to the store only
    old = make_snapshot(portfolio, {"BTC/USDT:USDT": 61000.0}, time=T0)
    HistoryStore(open_database()).write_snapshots([old])

    window = MainWindow(Settings(), portfolio)
    qtbot.addWidget(window)
    window.history_source = _stored_history_reader()
    window.apply_snapshot(replace(make_snapshot(portfolio, {"BTC/USDT:USDT": 60500.0}, time=now), sequence=2))
    window.select_key(key)
    window._refresh_history_plot()
    xs, ys = window.history_plot.curve.getData()
    assert list(xs) == pytest.approx([T0, now])
    assert list(ys) == pytest.approx([61000.0, 60500.0])
    legend = [label.text for _, label in window.history_plot.legend.items]
    assert "mark price" in legend
