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
