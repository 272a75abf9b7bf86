"""Colours, status icons and the light/dark palette.

Status is never conveyed by colour alone: every status has a word, a distinct icon shape (circle, triangle, question
mark, diamond, cross) and a colour. Icons are painted at several sizes so they stay sharp on HiDPI screens.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QApplication, QStyleFactory

from liqwatch.domain.status import Status

STATUS_COLOURS: dict[Status, str] = {
    Status.OK: "#2e9d4f",
    Status.WARNING: "#d08a00",
    Status.UNKNOWN: "#7a7f87",
    Status.DANGER: "#d7372f",
    Status.LIQUIDATION: "#8e0f2f",
}
STATUS_LABELS: dict[Status, str] = {
    Status.OK: "OK",
    Status.WARNING: "Warning",
    Status.UNKNOWN: "Unknown",
    Status.DANGER: "Danger",
    Status.LIQUIDATION: "Liquidation",
}
STALE_COLOUR = "#8a8f98"
WHAT_IF_COLOUR = "#6a4fc7"


def status_colour(status: Status) -> QColor:
    return QColor(STATUS_COLOURS[status])


def _paint_status(painter: QPainter, status: Status, size: int) -> None:
    colour = status_colour(status)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(colour.darker(140), max(1.0, size / 16)))
    painter.setBrush(QBrush(colour))
    m = size * 0.08
    r = QRectF(m, m, size - 2 * m, size - 2 * m)
    if status is Status.OK:
        painter.drawEllipse(r)
    elif status is Status.WARNING:
        painter.drawPolygon(QPolygonF([QPointF(r.center().x(), r.top()), r.bottomRight(), r.bottomLeft()]))
    elif status is Status.UNKNOWN:
        painter.drawRoundedRect(r, size * 0.2, size * 0.2)
    elif status is Status.DANGER:
        c = r.center()
        painter.drawPolygon(QPolygonF([QPointF(c.x(), r.top()), QPointF(r.right(), c.y()),
                                       QPointF(c.x(), r.bottom()), QPointF(r.left(), c.y())]))
    else:
        painter.drawRect(r)
    glyph = {Status.OK: "✓", Status.WARNING: "!", Status.UNKNOWN: "?", Status.DANGER: "!",
             Status.LIQUIDATION: "✕"}[status]
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(6, int(size * (0.5 if status is Status.WARNING else 0.62))))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    text_rect = QRectF(r)
    if status is Status.WARNING:
        text_rect.setTop(r.top() + size * 0.25)
    painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, glyph)


@cache
def status_icon(status: Status) -> QIcon:
    """A status icon with its own shape, painted at 16…64 px for HiDPI."""
    icon = QIcon()
    for size in (16, 24, 32, 48, 64):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        _paint_status(painter, status, size)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


@cache
def app_icon() -> QIcon:
    """The window icon: a gauge needle over a red zone, painted so it needs no file."""
    icon = QIcon()
    for size in (16, 32, 64, 128, 256):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QColor("#1f2a38"))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRoundedRect(QRectF(0, 0, size, size), size * 0.18, size * 0.18)
        arc = QRectF(size * 0.15, size * 0.25, size * 0.7, size * 0.7)
        pen = QPen(QColor(STATUS_COLOURS[Status.OK]), size * 0.1)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        p.setPen(pen)
        p.drawArc(arc, 90 * 16, 90 * 16)
        pen.setColor(QColor(STATUS_COLOURS[Status.DANGER]))
        p.setPen(pen)
        p.drawArc(arc, 0, 90 * 16)
        path = QPainterPath(QPointF(size * 0.5, size * 0.6))
        path.lineTo(QPointF(size * 0.74, size * 0.36))
        p.setPen(QPen(QColor("white"), size * 0.06))
        p.drawPath(path)
        p.end()
        icon.addPixmap(pixmap)
    return icon


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette or QApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def apply_theme(app: QApplication, theme: str) -> None:
    """"system" keeps the platform palette (Qt follows the desktop's light/dark scheme); "light"/"dark" force one
    with the Fusion style, which honours custom palettes on every platform."""
    if theme == "system":
        return
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    if theme == "light":
        app.setPalette(fusion.standardPalette() if fusion is not None else QPalette())
        return
    pal = QPalette()
    base, window, text = QColor("#1e1f22"), QColor("#2b2d31"), QColor("#e6e6e6")
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        pal.setColor(group, QPalette.ColorRole.Window, window)
        pal.setColor(group, QPalette.ColorRole.WindowText, text)
        pal.setColor(group, QPalette.ColorRole.Base, base)
        pal.setColor(group, QPalette.ColorRole.AlternateBase, QColor("#25272b"))
        pal.setColor(group, QPalette.ColorRole.Text, text)
        pal.setColor(group, QPalette.ColorRole.Button, window)
        pal.setColor(group, QPalette.ColorRole.ButtonText, text)
        pal.setColor(group, QPalette.ColorRole.Highlight, QColor("#3d6fb6"))
        pal.setColor(group, QPalette.ColorRole.HighlightedText, QColor("white"))
        pal.setColor(group, QPalette.ColorRole.ToolTipBase, window)
        pal.setColor(group, QPalette.ColorRole.ToolTipText, text)
        pal.setColor(group, QPalette.ColorRole.PlaceholderText, QColor("#8a8f98"))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#777777"))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#777777"))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#777777"))
    app.setPalette(pal)
