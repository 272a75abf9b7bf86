"""One place that finds the bundled `resources/` and `icons/` folders.

The wheel carries them under `liqwatch/_data/`; an editable install or a source checkout has them at the project
root; a PyInstaller bundle has them under `sys._MEIPASS`. Every caller goes through these helpers so none of them
depends on how LiqWatch was installed.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def _data_root(kind: str) -> Path:
    candidates = [_PACKAGE_DIR / "_data" / kind]
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidates.insert(0, Path(frozen) / "liqwatch" / "_data" / kind)
    candidates.append(_PACKAGE_DIR.parent.parent / kind)  # src layout checkout / editable install
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"LiqWatch's bundled {kind!r} folder is missing (looked in {candidates})")


def resource_path(*parts: str) -> Path:
    """Path of a bundled runtime asset, e.g. ``resource_path("examples", "portfolio.toml")``."""
    return _data_root("resources").joinpath(*parts)


def icon_path(*parts: str) -> Path:
    """Path of a bundled icon, e.g. ``icon_path("tray", "danger.svg")``."""
    return _data_root("icons").joinpath(*parts)
