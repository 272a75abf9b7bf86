"""Packaging files agree with each other and with the code: one app id, a PyInstaller spec whose paths exist and
whose data land where `liqwatch.resources` looks when frozen, desktop files that the freedesktop validators accept.

PyInstaller itself is not a dependency: the spec is executed with stand-ins for its globals and what it would hand
to PyInstaller is checked instead.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import liqwatch
from liqwatch import resources

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / f"{liqwatch.APP_ID}.desktop"
METAINFO = PACKAGING / f"{liqwatch.APP_ID}.metainfo.xml"
SPEC = PACKAGING / "liqwatch.spec"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


class _Recorder:
    """Stands in for one PyInstaller spec class: records the call, offers the attributes later steps read."""

    def __init__(self, calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]], name: str) -> None:
        self.calls, self.name = calls, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((self.name, args, kwargs))
        return type(self.name, (), {"pure": [], "scripts": [], "binaries": [], "datas": []})()


def _run_spec(platform: str = "linux") -> dict[str, tuple[tuple[Any, ...], dict[str, Any]]]:
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    names = ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")
    namespace: dict[str, Any] = {"SPECPATH": str(PACKAGING), "__file__": str(SPEC)}
    namespace.update({name: _Recorder(calls, name) for name in names})
    real_platform = sys.platform
    try:
        sys.platform = platform
        exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    finally:
        sys.platform = real_platform
    return {name: (args, kwargs) for name, args, kwargs in calls}


def test_spec_scripts_and_datas_exist() -> None:
    calls = _run_spec()
    assert {"Analysis", "PYZ", "EXE", "COLLECT"} <= set(calls)
    args, kwargs = calls["Analysis"]
    scripts = args[0]
    assert scripts and all(Path(script).is_file() for script in scripts)
    assert all(Path(path).is_dir() for path in kwargs["pathex"])
    destinations = {dest: Path(src) for src, dest in kwargs["datas"]}
    assert destinations == {
        "liqwatch/_data/resources": ROOT / "resources",
        "liqwatch/_data/icons": ROOT / "icons",
    }
    assert all(source.is_dir() for source in destinations.values())


@pytest.mark.parametrize(("platform", "suffix"), [("win32", ".ico"), ("darwin", ".icns")])
def test_spec_icon_exists_per_platform(platform: str, suffix: str) -> None:
    calls = _run_spec(platform)
    icon = Path(calls["EXE"][1]["icon"])
    assert icon.suffix == suffix and icon.is_file()
    if platform == "darwin":
        assert calls["BUNDLE"][1]["bundle_identifier"] == liqwatch.APP_ID


def test_spec_hidden_imports_name_real_modules() -> None:
    hidden = _run_spec()["Analysis"][1]["hiddenimports"]
    assert {"liqwatch", "liqwatch.cli", "liqwatch.resources", "liqwatch.ui.icons"} <= set(hidden)
    for name in hidden:
        parts = name.split(".")
        as_module = ROOT / "src" / Path(*parts).with_suffix(".py")
        as_package = ROOT / "src" / Path(*parts) / "__init__.py"
        assert as_module.is_file() or as_package.is_file(), name


def test_spec_excludes_no_module_the_app_imports() -> None:
    excludes = set(_run_spec()["Analysis"][1]["excludes"])
    used = set()
    for path in (ROOT / "src" / "liqwatch").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= {f"PySide6.{m}" for m in re.findall(r"PySide6\.(Qt\w+)", text)}
        for names in re.findall(r"from PySide6 import ([\w, ]+)", text):
            used |= {f"PySide6.{name.strip()}" for name in names.split(",")}
        used |= set(re.findall(r"^\s*(?:from|import) (pyqtgraph[\w.]*)", text, flags=re.MULTILINE))
    used |= {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg", "numpy", "ccxt", "keyring"}
    assert not used & excludes


def test_frozen_layout_is_where_resources_looks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lay the spec's datas out as PyInstaller would under _MEIPASS and ask liqwatch.resources for files."""
    for source, dest in _run_spec()["Analysis"][1]["datas"]:
        target = tmp_path / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source, target_is_directory=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    resources._data_root.cache_clear()
    try:
        example = resources.resource_path("examples", "portfolio.toml")
        tray = resources.icon_path("tray", "danger-16.png")
    finally:
        resources._data_root.cache_clear()
    assert example.is_relative_to(tmp_path) and example.is_file()
    assert tray.is_relative_to(tmp_path) and tray.is_file()


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_names_the_app_id_icon_and_a_real_launcher() -> None:
    entry = _desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Icon"] == liqwatch.APP_ID
    assert (ROOT / "icons" / "hicolor" / "256x256" / "apps" / f"{liqwatch.APP_ID}.png").is_file()
    assert entry["Exec"].split()[0] in PYPROJECT["project"]["gui-scripts"]
    assert entry["Terminal"] == "false"


def test_metainfo_agrees_with_desktop_entry_and_package() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == liqwatch.APP_ID
    assert root.findtext("launchable[@type='desktop-id']") == DESKTOP.name
    assert root.findtext("icon[@type='stock']") == _desktop_entry()["Icon"]
    assert root.findtext("name") == _desktop_entry()["Name"]
    assert root.findtext("project_license") == PYPROJECT["project"]["license"]["text"]
    newest = root.find("releases/release")
    assert newest is not None and newest.get("version") == liqwatch.__version__ == PYPROJECT["project"]["version"]
    scripts = {**PYPROJECT["project"]["scripts"], **PYPROJECT["project"]["gui-scripts"]}
    assert {b.text for b in root.findall("provides/binary")} == set(scripts)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (Debian package: "
                    f"{'desktop-file-utils' if name == 'desktop-file-validate' else 'appstream'}; .ci/run installs it)")
    return path


def test_desktop_file_validates() -> None:
    result = subprocess.run([_tool("desktop-file-validate"), str(DESKTOP)], capture_output=True, text=True,
                            timeout=60)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "error" not in report.lower() and "warning" not in report.lower(), report


def test_metainfo_validates() -> None:
    result = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", str(METAINFO)],
                            capture_output=True, text=True, timeout=60)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert not re.search(r"^[EW]:", report, flags=re.MULTILINE), report


def test_validators_reject_a_broken_desktop_file(tmp_path: Path) -> None:
    """The validation tests above can fail: a desktop file without Name and with a bogus Type is refused."""
    broken = tmp_path / f"{liqwatch.APP_ID}.desktop"
    broken.write_text("[Desktop Entry]\nType=Gadget\nExec=liqwatch\n", encoding="utf-8")
    result = subprocess.run([_tool("desktop-file-validate"), str(broken)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0


def test_sdist_includes_everything_the_wheel_is_built_from() -> None:
    hatch = PYPROJECT["tool"]["hatch"]["build"]["targets"]
    sdist = set(hatch["sdist"]["include"])
    needed = {Path(p).parts[0] for p in hatch["wheel"]["packages"]}
    needed |= {Path(p).parts[0] for p in hatch["wheel"]["force-include"]}
    needed.add(PYPROJECT["project"]["readme"])
    assert needed <= sdist
    assert hatch["wheel"]["force-include"] == {"resources": "liqwatch/_data/resources",
                                               "icons": "liqwatch/_data/icons"}
