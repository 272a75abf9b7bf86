"""Typed settings with defaults and one-line descriptions in one place, read from and written to TOML.

The settings file is a user-facing contract: fields are only ever added. Loading validates every field; an invalid
file is reported field by field and the caller falls back to defaults without overwriting it. Secrets never live
here: exchange keys and hook tokens are in the OS keyring, and `ccxt_config` refuses credential keys.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from liqwatch.domain.thresholds import Thresholds

# ccxt constructor keys that carry credentials: never accepted from the settings file.
SECRET_CCXT_KEYS = frozenset(
    {"apiKey", "secret", "password", "uid", "privateKey", "walletAddress", "token", "login", "twofa"}
)


@dataclass(frozen=True)
class AlertSettings:
    """How alerts fire, re-fire and re-arm (see `liqwatch.domain.alerts`)."""

    step_distance: float = 0.01  # re-fire in danger when the distance shrinks by another 1 %
    step_margin_level: float = 0.05  # … or the margin level falls by another 0.05
    repeat_minutes: float = 30.0  # … or after this long in danger
    hysteresis_distance: float = 0.005  # re-arm only after recovering past threshold + this
    hysteresis_margin_level: float = 0.02
    funding_rate_threshold: float | None = 0.001  # |rate| per interval; None disables
    leverage_warn_above: float | None = None  # effective leverage that raises a warning; None = off
    desktop_notifications: bool = True
    sound: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything the user can set. Defaults are what a newcomer gets with no settings file."""

    feed: str = "demo"  # "demo" or a ccxt exchange id
    poll_interval_demo: float = 2.0  # seconds between polls of the simulation
    poll_interval_exchange: float = 5.0  # seconds between polls of an exchange
    stale_after: float | None = None  # seconds; None = max(3 poll intervals, 15 s)
    funding_interval: float = 60.0  # seconds between funding-rate fetches
    resync_interval: float = 60.0  # seconds between imports from exchanges with a key
    simulation_seed: int = 7
    thresholds: Thresholds = field(default_factory=Thresholds)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    exchanges: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {"ccxt_config": {...}}
    alert_hooks: tuple[dict[str, Any], ...] = ()
    scheduled_export_minutes: float = 0.0  # 0 = off
    scheduled_export_path: str = ""
    theme: str = "system"  # "system" | "light" | "dark"
    history_full_days: float = 1.0  # history kept at full resolution this long, …
    history_minute_days: float = 30.0  # … then one row per minute (the riskiest) until this age, …
    history_hour_days: float = 365.0  # … then one row per hour until this age; older rows are deleted

    def poll_interval(self, feed: str | None = None) -> float:
        return self.poll_interval_demo if (feed or self.feed) == "demo" else self.poll_interval_exchange

    def stale_limit(self, feed: str | None = None) -> float:
        if self.stale_after is not None:
            return self.stale_after
        return max(3.0 * self.poll_interval(feed), 15.0)

    def ccxt_config(self, exchange: str) -> dict[str, Any]:
        return dict(self.exchanges.get(exchange, {}).get("ccxt_config", {}))


class SettingsError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _check_dataclass(cls: type, data: dict[str, Any], label: str, problems: list[str]) -> dict[str, Any]:
    """Check scalar fields by their annotation (bool, int, float, str, optionally `| None`)."""
    out: dict[str, Any] = {}
    known = {f.name: str(f.type) for f in fields(cls)}
    for key, value in data.items():
        if key not in known:
            problems.append(f"{label}: unknown setting {key!r}")
            continue
        kind = known[key]
        where = f"{label}: {key}"
        base = kind.replace(" | None", "")
        if base == "bool":
            ok, rule = isinstance(value, bool), "true or false"
        elif base in ("float", "int"):
            number = isinstance(value, int | float) and not isinstance(value, bool)
            ok = number and (base == "float" or isinstance(value, int)) and value >= 0
            rule = "a whole number >= 0" if base == "int" else "a number >= 0"
        elif base == "str":
            ok, rule = isinstance(value, str), "a string"
        else:
            ok, rule = True, ""
        if not ok:
            problems.append(f"{where} must be {rule}, got {value!r}")
            continue
        out[key] = value
    return out


