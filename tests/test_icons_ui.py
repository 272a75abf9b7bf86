"""`liqwatch.ui.icons`: every status maps to a drawing that exists, and the QIcons carry every rendered size."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

from liqwatch.domain.status import Status
from liqwatch.ui import icons


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (Status.OK, "ok"),
        (Status.WARNING, "warning"),
        (Status.UNKNOWN, "stale"),
        (Status.DANGER, "danger"),
        (Status.LIQUIDATION, "danger"),
        ("stale", "stale"),
        ("warning", "warning"),
    ],
)
def test_each_status_has_its_drawing(status: Status | str, name: str) -> None:
    assert icons.tray_icon_name(status) == name
    files = icons.tray_icon_files(status)
    assert set(files) == set(icons.TRAY_ICON_SIZES)
    assert all(path.is_file() and path.name == f"{name}-{size}.png" for size, path in files.items())


def test_unknown_status_name_is_rejected_with_the_value() -> None:
    with pytest.raises(ValueError, match="'fine'"):
        icons.tray_icon_name("fine")


def test_status_icons_carry_every_size_and_differ(qapp: object) -> None:
    images = {}
    for status in Status:
        icon = icons.status_icon(status)
        assert not icon.isNull()
        available = {size.width() for size in icon.availableSizes()}
        assert set(icons.TRAY_ICON_SIZES) <= available, status
        pixmap = icon.pixmap(QSize(16, 16))
        assert (pixmap.width(), pixmap.height()) == (16, 16)
        images[status] = pixmap.toImage()
    assert images[Status.OK] != images[Status.WARNING] != images[Status.DANGER] != images[Status.UNKNOWN]
    assert images[Status.LIQUIDATION] == images[Status.DANGER]


def test_app_icon_carries_16_to_512(qapp: object) -> None:
    icon = icons.app_icon()
    assert isinstance(icon, QIcon) and not icon.isNull()
    assert {s.width() for s in icon.availableSizes()} == set(icons.APP_ICON_SIZES)
    large = icon.pixmap(QSize(256, 256)).toImage()
    assert large.width() == 256 and large.pixelColor(128, 128).alpha() == 255


def test_missing_icon_file_is_reported_by_path(qapp: object, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setattr(icons, "icon_path", lambda *parts: tmp_path.joinpath(*parts))
    with pytest.raises(FileNotFoundError, match=r"ok-16\.png"):
        icons.status_icon(Status.OK)
