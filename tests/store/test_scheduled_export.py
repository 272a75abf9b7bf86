"""Scheduled export: header once, whole rows only, on schedule, never appending under someone else's header."""

from __future__ import annotations

import csv
import dataclasses

import pytest

from liqwatch.store.csv_export import CSV_COLUMNS
from liqwatch.store.scheduled_export import ScheduledExporter, snapshot_csv
from liqwatch.store.settings import Settings
from tests.store.factories import T0, at, make_snapshot


def _rows(path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_from_settings_is_off_by_default_and_validates() -> None:
    assert ScheduledExporter.from_settings(Settings()) is None
    on = dataclasses.replace(Settings(), scheduled_export_minutes=5.0, scheduled_export_path="/tmp/x.csv")
    assert ScheduledExporter.from_settings(on).interval == 300.0
    with pytest.raises(ValueError, match="scheduled_export_minutes"):
        ScheduledExporter("/tmp/x.csv", 0)


def test_appends_every_interval_with_one_header(tmp_path) -> None:
    path = tmp_path / "out" / "book.csv"
    exporter = ScheduledExporter(path, interval_minutes=5)
    base = make_snapshot()
    written = [exporter.offer(at(base, T0 + s)) for s in (0, 60, 299, 300, 301, 600)]
    assert written == [True, False, False, True, False, True]
    rows = _rows(path)
    n = len(base.risk)
    assert rows[0] == list(CSV_COLUMNS)
    assert len(rows) == 1 + 3 * n and rows.count(list(CSV_COLUMNS)) == 1
    assert all(len(r) == len(CSV_COLUMNS) for r in rows)
    assert path.read_bytes().endswith(b"\r\n")
    # a new exporter (app restarted) appends to the same file without a second header
    ScheduledExporter(path, 5).offer(at(base, T0 + 900))
    assert _rows(path).count(list(CSV_COLUMNS)) == 1 and len(_rows(path)) == 1 + 4 * n


def test_a_half_written_last_row_is_cut_before_appending(tmp_path) -> None:
    path = tmp_path / "book.csv"
    base = make_snapshot()
    full = snapshot_csv(base, header=True).encode()
    path.write_bytes(full + b"2023-11-14T22:13:20.000Z,Binance cr")  # killed mid-row by someone
    ScheduledExporter(path, 1).offer(at(base, T0 + 60))
    data = path.read_bytes()
    assert data == full + snapshot_csv(at(base, T0 + 60), header=False).encode()


def test_a_file_with_other_columns_is_not_appended_to(tmp_path) -> None:
    path = tmp_path / "book.csv"
    path.write_bytes(b"date,amount\r\n2024-01-01,5\r\n")
    exporter = ScheduledExporter(path, 1)
    assert exporter.offer(make_snapshot())
    assert path.read_bytes() == b"date,amount\r\n2024-01-01,5\r\n"
    assert exporter.path != path and _rows(exporter.path)[0] == list(CSV_COLUMNS)


def test_unwritable_target_is_reported_not_raised(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    exporter = ScheduledExporter(blocker / "book.csv", 1)  # a folder that is a file
    assert not exporter.offer(make_snapshot())
    assert exporter.last_error and "book.csv" in exporter.last_error
