"""`AlertLogWriter` stores alerts and acknowledgements off the caller's thread, in order, and drains on close."""

from __future__ import annotations

import threading
import time

import pytest

from liqwatch.store.alert_log import AlertLog
from liqwatch.store.alert_log_writer import AlertLogWriter
from liqwatch.store.db import open_database
from tests.store.test_alert_log import _alert


def test_appends_and_acknowledgements_are_stored_in_order(tmp_path) -> None:
    path = tmp_path / "alerts.sqlite3"
    with AlertLogWriter(path) as writer:
        writer.append([_alert(1), _alert(2)])
        writer.append(_alert(3))
        writer.acknowledge("a1", at=2000.0)  # queued after the append it refers to: it must find the row
        writer.acknowledge(["a2", "a3"], at=2001.0)
        writer.append(_alert(1))  # re-delivered: not duplicated, acknowledgement kept
        assert writer.flush(5.0)
        assert writer.written == 3 and writer.errors == 0
    conn = open_database(path)
    stored = {a.id: a for a in AlertLog(conn).recent()}
    conn.close()
    assert set(stored) == {"a1", "a2", "a3"}
    assert stored["a1"].acknowledged_time == 2000.0 and stored["a3"].acknowledged_time == 2001.0


def test_close_writes_what_is_still_queued(tmp_path) -> None:
    path = tmp_path / "alerts.sqlite3"
    writer = AlertLogWriter(path)
    for i in range(200):
        writer.append(_alert(i))
    assert writer.close(10.0)
    writer.append(_alert(999))  # after close: refused (logged), never raises
    conn = open_database(path)
    assert AlertLog(conn).count() == 200
    conn.close()


def test_appending_never_waits_for_the_disk(tmp_path, monkeypatch) -> None:
    """A slow fsync delays the writer thread, not the caller (the GUI thread in the app)."""
    gate = threading.Event()
    original = AlertLog.append

    def slow_append(self, alerts):  # type: ignore[no-untyped-def]
        gate.wait(5.0)
        return original(self, alerts)

    monkeypatch.setattr(AlertLog, "append", slow_append)
    with AlertLogWriter(tmp_path / "alerts.sqlite3") as writer:
        start = time.monotonic()
        for i in range(50):
            writer.append(_alert(i))
        assert time.monotonic() - start < 0.5
        assert writer.written == 0
        gate.set()
        assert writer.flush(5.0) and writer.written == 50


def test_a_failed_write_is_counted_and_later_alerts_are_still_stored(tmp_path, monkeypatch) -> None:
    original = AlertLog.append
    calls = []

    def flaky(self, alerts):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        return original(self, alerts)

    monkeypatch.setattr(AlertLog, "append", flaky)
    with AlertLogWriter(tmp_path / "alerts.sqlite3") as writer:
        writer.append(_alert(1))
        writer.append(_alert(2))
        assert writer.flush(5.0)
        assert writer.errors == 1 and writer.written == 1


def test_an_unopenable_database_is_reported_to_the_caller(tmp_path) -> None:
    folder = tmp_path / "not-a-file"
    folder.mkdir()
    with pytest.raises(Exception):  # noqa: B017 - whatever sqlite raises for a folder
        AlertLogWriter(folder)


def test_a_writer_never_closed_still_writes_at_exit_and_lets_the_process_end(tmp_path) -> None:
    import subprocess
    import sys

    path = tmp_path / "alerts.sqlite3"
    script = (
        "from tests.store.test_alert_log import _alert\n"
        "from liqwatch.store.alert_log_writer import AlertLogWriter\n"
        f"w = AlertLogWriter({str(path)!r})\n"
        "for i in range(20): w.append(_alert(i))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], timeout=30, capture_output=True, text=True,
                          cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert proc.returncode == 0, proc.stderr
    conn = open_database(path)
    assert AlertLog(conn).count() == 20
    conn.close()


def test_the_connection_thread_helper_reports_an_open_failure_in_the_callers_thread(tmp_path) -> None:
    from liqwatch.store.db import start_connection_thread

    served = []
    thread = start_connection_thread(tmp_path / "ok.sqlite3", served.append, name="t", daemon=True)
    thread.join(5)
    assert len(served) == 1  # ran once with its own connection, which is closed afterwards
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(Exception):  # noqa: B017 - whatever sqlite raises for a folder
        start_connection_thread(folder, served.append, name="t", daemon=True)
    assert len(served) == 1
