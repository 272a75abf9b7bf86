"""The committed icons: present in every size, current with their SVG sources, and legible where they are used.

Legibility is measured, not eyeballed: composited onto light and dark panel colours, a tray icon at 16 px must
keep a good share of its pixels at WCAG's 3:1 non-text contrast against the panel, and the four status drawings
must still differ from each other in greyscale (shape, not colour alone).
"""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import liqwatch

ROOT = Path(__file__).resolve().parent.parent
LIGHT_PANELS = ("#ffffff", "#f0f0f0")
DARK_PANELS = ("#303030", "#000000")


def _load_render_icons() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_icons", ROOT / "packaging" / "render_icons.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


ri = _load_render_icons()


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB values 0..255."""
    c = rgb / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def _on_panel(rgba: np.ndarray, panel: str) -> np.ndarray:
    """The icon alpha-composited onto a solid panel colour, as RGB floats."""
    background = np.array([int(panel[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    alpha = rgba[..., 3:].astype(float) / 255.0
    return rgba[..., :3].astype(float) * alpha + background * (1 - alpha)


def _tray_rgba(status: str, size: int = 16) -> np.ndarray:
    return ri.rgba_array(ri.load_png(ri.tray_png(status, size)))


def test_script_and_package_share_the_app_id() -> None:
    assert ri.APP_ID == liqwatch.APP_ID


def test_committed_pngs_match_their_svg_sources(qapp: object) -> None:
    """Fails when an SVG was edited without re-running packaging/render_icons.py (or a PNG went missing)."""
    assert ri.stale_outputs() == []


def test_stale_check_notices_an_edited_svg(qapp: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: point the ok-icon outputs at the danger drawing and it must object."""
    monkeypatch.setattr(ri, "tray_svg", lambda status: ri.ICONS / "tray" / ("danger.svg" if status == "ok"
                                                                             else f"{status}.svg"))
    problems = ri.stale_outputs()
    assert problems and all("tray/ok-" in problem for problem in problems)


def test_every_size_exists_with_its_pixel_size(qapp: object) -> None:
    expected = [(out.png, out.size) for out in ri.outputs()]
    assert len(expected) == len(ri.APP_SIZES) + len(ri.TRAY_STATUSES) * len(ri.TRAY_SIZES)
    for png, size in expected:
        image = ri.load_png(png)
        assert (image.width(), image.height()) == (size, size), png
        assert image.hasAlphaChannel(), f"{png} must be transparent around the drawing"
    assert {16, 24, 32, 48, 64, 128, 256, 512} <= set(ri.APP_SIZES)
    assert {16, 22, 24, 32, 48, 64} <= set(ri.TRAY_SIZES)


def test_app_svg_is_also_named_by_the_app_id() -> None:
    assert (ROOT / "icons" / f"{liqwatch.APP_ID}.svg").read_bytes() == (ROOT / "icons" / "liqwatch.svg").read_bytes()


@pytest.mark.parametrize("status", ["ok", "warning", "danger", "stale"])
@pytest.mark.parametrize("panel", LIGHT_PANELS + DARK_PANELS)
def test_tray_icon_stands_out_at_16px(qapp: object, status: str, panel: str) -> None:
    rgba = _tray_rgba(status)
    opaque = rgba[..., 3] > 127
    panel_luminance = _luminance(_on_panel(np.zeros((1, 1, 4), dtype=np.uint8), panel))[0, 0]
    luminance = _luminance(_on_panel(rgba, panel))
    ratio = (np.maximum(luminance, panel_luminance) + 0.05) / (np.minimum(luminance, panel_luminance) + 0.05)
    visible = (ratio >= 3.0) & opaque
    assert opaque.sum() >= 100, f"{status}: the drawing should fill most of the 16 px square"
    assert visible.sum() >= 40 and visible.sum() >= 0.3 * opaque.sum(), (
        f"{status} on {panel}: only {visible.sum()} of {opaque.sum()} pixels reach 3:1 contrast")


@pytest.mark.parametrize("panel", LIGHT_PANELS + DARK_PANELS)
def test_status_icons_differ_in_greyscale(qapp: object, panel: str) -> None:
    """A colour-blind trader or a monochrome panel must still tell every status from every other."""
    grey = {status: _luminance(_on_panel(_tray_rgba(status), panel)) for status in ri.TRAY_STATUSES}
    for first in ri.TRAY_STATUSES:
        for second in ri.TRAY_STATUSES:
            if first < second:
                differing = (np.abs(grey[first] - grey[second]) > 0.2).sum()
                assert differing >= 25, f"{first} and {second} look alike in grey on {panel} ({differing} px)"


def test_ico_holds_png_images_of_the_app_icon() -> None:
    data = ri.ICO_FILE.read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, height, _, _, planes, bpp, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * index)
        assert data[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + length <= len(data) and (planes, bpp) == (1, 32)
        sizes.append(width or 256)
        assert width == height
    assert sorted(sizes) == sorted(ri.ICO_SIZES)


def test_icns_holds_png_images_of_the_app_icon() -> None:
    data = ri.ICNS_FILE.read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    position, codes = 8, []
    while position < len(data):
        code, length = data[position : position + 4].decode("ascii"), struct.unpack(">I", data[position + 4 :
                                                                                             position + 8])[0]
        assert data[position + 8 : position + 16] == b"\x89PNG\r\n\x1a\n", code
        codes.append(code)
        position += length
    assert position == len(data)
    assert sorted(codes) == sorted(ri.ICNS_TYPES)
