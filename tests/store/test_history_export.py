"""History export: RFC 4180 quoting, `.` decimals under a comma-decimal locale, ranges, progress and cancelling."""

from __future__ import annotations

import csv
import dataclasses
import io
import locale
import math
import shutil
import subprocess

import pytest

from liqwatch.store.csv_export import CSV_COLUMNS
from liqwatch.store.db import open_database
from liqwatch.store.history import HistoryStore
from liqwatch.store.history_export import ExportCancelledError, TimeArgumentError, export_history, parse_time
from tests.store.factories import T0, at, example_portfolio, make_snapshot

TRICKY = 'Main, "hedged"\nbook'


@pytest.fixture
def conn():
    c = open_database()
    yield c
    c.close()


def _tricky_snapshot():
    p = example_portfolio()
    margin = dataclasses.replace(p.margin_accounts[0], name=TRICKY)
    futures = dataclasses.replace(p.futures_accounts[0], name="Acc,1")
    book = dataclasses.replace(p, margin_accounts=(margin,), futures_accounts=(futures,))
    return make_snapshot(book, prices={"BTC": 1 / 3 * 180000})


def test_rfc4180_quoting_and_full_precision(conn) -> None:
    snap = _tricky_snapshot()
    HistoryStore(conn).write_snapshots([snap])
    out = io.StringIO()
    export_history(conn, out)
    text = out.getvalue()
    assert text.startswith(",".join(CSV_COLUMNS) + "\r\n")
    assert '"Main, ""hedged""\nbook"' in text and '"Acc,1"' in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(CSV_COLUMNS)
    by_row = {(r[1], r[4]): dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[1:]}
    margin = by_row[(TRICKY, "")]
    assert float(margin["margin_level"]) == snap.risk.margin[0].margin_level  # repr: exact round trip
    futures = snap.risk.futures[0]
    assert float(by_row[("Acc,1", futures.symbol)]["liquidation_price"]) == futures.liquidation_price


def test_infinite_margin_level_and_missing_figures(conn) -> None:
    p = example_portfolio()
    unborrowed = dataclasses.replace(p.margin_accounts[0], assets=(p.margin_accounts[0].assets[0],))
    snap = make_snapshot(dataclasses.replace(p, margin_accounts=(unborrowed,), futures_accounts=()))
    assert math.isinf(snap.risk.margin[0].margin_level)
    HistoryStore(conn).write_snapshots([snap])
    out = io.StringIO()
    export_history(conn, out)
    row = dict(zip(CSV_COLUMNS, list(csv.reader(io.StringIO(out.getvalue())))[1], strict=True))
    assert row["margin_level"] == "inf" and row["liquidation_price"] == "" and row["price"] == ""


def _comma_locale() -> str | None:
    """Build de_DE.UTF-8 into a private folder when the system has none (needs Debian's `locales` sources)."""
    for name in ("de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8"):
        try:
            locale.setlocale(locale.LC_NUMERIC, name)
            return name
        except locale.Error:
            continue
    return None


def test_decimal_point_is_a_dot_under_a_comma_locale(conn, tmp_path, monkeypatch) -> None:
    saved = locale.setlocale(locale.LC_ALL)
    name = _comma_locale()
    if name is None and shutil.which("localedef"):
        folder = tmp_path / "locales"
        folder.mkdir()
        made = subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8", str(folder / "de_DE.UTF-8")],
                              capture_output=True)
        if (folder / "de_DE.UTF-8").exists() or made.returncode == 0:
            monkeypatch.setenv("LOCPATH", str(folder))
            name = _comma_locale()
    try:
        if name is not None:
            assert locale.localeconv()["decimal_point"] == ","
        else:  # no comma locale can be built here: make the locale module report one
            monkeypatch.setattr(locale, "localeconv", lambda: {"decimal_point": ",", "thousands_sep": "."})
        assert locale.localeconv()["decimal_point"] == ","
        snap = make_snapshot(time=T0)
        HistoryStore(conn).write_snapshots([snap, at(snap, T0 + 1)])
        out = io.StringIO()
        export_history(conn, out)
        rows = list(csv.reader(io.StringIO(out.getvalue())))
        assert all(len(r) == len(CSV_COLUMNS) for r in rows)
        level = rows[1][CSV_COLUMNS.index("margin_level")]
        assert level == repr(snap.risk.margin[0].margin_level) and "." in level and "," not in level
    finally:
        locale.setlocale(locale.LC_ALL, saved)


def test_range_progress_and_cancel(conn) -> None:
    base = make_snapshot()
    HistoryStore(conn).write_snapshots([at(base, T0 + i) for i in range(100)])
    n = len(base.risk)
    calls: list[tuple[int, int]] = []
    out = io.StringIO()
    assert export_history(conn, out, since=T0 + 10, until=T0 + 19, progress=lambda d, t: calls.append((d, t))) \
        == 10 * n
    assert calls[0] == (0, 10 * n) and calls[-1] == (10 * n, 10 * n)
    stamps = {r[0] for r in list(csv.reader(io.StringIO(out.getvalue())))[1:]}
    assert min(stamps) == "2023-11-14T22:13:30.000Z" and max(stamps) == "2023-11-14T22:13:39.000Z"
    with pytest.raises(ExportCancelledError):
        export_history(conn, io.StringIO(), progress=lambda d, t: d == 0)
    assert not conn.in_transaction  # the read snapshot was released


def test_parse_time() -> None:
    now = 1_000_000.0
    assert parse_time("24h", now) == now - 86400
    assert parse_time("7d", now) == now - 7 * 86400
    assert parse_time("90m", now) == now - 5400
    assert parse_time("2026-01-31T12:00:00Z", now) == 1769860800.0
    assert parse_time("2026-01-31T12:00:00", now) == 1769860800.0  # no offset: UTC
    assert parse_time("2026-01-31T13:00:00+01:00", now) == 1769860800.0
    for bad in ("yesterday", "24x", "", "-3h"):
        with pytest.raises(TimeArgumentError, match=repr(bad).replace("(", r"\(")):
            parse_time(bad, now)
