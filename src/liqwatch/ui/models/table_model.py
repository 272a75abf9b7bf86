"""`PositionsModel`: a thin Qt adapter over the newest `BookSnapshot`, and its sort/filter proxy.

One row per margin account and per futures position (keys `MarginRisk.key` / `FuturesRisk.key`). A snapshot is
applied as one batch: rows are removed/inserted only when the set of keys changes, and `dataChanged` is emitted
for the rectangles of cells whose shown text or style actually changed, so views repaint only what moved and the
selection and scroll position survive. The model formats; it never computes risk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from liqwatch.domain.risk import BookRisk, FuturesRisk, MarginRisk, Risk
from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.domain.status import Status
from liqwatch.ui.models.columns import COLUMNS, NOT_APPLICABLE, PROBABILITY_TOOLTIP, ColumnSpec, Row
from liqwatch.ui.theme import STALE_COLOUR, WHAT_IF_COLOUR, status_colour, status_icon

SortRole = Qt.ItemDataRole.UserRole + 1  # raw number (or text) to sort by
KeyRole = Qt.ItemDataRole.UserRole + 2  # the row's stable key
RiskRole = Qt.ItemDataRole.UserRole + 3  # the row's risk record
StaleRole = Qt.ItemDataRole.UserRole + 4  # bool

AnyIndex = QModelIndex | QPersistentModelIndex
_ALIGN_NUMBER = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_TEXT_COMPARED = frozenset({"probability"})  # columns whose many raw values share one text
_ALIGN_TEXT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


def _price_for(risk: Risk, snapshot: BookSnapshot, prices: dict[str, float]) -> tuple[float | None, str | None]:
    if isinstance(risk, FuturesRisk):
        return risk.mark_price, None
    asset = risk.symbol.split("/", 1)[0] if risk.symbol else None
    if asset is None and len(risk.liquidation_prices) == 1:
        asset = next(iter(risk.liquidation_prices))
    if asset is None:
        return None, None
    return prices.get(asset), asset


def _price_time(risk: Risk, snapshot: BookSnapshot, accounts: dict[str, Any]) -> float | None:
    """Stamp of the oldest quote the row depends on (None: no quote, e.g. fixed prices only)."""
    quotes = snapshot.quotes
    if isinstance(risk, FuturesRisk):
        quote = quotes.get(risk.symbol) or quotes.get(risk.symbol.split("/", 1)[0])
        return _stamp(quote) if quote else None
    stamps = []
    account = accounts.get(risk.key)
    if account is not None:
        for balance in account.assets:
            if snapshot.portfolio.is_pegged(balance.asset):
                continue
            quote = quotes.get(balance.asset)
            if quote is not None:
                stamps.append(_stamp(quote))
    return min(stamps) if stamps else None


def _stamp(quote: Any) -> float:
    return quote.exchange_time if quote.exchange_time is not None else quote.received_time


def rows_from_snapshot(snapshot: BookSnapshot, risk: BookRisk | None = None, what_if: bool = False,
                       prices: dict[str, float] | None = None) -> list[Row]:
    """Build the rows of a snapshot (or of `risk` and `prices`: shocked figures for the same book, as what-if)."""
    if prices is None:
        prices = {k: q.price for k, q in snapshot.quotes.items()}
        for key, value in snapshot.portfolio.prices.items():
            prices.setdefault(key, value)
    shown = risk if risk is not None else snapshot.risk
    accounts = {a.key: a for a in snapshot.portfolio.margin_accounts}
    stale = snapshot.stale_keys
    checks = snapshot.reconciled if not what_if else {}
    out = []
    for r in shown:
        price, asset = _price_for(r, snapshot, prices)
        out.append(Row(risk=r, stale=r.key in stale, price_time=_price_time(r, snapshot, accounts), price=price,
                       price_asset=asset, what_if=what_if, checks=checks.get(r.key, ())))
    return out


class PositionsModel(QAbstractTableModel):
    """Margin accounts and futures positions of the current snapshot, one row each."""

    def __init__(self, parent: Any = None, columns: Sequence[ColumnSpec] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self.columns: list[ColumnSpec] = list(columns if columns is not None else COLUMNS)
        self._rows: list[Row] = []
        self._index: dict[str, int] = {}
        self._cells: list[dict[int, Any] | None] = []  # per row: the last shown state of its live (clock) cells
        self._clock = clock
        self.snapshot: BookSnapshot | None = None
        self._sort_column = -1  # the model keeps its own rows in view order (see `sort`); -1: arrival order
        self._sort_order = Qt.SortOrder.AscendingOrder

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

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self.columns):
            return None
        row = self._rows[index.row()]
        spec = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(spec, row)
        if role == SortRole:
            value = self._raw(spec, row)
            if value is None or value is NOT_APPLICABLE:
                return None
            return value if isinstance(value, int | float | str) else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _ALIGN_NUMBER if spec.numeric else _ALIGN_TEXT
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(spec, row)
        if role == Qt.ItemDataRole.FontRole:
            if row.what_if:
                font = QFont()
                font.setItalic(True)
                return font
            if spec.key == "status" and row.risk.status in (Status.DANGER, Status.LIQUIDATION):
                font = QFont()
                font.setBold(True)
                return font
            return None
        if role == Qt.ItemDataRole.DecorationRole and spec.key == "status":
            return status_icon(row.risk.status)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(spec, row)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{spec.header}: {self._text(spec, row)}"
        if role == KeyRole:
            return row.risk.key
        if role == RiskRole:
            return row.risk
        if role == StaleRole:
            return row.stale
        return None

    # --- helpers --------------------------------------------------------------------------------------------
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
            return QBrush(QColor(STALE_COLOUR))
        if spec.key == "status":
            return QBrush(status_colour(row.risk.status))
        if row.what_if and spec.numeric:
            return QBrush(QColor(WHAT_IF_COLOUR))
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
        """Apply one snapshot (with `shocked`, the what-if figures at `shocked_prices`) as a batch."""
        self.snapshot = snapshot
        self.apply_rows(rows_from_snapshot(snapshot, shocked, shocked is not None, shocked_prices))

    def apply_rows(self, new_rows: list[Row]) -> None:
        new_keys = [r.risk.key for r in new_rows]
        new_set = set(new_keys)
        # 1. removals, bottom-up in contiguous blocks
        doomed = [i for i, r in enumerate(self._rows) if r.risk.key not in new_set]
        for first, last in reversed(_blocks(doomed)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first:last + 1]
            del self._cells[first:last + 1]
            self.endRemoveRows()
        self._index = {r.risk.key: i for i, r in enumerate(self._rows)}
        # 2. insertions, appended (the proxy orders rows; model order only needs to be stable)
        by_key = dict(zip(new_keys, new_rows, strict=True))
        added = [k for k in new_keys if k not in self._index]
        if added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            for key in added:
                row = by_key[key]
                self._index[key] = len(self._rows)
                self._rows.append(row)
                self._cells.append(None)  # live cells: filled by the first `refresh_live_columns`
            self.endInsertRows()
        # 3. changed cells of the rows that stayed
        changed_rows: list[tuple[int, Row, Row]] = []
        added_set = set(added)
        for key, row in by_key.items():
            if key in added_set:
                continue
            i = self._index[key]
            old = self._rows[i]
            self._rows[i] = row
            if _row_changed(old, row):
                changed_rows.append((i, old, row))
        if len(changed_rows) <= CELL_DIFF_LIMIT:
            # few rows moved: find exactly the cells whose raw value (or text, see `_cell`) changed
            changed: dict[int, list[int]] = {}
            for i, old, row in changed_rows:
                cols = [c for c, spec in enumerate(self.columns)
                        if not spec.live and self._cell(spec, old) != self._cell(spec, row)]
                if cols:
                    changed[i] = cols
            self._emit_changed(changed)
        else:
            # the whole market moved: diffing every cell of a big book in Python would stall the GUI thread, so
            # each run of changed rows is signalled as one rectangle; the view re-reads only the visible cells
            last_column = len(self.columns) - 1
            for first, last in _blocks(sorted(i for i, _, _ in changed_rows)):
                self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))
        if self._sort_column >= 0:
            self._resort()

    # --- sorting ----------------------------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Keep the rows ordered by `column`'s raw value (unknowns last in either direction).

        Sorting lives here rather than in the proxy: a dynamically sorting `QSortFilterProxyModel` calls a Python
        `lessThan` thousands of times per snapshot for a big book (each a round trip through `data`), which
        stalled the window for seconds at 2,000 rows. One `sorted` over raw values costs about a millisecond.
        """
        self._sort_column = column if 0 <= column < len(self.columns) else -1
        self._sort_order = order
        self._resort()

    def _resort(self) -> None:
        if self._sort_column < 0 or len(self._rows) < 2:
            return
        spec = self.columns[self._sort_column]
        known: list[tuple[Any, int]] = []
        unknown: list[int] = []
        for i, row in enumerate(self._rows):
            value = self._raw(spec, row)
            if value is None or value is NOT_APPLICABLE:
                unknown.append(i)
            elif isinstance(value, str):
                known.append((value.casefold(), i))
            elif isinstance(value, int | float):
                known.append((value, i))
            else:
                known.append((str(value).casefold(), i))
        if any(isinstance(k, str) for k, _ in known) and not all(isinstance(k, str) for k, _ in known):
            known = [(str(k).casefold(), i) for k, i in known]
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        # stable (also with reverse=True): equal values keep their current order, like the proxy's row tie-break
        known.sort(key=lambda item: item[0], reverse=descending)
        order = [i for _, i in known] + unknown
        if order == list(range(len(self._rows))):
            return
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        new_position = [0] * len(order)
        for new, old in enumerate(order):
            new_position[old] = new
        self._rows = [self._rows[i] for i in order]
        self._cells = [self._cells[i] for i in order]
        self._index = {r.risk.key: i for i, r in enumerate(self._rows)}
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
            runs = set(_blocks(changed[i]))
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


def _row_changed(old: Row, new: Row) -> bool:
    """Whether anything but the clock-driven data age can look different (the age has its own refresh)."""
    # cheap float comparisons first: in a moving market they settle almost every row without a full compare
    return (old.price != new.price or old.risk.distance != new.risk.distance or old.stale != new.stale
            or old.what_if != new.what_if or old.price_asset != new.price_asset or old.risk != new.risk)


def _blocks(indices: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7, 8] -> [(1, 3), (7, 8)]"""
    out: list[tuple[int, int]] = []
    for i in indices:
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


class PositionsProxy(QSortFilterProxyModel):
    """Sorts by the raw number in `SortRole` (unknowns last) and filters on account/symbol text."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SortRole)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setDynamicSortFilter(True)

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
