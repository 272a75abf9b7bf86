"""The Accounts dialog: add, edit and remove exchange accounts; keys go to the OS keyring, then get checked.

Why the care: the key and secret are typed once into password fields and handed to `SecretStore` — the only
place they are written — and the fields are cleared right after. If the keyring cannot protect them, the dialog
says "secure storage unavailable: …" and offers "use for this session only" instead of a plaintext file. After
saving, the key is checked off the GUI thread: it must authenticate, and where the exchange reports permissions
(Binance `apiRestrictions`) the dialog warns plainly if trading or withdrawal is enabled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QThread, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from liqwatch.sources.import_run import KeyCheck, check_key, supported_exchanges
from liqwatch.store.accounts import (
    AccountsError,
    ExchangeAccount,
    account_problems,
    default_kinds,
    load_accounts,
    new_account_id,
    save_accounts,
)
from liqwatch.store.secrets import Credentials, SecretStore, SecureStorageUnavailableError

ConfigFor = Callable[[str], Mapping[str, Any]]


class KeyCheckThread(QThread):
    """Runs `check_key` off the GUI thread; `checked` arrives in the GUI thread (queued)."""

    checked = Signal(object)  # KeyCheck

    def __init__(self, account: ExchangeAccount, credentials: Credentials, config: Mapping[str, Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._account, self._credentials, self._config = account, credentials, dict(config)

    def run(self) -> None:
        self.checked.emit(check_key(self._account, self._credentials, self._config))


class AccountsDialog(QDialog):
    """`AccountsDialog(parent)` is all the main window needs; `accounts_changed` fires after a save or removal."""

    accounts_changed = Signal()
    key_checked = Signal(object)  # KeyCheck, after the background check finishes

    def __init__(self, parent: QWidget | None = None, *, store: SecretStore | None = None,
                 config_for: ConfigFor | None = None, exchanges: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Accounts")
        self._store = store or SecretStore()
        self._config_for = config_for or (lambda exchange: {})
        self._check: KeyCheckThread | None = None
        self._editing: str | None = None
        try:
            self._accounts = list(load_accounts())
            load_error = ""
        except AccountsError as exc:
            self._accounts = []
            load_error = f"The accounts file cannot be read, nothing will be overwritten: {exc.problems[0]}"

        self.account_list = QListWidget()
        self.exchange = QComboBox()
        self.exchange.addItems(exchanges if exchanges is not None else supported_exchanges())
        self.label = QLineEdit()
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("only for exchanges that use one (OKX)")
        self.testnet = QCheckBox("Testnet (sandbox)")
        self.session_only = QCheckBox("Use for this session only (do not store the key)")
        self.backend_label = QLabel()
        self.backend_label.setWordWrap(True)
        self.result = QLabel(load_error)
        self.result.setWordWrap(True)
        self.new_button = QPushButton("New")
        self.save_button = QPushButton("Save and check key")
        self.remove_button = QPushButton("Remove")
        self.close_button = QPushButton("Close")

        form = QFormLayout()
        form.addRow("Exchange", self.exchange)
        form.addRow("Label", self.label)
        form.addRow("API key", self.api_key)
        form.addRow("Secret", self.secret)
        form.addRow("Passphrase", self.passphrase)
        form.addRow("", self.testnet)
        form.addRow("", self.session_only)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.save_button, self.remove_button, self.close_button):
            buttons.addWidget(button)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.backend_label)
        right.addWidget(self.result)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addWidget(self.account_list, 1)
        layout.addLayout(right, 2)

        self.new_button.clicked.connect(self.new_account)
        self.save_button.clicked.connect(self.save)
        self.remove_button.clicked.connect(self.remove)
        self.close_button.clicked.connect(self.accept)
        self.account_list.currentItemChanged.connect(self._on_selected)
        self._refresh_backend()
        self._refresh_list()

    # --- state -------------------------------------------------------------------------------------------------
    def _refresh_backend(self) -> None:
        status = self._store.status()
        if status.usable:
            self.backend_label.setText(f"API keys are kept in the OS keyring ({status.backend}).")
        else:
            self.backend_label.setText(
                status.message[0].upper() + status.message[1:]
                + ". Keys cannot be saved; tick \"Use for this session only\" to use a key until LiqWatch quits."
            )
            self.session_only.setChecked(True)

    def _refresh_list(self) -> None:
        self.account_list.blockSignals(True)
        self.account_list.clear()
        for account in self._accounts:
            where = self._store.storage(account.id)
            extra = " [testnet]" if account.testnet else ""
            extra += " [session only]" if where == "session" else (" [no key]" if where is None else "")
            item = QListWidgetItem(f"{account.label} — {account.exchange}{extra}")
            item.setData(256, account.id)
            self.account_list.addItem(item)
        self.account_list.blockSignals(False)

    @Slot()
    def new_account(self) -> None:
        self._editing = None
        self.account_list.clearSelection()
        self.label.clear()
        self._clear_secrets()
        self.testnet.setChecked(False)
        self.result.clear()

    def _clear_secrets(self) -> None:
        for field in (self.api_key, self.secret, self.passphrase):
            field.clear()

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_selected(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is None:
            return
        account = next((a for a in self._accounts if a.id == current.data(256)), None)
        if account is None:
            return
        self._editing = account.id
        self.exchange.setCurrentText(account.exchange)
        self.label.setText(account.label)
        self.testnet.setChecked(account.testnet)
        self._clear_secrets()
        self.api_key.setPlaceholderText("unchanged (type to replace)")
        self.secret.setPlaceholderText("unchanged (type to replace)")

    # --- actions -----------------------------------------------------------------------------------------------
    @Slot()
    def save(self) -> None:
        """Validate, store the secret (keyring or session), write the record, then check the key."""
        exchange = self.exchange.currentText().strip()
        existing = next((a for a in self._accounts if a.id == self._editing), None)
        account = ExchangeAccount(
            id=existing.id if existing else new_account_id(), exchange=exchange, label=self.label.text().strip(),
            testnet=self.testnet.isChecked(),
            kinds=existing.kinds if existing and existing.exchange == exchange else default_kinds(exchange),
            enabled=existing.enabled if existing else True,
        )
        problems = [p.replace("account: ", "") for p in account_problems(account)]
        key, secret, passphrase = self.api_key.text().strip(), self.secret.text().strip(), self.passphrase.text()
        replacing = bool(key or secret)
        if not existing or replacing:
            if not key:
                problems.append("API key must not be empty")
            if not secret:
                problems.append("Secret must not be empty")
        if any(p.label == account.label and p.id != account.id for p in self._accounts):
            problems.append(f"label {account.label!r} is already used by another account")
        if problems:
            self.result.setText("Not saved: " + "; ".join(problems))
            return
        credentials = Credentials(key, secret, passphrase) if replacing else self._store.load(account.id)
        if replacing:
            try:
                where = self._store.save(account.id, credentials, session_only=self.session_only.isChecked())
            except SecureStorageUnavailableError as exc:
                self.result.setText(f"Not saved: {exc}. Tick \"Use for this session only\" to use the key until "
                                    "LiqWatch quits; it will not be written anywhere.")
                return
        else:
            where = self._store.storage(account.id) or "none"
        self._clear_secrets()
        self._accounts = [a for a in self._accounts if a.id != account.id] + [account]
        save_accounts(self._accounts)
        self._editing = account.id
        self._refresh_list()
        self.accounts_changed.emit()
        stored = "in the OS keyring" if where == "keyring" else "for this session only (not stored)"
        if credentials is None:
            self.result.setText(f"Saved {account.label}; no key is available to check.")
            return
        self.result.setText(f"Saved {account.label}; key kept {stored}. Checking the key…")
        self._start_check(account, credentials)

    def _start_check(self, account: ExchangeAccount, credentials: Credentials) -> None:
        self._wait_check()
        self._check = KeyCheckThread(account, credentials, self._config_for(account.exchange), self)
        self._check.checked.connect(self._on_checked)
        self._check.start()

    @Slot(object)
    def _on_checked(self, check: KeyCheck) -> None:
        if check.authenticated:
            text = "Key check: " + check.message + "."
            if check.read_only:
                text += " Read-only: good."
            if check.warnings:
                text += "\nWarning: " + "\nWarning: ".join(check.warnings)
        else:
            text = "Key check failed: " + check.message
        self.result.setText(text)
        self.key_checked.emit(check)

    @Slot()
    def remove(self) -> None:
        if self._editing is None:
            self.result.setText("Select an account to remove.")
            return
        self._store.delete(self._editing)
        self._accounts = [a for a in self._accounts if a.id != self._editing]
        save_accounts(self._accounts)
        self.new_account()
        self._refresh_list()
        self.result.setText("Account removed; its key was deleted from the keyring.")
        self.accounts_changed.emit()

    def _wait_check(self) -> None:
        if self._check is not None:
            self._check.wait()
            self._check = None

    def done(self, result: int) -> None:
        self._wait_check()
        super().done(result)
