"""Render LiqWatch's PNG, ICO and ICNS icons from the SVG sources in `icons/`.

Why a script and committed outputs: the running app, the wheel and the PyInstaller bundle then need no SVG
rendering at start-up (some tray hosts only take bitmaps), and the pictures a reviewer looks at are the pictures
that ship. Qt's own SVG renderer (PySide6's QSvgRenderer, offscreen) draws them, so no extra dependency.

    python packaging/render_icons.py           # (re)write every output next to its source
    python packaging/render_icons.py --check   # exit 1 if a committed output no longer matches its SVG

Edit the SVGs, never the PNGs. Tray icons are drawn on a 16-unit grid so the 16 px bitmap lands on whole pixels.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "icons"
APP_ID = "io.github.liqwatch.LiqWatch"  # must equal liqwatch.APP_ID (a test checks)
APP_SVG = ICONS / "liqwatch.svg"
APP_ID_SVG = ICONS / f"{APP_ID}.svg"
APP_SMALL_SVG = ICONS / "liqwatch-small.svg"  # hand-simplified art for the smallest bitmaps
APP_SMALL_MAX = 24
APP_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
TRAY_STATUSES = ("ok", "warning", "danger", "stale")
TRAY_SIZES = (16, 22, 24, 32, 48, 64)
ICO_FILE = ICONS / "liqwatch.ico"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_FILE = ICONS / "liqwatch.icns"
# Apple icon types holding PNG data: type code -> pixel size.
ICNS_TYPES = {
    "icp4": 16, "icp5": 32, "icp6": 64, "ic07": 128, "ic08": 256, "ic09": 512,
    "ic11": 32, "ic12": 64, "ic13": 256, "ic14": 512,
}
# Re-rendering on another Qt version may shift anti-aliasing a little; more than this means the SVG changed.
MAX_CHANNEL_DIFF = 48
MAX_MEAN_DIFF = 1.5


@dataclass(frozen=True)
class Output:
    svg: Path
    size: int
    png: Path


def app_svg(size: int) -> Path:
    """The source of the app icon at `size` px: small sizes get their own simplified drawing."""
    return APP_SMALL_SVG if size <= APP_SMALL_MAX else APP_SVG


def app_png(size: int) -> Path:
    return ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


def tray_svg(status: str) -> Path:
    return ICONS / "tray" / f"{status}.svg"


def tray_png(status: str, size: int) -> Path:
    return ICONS / "tray" / f"{status}-{size}.png"


def outputs() -> Iterator[Output]:
    """Every PNG this script writes, with the SVG and size it comes from."""
    for size in APP_SIZES:
        yield Output(app_svg(size), size, app_png(size))
    for status in TRAY_STATUSES:
        for size in TRAY_SIZES:
            yield Output(tray_svg(status), size, tray_png(status, size))


def _gui_app() -> object:
    """QSvgRenderer needs a QGuiApplication; offscreen so it runs in CI and over SSH."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication([sys.argv[0]])


def render(svg: Path, size: int) -> object:
    """The SVG drawn into a transparent size x size ARGB image (a QImage)."""
    _gui_app()
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG for Qt's renderer")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def rgba_array(image: object) -> object:
    """A QImage as a (height, width, 4) uint8 numpy array, RGBA, straight (not premultiplied) alpha."""
    import numpy as np
    from PySide6.QtGui import QImage

    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)  # type: ignore[attr-defined]
    height, width, stride = rgba.height(), rgba.width(), rgba.bytesPerLine()
    data = np.frombuffer(bytes(rgba.constBits()), dtype=np.uint8, count=height * stride)
    return data.reshape(height, stride)[:, : width * 4].reshape(height, width, 4).copy()


def load_png(path: Path) -> object:
    _gui_app()
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    if image.isNull():
        raise ValueError(f"{path}: missing or not a readable PNG")
    return image


def _png_bytes(image: object) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):  # type: ignore[attr-defined]
        raise OSError("Qt could not encode a PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding PNG-compressed images (valid since Vista); 256 is written as 0 per the format."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, blob in sorted(pngs.items()):
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns whose entries are PNG data (supported since OS X 10.7)."""
    body = b"".join(
        code.encode("ascii") + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
        for code, size in ICNS_TYPES.items()
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def differences(expected: object, actual: object) -> tuple[int, float]:
    """(largest channel difference, mean channel difference) between two same-sized images."""
    import numpy as np

    a, b = rgba_array(expected).astype(np.int16), rgba_array(actual).astype(np.int16)
    if a.shape != b.shape:
        return 255, 255.0
    diff = np.abs(a - b)
    return int(diff.max()), float(diff.mean())


def stale_outputs() -> list[str]:
    """Problems with the committed outputs: missing, wrong size, or no longer what the SVG renders to."""
    problems = []
    for out in outputs():
        if not out.png.is_file():
            problems.append(f"{out.png.relative_to(ROOT)}: missing")
            continue
        committed = load_png(out.png)
        if (committed.width(), committed.height()) != (out.size, out.size):
            problems.append(f"{out.png.relative_to(ROOT)}: {committed.width()}x{committed.height()}, "
                            f"expected {out.size}x{out.size}")
            continue
        worst, mean = differences(render(out.svg, out.size), committed)
        if worst > MAX_CHANNEL_DIFF or mean > MAX_MEAN_DIFF:
            problems.append(f"{out.png.relative_to(ROOT)}: differs from {out.svg.relative_to(ROOT)} "
                            f"(max {worst}, mean {mean:.2f}); run packaging/render_icons.py")
    if not APP_ID_SVG.is_file() or APP_ID_SVG.read_bytes() != APP_SVG.read_bytes():
        problems.append(f"{APP_ID_SVG.relative_to(ROOT)}: not a copy of {APP_SVG.relative_to(ROOT)}")
    for path in (ICO_FILE, ICNS_FILE):
        if not path.is_file():
            problems.append(f"{path.relative_to(ROOT)}: missing")
    return problems


def write_all() -> list[Path]:
    written = []
    for out in outputs():
        out.png.parent.mkdir(parents=True, exist_ok=True)
        if not render(out.svg, out.size).save(str(out.png), "PNG"):  # type: ignore[attr-defined]
            raise OSError(f"could not write {out.png}")
        written.append(out.png)
    shutil.copyfile(APP_SVG, APP_ID_SVG)
    written.append(APP_ID_SVG)
    app_pngs = {size: _png_bytes(render(app_svg(size), size)) for size in {*ICO_SIZES, *ICNS_TYPES.values()}}
    ICO_FILE.write_bytes(ico_bytes({size: app_pngs[size] for size in ICO_SIZES}))
    ICNS_FILE.write_bytes(icns_bytes(app_pngs))
    written += [ICO_FILE, ICNS_FILE]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the committed outputs instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_outputs()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path in write_all():
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
