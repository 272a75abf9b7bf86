"""File menu CSV export: the snapshot at once, a history range in a worker with progress; never a partial file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from liqwatch.store.csv_export import CSV_COLUMNS
from liqwatch.store.db import open_database
from liqwatch.store.history import HistoryStore
from liqwatch.store.settings import Settings
from liqwatch.ui.csv_export_actions import install_csv_export, snapshot_csv
from liqwatch.ui.main_window import MainWindow
from tests.ui.snapshots import T0, example_portfolio, make_snapshot


def test_snapshot_csv_has_the_contract_columns_and_one_row_per_item() -> None:
    portfolio = example_portfolio()
    snapshot = make_snapshot(portfolio, stale=frozenset({portfolio.margin_accounts[0].key}))
    rows = list(csv.DictReader(io.StringIO(snapshot_csv(snapshot))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == portfolio.position_count
    assert rows[0]["stale"] == "true" and rows[1]["stale"] == "false"
    btc = next(r for r in rows if r["symbol"] == "BTC/USDT:USDT")
    assert btc["price_kind"] == "mark" and float(btc["liquidation_price"]) == 27000 / 0.498


def test_file_menu_exports_snapshot_and_history(qtbot, tmp_path: Path) -> None:
    portfolio = example_portfolio()
    HistoryStore(open_database()).write_snapshots(
        [make_snapshot(portfolio, {"BTC/USDT:USDT": 60000 + i}, sequence=i + 1, time=T0 + i) for i in range(50)])
    window = MainWindow(Settings(), portfolio)
    qtbot.addWidget(window)
    actions = install_csv_export(window)
    texts = [a.text() for a in window.file_menu.actions()]
    assert "Export snapshot to &CSV…" in texts and "Export &history to CSV…" in texts
    window.apply_snapshot(make_snapshot(portfolio, time=T0 + 100))
    snap = tmp_path / "snap.csv"
    actions.write_snapshot(window.snapshot, snap)
    assert snap.read_text(encoding="utf-8").startswith("timestamp,account,")

    target = tmp_path / "history.csv"
    actions.start_history_export(target, since=T0 + 10)
    qtbot.waitUntil(lambda: getattr(actions, "last_result", None) is not None, timeout=10_000)
    rows, error = actions.last_result
    assert error is None and rows == 40 * portfolio.position_count  # T0+10 … T0+49
    assert len(list(csv.DictReader(target.open(encoding="utf-8")))) == rows


def test_cancelled_history_export_leaves_no_file(qtbot, tmp_path: Path, monkeypatch) -> None:
    portfolio = example_portfolio()
    HistoryStore(open_database()).write_snapshots([make_snapshot(portfolio, time=T0)])
    window = MainWindow(Settings(), portfolio)
    qtbot.addWidget(window)
    actions = install_csv_export(window)
    target = tmp_path / "history.csv"
    actions._cancel.set()  # the trader pressed Cancel before the first chunk was written
    monkeypatch.setattr(actions._cancel, "clear", lambda: None)
    actions.start_history_export(target, since=None)
    qtbot.waitUntil(lambda: getattr(actions, "last_result", None) is not None, timeout=10_000)
    assert actions.last_result == (None, "cancelled")
    assert not target.exists() and list(tmp_path.iterdir()) == []
