"""Every folder LiqWatch reads or writes, from one place, over platformdirs.

`LIQWATCH_HOME` (used by the tests and by portable installs) puts all of them under one folder so nothing touches
the user's own configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

from liqwatch import APP_NAME

_DIRS = PlatformDirs(APP_NAME, appauthor=False)


def _home() -> Path | None:
    value = os.environ.get("LIQWATCH_HOME")
    return Path(value) if value else None


def _dir(kind: str, default: str) -> Path:
    home = _home()
    path = home / kind if home else Path(default)
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    return _dir("config", _DIRS.user_config_dir)


def data_dir() -> Path:
    return _dir("data", _DIRS.user_data_dir)


def log_dir() -> Path:
    return _dir("log", _DIRS.user_log_dir)


def cache_dir() -> Path:
    return _dir("cache", _DIRS.user_cache_dir)


def settings_file() -> Path:
    return config_dir() / "settings.toml"


def database_file() -> Path:
    return data_dir() / "liqwatch.sqlite3"
