"""Rows prepared off the GUI thread (`TableBatch`) show exactly what the model would have built itself."""

from __future__ import annotations

import threading

from benchmarks.book_factory import make_book
from PySide6.QtCore import Qt

from liqwatch.ui.models.columns import column_index
from liqwatch.ui.models.table_batch import TablePreparer
from liqwatch.ui.models.table_model import CellRole, FilterRole, KeyRole, PositionsModel, PositionsProxy
from tests.ui.snapshots import T0, example_portfolio, make_snapshot


def _table(model: PositionsModel) -> list[tuple[str, ...]]:
    return [tuple(model.index(r, c).data() for c in range(model.columnCount())) for r in range(model.rowCount())]


def _sorted_model(column: str, order: Qt.SortOrder) -> PositionsModel:
    model = PositionsModel(clock=lambda: T0)
    model.sort(column_index(column), order)
    return model


def test_a_presorted_batch_gives_the_same_table_as_building_it_here() -> None:
    portfolio, prices = make_book(300)
    first, second = make_snapshot(portfolio, prices), make_snapshot(
        portfolio, {k: v * 0.97 for k, v in prices.items()}, sequence=2)
    for column in ("distance", "pnl", "account"):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            here, batched = _sorted_model(column, order), _sorted_model(column, order)
            for snapshot in (first, second):
                here.apply_snapshot(snapshot)
                batch = batched.preparer.prepare(snapshot)
                assert batch.sort == (column_index(column), order == Qt.SortOrder.DescendingOrder)
                assert batch.order is not None
                batched.apply_batch(batch)
            assert _table(batched) == _table(here), (column, order)


def test_a_batch_prepared_for_another_sort_is_resorted_by_the_model() -> None:
    portfolio, prices = make_book(200)
    model = _sorted_model("distance", Qt.SortOrder.AscendingOrder)
    stale_sort = TablePreparer(model.columns, lambda: T0)
    stale_sort.sort = (column_index("pnl"), True)  # the trader clicked another header meanwhile
    model.apply_batch(stale_sort.prepare(make_snapshot(portfolio, prices)))
    distances = [model.rows()[r].risk.distance for r in range(model.rowCount())]
    known = [d for d in distances if d is not None]
    assert known == sorted(known) and len(known) > 100


def test_preparing_calls_pause_between_chunks_of_rows() -> None:
    portfolio, prices = make_book(400)
    calls = []
    preparer = TablePreparer(PositionsModel().columns, lambda: T0, pause=lambda: calls.append(1))
    preparer.sort = (column_index("distance"), False)
    preparer.prepare(make_snapshot(portfolio, prices))
    assert len(calls) >= 400 // 64


def test_prepare_runs_in_another_thread_without_qt_objects() -> None:
    model = PositionsModel(clock=lambda: T0)
    model.sort(column_index("distance"), Qt.SortOrder.AscendingOrder)
    snapshot = make_snapshot(example_portfolio())
    box = {}
    worker = threading.Thread(target=lambda: box.update(batch=model.preparer.prepare(snapshot)))
    worker.start()
    worker.join()
    model.apply_batch(box["batch"])
    assert model.rowCount() == len(snapshot.risk)
    assert model.index(0, 0).data(CellRole)[0] == model.index(0, 0).data()


def test_cell_views_are_refreshed_when_their_row_changes() -> None:
    portfolio = example_portfolio()
    model = PositionsModel(clock=lambda: T0)
    model.apply_snapshot(make_snapshot(portfolio))
    key = portfolio.futures_accounts[0].position_key(1)  # the ETH short
    mark = column_index("mark")
    before = model.index(model.row_for_key(key), mark).data(CellRole)[0]
    model.apply_snapshot(make_snapshot(portfolio, {"ETH": 2900.0, "ETH/USDT:USDT": 2900.0}, sequence=2))
    after = model.index(model.row_for_key(key), mark).data(CellRole)[0]
    assert before != after and "2,900" in after


