"""File menu: export the current snapshot, or a range of the stored history, to CSV (the `CSV_COLUMNS` contract).

The snapshot is a few rows and is written at once. A history range can be millions of rows: it is written by a
worker thread into a temporary file beside the target (renamed into place only when complete, so a cancelled or
failed export never leaves a half-written file under the chosen name), while a progress dialog shows the count and
offers Cancel.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMessageBox, QProgressDialog

from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.store.csv_export import risk_row, write_rows
from liqwatch.store.history import figure_source_of, price_kind_of
from liqwatch.store.settings import write_atomically

log = logging.getLogger(__name__)
CSV_FILTER = "CSV files (*.csv);;All files (*)"


def snapshot_csv(snapshot: BookSnapshot) -> str:
    """The whole snapshot as CSV text: one row per account/position, the same columns as the history export."""
    stream = io.StringIO(newline="")
    write_rows(stream, (
        risk_row(r, snapshot.time, stale=snapshot.is_stale(r), price_kind=price_kind_of(r, snapshot),
                 figure_source=figure_source_of(r))
        for r in snapshot.risk
    ))
    return stream.getvalue()


class _Progress(QObject):
    """Carries the worker thread's progress and result to the GUI thread (queued signals)."""

    advanced = Signal(int, int)
    finished = Signal(object, object)  # (rows written or None, error message or None)


class CsvExportActions(QObject):
    """Adds "Export snapshot to CSV…" and "Export history to CSV…" to the window's File menu."""

    def __init__(self, window: QMainWindow, database: str | Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.database = database
        self.snapshot_action = QAction("Export snapshot to &CSV…", window)
        self.history_action = QAction("Export &history to CSV…", window)
        self.snapshot_action.triggered.connect(self.export_snapshot)
        self.history_action.triggered.connect(self.export_history)
        menu = getattr(window, "file_menu", None)
        if menu is not None:
            first = menu.actions()[0] if menu.actions() else None
            menu.insertAction(first, self.snapshot_action)
            menu.insertAction(first, self.history_action)
        self._cancel = threading.Event()
        self._dialog: QProgressDialog | None = None
        self._progress = _Progress(self)
        self._progress.advanced.connect(self._on_advanced)
        self._progress.finished.connect(self._on_finished)
        self._started = 0.0
        self._target: Path | None = None

    @Slot()
    def export_snapshot(self) -> None:
        snapshot = getattr(self.window, "snapshot", None)
        if snapshot is None:
            self.window.statusBar().showMessage("No snapshot yet: nothing to export", 5000)
            return
        path, _ = QFileDialog.getSaveFileName(self.window, "Export snapshot", "liqwatch-snapshot.csv", CSV_FILTER)
        if path:
            self.write_snapshot(snapshot, Path(path))

    def write_snapshot(self, snapshot: BookSnapshot, path: Path) -> None:
        try:
            write_atomically(path, snapshot_csv(snapshot))
        except OSError as exc:
            QMessageBox.warning(self.window, "Cannot export", f"{path}: {exc.strerror or exc}")
            return
        self.window.statusBar().showMessage(f"Exported {len(snapshot.risk)} rows to {path}", 8000)

    @Slot()
    def export_history(self) -> None:
        since_text, ok = QInputDialog.getText(
            self.window, "Export history", "From (ISO-8601 UTC time, or an age such as 24h, 7d):", text="24h")
        if not ok:
            return
        from liqwatch.store.history_export import TimeArgumentError, parse_time

        try:
            since = parse_time(since_text, time.time())
        except (TimeArgumentError, ValueError) as exc:
            QMessageBox.warning(self.window, "Export history", f"From: {exc}")
            return
        path, _ = QFileDialog.getSaveFileName(self.window, "Export history", "liqwatch-history.csv", CSV_FILTER)
        if path:
            self.start_history_export(Path(path), since)

    def start_history_export(self, path: Path, since: float | None, until: float | None = None) -> None:
        """Export in a worker thread with a progress dialog; the file appears under `path` only when complete."""
        self._cancel.clear()
        self._target = path
        self._started = time.perf_counter()
        dialog = QProgressDialog("Exporting history…", "Cancel", 0, 0, self.window)
        dialog.setWindowTitle("Export history")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.canceled.connect(self._cancel.set)
        self._dialog = dialog
        threading.Thread(target=self._run, args=(path, since, until), name="liqwatch-export", daemon=True).start()

    def _run(self, path: Path, since: float | None, until: float | None) -> None:
        from liqwatch.store.history_export import ExportCancelledError
        from liqwatch.store.history_export import export_history as export

        def progress(done: int, total: int) -> bool:
            self._progress.advanced.emit(done, total)
            return not self._cancel.is_set()

        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
                rows = export(self.database, stream, since, until, progress)
            os.replace(tmp, path)
        except ExportCancelledError:
            Path(tmp).unlink(missing_ok=True)
            self._progress.finished.emit(None, "cancelled")
            return
        except Exception as exc:  # reported in the window; the target file is untouched
            Path(tmp).unlink(missing_ok=True)
            log.exception("history export failed")
            self._progress.finished.emit(None, f"{type(exc).__name__}: {exc}")
            return
        self._progress.finished.emit(rows, None)

    @Slot(int, int)
    def _on_advanced(self, done: int, total: int) -> None:
        if self._dialog is not None:
            self._dialog.setMaximum(max(total, 1))
            self._dialog.setValue(min(done, max(total, 1)))
            self._dialog.setLabelText(f"Exporting history… {done:,} of {total:,} rows")

    @Slot(object, object)
    def _on_finished(self, rows: Any, error: Any) -> None:
        if self._dialog is not None:
            self._dialog.reset()
            self._dialog.deleteLater()
            self._dialog = None
        bar = self.window.statusBar()
        if error == "cancelled":
            bar.showMessage("History export cancelled; no file written", 8000)
        elif error is not None:
            bar.showMessage(f"History export failed: {error}", 15000)
        else:
            seconds = max(time.perf_counter() - self._started, 1e-9)
            bar.showMessage(f"Exported {rows:,} history rows to {self._target} ({rows / seconds:,.0f} rows/s)",
                            10000)
        self.last_result = (rows, error)


def install_csv_export(window: QMainWindow, database: str | Path | None = None) -> CsvExportActions:
    actions = CsvExportActions(window, database)
    window.csv_export = actions  # type: ignore[attr-defined]
    return actions
