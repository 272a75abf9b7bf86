"""A writer killed with SIGKILL mid-write, and a second process using the file at the same time, corrupt nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liqwatch.store.alert_log import AlertLog
from liqwatch.store.db import open_database
from liqwatch.store.history import HistoryStore
from liqwatch.store.positions_repo import PositionsRepository
from tests.store.factories import example_portfolio

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

CHILD = r"""
import sys, dataclasses, time
sys.path.insert(0, sys.argv[2])
from tests.store.factories import example_portfolio, make_snapshot, T0
from liqwatch.store.db import open_database
from liqwatch.store.positions_repo import PositionsRepository
from liqwatch.store.snapshot_writer import SnapshotWriter

path = sys.argv[1]
conn = open_database(path)
PositionsRepository(conn).save_portfolio(example_portfolio())
conn.close()
print("portfolio", flush=True)
base = make_snapshot()
writer = SnapshotWriter(path, batch_size=200, compact_every=None,
                        on_commit=lambda rows: print("committed", rows, flush=True))
i = 0
while True:  # heavy writing until killed
    if writer.submit(dataclasses.replace(base, time=T0 + i * 0.01, sequence=i)):
        i += 1
    else:
        time.sleep(0.0005)
"""


class _Alert:
    def __init__(self, i: int) -> None:
        self.id, self.time, self.severity, self.kind = f"parent-{i}", 1.0 + i, "warning", "risk"
        self.key, self.account, self.symbol, self.title = "margin:x", "x", None, "t"
        self.text, self.figure, self.threshold, self.status = "text", 1.2, 1.3, "warning"


def test_sigkill_mid_write_keeps_every_committed_row(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    repo_root = str(Path(__file__).resolve().parents[2])
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), repo_root], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    last = 0
    commits = 0
    alerts_written = 0
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "portfolio"
        # A second process (this one) uses the database while the child writes: no "database is locked".
        other = open_database(path)
        log = AlertLog(other)
        deadline = time.monotonic() + 60
        while commits < 40 and time.monotonic() < deadline:
            line = child.stdout.readline()
            assert line, child.stderr.read() if child.stderr else "child died"
            last = int(line.split()[1])
            commits += 1
            if commits % 5 == 0:
                alerts_written += log.append(_Alert(commits))
                assert HistoryStore(other).count() >= last
        other.close()
        assert commits == 40
        time.sleep(0.003 * (last % 7))  # somewhere inside a later batch
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
        if child.stdout:
            child.stdout.close()
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    conn = open_database(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = HistoryStore(conn).count()
        assert rows >= last > 0
        per_snapshot = len(example_portfolio().margin_accounts) + sum(
            len(a.positions) for a in example_portfolio().futures_accounts)
        assert rows % per_snapshot == 0  # whole snapshots only: no batch half-written
        assert PositionsRepository(conn).load_portfolio() == example_portfolio()
        assert AlertLog(conn).count() == alerts_written == 8
    finally:
        conn.close()
