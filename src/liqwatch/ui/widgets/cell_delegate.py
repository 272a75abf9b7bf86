"""`CellDelegate`: paints a positions-table cell from the model's single `CellRole` answer.

The stock delegate asks the model for eight roles per visible cell and lays each text out through the style:
a 2,000-row book repainting on every poll spent 16–22 ms per paint that way, one of the two halves of the GUI
stall in `benchmarks/bench_gui.py`. This delegate makes one Python call per cell (text, colour, font, icon and
alignment, kept by the model until the row changes) and draws the text directly, eliding it like the stock one.
Selection is painted with the palette's highlight, as the stock delegate does; everything else (size hints,
tooltips, accessibility) still goes through the ordinary roles.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from liqwatch.ui.models.table_model import CellRole, PositionsModel, PositionsProxy, cell_font
from liqwatch.ui.theme import status_icon

MARGIN = 4  # px of text inset on each side (the stock delegate's focus-frame margin + 1, plus a pixel of air)
_SELECTED = QStyle.StateFlag.State_Selected
_ACTIVE = QStyle.StateFlag.State_Active
_HIGHLIGHT = QPalette.ColorRole.Highlight
_HIGHLIGHTED_TEXT = QPalette.ColorRole.HighlightedText
_TEXT = QPalette.ColorRole.Text
_ACTIVE_GROUP = QPalette.ColorGroup.Active
_INACTIVE_GROUP = QPalette.ColorGroup.Inactive
_ELIDE = Qt.TextElideMode.ElideRight


class CellDelegate(QStyledItemDelegate):
    """Draws text (and the status icon) from `CellRole`; falls back to the stock painting for other models.

    Given the positions model and its proxy, an unfiltered view reads the model's cell view directly (proxy row n
    is source row n then): no trip through the proxy and Qt's index checks, a third of a repaint's Python time."""

    def __init__(self, parent: Any = None, model: PositionsModel | None = None,
                 proxy: PositionsProxy | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._proxy = proxy

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        model, proxy = self._model, self._proxy
        if model is not None and proxy is not None and proxy.passthrough and index.model() is proxy:
            view: Any = model.cell_view(index.row(), index.column())
        else:
            view = index.data(CellRole)
        if view is None:
            super().paint(painter, option, index)
            return
        text, brush, font, status, align = view
        rect = option.rect
        state = option.state
        palette = option.palette
        if state & _SELECTED:
            group = _ACTIVE_GROUP if state & _ACTIVE else _INACTIVE_GROUP
            painter.fillRect(rect, palette.brush(group, _HIGHLIGHT))
            colour = palette.color(group, _HIGHLIGHTED_TEXT)
        else:
            colour = brush.color() if brush is not None else palette.color(_TEXT)
        x = rect.x() + MARGIN
        width = rect.width() - 2 * MARGIN
        if status is not None:
            size = option.decorationSize.height()
            status_icon(status).paint(painter, QRect(x, rect.y() + (rect.height() - size) // 2, size, size))
            x += size + MARGIN
            width -= size + MARGIN
        if width <= 0 or not text:
            return
        if font is not None:
            painter.save()
            painter.setFont(cell_font(font))
        painter.setPen(colour)
        painter.drawText(QRect(x, rect.y(), width, rect.height()), align, fitted(text, painter.fontMetrics(), width))
        if font is not None:
            painter.restore()


def fitted(text: str, metrics: QFontMetrics, width: int) -> str:
    """`text`, or its elided form ending in "…" if it is wider than `width` px: a clipped number ("12,34" of
    "12,345.67") would be read as a different number, an elided one visibly is not the whole of it."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    return metrics.elidedText(text, _ELIDE, width)
