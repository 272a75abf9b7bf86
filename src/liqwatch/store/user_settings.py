"""The user's own settings file (`paths.settings_file()`): load on start, save from the Settings dialog.

An invalid file is never a reason not to monitor: `load_user_settings` returns defaults plus the problems (each
naming the field and the value) for the window to show, and leaves the file exactly as it is, so the trader can fix
the typo. If the trader then saves from the dialog, the invalid file is first copied aside
(`settings.toml.invalid-YYYYmmdd-HHMMSS`), so nothing they wrote is lost.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from liqwatch.store import paths
from liqwatch.store.settings import Settings, SettingsError, load_settings, save_settings

log = logging.getLogger(__name__)


def load_user_settings(path: str | Path | None = None) -> tuple[Settings, list[str]]:
    """(settings, problems). A missing file gives defaults and no problems; an invalid one defaults and problems."""
    target = Path(path) if path is not None else paths.settings_file()
    try:
        return load_settings(target), []
    except SettingsError as exc:
        for problem in exc.problems:
            log.warning("settings: %s (starting on defaults; the file is left as it is)", problem)
        return Settings(), list(exc.problems)


def save_user_settings(settings: Settings, path: str | Path | None = None) -> Path | None:
    """Write the settings atomically (temp file + rename). Returns where an invalid previous file was kept, if any."""
    target = Path(path) if path is not None else paths.settings_file()
    kept: Path | None = None
    if target.exists():
        try:
            load_settings(target)
        except SettingsError:
            kept = target.with_name(f"{target.name}.invalid-{time.strftime('%Y%m%d-%H%M%S')}")
            shutil.copy2(target, kept)
            log.warning("settings: the invalid settings file was kept as %s", kept)
    save_settings(target, settings)
    return kept
