"""Forward-only schema migrations for the LiqWatch database, versioned with `PRAGMA user_version`.

`MIGRATIONS[i]` takes a database at version `i` to version `i + 1`. A migration is only ever appended, never edited:
a user's file written by an older LiqWatch must open in every later one with its rows intact. Each one runs in its
own transaction together with the `user_version` bump, so a crash mid-migration leaves the old version, whole.

There is deliberately no column for an API key, secret or token anywhere: secrets live in the OS keyring only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


def _run(conn: sqlite3.Connection, script: str) -> None:
    """Run `;`-separated statements one by one: `executescript` would COMMIT the migration's open transaction."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v1_initial(conn: sqlite3.Connection) -> None:
    """Version 1: the portfolio (manual items and the imported cache) and plain snapshot history."""
    _run(
        conn,
        """
        CREATE TABLE portfolio_meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            data TEXT NOT NULL,             -- JSON: quote, stablecoins, prices, volatility
            saved_time REAL NOT NULL
        );
        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL CHECK (source IN ('manual', 'imported')),
            kind TEXT NOT NULL CHECK (kind IN ('margin', 'futures')),
            ordinal INTEGER NOT NULL,       -- order in the portfolio, so the window shows rows as they were
            name TEXT NOT NULL,
            exchange TEXT NOT NULL DEFAULT '',
            data TEXT NOT NULL,             -- JSON of the account with its assets or positions
            saved_time REAL NOT NULL
        );
        CREATE INDEX accounts_source ON accounts (source, ordinal);
        CREATE TABLE series (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            account TEXT NOT NULL,
            exchange TEXT NOT NULL,
            kind TEXT NOT NULL,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            UNIQUE (key, account, exchange, kind, symbol, side)
        );
        CREATE TABLE snapshots (
            time_ms INTEGER NOT NULL,       -- epoch milliseconds (UTC), exactly the stamp the CSV prints
            series_id INTEGER NOT NULL REFERENCES series (id),
            price REAL,
            liquidation_price REAL,
            margin_level REAL,
            distance REAL,
            status INTEGER NOT NULL,        -- liqwatch.domain.status.CODE_BY_STATUS
            stale INTEGER NOT NULL
        );
        CREATE INDEX snapshots_time ON snapshots (time_ms, series_id);
        CREATE INDEX snapshots_series ON snapshots (series_id, time_ms);
        """
    )


def _v2_csv_text_and_alerts(conn: sqlite3.Connection) -> None:
    """Version 2: each snapshot row carries its CSV figures pre-formatted (export speed), the alert log, and
    compaction bookkeeping. Rows written by version 1 get their text from the figures they hold."""
    from liqwatch.store.history import csv_tail  # the one formatter, so migrated rows print like new ones

    conn.execute("ALTER TABLE snapshots ADD COLUMN csv_tail TEXT NOT NULL DEFAULT ''")
    # how many CSV columns after the series text `csv_tail` holds; later columns export empty
    conn.execute("ALTER TABLE snapshots ADD COLUMN tail_columns INTEGER NOT NULL DEFAULT 12")
    rows = conn.execute(
        "SELECT s.rowid, r.kind, s.price, s.liquidation_price, s.margin_level, s.distance, s.status, s.stale "
        "FROM snapshots s JOIN series r ON r.id = s.series_id"
    ).fetchall()
    conn.executemany(
        "UPDATE snapshots SET csv_tail = ? WHERE rowid = ?",
        [
            (csv_tail(None, None, price, "", liq, level if kind == "margin" else None, None, distance, None,
                      status, stale, "computed"), rowid)
            for rowid, kind, price, liq, level, distance, status, stale in rows
        ],
    )
    _run(
        conn,
        """
        CREATE TABLE alert_log (
            id TEXT PRIMARY KEY,
            time REAL NOT NULL,
            severity TEXT NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            account TEXT NOT NULL,
            symbol TEXT,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            figure REAL,
            threshold REAL,
            status TEXT NOT NULL,
            acknowledged INTEGER NOT NULL DEFAULT 0,
            acknowledged_time REAL
        );
        CREATE INDEX alert_log_time ON alert_log (time);
        CREATE TABLE compaction (
            tier TEXT PRIMARY KEY,
            done_until_ms INTEGER NOT NULL
        )
        """,
    )


Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: tuple[Migration, ...] = (
    _v1_initial,
    _v2_csv_text_and_alerts,
)

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The file was written by a newer LiqWatch: opening it with this one could lose data, so we refuse."""


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database forward to `target`; returns the version it started at.

    The connection must be in autocommit mode (`isolation_level=None`): each step runs in its own
    `BEGIN IMMEDIATE` … `COMMIT`, which takes the write lock first so two processes starting at once cannot both
    migrate the same version.
    """
    start = schema_version(conn)
    if start > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"database schema version {start} is newer than this LiqWatch understands ({SCHEMA_VERSION}); "
            "upgrade LiqWatch or move the database aside"
        )
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)  # re-read under the lock: another process may have migrated
            if version >= target:
                conn.execute("COMMIT")
                return start
            MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
