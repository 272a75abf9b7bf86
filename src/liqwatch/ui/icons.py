"""QIcons for the window, the tray and status cells, built from the pre-rendered PNGs in `icons/`.

Why PNGs and not the SVGs: some tray hosts (XEmbed, older StatusNotifier hosts) only take bitmaps, and Qt's SVG
icon engine is a plugin a frozen build can lose; the bitmaps are rendered once by `packaging/render_icons.py` and
found through `liqwatch.resources.icon_path` however LiqWatch was installed.

Every status has its own shape as well as its own colour (check disc, triangle, octagon, pale question disc), so
a colour-blind trader or a monochrome panel still tells them apart.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

from liqwatch import APP_ID
from liqwatch.domain.status import Status
from liqwatch.resources import icon_path

APP_ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
TRAY_ICON_SIZES = (16, 22, 24, 32, 48, 64)
TRAY_ICON_NAMES = ("ok", "warning", "danger", "stale")
STALE = "stale"

# Which drawing stands for which status. Unknown (no usable price) looks like stale: both mean "do not trust
# this figure". Liquidation is the most urgent danger and shares the danger octagon.
_ICON_FOR_STATUS = {
    Status.OK: "ok",
    Status.WARNING: "warning",
    Status.UNKNOWN: STALE,
    Status.DANGER: "danger",
    Status.LIQUIDATION: "danger",
}


def tray_icon_name(status: Status | str) -> str:
    """The tray drawing for a `Status` (or its string value), or for ``"stale"`` (feed data too old)."""
    if status == STALE:
        return STALE
    try:
        return _ICON_FOR_STATUS[Status(status)]
    except ValueError:
        raise ValueError(f"no status icon for {status!r}; expected one of "
                         f"{[s.value for s in Status] + [STALE]}") from None


def tray_icon_files(status: Status | str) -> dict[int, Path]:
    """Size in px -> PNG file of the tray drawing for `status`."""
    name = tray_icon_name(status)
    return {size: icon_path("tray", f"{name}-{size}.png") for size in TRAY_ICON_SIZES}


def app_icon_files() -> dict[int, Path]:
    """Size in px -> PNG file of the application icon (the hicolor theme layout)."""
    return {size: icon_path("hicolor", f"{size}x{size}", "apps", f"{APP_ID}.png") for size in APP_ICON_SIZES}


def _icon(files: dict[int, Path]) -> QIcon:
    icon = QIcon()
    for path in files.values():
        if not path.is_file():
            raise FileNotFoundError(f"bundled icon missing: {path}")
        icon.addFile(str(path))
    return icon


def status_icon(status: Status | str) -> QIcon:
    """A QIcon carrying every rendered size of the status drawing, so Qt picks the sharp one for the panel."""
    return _icon(tray_icon_files(status))


def app_icon() -> QIcon:
    """The application icon with every rendered size (window title bars, task switchers, the tray fallback)."""
    return _icon(app_icon_files())
