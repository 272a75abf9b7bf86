"""The positions table model: Qt contract, batch updates over changed cells only, raw-number sorting, stale/missing."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt

from liqwatch.domain.status import Status
from liqwatch.ui.format import DASH
from liqwatch.ui.models.columns import COLUMNS, Column, column_index
from liqwatch.ui.models.table_model import KeyRole, PositionsModel, PositionsProxy, SortRole
from liqwatch.ui.theme import STALE_COLOUR
from tests.ui.snapshots import T0, example_portfolio, make_snapshot


def _model(snapshot=None) -> PositionsModel:
    model = PositionsModel(clock=lambda: T0)
    model.apply_snapshot(snapshot or make_snapshot(example_portfolio()))
    return model


def test_model_passes_qtmodeltester(qtmodeltester) -> None:
    model = _model()
    qtmodeltester.check(model)
    proxy = PositionsProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)


def test_one_row_per_margin_account_and_futures_position() -> None:
    portfolio = example_portfolio()
    model = _model(make_snapshot(portfolio))
    keys = {model.index(r, 0).data(KeyRole) for r in range(model.rowCount())}
    assert keys == {a.key for a in portfolio.margin_accounts} | {
        a.position_key(i) for a in portfolio.futures_accounts for i in range(len(a.positions))}
    assert model.columnCount() == len(COLUMNS)


def test_price_update_changes_exactly_the_cells_that_changed(qtbot) -> None:
    portfolio = example_portfolio()
    model = _model(make_snapshot(portfolio))
    before = {(r, c): model.index(r, c).data() for r in range(model.rowCount()) for c in range(model.columnCount())}
    ranges = []
    model.dataChanged.connect(lambda tl, br, roles=(): ranges.append((tl.row(), tl.column(), br.row(), br.column())))
    inserted, removed = [], []
    model.rowsInserted.connect(lambda *a: inserted.append(a))
    model.rowsRemoved.connect(lambda *a: removed.append(a))
    # only ETH moves: the ETH margin account and the ETH perpetual change, BTC rows do not
    model.apply_snapshot(make_snapshot(portfolio, {"ETH": 2900.0, "ETH/USDT:USDT": 2900.0}, sequence=2))
    after = {(r, c): model.index(r, c).data() for r in range(model.rowCount()) for c in range(model.columnCount())}
    changed = {cell for cell in before if before[cell] != after[cell]}
    covered = {(r, c) for r0, c0, r1, c1 in ranges for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    assert changed, "the ETH rows must change"
    assert covered == changed
    changed_keys = {model.index(r, 0).data(KeyRole) for r, _ in changed}
    assert changed_keys == {"margin:ETH isolated", "futures:Binance USDⓈ-M:ETH/USDT:USDT:short:1"}
    assert not inserted and not removed


def test_same_snapshot_twice_emits_nothing() -> None:
    portfolio = example_portfolio()
    model = _model(make_snapshot(portfolio))
    ranges = []
    model.dataChanged.connect(lambda *a: ranges.append(a))
    model.apply_snapshot(make_snapshot(portfolio, sequence=2))
    assert ranges == []


def test_rows_inserted_and_removed_only_when_the_book_changes() -> None:
    portfolio = example_portfolio()
    model = _model(make_snapshot(portfolio))
    removed, inserted = [], []
    model.rowsRemoved.connect(lambda parent, first, last: removed.append((first, last)))
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    smaller = replace(portfolio, margin_accounts=portfolio.margin_accounts[1:])
    model.apply_snapshot(make_snapshot(smaller, sequence=2))
    assert removed == [(0, 0)] and not inserted
    assert model.row_for_key("margin:Binance cross") == -1
    model.apply_snapshot(make_snapshot(portfolio, sequence=3))
    assert inserted == [(model.rowCount() - 1, model.rowCount() - 1)]


def test_sorting_by_distance_uses_raw_numbers_and_puts_unknown_last() -> None:
    portfolio = example_portfolio()
    # drop ETH: the ETH rows become unknown (no distance) and must sort after every known distance
    model = _model(make_snapshot(portfolio, drop=("ETH", "ETH/USDT:USDT")))
    proxy = PositionsProxy()
    proxy.setSourceModel(model)
    col = column_index("distance")
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        proxy.sort(col, order)
        values = [proxy.index(r, col).data(SortRole) for r in range(proxy.rowCount())]
        known = [v for v in values if v is not None]
        assert known == sorted(known, reverse=order == Qt.SortOrder.DescendingOrder)
        assert values[len(known):] == [None] * (len(values) - len(known)) and len(known) < len(values)
    # text sorting would put "9.65 %" after "60.40 %"; the raw-number sort must not
    proxy.sort(col, Qt.SortOrder.AscendingOrder)
    texts = [proxy.index(r, col).data() for r in range(proxy.rowCount())]
    assert texts[0] == "9.65 %"


def test_stale_rows_are_greyed_and_show_their_age() -> None:
    portfolio = example_portfolio()
    key = portfolio.futures_accounts[0].position_key(0)
    model = _model(make_snapshot(portfolio, stale=frozenset({key})))
    row = model.row_for_key(key)
    age = model.index(row, Column.AGE)
    assert "stale" in age.data() and age.data().startswith("1 s")
    assert model.index(row, Column.MARK).data(Qt.ItemDataRole.ForegroundRole).color().name() == STALE_COLOUR
    fresh = model.row_for_key(portfolio.futures_accounts[0].position_key(1))
    assert "stale" not in model.index(fresh, Column.AGE).data()


def test_missing_price_shows_dash_never_zero() -> None:
    portfolio = example_portfolio()
    model = _model(make_snapshot(portfolio, drop=("ETH/USDT:USDT", "ETH")))
    row = model.row_for_key(portfolio.futures_accounts[0].position_key(1))
    for col in (Column.MARK, Column.LIQUIDATION, Column.DISTANCE, Column.PNL, Column.PROBABILITY):
        assert model.index(row, col).data() == DASH, COLUMNS[col].key
    assert model.index(row, Column.STATUS).data() == "Unknown"
    assert model.index(row, Column.MARK).data(SortRole) is None


def test_status_has_text_icon_and_colour() -> None:
    model = _model()
    for r in range(model.rowCount()):
        index = model.index(r, Column.STATUS)
        status = model.index(r, 0).data(KeyRole) and model.rows()[r].risk.status
        assert index.data() in {"OK", "Warning", "Danger", "Liquidation", "Unknown"}
        assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()
        assert index.data(Qt.ItemDataRole.ForegroundRole) is not None
        assert isinstance(status, Status)


def test_numbers_right_aligned_text_left() -> None:
    model = _model()
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert model.index(0, Column.DISTANCE).data(Qt.ItemDataRole.TextAlignmentRole) == right
    assert model.index(0, Column.ACCOUNT).data(Qt.ItemDataRole.TextAlignmentRole) != right


def test_probability_tooltip_explains_the_formula() -> None:
    model = _model()
    tip = model.headerData(Column.PROBABILITY, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "erfc" in tip and "volatility" in tip and "jumps" in tip
    cell_tip = model.index(0, Column.PROBABILITY).data(Qt.ItemDataRole.ToolTipRole)
    assert "σ used" in cell_tip or "No volatility" in cell_tip


def test_age_column_refreshes_with_the_clock_only() -> None:
    now = [T0]
    model = PositionsModel(clock=lambda: now[0])
    model.apply_snapshot(make_snapshot(example_portfolio()))
    ranges = []
    model.dataChanged.connect(lambda tl, br, roles=(): ranges.append((tl.column(), br.column())))
    now[0] = T0 + 120
    model.refresh_live_columns()
    assert ranges and all(c0 == c1 == Column.AGE for c0, c1 in ranges)
    assert model.index(0, Column.AGE).data() == "2 min"


def test_a_big_moving_book_is_signalled_by_changed_row_runs_only(qtbot) -> None:
    """Above `CELL_DIFF_LIMIT` changed rows, whole changed rows are signalled (no per-cell diff on the GUI
    thread), and rows whose figures did not change are still left alone."""
    from benchmarks.book_factory import make_book

    from liqwatch.ui.models.table_model import CELL_DIFF_LIMIT

    portfolio, prices = make_book(400)
    model = PositionsModel()
    model.apply_snapshot(make_snapshot(portfolio, prices))
    ranges = []
    model.dataChanged.connect(lambda tl, br, roles=(): ranges.append((tl.row(), tl.column(), br.row(), br.column())))
    moved = {k: (v * 0.97 if k.startswith(("BTC", "ETH")) else v) for k, v in prices.items()}
    model.apply_snapshot(make_snapshot(portfolio, moved, sequence=2))
    touched = {model.index(r, 0).data(KeyRole) for r0, _, r1, _ in ranges for r in range(r0, r1 + 1)}
    assert len(touched) > CELL_DIFF_LIMIT
    assert all(c0 == 0 and c1 == model.columnCount() - 1 for _, c0, _, c1 in ranges)
    for account in portfolio.futures_accounts:
        for i, position in enumerate(account.positions):
            key = account.position_key(i)
            if position.base in ("BTC", "ETH"):
                assert key in touched
            elif position.margin_mode == "isolated":
                assert key not in touched  # nothing it depends on moved