def settings_from_dict(data: dict[str, Any], label: str = "settings") -> Settings:
    """Build validated settings; raises `SettingsError` naming every bad field and value."""
    problems: list[str] = []
    data = dict(data)
    thresholds = data.pop("thresholds", {})
    alerts = data.pop("alerts", {})
    exchanges = data.pop("exchanges", {})
    hooks = data.pop("alert_hooks", [])
    top = _check_dataclass(Settings, data, label, problems)
    if "poll_interval_demo" in top and top["poll_interval_demo"] < 0.1:
        problems.append(f"{label}: poll_interval_demo must be >= 0.1, got {top['poll_interval_demo']!r}")
    if "poll_interval_exchange" in top and top["poll_interval_exchange"] < 1:
        problems.append(f"{label}: poll_interval_exchange must be >= 1, got {top['poll_interval_exchange']!r}")
    if "theme" in top and top["theme"] not in ("system", "light", "dark"):
        problems.append(f"{label}: theme must be 'system', 'light' or 'dark', got {top['theme']!r}")
    history = [top.get(f"history_{n}_days", getattr(Settings, f"history_{n}_days")) for n in ("full", "minute", "hour")]
    if not history[0] <= history[1] <= history[2]:
        problems.append(f"{label}: history_full_days <= history_minute_days <= history_hour_days must hold, got "
                        f"{history[0]!r}, {history[1]!r}, {history[2]!r}")
    threshold_values = _check_dataclass(Thresholds, thresholds if isinstance(thresholds, dict) else {},
                                        f"{label}: thresholds", problems)
    alert_values = _check_dataclass(AlertSettings, alerts if isinstance(alerts, dict) else {},
                                    f"{label}: alerts", problems)
    if not isinstance(exchanges, dict):
        problems.append(f"{label}: exchanges must be a table, got {exchanges!r}")
        exchanges = {}
    for exchange_id, table in exchanges.items():
        if not isinstance(table, dict):
            problems.append(f"{label}: exchanges.{exchange_id} must be a table, got {table!r}")
            continue
        for key in table:
            if key != "ccxt_config":
                problems.append(f"{label}: exchanges.{exchange_id}: unknown setting {key!r}")
        config = table.get("ccxt_config", {})
        if not isinstance(config, dict):
            problems.append(f"{label}: exchanges.{exchange_id}.ccxt_config must be a table, got {config!r}")
            continue
        for key in config:
            if key in SECRET_CCXT_KEYS:
                problems.append(
                    f"{label}: exchanges.{exchange_id}.ccxt_config.{key}: credentials are not accepted in the "
                    "settings file; add the key in Accounts (it is kept in the OS keyring)"
                )
    if not isinstance(hooks, list) or not all(isinstance(h, dict) for h in hooks):
        problems.append(f"{label}: alert_hooks must be a list of tables, got {hooks!r}")
        hooks = []
    thresholds_obj = Thresholds()
    try:
        thresholds_obj = replace(Thresholds(), **threshold_values)
    except ValueError as exc:
        problems.append(f"{label}: thresholds: {exc}")
    if problems:
        raise SettingsError(problems)
    return replace(
        Settings(),
        **top,
        thresholds=thresholds_obj,
        alerts=replace(AlertSettings(), **alert_values),
        exchanges={k: dict(v) for k, v in exchanges.items()},
        alert_hooks=tuple(hooks),
    )


def load_settings(path: str | Path) -> Settings:
    """Read a settings file. A missing file gives defaults; an invalid one raises `SettingsError`."""
    path = Path(path)
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError([f"{path}: cannot read the file: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([f"{path}: not valid TOML: {exc}"]) from None
    return settings_from_dict(data, str(path))


def settings_to_dict(settings: Settings) -> dict[str, Any]:
    data = asdict(settings)
    data["alert_hooks"] = list(settings.alert_hooks)
    return _drop_none(data)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def write_atomically(path: str | Path, text: str) -> None:
    """Write a whole file or nothing: temp file in the same folder, fsync, rename over the target."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_settings(path: str | Path, settings: Settings) -> None:
    from liqwatch.store.toml_write import dumps  # only when saving: not on the start-up path

    write_atomically(path, dumps(settings_to_dict(settings)))
