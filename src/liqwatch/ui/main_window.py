"""The main window: positions table, gauges, history plot, what-if panel, editing, status bar.

Snapshots arrive through `on_snapshot` (a slot, so a worker thread's signal is queued onto the GUI thread). Only the
newest one is kept: a 100 ms GUI timer applies it if it is new (Electrum's flag-and-timer), so polls that outpace
painting never pile up. After the model has applied a snapshot the window emits `snapshot_applied` for the alerts.

Hooks for other parts of the UI: `add_dock`, `banner_container` (a layout at the top of the central widget),
`status_bar.add_permanent`, `file_menu` / `view_menu`, and `close_to_tray` (when True, closing hides the window).
"""

from __future__ import annotations

import gc
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from PySide6.QtCore import QByteArray, QEvent, QItemSelectionModel, QModelIndex, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from liqwatch.domain.model import Portfolio
from liqwatch.domain.risk import FuturesRisk, MarginRisk, Risk
from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.store.settings import Settings
from liqwatch.ui.busy_gate import GUI_BUSY
from liqwatch.ui.models.columns import column_index
from liqwatch.ui.models.history import HistoryStore
from liqwatch.ui.models.table_batch import TableBatch, TablePreparer
from liqwatch.ui.models.table_model import KeyRole, PositionsModel, PositionsProxy
from liqwatch.ui.models.what_if import WhatIf
from liqwatch.ui.theme import app_icon
from liqwatch.ui.widgets.cell_delegate import CellDelegate
from liqwatch.ui.widgets.gauges import GaugePanel
from liqwatch.ui.widgets.history_plot import HistoryPlot
from liqwatch.ui.widgets.status_bar import StatusBar
from liqwatch.ui.widgets.what_if_panel import WhatIfPanel

log = logging.getLogger(__name__)

PLOT_EVERY_POLL_ROWS = 200  # books up to this size redraw gauges and history on every poll
PLOT_INTERVAL_S = 1.0  # bigger books: at most once a second on polls
HISTORY_CHUNK_ROWS = 500  # big books: rows sampled into the in-memory history per event
STEP_GAP_MS = 5  # idle time the event loop gets between two heavy steps (apply, plot steps) and their paints

PORTFOLIO_FILTER = "LiqWatch portfolio (*.toml);;All files (*)"


class _ReplacePortfolio(QUndoCommand):
    """One edit of the book (add, edit, delete, import): undo puts the previous portfolio back."""

    def __init__(self, window: MainWindow, before: Portfolio, after: Portfolio, text: str) -> None:
        super().__init__(text)
        self.window, self.before, self.after = window, before, after

    def redo(self) -> None:
        self.window.replace_portfolio(self.after)

    def undo(self) -> None:
        self.window.replace_portfolio(self.before)


