"""Snapshot history: one row per account/position per poll, with retention that keeps a year in bounded space.

Rows hold every figure the CSV export prints (`liqwatch.store.csv_export.CSV_COLUMNS`), so an exported history row is
exactly the row `liqwatch check --format csv` would have printed at that time. The descriptive text of a row
(account, exchange, kind, symbol, side) lives once in `series`; a snapshot row is numbers only.

Retention (`RetentionPolicy`, from `Settings.history_*_days`): full resolution for `full_days`, then one row per
minute until `minute_days`, then one row per hour until `hour_days`, then nothing. Downsampling keeps, in each
bucket, the *riskiest* real row (worst status, then smallest distance), not an average: an average would invent a
row that never happened and smooth away the minute the position nearly died, which is the one a trader looks for.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from liqwatch.domain.risk import FuturesRisk, MarginRisk, Risk
from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.domain.status import CODE_BY_STATUS, STATUS_BY_CODE
from liqwatch.store.csv_export import CSV_COLUMNS, number, risk_row
from liqwatch.store.db import transaction

DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

# Highest rank first when choosing the row a bucket keeps (independent of how codes are numbered).
_RANK_SQL = "CASE status " + " ".join(f"WHEN {code} THEN {s.rank}" for code, s in enumerate(STATUS_BY_CODE)) + " END"


def epoch_ms(seconds: float) -> int:
    """Epoch milliseconds exactly as `csv_export.iso_utc` prints them (microsecond rounding, then truncation)."""
    return (datetime.fromtimestamp(seconds, tz=UTC) - _EPOCH) // _MS


@dataclass(frozen=True)
class RetentionPolicy:
    full_days: float = 1.0
    minute_days: float = 30.0
    hour_days: float = 365.0

    def __post_init__(self) -> None:
        if not 0 <= self.full_days <= self.minute_days <= self.hour_days:
            raise ValueError(
                "history retention must satisfy 0 <= full_days <= minute_days <= hour_days, got "
                f"{self.full_days!r}, {self.minute_days!r}, {self.hour_days!r}"
            )

    @classmethod
    def from_settings(cls, settings: Any) -> RetentionPolicy:
        defaults = cls()
        return cls(
            float(getattr(settings, "history_full_days", defaults.full_days)),
            float(getattr(settings, "history_minute_days", defaults.minute_days)),
            float(getattr(settings, "history_hour_days", defaults.hour_days)),
        )


# -- from a snapshot to rows ---------------------------------------------------------------------------------------

SeriesKey = tuple[str, str, str, str, str, str]  # key, account, exchange, kind, symbol, side


def _finite(value: float | None) -> float | None:
    """NaN never reaches the database (it would read back as a stand-in figure); ±inf is kept."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def price_kind_of(risk: Risk, snapshot: BookSnapshot) -> str:
    """The kind (mark/last/index/fixed) of the price a futures row was evaluated at; margin rows have none."""
    if isinstance(risk, FuturesRisk):
        quote = snapshot.quotes.get(risk.symbol) or snapshot.quotes.get(risk.symbol.split("/", 1)[0])
        return quote.kind if quote is not None else ""
    return ""


def figure_source_of(risk: Risk) -> str:
    """'exchange' when the engine took the figure of record from the exchange, else 'computed'."""
    return str(getattr(risk, "figure_source", None) or "computed")


def series_key(risk: Risk) -> SeriesKey:
    if isinstance(risk, MarginRisk):
        return (risk.key, risk.name, risk.exchange or "", "margin", risk.symbol or "", "")
    return (risk.key, risk.account, risk.exchange or "", "futures", risk.symbol, risk.side)


