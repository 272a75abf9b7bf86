"""The rooms stay apart: domain, sources and store import no Qt, and the domain does no I/O or clock reads."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import liqwatch

PACKAGE = Path(liqwatch.__file__).parent
NO_QT = ("domain", "sources", "store")


def _fresh_python(code: str) -> str:
    """Run `code` in a new interpreter (nothing imported yet) and return what it printed."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _modules(room: str) -> list[str]:
    return [f"liqwatch.{room}.{m.name}" for m in pkgutil.iter_modules([str(PACKAGE / room)])]


def test_domain_sources_and_store_import_no_qt() -> None:
    modules = [m for room in NO_QT for m in _modules(room)] + ["liqwatch.cli", "liqwatch.cli_watch",
                                                               "liqwatch.cli_export"]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph')))\n"
        "print(qt)\n"
    )
    printed = _fresh_python(code)
    assert printed == "[]", f"Qt imported outside liqwatch.ui: {printed}"


def test_domain_reads_no_clock_and_does_no_io() -> None:
    """Time and prices come in as arguments: no time.time(), datetime.now(), open() or network in the domain."""
    forbidden_calls = {("time", "time"), ("time", "monotonic"), ("datetime", "now"), ("datetime", "utcnow")}
    forbidden_imports = {"socket", "urllib", "requests", "sqlite3", "ccxt", "keyring", "PySide6"}
    problems = []
    for path in sorted((PACKAGE / "domain").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id == "open":
                    problems.append(f"{path.name}:{node.lineno} open()")
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                        and (func.value.id, func.attr) in forbidden_calls:
                    problems.append(f"{path.name}:{node.lineno} {func.value.id}.{func.attr}()")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for name in names:
                    if name.split(".")[0] in forbidden_imports:
                        problems.append(f"{path.name}:{node.lineno} imports {name}")
    assert problems == []


def test_wiring_the_window_does_not_import_ccxt_or_keyring() -> None:
    """ccxt takes ~0.3 s to import and keyring ~70 ms; the window's wiring runs on the GUI thread right after the
    first paint, so they load only when an exchange feed, an import, a key check or a secret needs them (the demo
    never loads either)."""
    code = (
        "import sys\n"
        "import liqwatch.ui.main, liqwatch.ui.import_wiring, liqwatch.ui.alerts_wiring, liqwatch.ui.workers.poller\n"
        "import liqwatch.ui.csv_export_actions, liqwatch.store.scheduled_export, liqwatch.sources.simulated\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ccxt', 'keyring'))[:3])\n"
    )
    printed = _fresh_python(code)
    assert printed == "[]", f"imported by the window's wiring: {printed}"
