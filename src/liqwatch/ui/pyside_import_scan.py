"""A faster answer to the question PySide6 asks of every imported module: "does your source mention PySide6?".

PySide6's `__feature__` support (PYSIDE-2029) hooks every import made after PySide6 itself and runs
`inspect.getsource(module)` on it to decide whether the module may switch features such as `snake_case`. That
tokenises ~850 modules while the window starts (numpy, pyqtgraph, ccxt and ours): 170–250 ms measured here, about
a third of the start-up. Reading the file's bytes and looking for the same word gives the same answer for every
module with a `.py` file; anything else (extension, built-in, source-less) still goes to PySide6's own check.

Installed by `liqwatch.ui.main` right after the first PySide6 import. If a PySide6 release renames or removes the
hook, `install` does nothing and start-up is merely slower.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType

_MARK = "_liqwatch_fast_scan"


def install() -> bool:
    """Replace `shibokensupport.feature._mod_uses_pyside` with the byte scan; True if it is (now) in place."""
    feature = sys.modules.get("shibokensupport.feature")
    original: Callable[[ModuleType], bool] | None = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or original is None:
        return False
    if getattr(original, _MARK, False):
        return True

    def mod_uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return original(module)
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            return original(module)

    setattr(mod_uses_pyside, _MARK, True)
    feature._mod_uses_pyside = mod_uses_pyside  # type: ignore[attr-defined]
    return True
