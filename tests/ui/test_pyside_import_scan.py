"""The byte scan that replaces PySide6's per-import `inspect.getsource` must answer exactly as PySide6 does."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import pytest

import liqwatch.ui.main  # noqa: F401  (installs the scan, as the app does)
from liqwatch.ui import pyside_import_scan


@pytest.fixture()
def feature() -> ModuleType:
    module = sys.modules.get("shibokensupport.feature")
    if module is None or not hasattr(module, "_mod_uses_pyside"):
        pytest.skip("this PySide6 has no __feature__ import hook")
    return module


def test_installed_and_idempotent(feature: ModuleType) -> None:
    assert pyside_import_scan.install() is True
    first = feature._mod_uses_pyside
    assert pyside_import_scan.install() is True
    assert feature._mod_uses_pyside is first
    assert getattr(first, "_liqwatch_fast_scan", False)


@pytest.mark.parametrize("name, uses", [
    ("liqwatch.ui.main_window", True),        # source file that imports PySide6
    ("liqwatch.domain.model", False),         # pure Python, no Qt
    ("json", False),                          # standard library source
    ("math", False),                          # extension / built-in: no source to read
    ("numpy.linalg._umath_linalg", False),   # compiled extension inside a package
])
def test_same_answer_as_inspect_getsource(feature: ModuleType, name: str, uses: bool) -> None:
    import inspect

    module = importlib.import_module(name)
    try:
        reference = "PySide6" in inspect.getsource(module)
    except (OSError, TypeError):
        reference = False
    assert reference is uses
    assert feature._mod_uses_pyside(module) is uses


def test_unreadable_file_falls_back_to_pyside(feature: ModuleType, tmp_path) -> None:
    ghost = ModuleType("ghost")
    ghost.__file__ = str(tmp_path / "gone.py")  # the file vanished after import
    assert feature._mod_uses_pyside(ghost) is False
