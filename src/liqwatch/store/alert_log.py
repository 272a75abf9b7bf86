"""The alert log: every alert ever raised, kept across restarts, with whether the trader acknowledged it.

Alerts are read by attribute name (duck typing) from `liqwatch.domain.alerts.Alert`, so this module depends on the
field names only. Appending is idempotent by alert id: re-delivering an alert (a retry after a crash) never
duplicates it, and a write is one transaction, so no alert is half-stored. Alerts are never pruned by retention:
they are small and "no alert lost" includes old ones.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from liqwatch.store.db import durable_transaction, transaction

ALERT_FIELDS: tuple[str, ...] = (
    "id", "time", "severity", "kind", "key", "account", "symbol", "title", "text", "figure", "threshold", "status",
)


@dataclass(frozen=True, slots=True)
class LoggedAlert:
    """An alert as stored: the `Alert` fields plus acknowledgement."""

    id: str
    time: float
    severity: str
    kind: str
    key: str
    account: str
    symbol: str | None
    title: str
    text: str
    figure: float | None
    threshold: float | None
    status: str
    acknowledged: bool = False
    acknowledged_time: float | None = None

    def to_alert(self) -> Any:
        """The domain `Alert` (imported lazily: the store does not need the alert engine to read its log)."""
        from liqwatch.domain.alerts import Alert

        return Alert(**{name: getattr(self, name) for name in ALERT_FIELDS})


def _status_text(value: Any) -> str:
    return str(getattr(value, "value", value))


class AlertLog:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def append(self, alerts: Iterable[Any] | Any) -> int:
        """Store one alert or many, fsynced (an alert is a record a trader may need later); returns how many were
        new. Alerts already stored (same id) are left as they are, acknowledgement included."""
        items = [alerts] if hasattr(alerts, "id") else list(alerts)
        rows = []
        for alert in items:
            values = [getattr(alert, name, None) for name in ALERT_FIELDS]
            values[ALERT_FIELDS.index("status")] = _status_text(values[ALERT_FIELDS.index("status")])
            rows.append((*values, 1 if getattr(alert, "acknowledged", False) else 0))
        if not rows:
            return 0
        with durable_transaction(self._conn):
            before = self._conn.total_changes
            self._conn.executemany(
                f"INSERT OR IGNORE INTO alert_log ({', '.join(ALERT_FIELDS)}, acknowledged) "
                f"VALUES ({', '.join('?' for _ in ALERT_FIELDS)}, ?)",
                rows,
            )
            return self._conn.total_changes - before

    def acknowledge(self, alert_ids: Iterable[str] | str, at: float) -> int:
        ids = [alert_ids] if isinstance(alert_ids, str) else list(alert_ids)
        with transaction(self._conn):
            before = self._conn.total_changes
            self._conn.executemany(
                "UPDATE alert_log SET acknowledged = 1, acknowledged_time = ? WHERE id = ? AND acknowledged = 0",
                [(at, i) for i in ids],
            )
            return self._conn.total_changes - before

    def acknowledge_all(self, at: float) -> int:
        with transaction(self._conn):
            return self._conn.execute(
                "UPDATE alert_log SET acknowledged = 1, acknowledged_time = ? WHERE acknowledged = 0", (at,)
            ).rowcount

    def recent(self, limit: int = 1000, since: float | None = None, unacknowledged_only: bool = False
               ) -> list[LoggedAlert]:
        """Newest first."""
        where = ["time >= ?"] if since is not None else []
        params: list[Any] = [since] if since is not None else []
        if unacknowledged_only:
            where.append("acknowledged = 0")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        cur = self._conn.execute(
            f"SELECT {', '.join(ALERT_FIELDS)}, acknowledged, acknowledged_time FROM alert_log {clause} "
            "ORDER BY time DESC, rowid DESC LIMIT ?",
            (*params, limit),
        )
        out = []
        for row in cur:
            values = list(row)
            values[-2] = bool(values[-2])
            out.append(LoggedAlert(*values))
        return out

    def count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM alert_log").fetchone()[0])
