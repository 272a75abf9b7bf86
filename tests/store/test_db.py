"""The database file: WAL and durability settings, forward migrations that keep rows, no place for secrets."""

from __future__ import annotations

import io
import sqlite3

import pytest

from liqwatch.store import paths
from liqwatch.store.csv_export import CSV_COLUMNS
from liqwatch.store.db import open_database
from liqwatch.store.history_export import export_history
from liqwatch.store.migrations import MIGRATIONS, SCHEMA_VERSION, SchemaTooNewError, migrate, schema_version


def test_open_sets_wal_normal_busy_timeout_and_latest_schema() -> None:
    conn = open_database()
    try:
        assert paths.database_file().exists()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert schema_version(conn) == SCHEMA_VERSION == len(MIGRATIONS)
    finally:
        conn.close()


def _version_1_database(path: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=1)
    assert schema_version(conn) == 1
    conn.execute("INSERT INTO series (id, key, account, exchange, kind, symbol, side) VALUES "
                 "(1, 'futures:F:BTC/USDT:USDT:long:0', 'F', 'binance', 'futures', 'BTC/USDT:USDT', 'long'), "
                 "(2, 'margin:M', 'M, \"main\"', '', 'margin', '', '')")
    conn.execute("INSERT INTO snapshots (time_ms, series_id, price, liquidation_price, margin_level, distance, "
                 "status, stale) VALUES (1700000000123, 1, 60010.5, 54216.867469879515, NULL, 0.0965, 1, 0), "
                 "(1700000000123, 2, NULL, NULL, 1.25, 0.12, 3, 1)")
    conn.execute("INSERT INTO accounts (source, kind, ordinal, name, exchange, data, saved_time) VALUES "
                 "('manual', 'margin', 0, 'M', '', '{}', 1.0)")
    conn.close()


def test_version_1_database_is_migrated_forward_with_its_rows(tmp_path) -> None:
    path = str(tmp_path / "old.sqlite3")
    _version_1_database(path)
    conn = open_database(path)
    try:
        assert schema_version(conn) == SCHEMA_VERSION
        assert conn.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] == 2
        assert conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM alert_log").fetchone()[0] == 0  # new table exists
        out = io.StringIO()
        assert export_history(conn, out) == 2
        lines = out.getvalue().split("\r\n")
        newer = "," * (len(CSV_COLUMNS) - 18)  # columns added after version 1 export empty for its rows
        assert lines[0] == ",".join(CSV_COLUMNS)
        assert lines[1] == ("2023-11-14T22:13:20.123Z,F,binance,futures,BTC/USDT:USDT,long,,,60010.5,,"
                            "54216.867469879515,,,0.0965,,warning,false,computed" + newer)
        assert lines[2] == ('2023-11-14T22:13:20.123Z,"M, ""main""",,margin,,,,,,,,1.25,,0.12,,danger,true,computed'
                            + newer)
    finally:
        conn.close()


def test_migration_that_fails_leaves_the_old_version_whole(tmp_path, monkeypatch) -> None:
    path = str(tmp_path / "old.sqlite3")
    _version_1_database(path)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE snapshots ADD COLUMN half_done TEXT")
        raise RuntimeError("disk on fire")

    import liqwatch.store.migrations as migrations

    monkeypatch.setattr(migrations, "MIGRATIONS", (MIGRATIONS[0], broken))
    with pytest.raises(RuntimeError, match="disk on fire"):
        open_database(path)
    conn = sqlite3.connect(path)
    assert schema_version(conn) == 1
    columns = [row[1] for row in conn.execute("PRAGMA table_info(snapshots)")]
    assert "half_done" not in columns
    assert conn.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] == 2
    conn.close()


def test_newer_schema_is_refused_not_downgraded(tmp_path) -> None:
    path = tmp_path / "new.sqlite3"
    open_database(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="newer"):
        open_database(path)


def test_no_column_can_hold_a_secret() -> None:
    conn = open_database()
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        columns = [row[1].lower() for t in tables for row in conn.execute(f"PRAGMA table_info({t})")]
        assert "snapshots" in tables and "alert_log" in tables and "accounts" in tables
        for word in ("secret", "api_key", "apikey", "token", "password", "passphrase"):
            assert not [c for c in columns if word in c]
    finally:
        conn.close()