class MainWindow(QMainWindow):
    snapshot_applied = Signal(object)  # BookSnapshot, after the table has shown it
    portfolio_changed = Signal(object)  # Portfolio, after an edit/undo/import: save it and re-poll
    settings_changed = Signal(object)  # Settings, after the settings dialog
    poll_requested = Signal()

    def __init__(self, settings: Settings, portfolio: Portfolio, qsettings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.portfolio = portfolio
        self.qsettings = qsettings
        self.close_to_tray = False
        self.snapshot: BookSnapshot | None = None
        self._pending: BookSnapshot | TableBatch | None = None
        self.history = HistoryStore()
        self._plots_dirty = False  # big books: gauges and history wait for `_plots_timer`
        self._shocked: Any = None  # the what-if figures last shown (None: live)
        self._plots_timer = QTimer(self, interval=int(PLOT_INTERVAL_S * 1000))
        self._plots_timer.timeout.connect(self._redraw_plots_if_dirty)
        self._plots_timer.start()
        self._history_time = float("-inf")  # snapshot time of the last history sample
        self._history_pending = False  # big books: a snapshot waits to be sampled by `_plots_timer`
        self._steps: deque[Callable[[], None]] = deque()  # big books: plot and history steps (see `_run_step`)
        self._ages_due = False  # the data-age column waits for its step (see `_refresh_ages`)
        self._step_timer = QTimer(self, singleShot=True, interval=STEP_GAP_MS)  # runs `_run_step`
        self._step_timer.timeout.connect(self._run_step)
        self._table_paint_timer = QTimer(self, singleShot=True, interval=1)  # see `_run_step`
        self._table_paint_timer.timeout.connect(lambda: self.table.setUpdatesEnabled(True))
        # (key, since) -> (times, values, references) from the store's history; set by `ui.main` when there is one
        self.history_source: Callable[[str, float], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        self._stored: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray] | None] = {}
        self.what_if = WhatIf()
        self.setWindowTitle("LiqWatch")
        self.setWindowIcon(app_icon())
        self.setMinimumSize(900, 560)
        self.setAccessibleName("LiqWatch main window")

        # --- central widget: banner slot, filter, table, gauges | history ---------------------------------
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(4, 4, 4, 0)
        self.banner_container = QVBoxLayout()
        outer.addLayout(self.banner_container)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by account, symbol, status…  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName("Filter positions")
        outer.addWidget(self.filter_edit)

        self.model = PositionsModel(self)
        self.model.preparer.pause = GUI_BUSY.wait_idle  # row building in the poller thread defers to painting
        self.proxy = PositionsProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setItemDelegate(CellDelegate(self.table, self.model, self.proxy))  # see its module
        self.table.setAccessibleName("Accounts and positions")
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(column_index("distance"), Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        self.table.doubleClicked.connect(self._edit_selected_slot)
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)

        self.gauges = GaugePanel()
        self.gauges.bar_clicked.connect(self.select_key)
        self.history_plot = HistoryPlot()
        self.lower_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.lower_splitter.addWidget(self.gauges)
        self.lower_splitter.addWidget(self.history_plot)
        self.lower_splitter.setSizes([600, 500])
        self.main_splitter = QSplitter(Qt.Orientation.Vertical)
        self.main_splitter.addWidget(self.table)
        self.main_splitter.addWidget(self.lower_splitter)
        self.main_splitter.setSizes([330, 300])
        outer.addWidget(self.main_splitter, 1)
        self.setCentralWidget(central)

        # --- what-if dock ---------------------------------------------------------------------------------
        self.what_if_panel = WhatIfPanel()
        self.what_if_dock = QDockWidget("What-if", self)
        self.what_if_dock.setObjectName("what_if_dock")
        self.what_if_dock.setWidget(self.what_if_panel)
        self.add_dock(self.what_if_dock, Qt.DockWidgetArea.RightDockWidgetArea)
        self.what_if_dock.hide()
        self.what_if_panel.changed.connect(self._what_if_changed)
        self.what_if_dock.visibilityChanged.connect(self._what_if_visibility)
        self._what_if_timer = QTimer(self, singleShot=True, interval=60)
        self._what_if_timer.timeout.connect(self._reapply)
        self._liquidation_timer = QTimer(self, singleShot=True, interval=300)
        self._liquidation_timer.timeout.connect(self._update_liquidations)

        self.status_bar = StatusBar(self)
        self.setStatusBar(self.status_bar)
        self.status_bar.set_feed(settings.feed)

        self.undo_stack = QUndoStack(self)
        self._build_menus()

        self._apply_timer = QTimer(self, interval=100)
        self._apply_timer.timeout.connect(self._apply_pending)
        self._apply_timer.start()
        self._age_timer = QTimer(self, interval=1000)
        self._age_timer.timeout.connect(self._refresh_ages)
        self._age_timer.start()
        self._set_thresholds(settings)
        self.what_if_panel.set_assets(self.what_if.moving_assets(portfolio))
        self.restore_state()

    # --- hooks for other parts of the UI ------------------------------------------------------------------
    def add_dock(self, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = widget if isinstance(widget, QDockWidget) else QDockWidget(widget.windowTitle() or "Panel", self)
        if dock is not widget:
            dock.setWidget(widget)
            dock.setObjectName(f"dock_{widget.objectName() or type(widget).__name__}")
        self.addDockWidget(area, dock)
        if hasattr(self, "view_menu"):
            self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def show_banner_area(self, widget: QWidget) -> None:
        """Put a banner widget at the top of the central widget."""
        self.banner_container.addWidget(widget)

    # --- menus --------------------------------------------------------------------------------------------
    def _action(self, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip or text.replace("&", "").rstrip("…"))
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.import_action = self._action("&Open portfolio file…", self.import_portfolio,
                                          QKeySequence.StandardKey.Open)
        self.export_action = self._action("&Export portfolio file…", self.export_portfolio, "Ctrl+E")
        self.settings_action = self._action("&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        self.quit_action = self._action("&Quit", self.quit_app, QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        for action in (self.import_action, self.export_action):
            self.file_menu.addAction(action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.settings_action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)

        self.edit_menu = bar.addMenu("&Edit")
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        self.add_margin_action = self._action("Add &margin account…", self.add_margin_account, "Ctrl+M")
        self.add_futures_action = self._action("Add &futures position…", self.add_futures_position, "Ctrl+N")
        self.edit_action = self._action("&Edit selected…", self.edit_selected, "F2")
        self.delete_action = self._action("&Delete selected", self.delete_selected, QKeySequence.StandardKey.Delete)
        for action in (self.undo_action, self.redo_action):
            self.edit_menu.addAction(action)
        self.edit_menu.addSeparator()
        for action in (self.add_margin_action, self.add_futures_action, self.edit_action, self.delete_action):
            self.edit_menu.addAction(action)
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self._action("&Find…", self._focus_filter, QKeySequence.StandardKey.Find))

        self.view_menu = bar.addMenu("&View")
        self.what_if_action = self.what_if_dock.toggleViewAction()
        self.what_if_action.setText("&What-if panel")
        self.what_if_action.setShortcut(QKeySequence("Ctrl+W"))
        self.view_menu.addAction(self.what_if_action)
        self.view_menu.addAction(self._action("&Refresh now", self.poll_requested.emit,
                                              QKeySequence.StandardKey.Refresh))
        self.columns_menu = self.view_menu.addMenu("&Columns")
        self._fill_columns_menu(self.columns_menu)
        self.view_menu.addSeparator()

    def _fill_columns_menu(self, menu: QMenu) -> None:
        menu.clear()
        header = self.table.horizontalHeader()
        for i, spec in enumerate(self.model.columns):
            if not spec.hideable:
                continue
            action = menu.addAction(spec.header)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(i))
            action.toggled.connect(lambda on, c=i: self.table.setColumnHidden(c, not on))

    @Slot(object)
    def _header_menu(self, pos: Any) -> None:
        menu = QMenu(self)
        self._fill_columns_menu(menu)
        menu.exec(self.table.horizontalHeader().mapToGlobal(pos))

    @Slot()
    def _focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    # --- snapshots ------------------------------------------------------------------------------------------
    @Slot(object)
    def on_snapshot(self, snapshot: BookSnapshot | TableBatch) -> None:
        """Receiver of the poller's `table_ready` (or of bare snapshots): keep only the newest, the timer
        applies it."""
        self._pending = snapshot

    @property
    def table_preparer(self) -> TablePreparer:
        """What the poller thread calls on each snapshot to hand this window table-ready rows."""
        return self.model.preparer

    @Slot()
    def _apply_pending(self) -> None:
        """The coalescing timer: apply the newest snapshot, as the next heavy step (see `_run_step`)."""
        if self._pending is not None:
            self._kick()

    def event(self, event: QEvent) -> bool:
        """Repaints of the window (one `UpdateRequest` paints every dirty widget) hold the workers back."""
        if event.type() == QEvent.Type.UpdateRequest:
            with GUI_BUSY.busy():
                return super().event(event)
        return super().event(event)

    @Slot()
    def _refresh_ages(self) -> None:
        """Once a second: the data-age column, as a heavy step of its own (its repaint must not land in the same
        pass of the event loop as a plot's, see `_run_step`)."""
        self._ages_due = True
        self._kick()

    def apply_snapshot(self, snapshot: BookSnapshot, batch: TableBatch | None = None) -> None:
        """Show one snapshot now: table (as a batch), gauges, history, status bar, what-if.

        `batch`: the snapshot's rows as the poller thread prepared them (built here when absent)."""
        with GUI_BUSY.busy():  # the poller's per-row work waits rather than slowing this down (see `busy_gate`)
            self._apply_snapshot(snapshot, batch)

    def _apply_snapshot(self, snapshot: BookSnapshot, batch: TableBatch | None) -> None:
        if snapshot.portfolio is not self.portfolio and snapshot.portfolio != self.portfolio:
            log.debug("snapshot %s is for a previous portfolio; shown until the next poll", snapshot.sequence)
        first = self.snapshot is None
        self.snapshot = snapshot
        self._record_history(snapshot)
        self._reapply(from_poll=True, batch=batch)
        self.status_bar.show_snapshot(snapshot, batch.worst if batch is not None else None)
        if first:
            # Start-up is over: move the long-lived heap (Qt wrappers, modules, the window) out of the cyclic
            # collector's reach. Otherwise a full collection rescans it every few polls: ~110 ms GUI stalls
            # measured with a 2,000-row book (benchmarks/bench_gui.py), i.e. a frozen window during a crash.
            gc.freeze()
        if first and self.selected_key() is None and self.proxy.rowCount():
            self.select_key(self.proxy.index(0, 0).data(KeyRole))  # the riskiest row, so its history shows
        if self.what_if_dock.isVisible():
            self._liquidation_timer.start()
        self.snapshot_applied.emit(snapshot)

    @Slot()
    def _reapply(self, from_poll: bool = False, batch: TableBatch | None = None) -> None:
        """Show the current snapshot (live, or shocked by the what-if panel).

        For a big book the two plots are redrawn by a one-second timer, in an event of their own, rather than on
        every poll: their scenes cost tens of milliseconds to re-lay out, and a gauge or a history line a fraction
        of a second late is harmless, while the table (every status and figure) is always applied at once.
        What-if changes and selection changes redraw them immediately."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        self.what_if.shock = self.what_if_panel.shock
        self.what_if.overrides = self.what_if_panel.overrides()
        shocked = self.what_if.evaluate(snapshot, self.settings.thresholds) if self.what_if.active else None
        prices = self.what_if.prices(snapshot) if shocked is not None else None
        if shocked is None and batch is not None and batch.snapshot is snapshot:
            self.model.apply_batch(batch)
        else:
            self.model.apply_snapshot(snapshot, shocked, prices)
        # A re-sort (layoutChanged) makes the view lay its items out again from a zero timer, after the paint the
        # changed cells already asked for: two full repaints per poll (~20 ms each for a 2,000-row book). Laying
        # out now folds both into the one pending paint.
        self.table.executeDelayedItemsLayout()
        self._shocked = shocked
        if from_poll:
            if len(snapshot.risk) > PLOT_EVERY_POLL_ROWS:
                self._plots_dirty = True  # the plots timer queues them, once a second
            else:
                self._queue_plot_steps()  # every poll, but each plot in a step of its own
            return
        self._redraw_plots()

    @Slot()
    def _redraw_plots_if_dirty(self) -> None:
        """Once a second for a big book: sample the history and redraw the plots as a queue of small steps, each
        run by `_run_step` in an event of its own. Zero-delay calls would all run in one pass of the event loop,
        back to back with the repaints they cause: one long stall instead of several short ones
        (`benchmarks/bench_gui.py` measured 60–120 ms)."""
        snapshot = self.snapshot
        if snapshot is None or self._steps:
            return  # the previous round is still running (the flags keep: the next tick takes them)
        steps: list[Callable[[], None]] = []
        if self._history_pending:
            self._history_pending = False
            if snapshot.time > self._history_time:
                self._history_time = snapshot.time
                risks = list(snapshot.risk)
                for start in range(0, len(risks), HISTORY_CHUNK_ROWS):
                    chunk = risks[start:start + HISTORY_CHUNK_ROWS]
                    steps.append(lambda chunk=chunk, t=snapshot.time: self._sample_rows(chunk, t))
                steps.append(lambda keys={r.key for r in risks}: self.history.retain(keys))
        self._steps.extend(steps)
        if self._plots_dirty:
            self._plots_dirty = False
            self._queue_plot_steps()
        if self._steps:
            self._kick()

    def _queue_plot_steps(self) -> None:
        """Redraw the gauges and the history plot, each as a step (see `_run_step`), unless already queued."""
        if self._redraw_gauges not in self._steps:
            self._steps.extend((self.gauges.ensure_labels, self._redraw_gauges, self._refresh_history_plot))
        self._kick()

    def _kick(self) -> None:
        """Run the next heavy step now if the event loop has had its breather, else when it has."""
        if not self._step_timer.isActive():
            self._run_step()

    @Slot()
    def _run_step(self) -> None:
        """Run one heavy piece of GUI work (a pending snapshot first, then the data ages, then the next plot step),
        but only once the event loop has been idle for `STEP_GAP_MS` since the last one and the repaint it caused.
        Otherwise two of them, or one and the previous one's repaint, would run in the same pass of the event loop:
        for the trader, a window that does not react for their sum."""
        wait_ms = STEP_GAP_MS - GUI_BUSY.idle_for() * 1000.0
        if wait_ms > 0.5:
            self._step_timer.start(math.ceil(wait_ms))
            return
        with GUI_BUSY.busy():
            if self._pending is not None:
                pending, self._pending = self._pending, None
                # the table repaints in a later pass of the event loop than the one that applied the snapshot,
                # so input and timers get their turn between the two instead of waiting for both
                self.table.setUpdatesEnabled(False)
                self._table_paint_timer.start()
                if isinstance(pending, TableBatch):
                    self.apply_snapshot(pending.snapshot, pending)
                else:
                    self.apply_snapshot(pending)
            elif self._ages_due:
                self._ages_due = False
                self.model.refresh_live_columns()
            elif self._steps:
                self._steps.popleft()()
            self._hold_until_idle()  # what the step set off (layout, pyqtgraph's scene updates) runs after it
        if self._pending is not None or self._ages_due or self._steps:
            self._step_timer.start(STEP_GAP_MS)

    def _hold_until_idle(self) -> None:
        """Keep the workers deferring to this thread until the events a step posts (the view's layout, the plots'
        scene updates and the repaints they force) have run: the release is posted after them. It is posted
        without this window as its context, so it runs even if the window is gone by then."""
        GUI_BUSY.hold()
        QTimer.singleShot(0, GUI_BUSY.release)

    def _redraw_plots(self) -> None:
        self._plots_dirty = False
        self._redraw_gauges()
        self._refresh_history_plot()

    def _redraw_gauges(self) -> None:
        snapshot, shocked = self.snapshot, self._shocked
        if snapshot is None:
            return
        self.gauges.set_rows(list(shocked if shocked is not None else snapshot.risk), what_if=shocked is not None)
        self.gauges.select_key(self.selected_key())

    def _record_history(self, snapshot: BookSnapshot) -> None:
        """One sample per row per poll; a big book is sampled by the plots timer instead, once a second (the
        history's resolution), in an event of its own: each sample is a Python call per row on the GUI thread."""
        if len(snapshot.risk) > PLOT_EVERY_POLL_ROWS:
            self._history_pending = True
            return
        self._sample_history(snapshot)

    def _sample_history(self, snapshot: BookSnapshot) -> None:
        self._history_pending = False
        if snapshot.time <= self._history_time:
            return
        self._history_time = snapshot.time
        self._sample_rows(snapshot.risk, snapshot.time)
        self.history.retain({r.key for r in snapshot.risk})

    def _sample_rows(self, risks: Iterable[Risk], t: float) -> None:
        """One history sample at `t` of each of `risks`: margin level, or mark and liquidation price."""
        append = self.history.append
        for risk in risks:
            if isinstance(risk, MarginRisk):
                level = risk.margin_level
                append(risk.key, t, level if level is not None and level != math.inf else None)
            else:
                append(risk.key, t, risk.mark_price, risk.liquidation_price)

    def _refresh_history_plot(self) -> None:
        key = self.selected_key()
        if key is None or self.snapshot is None:
            self.history_plot.show_empty("Select a row to see its history")
            return
        risk = next((r for r in self.snapshot.risk if r.key == key), None)
        if risk is None:
            self.history_plot.show_empty("Select a row to see its history")
            return
        times, values, refs = self.history.arrays(key)
        stored = self._stored_history(key)
        if stored is not None and len(stored[0]):
            older = stored[0] < (times[0] if len(times) else np.inf)  # the store fills in before the ring buffer
            times = np.concatenate([stored[0][older], times])
            values = np.concatenate([stored[1][older], values])
            refs = np.concatenate([stored[2][older], refs])
        self.history_plot.show_series(risk, times, values, refs)

    def _stored_history(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The last day of a row from the store (read once per row and cached; the ring buffer adds what is
        newer), so the plot spans restarts and more than the in-memory window."""
        if self.history_source is None:
            return None
        if key not in self._stored:
            try:
                self._stored[key] = self.history_source(key, time.time() - 86_400.0)
            except Exception:  # the plot still shows the in-memory history
                log.exception("cannot read the stored history of %s", key)
                self._stored[key] = None
        return self._stored[key]

    # --- selection ------------------------------------------------------------------------------------------
    def selected_key(self) -> str | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        return index.data(KeyRole)

    @Slot(str)
    def select_key(self, key: str) -> None:
        row = self.model.row_for_key(key)
        if row < 0:
            return
        proxy_index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not proxy_index.isValid():
            return
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().setCurrentIndex(proxy_index, flags)
        self.table.scrollTo(proxy_index)

    @Slot(QModelIndex, QModelIndex)
    def _current_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        key = current.data(KeyRole) if current.isValid() else None
        self.gauges.select_key(key)
        self._refresh_history_plot()

    # --- what-if --------------------------------------------------------------------------------------------
    @Slot()
    def _what_if_changed(self) -> None:
        self._what_if_timer.start()
        self._liquidation_timer.start()

    @Slot(bool)
    def _what_if_visibility(self, visible: bool) -> None:
        if visible:
            self._liquidation_timer.start()
        elif self.what_if.active:
            self.what_if_panel.reset()  # hiding the panel returns the table to live figures

    @Slot()
    def _update_liquidations(self) -> None:
        if self.snapshot is None:
            return
        items = self.what_if.liquidation_order(self.snapshot, self.settings.thresholds)
        self.what_if_panel.show_liquidations(items, (self.what_if.search_low, self.what_if.search_high))

    # --- editing --------------------------------------------------------------------------------------------
    def replace_portfolio(self, portfolio: Portfolio) -> None:
        """Make `portfolio` the book (called by undo commands); listeners save it and re-poll."""
        self.portfolio = portfolio
        self.what_if_panel.set_assets(self.what_if.moving_assets(portfolio))
        self.portfolio_changed.emit(portfolio)

    def change_portfolio(self, portfolio: Portfolio, text: str) -> None:
        """An undoable edit."""
        self.undo_stack.push(_ReplacePortfolio(self, self.portfolio, portfolio, text))

    def _selected_location(self) -> tuple[str, int, int] | None:
        """("margin", account index, -1) or ("futures", account index, position index) of the selection."""
        key = self.selected_key()
        if key is None:
            return None
        for i, account in enumerate(self.portfolio.margin_accounts):
            if account.key == key:
                return ("margin", i, -1)
        for i, account in enumerate(self.portfolio.futures_accounts):
            for j in range(len(account.positions)):
                if account.position_key(j) == key:
                    return ("futures", i, j)
        return None

    @Slot()
    def add_margin_account(self) -> None:
        from liqwatch.ui.dialogs.margin_dialog import MarginAccountDialog

        dialog = MarginAccountDialog(self.portfolio, None, self)
        if dialog.exec() and dialog.result_portfolio is not None:
            self.change_portfolio(dialog.new_portfolio(), "Add margin account")

    @Slot()
    def add_futures_position(self) -> None:
        from liqwatch.ui.dialogs.futures_dialog import FuturesPositionDialog

        dialog = FuturesPositionDialog(self.portfolio, None, self)
        if dialog.exec() and dialog.result_portfolio is not None:
            self.change_portfolio(dialog.new_portfolio(), "Add futures position")

    @Slot(QModelIndex)
    def _edit_selected_slot(self, index: QModelIndex) -> None:
        self.edit_selected()

    @Slot()
    def edit_selected(self) -> None:
        where = self._selected_location()
        if where is None:
            return
        if where[0] == "margin":
            from liqwatch.ui.dialogs.margin_dialog import MarginAccountDialog

            dialog: Any = MarginAccountDialog(self.portfolio, where[1], self)
        else:
            from liqwatch.ui.dialogs.futures_dialog import FuturesPositionDialog

            dialog = FuturesPositionDialog(self.portfolio, (where[1], where[2]), self)
        if dialog.exec() and dialog.result_portfolio is not None:
            self.change_portfolio(dialog.new_portfolio(), dialog.windowTitle())

    @Slot()
    def delete_selected(self) -> None:
        where = self._selected_location()
        if where is None:
            return
        from dataclasses import replace

        if where[0] == "margin":
            accounts = list(self.portfolio.margin_accounts)
            name = accounts.pop(where[1]).name
            new = replace(self.portfolio, margin_accounts=tuple(accounts))
        else:
            futures = list(self.portfolio.futures_accounts)
            account = futures[where[1]]
            positions = list(account.positions)
            gone = positions.pop(where[2])
            name = f"{account.name} {gone.symbol} {gone.side}"
            futures[where[1]] = replace(account, positions=tuple(positions))
            new = replace(self.portfolio, futures_accounts=tuple(futures))
        self.change_portfolio(new, f"Delete {name}")
        self.statusBar().showMessage(f"Deleted {name}. Undo with {self.undo_action.shortcut().toString()}.", 8000)

    @Slot()
    def import_portfolio(self) -> None:
        from liqwatch.store.portfolio import PortfolioError, load_portfolio

        path, _ = QFileDialog.getOpenFileName(self, "Open portfolio file", "", PORTFOLIO_FILTER)
        if not path:
            return
        try:
            portfolio = load_portfolio(path)
        except PortfolioError as exc:
            QMessageBox.warning(self, "Cannot open the portfolio", "\n".join(exc.problems[:20]))
            return
        self.change_portfolio(portfolio, "Open portfolio file")
        if self.qsettings is not None:
            self.qsettings.setValue("last_portfolio", path)

    @Slot()
    def export_portfolio(self) -> None:
        from liqwatch.store.portfolio_write import portfolio_to_toml
        from liqwatch.store.settings import write_atomically

        path, _ = QFileDialog.getSaveFileName(self, "Export portfolio file", "portfolio.toml", PORTFOLIO_FILTER)
        if not path:
            return
        try:
            write_atomically(path, portfolio_to_toml(self.portfolio))
        except OSError as exc:
            QMessageBox.warning(self, "Cannot export", f"{path}: {exc.strerror or exc}")
            return
        self.statusBar().showMessage(f"Exported to {path}", 5000)

    @Slot()
    def open_settings(self) -> None:
        from liqwatch.ui.dialogs.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() and dialog.result_settings is not None:
            self.apply_settings(dialog.result_settings)

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        self._set_thresholds(settings)
        self.status_bar.set_feed(settings.feed)
        self._reapply()
        self.settings_changed.emit(settings)

    def _set_thresholds(self, settings: Settings) -> None:
        self.gauges.set_thresholds(settings.thresholds)

    # --- persistence ----------------------------------------------------------------------------------------
    def save_state(self) -> None:
        s = self.qsettings
        if s is None:
            return
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/main_splitter", self.main_splitter.saveState())
        s.setValue("window/lower_splitter", self.lower_splitter.saveState())
        s.setValue("window/header", self.table.horizontalHeader().saveState())
        s.sync()

    def restore_state(self) -> None:
        s = self.qsettings
        if s is None or not s.contains("window/geometry"):
            self.resize(1280, 800)
            self._default_column_widths()
            return
        for key, restore in (
            ("window/geometry", self.restoreGeometry),
            ("window/state", self.restoreState),
            ("window/main_splitter", self.main_splitter.restoreState),
            ("window/lower_splitter", self.lower_splitter.restoreState),
            ("window/header", self.table.horizontalHeader().restoreState),
        ):
            value = s.value(key)
            if isinstance(value, QByteArray | bytes):
                restore(value)

    def _default_column_widths(self) -> None:
        widths = {"account": 140, "exchange": 70, "symbol": 115, "side": 118, "size": 110, "entry": 80,
                  "mark": 85, "liquidation": 85, "level": 135, "distance": 118, "pnl": 112, "status": 150,
                  "age": 80, "probability": 105}
        for i, spec in enumerate(self.model.columns):
            self.table.setColumnWidth(i, widths.get(spec.key, 90))
            if spec.hidden_by_default:
                self.table.setColumnHidden(i, True)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        if self.close_to_tray:
            event.ignore()
            self.hide()
            return
        event.accept()

    @Slot()
    def quit_app(self) -> None:
        from PySide6.QtWidgets import QApplication

        self.save_state()
        QApplication.quit()


def risk_kind(risk: object) -> str:
    return "futures" if isinstance(risk, FuturesRisk) else "margin"
