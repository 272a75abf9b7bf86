"""`PositionsModel`: a thin Qt adapter over the newest `BookSnapshot`, and its sort/filter proxy.

One row per margin account and per futures position (keys `MarginRisk.key` / `FuturesRisk.key`). A snapshot is
applied as one batch: rows are removed/inserted only when the set of keys changes, and `dataChanged` is emitted
for the rectangles of cells whose shown text or style actually changed, so views repaint only what moved and the
selection and scroll position survive. The model formats; it never computes risk. For polls, the rows, their order
and which of them changed arrive ready-made from the poller thread (`TableBatch`), so applying one is a swap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from liqwatch.domain.risk import BookRisk, MarginRisk
from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.domain.status import Status
from liqwatch.ui.models.columns import COLUMNS, NOT_APPLICABLE, PROBABILITY_TOOLTIP, ColumnSpec, Row
from liqwatch.ui.models.table_batch import (
    TableBatch,
    TablePreparer,
    blocks,
    row_changed,
    rows_from_snapshot,
    sort_order,
)
from liqwatch.ui.theme import STALE_COLOUR, WHAT_IF_COLOUR, status_colour, status_icon

SortRole = Qt.ItemDataRole.UserRole + 1  # raw number (or text) to sort by
KeyRole = Qt.ItemDataRole.UserRole + 2  # the row's stable key
RiskRole = Qt.ItemDataRole.UserRole + 3  # the row's risk record
StaleRole = Qt.ItemDataRole.UserRole + 4  # bool
CellRole = Qt.ItemDataRole.UserRole + 5  # `CellView`: all a delegate paints
FilterRole = Qt.ItemDataRole.UserRole + 6  # the text the filter box matches (column 0)

AnyIndex = QModelIndex | QPersistentModelIndex
_ALIGN_NUMBER = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_TEXT_COMPARED = frozenset({"probability"})  # columns whose many raw values share one text
_ALIGN_TEXT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_FILTERED = ("account", "symbol", "side", "status", "exchange")  # what the filter box matches
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)


class CellView(NamedTuple):
    """What a cell shows. The font and icon are named, not made: fonts and pixmaps need the application object,
    while texts and colours are asked for in tests and before the window exists."""

    text: str
    foreground: QBrush | None
    font: str | None  # "bold", "italic" or None (see `cell_font`)
    status: Status | None  # the status column's icon (see `status_icon`)
    alignment: int
_BRUSHES: dict[str, QBrush] = {}
_FONTS: dict[str, QFont] = {}


def _brush(colour: str) -> QBrush:
    brush = _BRUSHES.get(colour)
    if brush is None:
        brush = _BRUSHES[colour] = QBrush(QColor(colour))
    return brush


def cell_font(style: str) -> QFont:
    """One shared bold / italic font (made on first use: fonts need the application to exist)."""
    font = _FONTS.get(style)
    if font is None:
        font = QFont()
        font.setItalic(style == "italic")
        font.setBold(style == "bold")
        _FONTS[style] = font
    return font




class PositionsModel(QAbstractTableModel):
    """Margin accounts and futures positions of the current snapshot, one row each.

    What a cell shows (text, colour, font, icon) is computed once per row change and kept: a repaint of the visible
    cells asks for about eight roles of each, and recomputing them every time was most of a paint's Python time."""

    def __init__(self, parent: Any = None, columns: Sequence[ColumnSpec] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self.columns: list[ColumnSpec] = list(columns if columns is not None else COLUMNS)
        self._rows: list[Row] = []
        self._index: dict[str, int] = {}
        self._cells: list[dict[int, Any] | None] = []  # per row: the last shown state of its live (clock) cells
        self._shown: list[list[Any] | None] = []  # per row: cached cell views (see `_cell_view`) + filter text
        self._clock = clock
        self.snapshot: BookSnapshot | None = None
        self._sort_column = -1  # the model keeps its own rows in view order (see `sort`); -1: arrival order
        self._sort_order = Qt.SortOrder.AscendingOrder
        self.preparer = TablePreparer(self.columns, clock)  # called by the poller thread; see `table_batch`
        self._batch_sequence: int | None = None  # the snapshot sequence of the batch shown (None: not a batch)

    # --- Qt model API -----------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        spec = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return spec.header
        if role == Qt.ItemDataRole.ToolTipRole:
            return spec.tooltip
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _ALIGN_NUMBER if spec.numeric else _ALIGN_TEXT
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r, c = index.row(), index.column()
        if not 0 <= r < len(self._rows) or not 0 <= c < len(self.columns) or not index.isValid():
            return None
        if role == _DISPLAY:
            return self.cell_view(r, c).text
        if role == _FOREGROUND:
            return self.cell_view(r, c).foreground
        if role == _ALIGNMENT:
            return self.cell_view(r, c).alignment
        if role == _FONT:
            style = self.cell_view(r, c).font
            return cell_font(style) if style is not None else None
        if role == _DECORATION:
            status = self.cell_view(r, c).status
            return status_icon(status) if status is not None else None
        if role == CellRole:
            return self.cell_view(r, c)
        if role == FilterRole:
            return self._filter_text(r)
        row = self._rows[r]
        spec = self.columns[c]
        if role == SortRole:
            value = self._raw(spec, row)
            if value is None or value is NOT_APPLICABLE:
                return None
            return value if isinstance(value, int | float | str) else str(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(spec, row)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{spec.header}: {self.cell_view(r, c).text}"
        if role == KeyRole:
            return row.risk.key
        if role == RiskRole:
            return row.risk
        if role == StaleRole:
            return row.stale
        return None

    # --- helpers --------------------------------------------------------------------------------------------
    def cell_view(self, r: int, c: int) -> CellView:
        """What the cell at source row `r`, column `c` shows (the `CellRole` answer, also read directly by the
        delegate); kept until its row changes (clock-driven cells: recomputed every time)."""
        shown = self._shown[r]
        if shown is None:
            shown = self._shown[r] = [None] * (len(self.columns) + 1)
        view = shown[c]
        if view is None:
            spec = self.columns[c]
            row = self._rows[r]
            view = CellView(self._text(spec, row), self._foreground(spec, row), self._font(spec, row),
                            row.risk.status if spec.key == "status" else None,
                            _ALIGN_NUMBER if spec.numeric else _ALIGN_TEXT)
            if not spec.live:
                shown[c] = view
        return view

    def _filter_text(self, r: int) -> str:
        """What the filter box matches: account, symbol, side, status and exchange (not the moving figures)."""
        shown = self._shown[r]
        if shown is None:
            shown = self._shown[r] = [None] * (len(self.columns) + 1)
        if shown[-1] is None:
            row = self._rows[r]
            shown[-1] = " ".join(self._text(spec, row) for spec in self.columns if spec.key in _FILTERED)
        return shown[-1]

    def _raw(self, spec: ColumnSpec, row: Row) -> Any:
        value = spec.value(row)
        if spec.live and isinstance(value, int | float):
            return max(0.0, self._clock() - value)
        return value

    def _text(self, spec: ColumnSpec, row: Row) -> str:
        value = self._raw(spec, row)
        if value is NOT_APPLICABLE:
            return ""
        text = spec.text(value, row)
        if spec.key == "age" and row.stale:
            text = f"{text} · stale" if value is not None else "stale"
        if spec.key == "status" and row.what_if:
            text = f"{text} (what-if)"  # italics + label: shocked figures are never mistaken for live ones
        return text

    def _foreground(self, spec: ColumnSpec, row: Row) -> QBrush | None:
        if row.stale:
            return _brush(STALE_COLOUR)
        if spec.key == "status":
            return QBrush(status_colour(row.risk.status))
        if row.what_if and spec.numeric:
            return _brush(WHAT_IF_COLOUR)
        return None

    def _font(self, spec: ColumnSpec, row: Row) -> str | None:
        if row.what_if:
            return "italic"
        if spec.key == "status" and row.risk.status in (Status.DANGER, Status.LIQUIDATION):
            return "bold"
        return None

    def _tooltip(self, spec: ColumnSpec, row: Row) -> str | None:
        notes = []
        if row.stale:
            notes.append("Stale: the feed has not delivered a fresh price for this row; figures are from the "
                         "last good price.")
        if row.what_if:
            notes.append("What-if: figures at the shocked prices set in the what-if panel, not live.")
        if row.risk.missing_prices:
            notes.append("Missing price for: " + ", ".join(row.risk.missing_prices))
        if spec.key == "exchange_check" and row.checks:
            notes.extend(c.message for c in row.checks)
        if spec.key == "probability":
            vol = row.risk.volatility
            notes.append(PROBABILITY_TOOLTIP + (f"\nσ used: {vol * 100:.1f} % a year" if vol else
                                                "\nNo volatility known yet for this row"))
        if spec.key == "liquidation" and isinstance(row.risk, MarginRisk) and row.risk.liquidation_prices:
            notes.append("Liquidation price if only that asset moves:\n" + "\n".join(
                f"  {a}: {v:,.6g}" for a, v in sorted(row.risk.liquidation_prices.items())))
        return "\n".join(notes) or None

    def _cell(self, spec: ColumnSpec, row: Row) -> tuple[Any, ...]:
        """What decides a cell's look: its raw value (or, for unknown values and clock-driven columns, its text)
        plus the style inputs. Comparing raw values instead of formatted text keeps a 2,000-row update from
        formatting 28,000 cells on the GUI thread; a raw change that happens to keep the same text only costs
        a repaint of that cell if it is visible. Unknown (None) values compare by text, because their text
        depends on other fields (e.g. "no debt" vs "—"), and so do columns whose text is much coarser than the
        number (probability: "< 0.1 %")."""
        raw = self._raw(spec, row)
        key = self._text(spec, row) if raw is None or spec.live or spec.key in _TEXT_COMPARED else raw
        return (key, row.stale, row.what_if, row.risk.status)

    # --- updates --------------------------------------------------------------------------------------------
    def row_for_key(self, key: str) -> int:
        return self._index.get(key, -1)

    def key_at(self, row: int) -> str:
        return self._rows[row].risk.key

    def rows(self) -> list[Row]:
        return list(self._rows)

    def apply_snapshot(self, snapshot: BookSnapshot, shocked: BookRisk | None = None,
                       shocked_prices: dict[str, float] | None = None) -> None:
        """Apply one snapshot (with `shocked`, the what-if figures at `shocked_prices`) as a batch, building its
        rows here (the poller's batches arrive ready through `apply_batch`)."""
        self.snapshot = snapshot
        self._batch_sequence = None
        self.apply_rows(rows_from_snapshot(snapshot, shocked, shocked is not None, shocked_prices))

    def apply_batch(self, batch: TableBatch) -> None:
        """Apply rows prepared off the GUI thread; their precomputed order is used if it is for the current sort,
        and their precomputed changes if they are relative to the batch this model shows."""
        self.snapshot = batch.snapshot
        current = (self._sort_column, self._sort_order == Qt.SortOrder.DescendingOrder)
        presorted = batch.order is not None and batch.sort == current
        rows = [batch.rows[i] for i in batch.order] if presorted and batch.order is not None else list(batch.rows)
        if (presorted and batch.since is not None and batch.since == self._batch_sequence
                and len(rows) == len(self._rows)):
            self._swap_rows(rows, batch)
        else:
            self.apply_rows(rows, presorted=presorted)
        self._batch_sequence = batch.snapshot.sequence

    def _swap_rows(self, rows: list[Row], batch: TableBatch) -> None:
        """The common case of a poll: the same rows, in view order, with the changed ones known. Only the order and
        the changed cells are left to do here."""
        changed = batch.changed
        old_rows, old_index = self._rows, self._index
        order = [old_index[r.risk.key] for r in rows]
        self._reorder(order, rows, batch.positions)
        index = self._index
        shown = self._shown
        for key in changed:
            shown[index[key]] = None
        self._signal_changed([(old_rows[old_index[key]], rows[index[key]]) for key in changed],
                             batch.changed_runs)

    def apply_rows(self, new_rows: list[Row], presorted: bool = False) -> None:
        """Make `new_rows` the table: removals, insertions, changed cells, then the sort order.

        `presorted`: `new_rows` are already in view order for the current sort (a poller batch)."""
        new_keys = [r.risk.key for r in new_rows]
        by_key = dict(zip(new_keys, new_rows, strict=True))
        # 1. removals, bottom-up in contiguous blocks
        if len(by_key) != len(self._index) or any(k not in by_key for k in self._index):
            doomed = [i for i, r in enumerate(self._rows) if r.risk.key not in by_key]
            for first, last in reversed(blocks(doomed)):
                self.beginRemoveRows(QModelIndex(), first, last)
                del self._rows[first:last + 1]
                del self._cells[first:last + 1]
                del self._shown[first:last + 1]
                self.endRemoveRows()
            self._index = {r.risk.key: i for i, r in enumerate(self._rows)}
        # 2. insertions, appended (then ordered with the rest)
        added = [k for k in new_keys if k not in self._index]
        if added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            for key in added:
                self._index[key] = len(self._rows)
                self._rows.append(by_key[key])
                self._cells.append(None)  # live cells: filled by the first `refresh_live_columns`
                self._shown.append(None)
            self.endInsertRows()
        # 3. replace the rows that stayed; remember which look different
        added_set = set(added)
        changed: list[tuple[Row, Row]] = []  # (old, new) of changed rows
        rows, shown, index = self._rows, self._shown, self._index
        for key, row in by_key.items():
            if key in added_set:
                continue
            i = index[key]
            old = rows[i]
            rows[i] = row
            if row_changed(old, row):
                shown[i] = None
                changed.append((old, row))
        # 4. order
        if presorted:
            self._reorder([index[k] for k in new_keys])
        elif self._sort_column >= 0:
            self._resort()
        # 5. signal the changed cells where they now are
        self._signal_changed(changed)

    def _signal_changed(self, changed: list[tuple[Row, Row]], runs: Sequence[tuple[int, int]] = ()) -> None:
        """`dataChanged` for the changed rows (old, new), at their current positions (`runs`: those positions as
        runs, if already worked out)."""
        index = self._index
        if len(changed) <= CELL_DIFF_LIMIT:
            # few rows moved: find exactly the cells whose raw value (or text, see `_cell`) changed
            cells: dict[int, list[int]] = {}
            for old, row in changed:
                cols = [c for c, spec in enumerate(self.columns)
                        if not spec.live and self._cell(spec, old) != self._cell(spec, row)]
                if cols:
                    cells[index[row.risk.key]] = cols
            self._emit_changed(cells)
            return
        # the whole market moved: diffing every cell of a big book in Python would stall the GUI thread, so each
        # run of changed rows is signalled as one rectangle; the view re-reads only the visible cells
        last_column = len(self.columns) - 1
        for first, last in runs or blocks(sorted(index[row.risk.key] for _, row in changed)):
            self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))

    # --- sorting ----------------------------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Keep the rows ordered by `column`'s raw value (unknowns last in either direction).

        Sorting lives here rather than in the proxy: a dynamically sorting `QSortFilterProxyModel` calls a Python
        `lessThan` thousands of times per snapshot for a big book (each a round trip through `data`), which
        stalled the window for seconds at 2,000 rows. The poller thread orders each batch for this sort in
        advance (`TablePreparer`), so a poll normally only re-arranges rows here.
        """
        self._sort_column = column if 0 <= column < len(self.columns) else -1
        self._sort_order = order
        descending = order == Qt.SortOrder.DescendingOrder
        self.preparer.sort = (self._sort_column, descending) if self._sort_column >= 0 else None
        self._resort()

    def _resort(self) -> None:
        if self._sort_column < 0 or len(self._rows) < 2:
            return
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        self._reorder(sort_order(self._rows, self.columns[self._sort_column], descending, self._clock))

    def _reorder(self, order: list[int], rows: list[Row] | None = None,
                 positions: dict[str, int] | None = None) -> None:
        """Put the row now at `order[n]` at position n (a layout change; persistent indexes follow their rows).

        `rows`: the new rows in their new order (default: the current rows, re-ordered); `positions`: their
        key → position map, if already made."""
        if order == list(range(len(self._rows))):
            if rows is not None:
                self._rows = rows
            return
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        new_position = [0] * len(order)
        for new, old in enumerate(order):
            new_position[old] = new
        self._rows = rows if rows is not None else [self._rows[i] for i in order]
        self._cells = [self._cells[i] for i in order]
        self._shown = [self._shown[i] for i in order]
        self._index = positions if positions is not None else {r.risk.key: i for i, r in enumerate(self._rows)}
        self.changePersistentIndexList(
            old_persistent,
            [self.index(new_position[ix.row()], ix.column()) if 0 <= ix.row() < len(order) else QModelIndex()
             for ix in old_persistent])
        self.layoutChanged.emit()

    def refresh_live_columns(self) -> None:
        """Re-read the clock-driven columns (data age) and emit only the cells whose text changed."""
        live = [c for c, spec in enumerate(self.columns) if spec.live]
        if not live or not self._rows:
            return
        if len(self._rows) > CELL_DIFF_LIMIT:
            # a big book: every age ticks anyway; one rectangle per live column lets the view re-read only the
            # visible cells instead of formatting thousands of ages on the GUI thread every second
            for c in live:
                self.dataChanged.emit(self.index(0, c), self.index(len(self._rows) - 1, c))
        else:
            self._refresh_live_cells(live)
        if self._sort_column >= 0 and self.columns[self._sort_column].live:
            self._resort()

    def _refresh_live_cells(self, live: list[int]) -> None:
        changed: dict[int, list[int]] = {}
        specs = [(c, self.columns[c]) for c in live]
        for i, row in enumerate(self._rows):
            # only the live cells: formatting every cell of a big book each second would stall the GUI thread
            state = {c: self._cell(spec, row) for c, spec in specs}
            old = self._cells[i]
            if state != old:
                self._cells[i] = state
                changed[i] = [c for c in state if old is None or old.get(c) != state[c]]
        self._emit_changed(changed)

    def _emit_changed(self, changed: dict[int, list[int]]) -> None:
        """One `dataChanged` per rectangle: runs of changed columns, merged over consecutive rows that share them."""
        open_runs: dict[tuple[int, int], tuple[int, int]] = {}  # (c0, c1) -> (first row, last row)
        rects: list[tuple[int, int, int, int]] = []
        for i in sorted(changed):
            runs = set(blocks(changed[i]))
            for run in list(open_runs):
                r0, r1 = open_runs[run]
                if run in runs and r1 == i - 1:
                    open_runs[run] = (r0, i)
                else:
                    rects.append((r0, run[0], r1, run[1]))
                    del open_runs[run]
            for run in runs:
                if run not in open_runs:
                    open_runs[run] = (i, i)
        rects.extend((r0, run[0], r1, run[1]) for run, (r0, r1) in open_runs.items())
        for r0, c0, r1, c1 in rects:
            self.dataChanged.emit(self.index(r0, c0), self.index(r1, c1))


CELL_DIFF_LIMIT = 100  # changed rows up to which an update is signalled cell by cell


class PositionsProxy(QSortFilterProxyModel):
    """Filters on account, symbol, side, status and exchange text (`FilterRole`); sorting is the source's.

    The filter reads one precomputed text per row from column 0 rather than every column's display text: the
    proxy re-filters every row whenever the source re-orders (every poll in a moving market), and matching all
    columns would be 25 Python `data` calls per row, a stall of about 100 ms at 2,000 rows."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SortRole)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterRole(FilterRole)
        self.setFilterKeyColumn(0)
        self.setDynamicSortFilter(True)

    passthrough = True  # no filter: proxy row n is source row n (the proxy never sorts, see `sort`)

    def setFilterFixedString(self, pattern: str) -> None:
        """The filter box's slot; also keeps `passthrough` (the cell delegate's shortcut) true to the filter."""
        self.passthrough = not pattern
        super().setFilterFixedString(pattern)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Forward to the source model, which keeps its rows sorted (see `PositionsModel.sort`); the proxy only
        filters, in the source order."""
        source = self.sourceModel()
        if isinstance(source, PositionsModel):
            source.sort(column, order)
        else:
            super().sort(column, order)

    def lessThan(self, left: AnyIndex, right: AnyIndex) -> bool:
        a = left.data(SortRole)
        b = right.data(SortRole)
        ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
        if a is None or b is None:  # unknown figures sort last in either direction
            if a is None and b is None:
                return left.row() < right.row()
            return (a is None) != ascending
        if isinstance(a, str) or isinstance(b, str):
            return str(a).casefold() < str(b).casefold()
        if a == b:
            return left.row() < right.row()
        return a < b
