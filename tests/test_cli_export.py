"""`liqwatch export`: flags, exit codes, files, and the same header as `liqwatch check --format csv`."""

from __future__ import annotations

import csv
import dataclasses
import io

import pytest

from liqwatch.cli import main
from liqwatch.resources import resource_path
from liqwatch.store import paths
from liqwatch.store.csv_export import CSV_COLUMNS
from liqwatch.store.db import open_database
from liqwatch.store.history import HistoryStore
from tests.store.factories import T0, at, make_snapshot


@pytest.fixture
def history() -> int:
    base = make_snapshot()
    conn = open_database()
    HistoryStore(conn).write_snapshots([at(base, T0 + 3600 * i) for i in range(48)])  # two days, hourly
    conn.close()
    return len(base.risk)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_export_everything_to_stdout(history: int, capsysbinary) -> None:
    assert main(["export"]) == 0
    out = capsysbinary.readouterr().out.decode("utf-8")
    rows = _rows(out)
    assert rows[0] == list(CSV_COLUMNS) and len(rows) == 1 + 48 * history
    assert out.count("\r\n") == len(rows)  # RFC 4180 line ends, not translated


def test_since_until_iso_and_output_file(history: int, tmp_path, capsys) -> None:
    target = tmp_path / "h.csv"
    code = main(["export", "--since", "2023-11-14T23:13:20Z", "--until", "2023-11-15T01:13:20+00:00",
                 "--output", str(target), "--format", "csv"])
    assert code == 0
    rows = _rows(target.read_text(encoding="utf-8"))
    assert len(rows) == 1 + 3 * history
    assert {r[0] for r in rows[1:]} == {"2023-11-14T23:13:20.000Z", "2023-11-15T00:13:20.000Z",
                                        "2023-11-15T01:13:20.000Z"}
    assert f"exported {3 * history} rows" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["h.csv"]  # no temp file left


def test_relative_since_selects_recent_rows(tmp_path, capsys) -> None:
    import time

    base = make_snapshot()
    now = time.time()
    conn = open_database()
    HistoryStore(conn).write_snapshots([at(base, now - 3 * 86400), at(base, now - 3600)])
    conn.close()
    assert main(["export", "--since", "24h"]) == 0
    assert len(_rows(capsys.readouterr().out)) == 1 + len(base.risk)


@pytest.mark.parametrize(("args", "needle"), [
    (["--since", "yesterday"], "--since"),
    (["--until", "12x"], "--until"),
    (["--format", "xlsx"], "--format"),
])
def test_bad_values_exit_3_naming_flag_and_value(history: int, args, needle, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["export", *args])
    assert exc.value.code == 3
    err = capsys.readouterr().err
    assert needle in err and args[1] in err


def test_since_after_until_and_missing_database_exit_3(history: int, tmp_path, capsys) -> None:
    assert main(["export", "--since", "1h", "--until", "2d"]) == 3
    assert "--since" in capsys.readouterr().err
    assert main(["export", "--database", str(tmp_path / "none.sqlite3")]) == 3
    assert "none.sqlite3" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite3").exists()


def test_unwritable_output_exits_3_and_leaves_nothing(history: int, tmp_path, capsys) -> None:
    assert main(["export", "--output", str(tmp_path / "no" / "such" / "dir.csv")]) == 3
    assert "--output" in capsys.readouterr().err


def test_header_matches_check_csv(history: int, capsys) -> None:
    main(["check", str(resource_path("examples", "portfolio.toml")), "--format", "csv"])
    check_rows = _rows(capsys.readouterr().out)
    base = make_snapshot(time=T0 - 86400)  # the file's fixed prices, as `check` uses them
    fixed = dataclasses.replace(base, quotes={k: dataclasses.replace(q, kind="fixed") for k, q in base.quotes.items()})
    conn = open_database()
    HistoryStore(conn).write_snapshots([fixed])
    conn.close()
    main(["export", "--until", "2023-11-13T22:13:20Z"])
    export_rows = _rows(capsys.readouterr().out)
    assert check_rows[0] == export_rows[0] == list(CSV_COLUMNS)
    assert len(check_rows) == len(export_rows)  # one row per account/position per time
    # the same figures for the same book and prices, column for column (except the time)
    assert [r[1:] for r in check_rows[1:]] == [r[1:] for r in export_rows[1:]]
    assert paths.database_file().exists()
