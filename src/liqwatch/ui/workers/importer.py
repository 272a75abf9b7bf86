"""The import worker: re-syncs every exchange account on a slow schedule (`Settings.resync_interval`, 60 s) and on
demand, in its own thread, and emits one immutable `ImportBatch` per round.

Why a separate worker from the price poller: imports are slow (several signed requests, rate-limit weight 10+
each) and fail differently (keys, clocks, bans). A failed round never blanks the book: each account's last good
import stays in the batch, marked `stale=True` with the specific reason, until a new import succeeds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from liqwatch.sources.import_common import ImportedBook
from liqwatch.sources.import_errors import ExchangeImportError, sanitise
from liqwatch.sources.import_run import run_import
from liqwatch.store.accounts import AccountsError, ExchangeAccount, load_accounts
from liqwatch.store.secrets import Credentials, SecretStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountImport:
    """One account after a round: its last good book (or None) and whether that book is stale, and why."""

    account_id: str
    label: str
    exchange: str
    book: ImportedBook | None
    stale: bool
    reason: str = ""
    problem_kind: str | None = None
    last_success: float | None = None


@dataclass(frozen=True)
class ImportBatch:
    time: float
    results: tuple[AccountImport, ...] = ()
    error: str = ""  # a problem with the accounts file itself

    @property
    def books(self) -> tuple[ImportedBook, ...]:
        return tuple(r.book for r in self.results if r.book is not None)

    @property
    def stale(self) -> bool:
        return bool(self.error) or any(r.stale for r in self.results)

    def status_message(self) -> str:
        """One line for the status bar: empty when every import is fresh."""
        problems = [f"{r.label}: {r.reason}" for r in self.results if r.stale]
        if self.error:
            problems.insert(0, self.error)
        return "import stale — " + "; ".join(problems) if problems else ""


ConfigFor = Callable[[str], Mapping[str, Any]]


class ImporterWorker(QObject):
    """Lives in the import thread; every slot runs there."""

    imported = Signal(object)  # ImportBatch

    def __init__(self, interval_s: float, config_for: ConfigFor,
                 accounts_loader: Callable[[], tuple[ExchangeAccount, ...]] = load_accounts,
                 store: SecretStore | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._interval_ms = max(1, int(interval_s * 1000))
        self._config_for = config_for
        self._load = accounts_loader
        self._store = store or SecretStore()
        self._clock = clock
        self._timer: QTimer | None = None
        self._last: dict[str, AccountImport] = {}
        self._clients: dict[str, tuple[ExchangeAccount, Credentials, Any]] = {}

    @Slot()
    def start(self) -> None:
        self._timer = QTimer(self)
        self._timer.setInterval(self._interval_ms)
        self._timer.timeout.connect(self.import_now)
        self._timer.start()
        self.import_now()

    @Slot()
    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._clients.clear()

    @Slot()
    def import_now(self) -> None:
        try:
            self.imported.emit(self._round())
        except Exception:  # a bug: log it with its traceback; the next round tries again
            log.exception("import round failed")

    def _client_for(self, account: ExchangeAccount, credentials: Credentials) -> Any:
        from liqwatch.sources.import_common import make_client

        cached = self._clients.get(account.id)
        if cached and cached[0] == account and cached[1] == credentials:
            return cached[2]
        client = make_client(account, credentials, self._config_for(account.exchange))
        self._clients[account.id] = (account, credentials, client)
        return client

    def _round(self) -> ImportBatch:
        now = self._clock()
        try:
            accounts = tuple(a for a in self._load() if a.enabled)
        except AccountsError as exc:
            return ImportBatch(now, tuple(self._last.values()), f"accounts file: {exc.problems[0]}")
        results = []
        for account in accounts:
            previous = self._last.get(account.id)
            credentials = self._store.load(account.id)
            try:
                if credentials is None:
                    run_import(account, None)
                client = self._client_for(account, credentials)  # type: ignore[arg-type]
                book = run_import(account, credentials, client=client,
                                  had_success=previous is not None and previous.last_success is not None,
                                  clock=self._clock)
                result = AccountImport(account.id, account.label, account.exchange, book, False,
                                       last_success=book.fetched_at)
            except ExchangeImportError as exc:
                self._clients.pop(account.id, None)
                reason = exc.problem.message
                log.warning("import %s failed: %s", account.label, reason)
                result = AccountImport(
                    account.id, account.label, account.exchange, previous.book if previous else None, True,
                    reason, exc.problem.kind, previous.last_success if previous else None,
                )
            except Exception as exc:  # a bug; keep the last good book, stale
                self._clients.pop(account.id, None)
                log.exception("import %s: unexpected error", account.label)
                reason = sanitise(f"unexpected error: {type(exc).__name__}: {exc}",
                                  credentials.values() if credentials else ())
                result = AccountImport(account.id, account.label, account.exchange,
                                       previous.book if previous else None, True, reason, "exchange",
                                       previous.last_success if previous else None)
            self._last[account.id] = result
            results.append(result)
        known = {a.id for a in accounts}
        for gone in set(self._last) - known:  # an account removed in the dialog takes its positions with it
            del self._last[gone]
            self._clients.pop(gone, None)
        return ImportBatch(now, tuple(results))


class Importer(QObject):
    """GUI-side owner of the import thread. `imported` is re-emitted in the GUI thread."""

    imported = Signal(object)  # ImportBatch
    _start_requested = Signal()
    _import_requested = Signal()
    _stop_requested = Signal()

    def __init__(self, interval_s: float, config_for: ConfigFor, parent: QObject | None = None, *,
                 accounts_loader: Callable[[], tuple[ExchangeAccount, ...]] = load_accounts,
                 store: SecretStore | None = None) -> None:
        super().__init__(parent)
        self.latest: ImportBatch | None = None
        self._thread = QThread()
        self._thread.setObjectName("liqwatch-importer")
        self._worker = ImporterWorker(interval_s, config_for, accounts_loader, store)
        self._worker.moveToThread(self._thread)
        self._start_requested.connect(self._worker.start)
        self._import_requested.connect(self._worker.import_now)
        self._stop_requested.connect(self._worker.stop)
        self._worker.imported.connect(self._on_imported)
        self._thread.finished.connect(self._worker.deleteLater)

    def start(self) -> None:
        if not self._thread.isRunning():
            self._thread.start()
            self._start_requested.emit()

    @Slot()
    def request_import(self) -> None:
        """Import now (the dialog after a save, a "Re-sync" action)."""
        if self._thread.isRunning():
            self._import_requested.emit()

    def stop(self) -> None:
        if self._thread.isRunning():
            self._stop_requested.emit()
            self._thread.quit()
            self._thread.wait()

    @Slot(object)
    def _on_imported(self, batch: ImportBatch) -> None:
        self.latest = batch
        self.imported.emit(batch)
