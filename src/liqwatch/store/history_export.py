"""History → CSV with exactly `csv_export.CSV_COLUMNS`: the library behind `liqwatch export` and File ▸ Export.

Speed: each history row carries its figures already formatted as CSV text (`history.csv_tail`, made once when the
row is written, with the same formatter as `csv_export.risk_row`), so exporting is one string join per row: the
series text comes from a dict, the timestamp from a cache. See `benchmarks/bench_export.py` for rows per second.
The output is byte-identical to `csv_export.write_rows` for the same figures: numbers are `repr(float)` (full
precision, `.` decimal point under any locale), a missing figure is an empty field, `inf` stays `inf`, and quoting
is RFC 4180 (`\\r\\n`, fields with a comma, quote or line break quoted, quotes doubled).

Columns appended to the contract later and not stored in the history yet are written empty, so the header always
matches `liqwatch check --format csv`.
"""

from __future__ import annotations

import csv
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from liqwatch.store.csv_export import CSV_COLUMNS
from liqwatch.store.db import open_database
from liqwatch.store.history import DAY_MS, SERIES_COLUMNS, epoch_ms, series_csv

ProgressCallback = Callable[[int, int], object]
# rows fetched, joined and written at a time: ~1 MB of text, which stays in the CPU cache; 20,000-row chunks
# (5 MB) were ~10 % slower per row on the benchmark machine
CHUNK_ROWS = 4096


class ExportCancelledError(Exception):
    """The progress callback returned False."""


class TimeArgumentError(ValueError):
    pass


_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str, now: float) -> float:
    """ISO-8601 (a time without offset is UTC) or an age before `now` like `90m`, `24h`, `7d`, `2w` → epoch s."""
    match = _RELATIVE.match(text)
    if match:
        return now - float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TimeArgumentError(
            f"expected an ISO-8601 time (e.g. 2026-01-31T12:00:00Z) or an age like 24h or 7d, got {text!r}"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


class _Stamps(dict[int, str]):
    """Epoch milliseconds → `iso_utc` text, built from per-day and per-second tables (no datetime per row)."""

    def __init__(self, suffix: str = "") -> None:
        super().__init__()
        self._suffix = suffix  # appended to every text (the export's field separator)
        self._days: dict[int, str] = {}
        self._clock = [f"{h:02d}:{m:02d}:{s:02d}." for h in range(24) for m in range(60) for s in range(60)]

    def __missing__(self, ms: int) -> str:
        day, in_day = divmod(ms, DAY_MS)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = datetime.fromtimestamp(day * 86400, tz=UTC).strftime("%Y-%m-%dT")
        second, milli = divmod(in_day, 1000)
        text = self[ms] = f"{prefix}{self._clock[second]}{milli:03d}Z{self._suffix}"
        return text


def export_history(
    db: sqlite3.Connection | str | Path | None,
    stream: IO[str],
    since: float | None = None,
    until: float | None = None,
    progress: ProgressCallback | None = None,
    *,
    header: bool = True,
) -> int:
    """Write history rows between `since` and `until` (epoch seconds, inclusive) as CSV; returns the row count.

    `db` is an open connection, a database path, or None for the user's database. `progress(done, total)` is
    called before the first row and after every chunk; returning False cancels (raises `ExportCancelledError`).
    The rows come from one SELECT, i.e. one consistent read of the database, even while the writer keeps writing.
    """
    own = not isinstance(db, sqlite3.Connection)
    conn = open_database(db) if own else db  # type: ignore[arg-type]
    began = not conn.in_transaction  # type: ignore[union-attr]
    if began:
        conn.execute("BEGIN")  # type: ignore[union-attr]  # one read snapshot: count, series and rows agree
    try:
        lo = epoch_ms(since) if since is not None else -(2**62)
        hi = epoch_ms(until) if until is not None else 2**62
        writer = csv.writer(stream, lineterminator="\r\n")
        if header:
            writer.writerow(CSV_COLUMNS)
        total = 0
        if progress is not None:
            total = int(conn.execute(  # type: ignore[union-attr]
                "SELECT COUNT(*) FROM snapshots WHERE time_ms BETWEEN ? AND ?", (lo, hi)).fetchone()[0])
            if progress(0, total) is False:
                raise ExportCancelledError
        after_series = len(CSV_COLUMNS) - SERIES_COLUMNS
        # columns newer than a row: empty; the line end is part of the padding, the separators of the stamp and
        # the series text, so each line is one four-part f-string (this loop is most of the export's time)
        pad = {n: "," * (after_series - n) + "\r\n" for n in range(after_series + 1)}
        series = {
            row[0]: series_csv(row[1:]) + ","
            for row in conn.execute(  # type: ignore[union-attr]
                "SELECT id, key, account, exchange, kind, symbol, side FROM series")
        }
        cursor = conn.execute(  # type: ignore[union-attr]
            "SELECT time_ms, series_id, csv_tail, tail_columns FROM snapshots WHERE time_ms BETWEEN ? AND ? "
            "ORDER BY time_ms, series_id, rowid",
            (lo, hi),
        )
        stamps = _Stamps(suffix=",")
        done = 0
        write = stream.write
        while True:
            rows = cursor.fetchmany(CHUNK_ROWS)
            if not rows:
                break
            write("".join([f"{stamps[t]}{series[i]}{tail}{pad[n]}" for t, i, tail, n in rows]))
            if len(stamps) > 100_000:
                stamps.clear()
            done += len(rows)
            if progress is not None and progress(done, max(total, done)) is False:
                raise ExportCancelledError
        return done
    finally:
        if began:
            conn.execute("COMMIT")  # type: ignore[union-attr]  # read-only: ends the read snapshot
        if own:
            conn.close()  # type: ignore[union-attr]

