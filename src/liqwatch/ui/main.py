"""`liqwatch [PORTFOLIO] [--config FILE] [--prices-from demo|<exchange id>] [--verbose]`: the window.

Start-up order matters: settings, logging and the stored book are read from disk, the window is shown, and only
then (on the first event-loop turn) the feed and poller are created, so neither the network nor the keyring is
touched before the trader sees the window. Without a display the command says so in one line and exits 3 instead of
letting Qt abort.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Slot  # importing QtCore needs no display; QApplication does

from liqwatch.ui import pyside_import_scan

pyside_import_scan.install()  # before the window's ~800 imports: PySide6 would tokenise each one's source

log = logging.getLogger(__name__)

EXIT_NO_DISPLAY = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liqwatch", description="LiqWatch: liquidation-risk monitor (window).")
    parser.add_argument("portfolio", nargs="?", help="portfolio file (TOML); default: the last book, else the demo")
    parser.add_argument("--config", metavar="FILE", help="settings file (default: the user's settings.toml)")
    parser.add_argument("--prices-from", metavar="SOURCE",
                        help="'demo' (simulated prices) or a ccxt exchange id; overrides the settings' feed")
    parser.add_argument("--verbose", action="store_true", help="log to stderr too")
    parser.add_argument("--what-if", type=float, metavar="PERCENT",
                        help="open with the what-if panel at this price shock, e.g. -20")
    return parser


def display_available(environ: Any = os.environ, platform: str = sys.platform) -> bool:
    """False on Linux/BSD with no X or Wayland display and no explicit Qt platform (e.g. offscreen)."""
    if environ.get("QT_QPA_PLATFORM"):
        return True
    if not (platform.startswith("linux") or "bsd" in platform):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def _load_settings(path: str | None) -> tuple[Any, list[str]]:
    from liqwatch.store.user_settings import load_user_settings

    return load_user_settings(path)


def _choose_portfolio(arg: str | None, qsettings: Any, repository: Any) -> tuple[Any, str]:
    """(portfolio, label). A given file is loaded (and, if it is the same file as last time, the stored book with
    the trader's edits is used instead); no file: the stored book, else the bundled demo."""
    from liqwatch.resources import resource_path
    from liqwatch.store.portfolio import load_portfolio

    stored = None
    if repository is not None:
        try:
            stored = repository.load_portfolio()
        except Exception:  # a damaged store must not stop monitoring: fall back to the file
            log.exception("cannot read the stored portfolio")
    last = qsettings.value("last_portfolio", "")
    if arg:
        path = str(Path(arg).resolve())
        if stored is not None and path == last:
            return stored, f"{path} (with edits)"
        portfolio = load_portfolio(path)
        qsettings.setValue("last_portfolio", path)
        if repository is not None:
            repository.save_portfolio(portfolio)
        return portfolio, path
    if stored is not None:
        return stored, "stored book"
    demo = resource_path("demo", "portfolio.toml")
    if not demo.exists():
        demo = resource_path("examples", "portfolio.toml")
    return load_portfolio(demo), "demo portfolio"


def _make_feed(source: str, portfolio: Any, settings: Any) -> Any:
    if source == "demo":
        from liqwatch.sources.simulated import SimulatedFeed

        return SimulatedFeed(portfolio, seed=settings.simulation_seed)
    from liqwatch.sources.ccxt_feed import CcxtFeed

    return CcxtFeed(source, settings.ccxt_config(source), stale_after=settings.stale_limit(source))


def run_gui(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    if not display_available():
        print("liqwatch: no display available (DISPLAY/WAYLAND_DISPLAY unset); "
              "for a terminal report use `liqwatch check PORTFOLIO`", file=sys.stderr)
        return EXIT_NO_DISPLAY

    from liqwatch.store.logs import setup_logging

    setup_logging(args.verbose)
    settings, settings_problems = _load_settings(args.config)
    source = args.prices_from or settings.feed

    from PySide6.QtCore import QCoreApplication, QSettings, Qt, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from liqwatch.store import paths
    from liqwatch.store.portfolio import PortfolioError

    if QApplication.instance() is None:
        QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    QCoreApplication.setOrganizationName("LiqWatch")
    QCoreApplication.setApplicationName("LiqWatch")
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setDesktopFileName("io.github.liqwatch.LiqWatch")
    from liqwatch.ui.busy_gate import favour_gui_thread

    favour_gui_thread()
    if not os.environ.get("LIQWATCH_ALLOW_SECOND_INSTANCE"):
        from liqwatch.ui.single_instance import claim_single_instance

        if not claim_single_instance(listen=False):  # another runs: it has been asked to raise its window
            print("liqwatch: already running; raised the existing window", file=sys.stderr)
            return 0
    from liqwatch.ui.theme import app_icon, apply_theme

    apply_theme(app, settings.theme)
    app.setWindowIcon(app_icon())
    qsettings = QSettings(str(paths.config_dir() / "window.ini"), QSettings.Format.IniFormat)

    repository = None
    try:
        from liqwatch.store.db import open_database
        from liqwatch.store.positions_repo import PositionsRepository

        repository = PositionsRepository(open_database())
    except Exception:  # the window still monitors without a store; edits then live only in memory
        log.exception("cannot open the database; edits will not be saved")

    try:
        portfolio, label = _choose_portfolio(args.portfolio, qsettings, repository)
    except PortfolioError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        QMessageBox.critical(None, "LiqWatch: cannot open the portfolio", "\n".join(exc.problems[:20]))
        return EXIT_NO_DISPLAY

    from liqwatch.ui.main_window import MainWindow

    window = MainWindow(settings, portfolio, qsettings)
    window.status_bar.set_feed(f"{source} · {label}")
    if os.environ.get("LIQWATCH_BENCH_FIRST_PAINT"):  # benchmarks/bench_startup.py: time to the first paint
        from liqwatch.ui.first_paint import report_first_paint

        report_first_paint(app, window)
    window.show()
    if settings_problems:
        window.statusBar().showMessage("Settings file has problems; using defaults: " + settings_problems[0], 15000)
    if args.what_if is not None:
        window.what_if_dock.show()
        window.what_if_panel.set_shock(args.what_if / 100.0)

    wiring = _Wiring(app, window, repository, settings, source)
    app.processEvents()  # deliver the first paint now: a 0 ms timer alone ran before it (bench_startup audit)
    QTimer.singleShot(0, wiring.start)  # network and keyring only after the window is up
    code = app.exec()
    wiring.stop()
    return int(code)


class _Wiring:
    """Owns the poller, the snapshot writer and the store saves; connects them to the window."""

    def __init__(self, app: Any, window: Any, repository: Any, settings: Any, source: str) -> None:
        self.app, self.window, self.repository, self.settings, self.source = app, window, repository, settings, source
        self.poller: Any = None
        self.writer: Any = None
        self.sink: Any = None
        self.imports: Any = None
        self.exporter: Any = None

    def start(self) -> None:
        from liqwatch.ui.workers.poller import PollerController

        window = self.window
        feed = _make_feed(self.source, window.portfolio, self.settings)
        self.poller = PollerController(window.portfolio, feed, self.settings,
                                       prepare=window.table_preparer.prepare, parent=window)
        self.poller.table_ready.connect(window.on_snapshot)  # the snapshot with its rows built off this thread
        window.poll_requested.connect(self.poller.poll_now)
        self.sink = _StoreSink(self, window)
        window.portfolio_changed.connect(self.sink.portfolio_changed)
        window.settings_changed.connect(self.sink.settings_changed)
        try:
            from liqwatch.store.history import RetentionPolicy
            from liqwatch.store.snapshot_writer import SnapshotWriter

            self.writer = SnapshotWriter(retention=RetentionPolicy.from_settings(self.settings))
            window.snapshot_applied.connect(self.sink.snapshot_applied)
            window.history_source = _stored_history_reader()
        except Exception:
            log.exception("cannot start the history writer; history lives in memory only")
        # --- alerts hook: the alerts helper's module wires tray, notifications, banner and alert log ---------
        try:
            from liqwatch.ui.alerts_wiring import install_alerts
        except ModuleNotFoundError as exc:
            if exc.name != "liqwatch.ui.alerts_wiring":
                raise
        else:
            install_alerts(self.app, window, self.poller, self.settings)
        # ------------------------------------------------------------------------------------------------------
        try:
            from liqwatch.ui.import_wiring import install_importer

            self.imports = install_importer(window, self.poller, self.settings, self.repository)
        except Exception:
            log.exception("cannot start the exchange importer; manual positions are still monitored")
        from liqwatch.ui.csv_export_actions import install_csv_export

        install_csv_export(window)
        try:
            from liqwatch.store.scheduled_export import ScheduledExporter

            self.exporter = ScheduledExporter.from_settings(self.settings)
        except Exception:
            log.exception("cannot set up the scheduled CSV export")
        self.poller.start()

    def stop(self) -> None:
        if self.imports is not None:
            self.imports.stop()
        if self.poller is not None:
            self.poller.stop()
        if self.writer is not None:
            self.writer.close()


def _stored_history_reader() -> Any:
    """A GUI-thread reader of the store's history for the plot: (key, since) -> (times, values, references)."""
    from liqwatch.store.db import open_database
    from liqwatch.store.history import HistoryStore

    store = HistoryStore(open_database())

    def read(key: str, since: float) -> tuple[Any, Any, Any]:
        series = store.history(key, since, None, max_points=5000)
        times, price, level_or_liq, _distance, _status = series
        margin = key.startswith("margin:")
        return (times, level_or_liq, price * float("nan")) if margin else (times, price, level_or_liq)

    return read


class _StoreSink(QObject):
    """GUI-thread receiver: saves edits to the store, re-polls, hands snapshots to the history writer."""

    def __init__(self, wiring: _Wiring, parent: QObject) -> None:
        super().__init__(parent)
        self.wiring = wiring

    @Slot(object)
    def portfolio_changed(self, portfolio: Any) -> None:
        w = self.wiring
        if w.repository is not None:
            try:
                w.repository.save_portfolio(portfolio)
            except Exception:
                log.exception("cannot save the portfolio")
                w.window.statusBar().showMessage("Could not save the edit to the database (see the log)", 15000)
        if w.poller is not None:
            w.poller.set_portfolio(w.imports.merge(portfolio) if w.imports is not None else portfolio)
            w.poller.poll_now()

    @Slot(object)
    def settings_changed(self, settings: Any) -> None:
        from liqwatch.store.user_settings import save_user_settings

        w = self.wiring
        w.settings = settings
        try:
            save_user_settings(settings)
        except OSError:
            log.exception("cannot save the settings")
        if w.poller is not None:
            if settings.feed != w.source:
                w.source = settings.feed
                w.poller.set_feed(_make_feed(settings.feed, w.window.portfolio, settings))
            w.poller.set_interval(settings.poll_interval(w.source))

    @Slot(object)
    def snapshot_applied(self, snapshot: Any) -> None:
        if self.wiring.writer is not None:
            self.wiring.writer.submit(snapshot)
        if self.wiring.exporter is not None:  # appends a few rows only every N minutes
            try:
                self.wiring.exporter.offer(snapshot)
            except OSError:
                log.exception("scheduled CSV export failed")
                self.wiring.window.statusBar().showMessage("Scheduled CSV export failed (see the log)", 15000)