def quote_field(text: str) -> str:
    """RFC 4180 quoting exactly as the csv module's default (QUOTE_MINIMAL) writes a field."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


_STATUS_TEXT = tuple(s.value for s in STATUS_BY_CODE)
SERIES_COLUMNS = 6  # timestamp + account, exchange, kind, symbol, side come from the row's time and its series


def csv_tail(
    size: float | None, entry: float | None, price: float | None, price_kind: str, liq: float | None,
    margin_level: float | None, margin_ratio: float | None, distance: float | None, upnl: float | None,
    status: int, stale: int, figure_source: str,
) -> str:
    """The 12 CSV fields `size` … `figure_source` the first contract held, from stored figures (used to migrate
    rows written before the text was stored; new rows use `risk_values`)."""
    return ",".join((
        number(size), number(entry), number(price), quote_field(price_kind), number(liq), number(margin_level),
        number(margin_ratio), number(distance), number(upnl), _STATUS_TEXT[status], "true" if stale else "false",
        quote_field(figure_source),
    ))


def series_csv(key: Sequence[str]) -> str:
    """The CSV fields `account` … `side` of a series (`key` without its first element, the position key)."""
    return ",".join(quote_field(text) for text in key[1:])


def risk_values(risk: Risk, snapshot: BookSnapshot) -> tuple[Any, ...]:
    """(price, liquidation_price, margin_level, distance, status code, stale, csv_tail, tail_columns).

    The text is `csv_export.risk_row` itself (every column after the series text), so whatever columns the
    contract holds when the row is written are recorded, and an exported row is byte-identical to the live one.
    """
    stale = risk.key in snapshot.stale_keys
    row = risk_row(risk, snapshot.time, stale=stale, price_kind=price_kind_of(risk, snapshot),
                   figure_source=figure_source_of(risk))
    columns = CSV_COLUMNS[SERIES_COLUMNS:]
    tail = ",".join([quote_field(row.get(name, "")) for name in columns])
    if isinstance(risk, MarginRisk):
        liq_prices = list(risk.liquidation_prices.values())
        liq = _finite(liq_prices[0]) if len(liq_prices) == 1 else None
        price, level = None, _finite(risk.margin_level)
    else:
        price, liq, level = _finite(risk.mark_price), _finite(risk.liquidation_price), None
    return (price, liq, level, _finite(risk.distance), CODE_BY_STATUS[risk.status], int(stale), tail, len(columns))


_INSERT = (
    "INSERT INTO snapshots (time_ms, series_id, price, liquidation_price, margin_level, distance, status, stale, "
    "csv_tail, tail_columns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class HistorySeries:
    """Arrays for the history plot, oldest first. Unpacks as (time, price, level_or_liq, distance, status).

    time: epoch seconds; price: mark price (NaN for margin accounts); level_or_liq: margin level for a margin
    account, liquidation price for a futures position (NaN: none); distance: fraction (NaN: unknown); status:
    `liqwatch.domain.status.STATUS_BY_CODE` codes; stale: True where the row's price was stale.
    """

    time: np.ndarray
    price: np.ndarray
    level_or_liq: np.ndarray
    distance: np.ndarray
    status: np.ndarray
    stale: np.ndarray

    def __iter__(self) -> Any:
        return iter((self.time, self.price, self.level_or_liq, self.distance, self.status))

    def __len__(self) -> int:
        return len(self.time)


def _riskiest_per_bucket(bucket: np.ndarray, status_rank: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Indices (ascending) of the riskiest row in each bucket: highest status rank, then smallest distance."""
    d = np.where(np.isnan(distance), np.inf, distance)
    order = np.lexsort((d, -status_rank, bucket))
    sorted_buckets = bucket[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_buckets[1:] != sorted_buckets[:-1]
    return np.sort(order[first])


class HistoryStore:
    """Snapshot rows in one connection: writing batches, reading series for the plot, compaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._series: dict[SeriesKey, int] = {}

    def _series_id(self, key: SeriesKey) -> int:
        found = self._series.get(key)
        if found is not None:
            return found
        self._conn.execute(
            "INSERT OR IGNORE INTO series (key, account, exchange, kind, symbol, side) VALUES (?, ?, ?, ?, ?, ?)", key
        )
        row = self._conn.execute(
            "SELECT id FROM series WHERE key = ? AND account = ? AND exchange = ? AND kind = ? AND symbol = ? "
            "AND side = ?", key
        ).fetchone()
        self._series[key] = int(row[0])
        return int(row[0])

    def write_snapshots(self, snapshots: Iterable[BookSnapshot]) -> int:
        """Write every row of every snapshot in one transaction; returns the number of rows written."""
        count = 0
        with transaction(self._conn):
            try:
                rows = []
                for snapshot in snapshots:
                    stamp = epoch_ms(snapshot.time)
                    for risk in snapshot.risk:
                        rows.append((stamp, self._series_id(series_key(risk)), *risk_values(risk, snapshot)))
                self._conn.executemany(_INSERT, rows)
                count = len(rows)
            except BaseException:
                self._series.clear()  # ids inserted in this transaction are rolled back with it
                raise
        return count

    def count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0])

    def keys(self) -> list[str]:
        return [row[0] for row in self._conn.execute("SELECT DISTINCT key FROM series ORDER BY key")]

    def history(
        self,
        key: str,
        since: float | None = None,
        until: float | None = None,
        max_points: int | None = None,
    ) -> HistorySeries:
        """The series of one account/position between `since` and `until` (epoch seconds, inclusive).

        With `max_points`, the range is cut into that many equal-count buckets and each keeps its riskiest row, so
        a plot of a year never hides the worst moment.
        """
        lo = epoch_ms(since) if since is not None else -(2**62)
        hi = epoch_ms(until) if until is not None else 2**62
        cur = self._conn.execute(
            "SELECT s.time_ms, s.price, CASE r.kind WHEN 'margin' THEN s.margin_level ELSE s.liquidation_price END, "
            "s.distance, s.status, s.stale FROM snapshots s JOIN series r ON r.id = s.series_id "
            "WHERE r.key = ? AND s.time_ms BETWEEN ? AND ? ORDER BY s.time_ms, s.series_id",
            (key, lo, hi),
        )
        rows = cur.fetchall()
        if rows:
            t_ms, price, level, distance, status, stale = zip(*rows, strict=True)
        else:
            t_ms = price = level = distance = status = stale = ()
        t = np.asarray(t_ms, dtype=np.int64)
        p = np.asarray(price, dtype=float)  # None -> NaN
        lv = np.asarray(level, dtype=float)
        d = np.asarray(distance, dtype=float)
        st = np.asarray(status, dtype=np.int8)
        sl = np.asarray(stale, dtype=bool)
        if max_points is not None and max_points > 0 and len(t) > max_points:
            bucket = (np.arange(len(t), dtype=np.int64) * max_points) // len(t)
            ranks = np.array([s.rank for s in STATUS_BY_CODE], dtype=np.int64)[st]
            keep = _riskiest_per_bucket(bucket, ranks, d)
            t, p, lv, d, st, sl = t[keep], p[keep], lv[keep], d[keep], st[keep], sl[keep]
        return HistorySeries(t / 1000.0, p, lv, d, st, sl)

    # -- retention -------------------------------------------------------------------------------------------
    def _done(self, tier: str) -> int:
        row = self._conn.execute("SELECT done_until_ms FROM compaction WHERE tier = ?", (tier,)).fetchone()
        return int(row[0]) if row else 0

    def _downsample(self, tier: str, bucket_ms: int, cut_ms: int, chunk_ms: int = DAY_MS) -> int:
        """Keep the riskiest row per (series, bucket) for rows older than `cut_ms`; chunked so the write lock is
        never held for long (the snapshot writer keeps writing meanwhile)."""
        cut = (cut_ms // bucket_ms) * bucket_ms  # only whole buckets
        first = self._conn.execute("SELECT MIN(time_ms) FROM snapshots").fetchone()[0]
        if first is None:
            return 0
        # Start a few buckets before where we stopped: rows that arrived late are folded in too (idempotent).
        lo = max(self._done(tier) - 10 * bucket_ms, (first // bucket_ms) * bucket_ms)
        removed = 0
        while lo < cut:
            hi = min(cut, lo + chunk_ms)
            with transaction(self._conn):
                removed += self._conn.execute(
                    "DELETE FROM snapshots WHERE rowid IN (SELECT rid FROM ("
                    f"SELECT rowid AS rid, ROW_NUMBER() OVER (PARTITION BY series_id, time_ms / {bucket_ms} "
                    f"ORDER BY {_RANK_SQL} DESC, distance IS NULL, distance ASC, time_ms DESC) AS rn "
                    "FROM snapshots WHERE time_ms >= ? AND time_ms < ?) WHERE rn > 1)",
                    (lo, hi),
                ).rowcount
                self._conn.execute(
                    "INSERT INTO compaction (tier, done_until_ms) VALUES (?, ?) "
                    "ON CONFLICT (tier) DO UPDATE SET done_until_ms = excluded.done_until_ms",
                    (tier, hi),
                )
            lo = hi
        return removed

    def compact(self, now: float, policy: RetentionPolicy | None = None) -> dict[str, int]:
        """Apply retention at time `now` (epoch seconds); returns rows removed per step. Safe to run any time."""
        policy = policy or RetentionPolicy()
        now_ms = epoch_ms(now)
        minute = self._downsample("minute", 60_000, now_ms - round(policy.full_days * DAY_MS))
        hour = self._downsample("hour", 3_600_000, now_ms - round(policy.minute_days * DAY_MS))
        with transaction(self._conn):
            expired = self._conn.execute(
                "DELETE FROM snapshots WHERE time_ms < ?", (now_ms - round(policy.hour_days * DAY_MS),)
            ).rowcount
        # `series` rows are kept (a few bytes each): another connection's writer may hold their ids in its cache.
        return {"minute": minute, "hour": hour, "expired": expired}


def history(
    conn: sqlite3.Connection,
    key: str,
    since: float | None = None,
    until: float | None = None,
    max_points: int | None = None,
) -> HistorySeries:
    """Convenience: `HistoryStore(conn).history(...)`."""
    return HistoryStore(conn).history(key, since, until, max_points)

