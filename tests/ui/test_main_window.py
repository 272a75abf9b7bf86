"""Window wiring: newest-snapshot-only application, hooks for the alerts, persistence, command line."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt

from liqwatch.store import paths
from liqwatch.store.settings import Settings
from liqwatch.ui.main import build_parser, display_available, run_gui
from liqwatch.ui.main_window import MainWindow
from tests.ui.snapshots import example_portfolio, make_snapshot


def test_only_the_newest_pending_snapshot_is_applied(qtbot) -> None:
    portfolio = example_portfolio()
    window = MainWindow(Settings(), portfolio)
    qtbot.addWidget(window)
    applied = []
    window.snapshot_applied.connect(applied.append)
    for seq in (1, 2, 3):
        window.on_snapshot(make_snapshot(portfolio, {"BTC": 60000.0 + seq}, sequence=seq))
    qtbot.waitUntil(lambda: bool(applied), timeout=2000)
    qtbot.wait(250)
    assert [s.sequence for s in applied] == [3]
    assert "Updated" in window.status_bar.updated_label.text()
    assert "Warning" in window.status_bar.worst_label.text()


def test_selection_survives_updates(qtbot) -> None:
    portfolio = example_portfolio()
    window = MainWindow(Settings(), portfolio)
    qtbot.addWidget(window)
    window.apply_snapshot(make_snapshot(portfolio))
    key = "futures:Binance COIN-M:BTC/USD:BTC:long:0"
    window.select_key(key)
    window.apply_snapshot(make_snapshot(portfolio, {"BTC": 58000.0, "BTC/USD:BTC": 58000.0}, sequence=2))
    assert window.selected_key() == key


def test_hooks_for_alerts_exist(qtbot) -> None:
    window = MainWindow(Settings(), example_portfolio())
    qtbot.addWidget(window)
    from PySide6.QtWidgets import QLabel

    window.show_banner_area(QLabel("banner"))
    assert window.banner_container.count() == 1
    dock = window.add_dock(QLabel("log"), Qt.DockWidgetArea.BottomDockWidgetArea)
    assert dock.toggleViewAction() in window.view_menu.actions()
    window.status_bar.add_permanent(QLabel("x"))
    assert window.close_to_tray is False and window.file_menu is not None


def test_geometry_splitters_and_columns_persist(qtbot) -> None:
    path = str(paths.config_dir() / "window.ini")
    first = MainWindow(Settings(), example_portfolio(), QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.resize(1000, 700)
    first.table.setColumnWidth(0, 222)
    first.table.setColumnHidden(1, True)
    first.save_state()
    second = MainWindow(Settings(), example_portfolio(), QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.table.columnWidth(0) == 222
    assert second.table.isColumnHidden(1)


def test_no_display_exits_3_with_one_line(monkeypatch, capsys) -> None:
    assert not display_available({}, "linux")
    assert display_available({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert display_available({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert run_gui([]) == 3
    err = capsys.readouterr().err
    assert "liqwatch check" in err and err.count("\n") == 1


def test_command_line() -> None:
    args = build_parser().parse_args(["p.toml", "--config", "s.toml", "--prices-from", "binance", "--verbose"])
    assert (args.portfolio, args.config, args.prices_from, args.verbose) == ("p.toml", "s.toml", "binance", True)


def test_a_poll_that_only_moves_the_selected_row_does_not_redraw_its_history(qtbot, monkeypatch) -> None:
    """Re-sorting moves the selected row (Qt reports a current-row change); in a big book, whose plots redraw on
    their own timer, the plot is redrawn at once only when the trader selects another row."""
    import numpy as np
    from benchmarks.book_factory import make_book, moved

    portfolio, prices = make_book(400)
    window = MainWindow(Settings(), portfolio)
    qtbot.addWidget(window)
    window.apply_snapshot(make_snapshot(portfolio, prices))
    key = window.model.key_at(window.proxy.mapToSource(window.proxy.index(150, 0)).row())
    window.select_key(key)
    redraws = []
    monkeypatch.setattr(window, "_refresh_history_plot", lambda: redraws.append(1))
    rng = np.random.default_rng(3)
    for sequence in range(2, 6):
        prices = moved(prices, rng)
        snapshot = make_snapshot(portfolio, prices, sequence=sequence)
        window.apply_snapshot(snapshot, window.table_preparer.prepare(snapshot))
    row_after = window.proxy.mapFromSource(window.model.index(window.model.row_for_key(key), 0)).row()
    assert row_after != 150 and window.selected_key() == key
    assert redraws == []
    window.select_key(window.model.key_at(0))
    assert redraws == [1]


def test_heavy_steps_wait_for_the_event_loop_to_breathe(qtbot) -> None:
    """A pending snapshot is applied only after `STEP_GAP_MS` of idle event loop since the last busy spell."""
    from liqwatch.ui.busy_gate import GUI_BUSY
    from liqwatch.ui.main_window import STEP_GAP_MS

    portfolio = example_portfolio()
    window = MainWindow(Settings(), portfolio)
    qtbot.addWidget(window)
    applied = []
    window.snapshot_applied.connect(applied.append)
    with GUI_BUSY.busy():
        window.on_snapshot(make_snapshot(portfolio))
        window._run_step()  # just busy: it must reschedule itself, not apply now
        assert applied == []
    window._run_step()  # 0 ms after the spell: still too soon
    assert applied == [] and window._step_timer.isActive()
    qtbot.waitUntil(lambda: bool(applied), timeout=1000)
    assert GUI_BUSY.idle_for() >= 0 and STEP_GAP_MS >= 1
