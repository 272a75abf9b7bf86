"""`CellDelegate` paints what the model's roles say: the text (elided, never clipped), its colour, selection."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFontMetrics, QImage
from PySide6.QtWidgets import QApplication, QTableView

from liqwatch.ui.models.columns import Column
from liqwatch.ui.models.table_model import PositionsModel
from liqwatch.ui.theme import STALE_COLOUR
from liqwatch.ui.widgets.cell_delegate import CellDelegate, fitted
from tests.ui.snapshots import T0, example_portfolio, make_snapshot


def _view(qtbot, stale: frozenset[str] = frozenset()) -> tuple[QTableView, PositionsModel]:
    model = PositionsModel(clock=lambda: T0)
    model.apply_snapshot(make_snapshot(example_portfolio(), stale=stale))
    view = QTableView()
    view.setModel(model)
    view.setItemDelegate(CellDelegate(view))
    view.resize(1400, 400)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view, model


def _near(image: QImage, rect, colour: str, tolerance: int = 40) -> int:  # type: ignore[no-untyped-def]
    want = QColor(colour)
    count = 0
    for x in range(rect.left(), rect.right()):
        for y in range(rect.top(), rect.bottom()):
            c = image.pixelColor(x, y)
            if abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < tolerance:
                count += 1
    return count


def test_fitted_elides_only_what_does_not_fit(qtbot) -> None:
    metrics = QFontMetrics(QApplication.font())
    text = "12,345,678.90"
    assert fitted(text, metrics, metrics.horizontalAdvance(text)) == text
    short = fitted(text, metrics, metrics.horizontalAdvance(text) // 2)
    assert short.endswith("…") and len(short) < len(text)


def test_stale_rows_paint_their_figures_grey_and_fresh_rows_do_not(qtbot) -> None:
    portfolio = example_portfolio()
    stale_key = portfolio.futures_accounts[0].position_key(0)
    view, model = _view(qtbot, stale=frozenset({stale_key}))
    image = view.viewport().grab().toImage()
    stale_rect = view.visualRect(model.index(model.row_for_key(stale_key), Column.MARK))
    fresh_rect = view.visualRect(model.index(model.row_for_key(portfolio.futures_accounts[0].position_key(1)),
                                             Column.MARK))
    grey_in_stale = _near(image, stale_rect, STALE_COLOUR, 12)
    grey_in_fresh = _near(image, fresh_rect, STALE_COLOUR, 12)
    assert grey_in_stale > 10 and grey_in_stale > 5 * grey_in_fresh, (grey_in_stale, grey_in_fresh)


def test_a_selected_row_is_painted_with_the_highlight(qtbot) -> None:
    view, model = _view(qtbot)
    view.selectRow(0)
    image = view.viewport().grab().toImage()
    highlight = view.palette().highlight().color().name()
    rect = view.visualRect(model.index(0, Column.ACCOUNT))
    unselected = view.visualRect(model.index(1, Column.ACCOUNT))
    area = rect.width() * rect.height()
    assert _near(image, rect, highlight, 10) > area // 2
    assert _near(image, unselected, highlight, 10) < area // 10


def test_a_filtered_view_paints_the_rows_it_shows(qtbot) -> None:
    """With a filter the delegate must go through the proxy: proxy row 0 is then not source row 0."""
    from liqwatch.ui.models.table_model import KeyRole, PositionsProxy

    model = PositionsModel(clock=lambda: T0)
    model.apply_snapshot(make_snapshot(example_portfolio()))
    proxy = PositionsProxy()
    proxy.setSourceModel(model)
    view = QTableView()
    view.setModel(proxy)
    view.setItemDelegate(CellDelegate(view, model, proxy))
    view.resize(1400, 400)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)

    def cell_image(row: int) -> QImage:
        return view.viewport().grab(view.visualRect(proxy.index(row, Column.SYMBOL))).toImage()

    last = proxy.rowCount() - 1
    key = proxy.index(last, 0).data(KeyRole)
    unfiltered = cell_image(last)
    proxy.setFilterFixedString(model.index(model.row_for_key(key), Column.SYMBOL).data())
    assert proxy.rowCount() >= 1 and proxy.index(0, 0).data(KeyRole) == key
    view.viewport().repaint()
    assert cell_image(0) == unfiltered
    proxy.setFilterFixedString("")
    view.viewport().repaint()
    assert cell_image(0) != unfiltered  # the first row of the whole book is another row
