"""Two lines for the main window: `install_importer(window, poller, settings)`.

Adds "Accounts…" and "Re-sync accounts" to the window's File menu, starts the import worker, and on every import
round hands the poller the manual book with the imported items merged in (`merge_imported`: manual entries are
never overwritten; imported ones carry `source="imported"`). A stale import shows its reason in the status bar.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QWidget

from liqwatch.domain.model import Portfolio
from liqwatch.sources.import_run import merge_imported
from liqwatch.store.settings import Settings
from liqwatch.ui.dialogs.accounts_dialog import AccountsDialog
from liqwatch.ui.workers.importer import ImportBatch, Importer


def _file_menu(window: QWidget) -> QMenu | None:
    if not isinstance(window, QMainWindow):
        return None
    bar = window.menuBar()
    for action in bar.actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and menu.title().replace("&", "").strip().lower() == "file":
            return menu
    return bar.addMenu("&File")


def _current_portfolio(poller: Any) -> Portfolio:
    """The poller's book (attribute or method `portfolio`); its imported items are replaced by the merge."""
    value = getattr(poller, "portfolio", None)
    if callable(value):
        value = value()
    if not isinstance(value, Portfolio):
        # Merging into an empty book would drop every manual entry: refuse loudly instead.
        raise TypeError(f"the poller must expose its Portfolio as `portfolio`, got {type(value).__name__}")
    return value


class ImportWiring(QObject):
    """Owns the importer for a window; `stop()` ends its thread (also on application quit)."""

    def __init__(self, window: QWidget, poller: Any, settings: Settings, importer: Importer,
                 repository: Any = None) -> None:
        super().__init__(window)
        _current_portfolio(poller)  # fail at wiring time, not at the first import
        self.window, self.poller, self.settings, self.importer = window, poller, settings, importer
        self.repository = repository  # PositionsRepository: the last good import is cached there
        self.books: tuple[Any, ...] = ()  # the last import round's books, re-merged after every manual edit
        self.accounts_action = QAction("Accounts…", window)
        self.resync_action = QAction("Re-sync accounts", window)
        self.accounts_action.triggered.connect(self.open_accounts)
        self.resync_action.triggered.connect(importer.request_import)
        menu = _file_menu(window)
        if menu is not None:
            first = menu.actions()[0] if menu.actions() else None
            menu.insertAction(first, self.accounts_action)
            menu.insertAction(first, self.resync_action)
        importer.imported.connect(self._on_batch)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)

    def merge(self, manual: Portfolio) -> Portfolio:
        """A manual book (e.g. just edited in the window) with the last imported items merged back in, so an edit
        never makes imported positions look vanished."""
        return merge_imported(manual, self.books) if self.books else manual

    @Slot(object)
    def _on_batch(self, batch: ImportBatch) -> None:
        self.books = tuple(batch.books)
        merged = merge_imported(_current_portfolio(self.poller), self.books)
        self.poller.set_portfolio(merged)
        if self.repository is not None:
            try:
                self.repository.save_imported(
                    [a for a in merged.margin_accounts if a.source == "imported"],
                    [a for a in merged.futures_accounts if a.source == "imported"],
                )
            except Exception:  # the cache is a convenience; monitoring goes on without it
                import logging

                logging.getLogger(__name__).exception("cannot cache the imported accounts")
        message = batch.status_message()
        if isinstance(self.window, QMainWindow) and message:
            self.window.statusBar().showMessage(message)

    @Slot()
    def open_accounts(self) -> None:
        dialog = AccountsDialog(self.window, config_for=self.settings.ccxt_config)
        dialog.exec()
        self.importer.request_import()

    @Slot()
    def stop(self) -> None:
        self.importer.stop()


def install_importer(window: QWidget, poller: Any, settings: Settings, repository: Any = None) -> ImportWiring:
    """Start importing every configured account every `settings.resync_interval` seconds and on demand."""
    importer = Importer(settings.resync_interval, settings.ccxt_config, window)
    wiring = ImportWiring(window, poller, settings, importer, repository)
    importer.start()
    return wiring