def test_filter_matches_names_and_status_not_figures(qtbot) -> None:
    portfolio = example_portfolio()
    model = PositionsModel(clock=lambda: T0)
    model.apply_snapshot(make_snapshot(portfolio))
    proxy = PositionsProxy()
    proxy.setSourceModel(model)
    proxy.setFilterFixedString("eth")
    keys = {proxy.index(r, 0).data(KeyRole) for r in range(proxy.rowCount())}
    assert keys and all("ETH" in k for k in keys)
    filter_text = model.index(model.row_for_key(next(iter(keys))), 0).data(FilterRole)
    assert "ETH" in filter_text and "%" not in filter_text
    proxy.setFilterFixedString(model.index(0, column_index("status")).data())  # e.g. "Warning"
    assert 0 < proxy.rowCount() <= model.rowCount()
    proxy.setFilterFixedString("9.65")  # a distance shown in the table is not a name
    assert proxy.rowCount() == 0


def test_consecutive_batches_signal_exactly_the_cells_that_changed(qtbot) -> None:
    portfolio = example_portfolio()
    model = _sorted_model("distance", Qt.SortOrder.AscendingOrder)
    model.apply_batch(model.preparer.prepare(make_snapshot(portfolio)))
    before = {(model.index(r, 0).data(KeyRole), c): model.index(r, c).data()
              for r in range(model.rowCount()) for c in range(model.columnCount())}
    ranges, layouts = [], []
    model.dataChanged.connect(lambda tl, br, roles=(): ranges.append((tl.row(), tl.column(), br.row(), br.column())))
    model.layoutChanged.connect(lambda *a: layouts.append(1))
    batch = model.preparer.prepare(make_snapshot(portfolio, {"ETH": 2900.0, "ETH/USDT:USDT": 2900.0}, sequence=2))
    assert batch.since == 1 and batch.changed == {"margin:ETH isolated",
                                                  "futures:Binance USDⓈ-M:ETH/USDT:USDT:short:1"}
    model.apply_batch(batch)
    after = {(model.index(r, 0).data(KeyRole), c): model.index(r, c).data()
             for r in range(model.rowCount()) for c in range(model.columnCount())}
    changed = {cell for cell in before if before[cell] != after[cell]}
    covered = {(model.index(r, 0).data(KeyRole), c) for r0, c0, r1, c1 in ranges
               for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    assert changed and covered == changed
    same = model.preparer.prepare(make_snapshot(portfolio, {"ETH": 2900.0, "ETH/USDT:USDT": 2900.0}, sequence=3))
    assert same.changed == frozenset()
    ranges.clear()
    model.apply_batch(same)
    assert ranges == []


def test_a_skipped_batch_falls_back_to_comparing_rows(qtbot) -> None:
    """Changes are relative to the previous batch; if the window skipped it (only the newest is applied), the
    model compares rows itself and still signals every changed cell."""
    portfolio = example_portfolio()
    model = _sorted_model("distance", Qt.SortOrder.AscendingOrder)
    model.apply_batch(model.preparer.prepare(make_snapshot(portfolio)))
    model.preparer.prepare(make_snapshot(portfolio, {"ETH": 2900.0, "ETH/USDT:USDT": 2900.0}, sequence=2))  # skipped
    third = model.preparer.prepare(make_snapshot(portfolio, {"ETH": 2900.0, "ETH/USDT:USDT": 2900.0}, sequence=3))
    assert third.changed == frozenset() and third.since == 2
    ranges = []
    model.dataChanged.connect(lambda tl, br, roles=(): ranges.append(tl.row()))
    model.apply_batch(third)
    assert ranges  # the ETH rows did change since the batch the model shows
    eth = model.row_for_key("futures:Binance USDⓈ-M:ETH/USDT:USDT:short:1")
    assert "2,900" in model.index(eth, column_index("mark")).data()


def test_the_batch_carries_the_books_worst_status_and_changed_runs() -> None:
    portfolio, prices = make_book(300)
    model = _sorted_model("distance", Qt.SortOrder.AscendingOrder)
    first = model.preparer.prepare(make_snapshot(portfolio, prices))
    model.apply_batch(first)
    assert first.worst == first.snapshot.risk.worst_status
    second = model.preparer.prepare(make_snapshot(portfolio, {k: v * 0.97 for k, v in prices.items()}, sequence=2))
    assert second.positions is not None and second.changed
    positions = sorted(second.positions[k] for k in second.changed)
    assert [p for first_, last in second.changed_runs for p in range(first_, last + 1)] == positions
