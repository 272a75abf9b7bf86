"""Editing dialogs reject each bad field by name (the portfolio file's own rules), OK disabled until valid;
delete is undoable; settings dialog validates through settings_from_dict."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from liqwatch.store.settings import Settings
from liqwatch.ui.dialogs.futures_dialog import FuturesPositionDialog
from liqwatch.ui.dialogs.margin_dialog import MarginAccountDialog
from liqwatch.ui.dialogs.settings_dialog import SettingsDialog
from liqwatch.ui.main_window import MainWindow
from tests.ui.snapshots import example_portfolio, make_snapshot


def _ok(dialog) -> bool:
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


@pytest.mark.parametrize(("field", "value", "words"), [
    ("contracts", "-3", "contracts must be > 0"),
    ("contracts", "abc", "contracts must be a number"),
    ("entry_price", "0", "entry_price must be > 0"),
    ("symbol", "BTCUSDT", "symbol must be a ccxt perpetual"),
    ("leverage", "0.5", "leverage must be >= 1"),
    ("maint_margin_rate", "0.01", "maint_margin_rate and maint_amount go together"),
    ("wallet_balance", "-1", "wallet_balance must be >= 0"),
    ("settle", "USDC", "settles in USDT"),
    ("warning_distance", "15", "warning_distance must be a fraction"),
    ("danger_distance", "0.5", "danger_distance must be <= warning_distance"),
])
def test_futures_dialog_rejects_each_bad_field(qtbot, field: str, value: str, words: str) -> None:
    dialog = FuturesPositionDialog(example_portfolio(), (0, 0))
    qtbot.addWidget(dialog)
    assert _ok(dialog), dialog.problems
    if field == "danger_distance":
        dialog.fields["warning_distance"].setText("0.2")
        assert _ok(dialog), dialog.problems
    dialog.fields[field].setText(value)
    assert not _ok(dialog)
    assert any(words in p for p in dialog.problems), dialog.problems
    assert dialog.fields[field].styleSheet(), "the bad field is marked"
    assert words in dialog.problem_label.text()


@pytest.mark.parametrize(("field", "value", "words"), [
    ("name", "ETH isolated", "name must be unique"),
    ("liquidation_level", "-1", "liquidation_level must be > 0"),
    ("margin_call_level", "1.0", "margin_call_level must be > liquidation_level"),
    ("symbol", "ETHUSDT", "symbol must be a spot pair"),
    ("warning_level", "1.2", "warning_level must be > margin_call_level"),
])
def test_margin_dialog_rejects_each_bad_field(qtbot, field: str, value: str, words: str) -> None:
    dialog = MarginAccountDialog(example_portfolio(), 0)
    qtbot.addWidget(dialog)
    assert _ok(dialog), dialog.problems
    if field == "symbol":
        dialog.fields["mode"].setCurrentText("isolated")
    dialog.fields[field].setText(value)
    assert not _ok(dialog)
    assert any(words in p for p in dialog.problems), dialog.problems
    assert dialog.fields[field].styleSheet()


def test_margin_dialog_asset_cell_problem_names_the_field(qtbot) -> None:
    dialog = MarginAccountDialog(example_portfolio(), 0)
    qtbot.addWidget(dialog)
    dialog.set_cell(0, "borrowed", "-5")
    assert not _ok(dialog)
    assert any("asset 1: borrowed must be >= 0, got -5" in p for p in dialog.problems), dialog.problems


def test_new_margin_account_becomes_valid_and_is_added(qtbot) -> None:
    portfolio = example_portfolio()
    dialog = MarginAccountDialog(portfolio)
    qtbot.addWidget(dialog)
    assert not _ok(dialog)  # no name yet
    dialog.fields["name"].setText("New cross")
    dialog.set_cell(0, "total", "1000")
    dialog.set_cell(0, "borrowed", "500")
    assert _ok(dialog), dialog.problems
    new = dialog.new_portfolio()
    assert [a.name for a in new.margin_accounts] == [*[a.name for a in portfolio.margin_accounts], "New cross"]
    assert new.margin_accounts[-1].assets[0].borrowed == 500
    assert new.futures_accounts is portfolio.futures_accounts


def test_edit_position_keeps_other_positions(qtbot) -> None:
    portfolio = example_portfolio()
    dialog = FuturesPositionDialog(portfolio, (0, 1))
    qtbot.addWidget(dialog)
    dialog.fields["contracts"].setText("12")
    assert _ok(dialog), dialog.problems
    new = dialog.new_portfolio()
    account = new.futures_accounts[0]
    assert account.positions[1].contracts == 12
    assert account.positions[0] == portfolio.futures_accounts[0].positions[0]
    assert new.futures_accounts[1] is portfolio.futures_accounts[1]


def test_delete_is_undoable(qtbot) -> None:
    portfolio = example_portfolio()
    window = MainWindow(Settings(), portfolio)
    qtbot.addWidget(window)
    window.apply_snapshot(make_snapshot(portfolio))
    changes = []
    window.portfolio_changed.connect(changes.append)
    window.select_key("margin:ETH isolated")
    window.delete_selected()
    assert [a.name for a in window.portfolio.margin_accounts] == ["Binance cross"]
    window.undo_action.trigger()
    assert window.portfolio == portfolio
    assert len(changes) == 2 and changes[-1] == portfolio


@pytest.mark.parametrize(("field", "value", "words"), [
    ("poll_interval_demo", "0.01", "poll_interval_demo must be >= 0.1"),
    ("futures_danger_distance", "0.5", "danger <= warning"),
    ("horizon_hours", "x", "horizon_hours"),
])
def test_settings_dialog_rejects_bad_fields(qtbot, field: str, value: str, words: str) -> None:
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    assert _ok(dialog)
    dialog.fields[field].setText(value)
    assert not _ok(dialog)
    assert words in dialog.problem_label.text()


def test_settings_dialog_returns_the_new_settings(qtbot) -> None:
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.fields["futures_warning_distance"].setText("0.2")
    dialog.theme.setCurrentText("dark")
    assert dialog.result_settings.thresholds.futures_warning_distance == 0.2
    assert dialog.result_settings.theme == "dark"
