"""Accounts dialog, import worker and wiring under pytest-qt; and the canary: a secret never leaks."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring.backends.fail
import pytest
from PySide6.QtWidgets import QMainWindow

from liqwatch.domain.model import MarginAccount, Portfolio
from liqwatch.store.accounts import ExchangeAccount, load_accounts
from liqwatch.store.secrets import SERVICE, Credentials, SecretStore, forget_session
from liqwatch.store.settings import Settings
from liqwatch.ui.dialogs.accounts_dialog import AccountsDialog
from liqwatch.ui.import_wiring import ImportWiring
from liqwatch.ui.workers.importer import ImportBatch, Importer
from tests.fakes.binance_signed import SignedBinance
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.memory_keyring import MemoryKeyring, use_keyring

CANARY_KEY = "CANARYKEY7f3a9b2c"
CANARY_SECRET = "CANARYSECRETq8w7e6r5"


@pytest.fixture
def keyring_backend() -> Iterator[MemoryKeyring]:
    forget_session()
    with use_keyring(MemoryKeyring()) as backend:
        yield backend  # type: ignore[misc]
    forget_session()


@pytest.fixture
def signed() -> Iterator[SignedBinance]:
    with FakeBinance() as server:
        yield SignedBinance(server, api_key=CANARY_KEY, secret=CANARY_SECRET)


def _config(signed: SignedBinance) -> Any:
    return lambda exchange: {**signed.ccxt_config(), "timeout": 3000, "enableRateLimit": False}


def _fill(dialog: AccountsDialog, label: str, key: str, secret: str) -> None:
    dialog.exchange.setCurrentText("binance")
    dialog.label.setText(label)
    dialog.api_key.setText(key)
    dialog.secret.setText(secret)


def test_dialog_saves_to_keyring_then_checks_the_key(qtbot, keyring_backend: MemoryKeyring,
                                                     signed: SignedBinance) -> None:
    dialog = AccountsDialog(None, config_for=_config(signed), exchanges=["binance", "bybit", "okx"])
    qtbot.addWidget(dialog)
    assert dialog.exchange.itemText(0) == "binance"
    assert dialog.secret.echoMode() == dialog.secret.EchoMode.Password
    _fill(dialog, "Main", CANARY_KEY, CANARY_SECRET)
    with qtbot.waitSignal(dialog.key_checked, timeout=15000) as blocker:
        dialog.save_button.click()
    assert blocker.args[0].authenticated
    assert "Read-only: good" in dialog.result.text()
    (account,) = load_accounts()
    assert keyring_backend.writes == [(SERVICE, account.id)]
    assert dialog.secret.text() == "" and dialog.api_key.text() == ""
    signed.restrictions["enableWithdrawals"] = True
    dialog.account_list.setCurrentRow(0)
    dialog.secret.setText(CANARY_SECRET)
    dialog.api_key.setText(CANARY_KEY)
    with qtbot.waitSignal(dialog.key_checked, timeout=15000):
        dialog.save_button.click()
    assert "Warning: This key can do more than read: withdrawals" in dialog.result.text()
    dialog.done(0)


def test_dialog_without_secure_storage_refuses_then_offers_session_only(qtbot, signed: SignedBinance) -> None:
    forget_session()
    with use_keyring(keyring.backends.fail.Keyring()):
        dialog = AccountsDialog(None, config_for=_config(signed), exchanges=["binance"])
        qtbot.addWidget(dialog)
        assert "Secure storage unavailable" in dialog.backend_label.text()
        assert dialog.session_only.isChecked()
        dialog.session_only.setChecked(False)
        _fill(dialog, "Main", CANARY_KEY, CANARY_SECRET)
        dialog.save_button.click()
        assert dialog.result.text().startswith("Not saved: secure storage unavailable")
        assert load_accounts() == ()
        dialog.session_only.setChecked(True)
        _fill(dialog, "Main", CANARY_KEY, CANARY_SECRET)
        with qtbot.waitSignal(dialog.key_checked, timeout=15000):
            dialog.save_button.click()
        assert "[session only]" in dialog.account_list.item(0).text()
        dialog.done(0)
    forget_session()


def test_dialog_names_bad_fields(qtbot, keyring_backend: MemoryKeyring) -> None:
    dialog = AccountsDialog(None, exchanges=["binance"])
    qtbot.addWidget(dialog)
    dialog.save_button.click()
    text = dialog.result.text()
    assert "label must not be empty" in text and "API key must not be empty" in text
    assert keyring_backend.writes == []


class FakePoller:
    def __init__(self, portfolio: Portfolio) -> None:
        self.portfolio = portfolio
        self.history: list[Portfolio] = []

    def set_portfolio(self, portfolio: Portfolio) -> None:
        self.portfolio = portfolio
        self.history.append(portfolio)


def test_importer_keeps_last_good_book_stale_until_a_new_import_succeeds(
        qtbot, keyring_backend: MemoryKeyring, signed: SignedBinance) -> None:
    account = ExchangeAccount("acct1", "binance", "Main")
    store = SecretStore()
    store.save("acct1", Credentials(CANARY_KEY, CANARY_SECRET))
    window = QMainWindow()
    qtbot.addWidget(window)
    manual = MarginAccount(name="Manual", assets=())
    poller = FakePoller(Portfolio(margin_accounts=(manual,)))
    importer = Importer(3600, _config(signed), window, accounts_loader=lambda: (account,), store=store)
    wiring = ImportWiring(window, poller, Settings(), importer)
    assert any(a.text() == "Accounts…" for a in window.menuBar().actions()[0].menu().actions())
    try:
        with qtbot.waitSignal(importer.imported, timeout=20000) as first:
            importer.start()
        good: ImportBatch = first.args[0]
        assert not good.stale and good.books[0].position_count == 5
        assert poller.portfolio.margin_accounts[0] is manual
        assert {a.source for a in poller.portfolio.futures_accounts} == {"imported"}

        signed.revoked.add(CANARY_KEY)
        with qtbot.waitSignal(importer.imported, timeout=20000) as second:
            importer.request_import()
        stale: ImportBatch = second.args[0]
        (result,) = stale.results
        assert result.stale and result.problem_kind == "revoked"
        assert result.book == good.books[0]  # the last good import stays
        assert "revoked" in window.statusBar().currentMessage()
        assert poller.portfolio.futures_accounts == poller.history[0].futures_accounts

        signed.revoked.clear()
        with qtbot.waitSignal(importer.imported, timeout=20000) as third:
            importer.request_import()
        assert not third.args[0].stale
    finally:
        wiring.stop()


def test_canary_secret_never_reaches_files_or_logs(qtbot, caplog: pytest.LogCaptureFixture,
                                                   keyring_backend: MemoryKeyring, signed: SignedBinance,
                                                   _isolated_home: Path) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    dialog = AccountsDialog(None, config_for=_config(signed), exchanges=["binance"])
    qtbot.addWidget(dialog)
    _fill(dialog, "Canary", CANARY_KEY, CANARY_SECRET)
    with qtbot.waitSignal(dialog.key_checked, timeout=15000):
        dialog.save_button.click()
    seen.append(dialog.result.text())
    (account,) = load_accounts()
    importer = Importer(3600, _config(signed), None, accounts_loader=lambda: (account,))
    try:
        with qtbot.waitSignal(importer.imported, timeout=20000) as good:
            importer.start()
        assert not good.args[0].stale
        signed.keys = {CANARY_KEY: "a-different-secret"}  # the failing-auth path (bad signature)
        with qtbot.waitSignal(importer.imported, timeout=20000) as bad:
            importer.request_import()
        assert bad.args[0].stale
        seen.append(bad.args[0].status_message())
        signed.revoked.add(CANARY_KEY)
        with qtbot.waitSignal(dialog.key_checked, timeout=15000):
            dialog._start_check(account, Credentials(CANARY_KEY, CANARY_SECRET))
        seen.append(dialog.result.text())
    finally:
        importer.stop()
        dialog.done(0)
    assert "failed" in seen[-1]
    logging.getLogger("liqwatch.test").warning("probe: %s", seen)
    for needle in (CANARY_SECRET, CANARY_KEY):
        leaked = [p for p in _isolated_home.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]
        assert leaked == [], f"{needle} written to {leaked}"
        assert needle not in caplog.text
        assert not any(needle in s for s in seen)
    assert keyring_backend.store  # the secret is in the keyring, and only there
