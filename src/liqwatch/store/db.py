"""Opening the LiqWatch SQLite database: WAL, sane durability, a busy timeout, and the schema brought forward.

Why these settings:
- `journal_mode=WAL`: readers (the window's history plot, `liqwatch export` in another process) never block the
  snapshot writer and never see a half-written batch; a killed process leaves a WAL that the next open replays
  up to the last commit.
- `synchronous=NORMAL`: in WAL mode this is safe against application crashes (SIGKILL, a Python crash): every
  committed transaction is in the WAL and survives, and the file cannot be corrupted. Only an OS crash or power
  loss can drop the last few commits (never corrupt). FULL would fsync on every snapshot batch for no gain a
  monitor needs; the few writes a user makes by hand (positions) ask for FULL for their own transaction
  (`durable_transaction`).
- `busy_timeout`: a second process (or thread) opening the file waits for the write lock instead of failing with
  "database is locked".
- `foreign_keys=ON`: a snapshot can never point at a series that does not exist.

Connections are opened in autocommit mode and every write goes through `transaction()`, so the code says exactly
where each all-or-nothing unit starts and ends.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from liqwatch.store import paths
from liqwatch.store.migrations import SCHEMA_VERSION, migrate

BUSY_TIMEOUT_MS = 10_000

__all__ = ["BUSY_TIMEOUT_MS", "SCHEMA_VERSION", "durable_transaction", "open_database", "transaction"]


def open_database(path: str | Path | None = None, *, migrate_schema: bool = True) -> sqlite3.Connection:
    """Open (creating if needed) the database at `path` (default: `paths.database_file()`), migrated forward.

    The connection may be used from one thread only (sqlite3's default check); each thread opens its own.
    """
    target = Path(path) if path is not None else paths.database_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(target), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"{target}: cannot switch the database to WAL mode (got {mode!r})")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if migrate_schema:
            migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, *, immediate: bool = True) -> Iterator[sqlite3.Connection]:
    """All or nothing: commit when the block ends, roll back when it raises.

    `BEGIN IMMEDIATE` takes the write lock up front, so a busy database waits (busy_timeout) at the start rather
    than failing half-way through with a lock upgrade deadlock.
    """
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def durable_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A transaction that is fsynced at commit (synchronous=FULL): for what a trader typed by hand."""
    conn.execute("PRAGMA synchronous = FULL")
    try:
        with transaction(conn):
            yield conn
    finally:
        conn.execute("PRAGMA synchronous = NORMAL")


def start_connection_thread(path: str | Path | None, serve: Callable[[sqlite3.Connection], None], *, name: str,
                            daemon: bool) -> threading.Thread:
    """Start a thread that opens its own connection to the database (SQLite connections belong to their thread),
    runs `serve(conn)` and closes it. A failure to open is raised here, in the caller's thread, so a writer that
    cannot write says so when it is made rather than failing quietly later."""
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            conn = open_database(path)
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)
            ready.set()
            return
        ready.set()
        try:
            serve(conn)
        finally:
            conn.close()

    thread = threading.Thread(target=run, name=name, daemon=daemon)
    thread.start()
    ready.wait()
    if failure:
        thread.join()
        raise failure[0]
    return thread
