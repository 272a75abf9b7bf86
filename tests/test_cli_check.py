"""`liqwatch check`: formats, the JSON contract, the monitoring-plugin exit codes, and no Qt on the path."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from liqwatch.cli import main
from liqwatch.resources import resource_path
from liqwatch.store.csv_export import CSV_COLUMNS

EXAMPLE = str(resource_path("examples", "portfolio.toml"))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


ONE_LONG = """
version = 1
[[futures_account]]
name = "F"
settle = "USDT"
[[futures_account.positions]]
symbol = "BTC/USDT:USDT"
side = "long"
contracts = 1
entry_price = 100
margin_mode = "isolated"
isolated_wallet = 10
maint_margin_rate = 0.005
maint_amount = 0
"""
LIQ = 90 / 0.995  # (10 − 100)/(0.005 − 1)


def test_json_contract_fields_and_fractions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, EXAMPLE, "--format", "json")
    data = json.loads(out)
    assert set(data) >= {"quote", "margin_accounts", "futures_positions"}
    margin = data["margin_accounts"][0]
    assert set(margin) >= {"name", "mode", "margin_level", "liquidation_level", "margin_call_level", "status",
                           "shock_to_liquidation", "liquidation_prices", "hours_to_liquidation"}
    assert margin["shock_to_liquidation"] == pytest.approx((1.1 * 30001.25 - 500) / 90000 - 1)
    future = data["futures_positions"][0]
    assert set(future) >= {"account", "symbol", "side", "margin_mode", "mark_price", "liquidation_price",
                           "distance", "margin_ratio", "maint_margin", "unrealized_pnl", "status"}
    assert future["liquidation_price"] == pytest.approx(27000 / 0.498)
    assert 0 < future["distance"] < 1  # a fraction, not percent
    assert data["time"].endswith("Z")
    assert code == 1  # the example holds warnings only


def test_infinite_level_and_missing_price_are_null(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, 'version = 1\n[[margin_account]]\nname = "M"\nassets = [{ asset = "BTC", total = 1 }]\n')
    code, out, _ = run(capsys, path, "--format", "json", "--price", "BTC=50000")
    assert json.loads(out)["margin_accounts"][0]["margin_level"] is None
    assert code == 0
    code, out, _ = run(capsys, path, "--format", "json")
    assert json.loads(out)["margin_accounts"][0]["status"] == "unknown"
    assert code == 3


@pytest.mark.parametrize(
    ("price", "status", "code"),
    [(LIQ * 1.5, "ok", 0), (LIQ * 1.08, "warning", 1), (LIQ * 1.03, "danger", 2), (LIQ * 0.99, "liquidation", 2)],
)
def test_exit_status_follows_the_monitoring_plugin_convention(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, price: float, status: str, code: int
) -> None:
    path = write(tmp_path, ONE_LONG)
    got, out, _ = run(capsys, path, "--format", "json", "--price", f"BTC/USDT:USDT={price}")
    assert json.loads(out)["futures_positions"][0]["status"] == status
    assert got == code


def test_price_flag_overrides_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, EXAMPLE, "--format", "json", "--price", "BTC/USDT:USDT=50000")
    future = json.loads(out)["futures_positions"][0]
    assert future["mark_price"] == 50000
    assert future["status"] == "liquidation"


def test_invalid_file_exits_3_with_messages_and_nothing_on_stdout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, ONE_LONG.replace("contracts = 1", "contracts = -3"))
    code, out, err = run(capsys, path, "--format", "json")
    assert code == 3 and out == ""
    assert "position 1: contracts must be > 0, got -3" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [["--price", "BTC=abc"], ["--price", "BTC"], ["--format", "xml"], []])
def test_usage_errors_exit_3(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check", *([EXAMPLE] if args else []), *args])
    assert info.value.code == 3


def test_table_is_sorted_by_risk_with_percentages(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, EXAMPLE, "--format", "table")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["STATUS", "KIND", "ACCOUNT"]
    statuses = [line.split()[0] for line in lines[1:6]]
    assert statuses == ["WARNING", "WARNING", "OK", "OK", "OK"]
    assert "9.65%" in lines[1]  # the BTC isolated long: |60010 − 54216.87| / 60010


def test_csv_has_the_contract_columns_and_one_row_per_item(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, EXAMPLE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0].keys())[: len(CSV_COLUMNS)] == CSV_COLUMNS
    assert len(rows) == 5
    btc = next(r for r in rows if r["symbol"] == "BTC/USDT:USDT")
    assert float(btc["liquidation_price"]) == 27000 / 0.498  # full precision
    assert btc["price_kind"] == "fixed"


def test_check_does_not_import_qt() -> None:
    code = (
        f"import sys; from liqwatch.cli import main; rc = main(['check', {EXAMPLE!r}, '--format', 'json']);"
        "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported'; print(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1"
