"""`liqwatch check` with carrying costs: funding from the command line, the demo feed and the fake Binance through
ccxt; JSON, table and CSV fields; unknown rates are null/empty, never 0; the leverage warning from --config."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from liqwatch.cli import main
from liqwatch.resources import resource_path
from liqwatch.sources.funding import check_funding
from liqwatch.store.csv_export import CSV_COLUMNS
from liqwatch.store.portfolio import load_portfolio
from liqwatch.store.settings import settings_from_dict
from liqwatch.store.toml_write import dumps
from tests.fakes.fake_binance import FakeBinance, Fault, fake_binance  # noqa: F401

EXAMPLE = str(resource_path("examples", "portfolio.toml"))
BTC, ETH, BTC_INV = "BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USD:BTC"
CARRY_COLUMNS = ("funding_rate", "funding_per_day", "effective_leverage", "interest_per_day",
                 "hours_to_margin_call", "hours_to_liquidation")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def check_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code, out, err = run(capsys, EXAMPLE, "--format", "json", *args)
    assert "Traceback" not in err
    return code, json.loads(out)


def by_symbol(data: dict) -> dict[str, dict]:
    return {f["symbol"]: f for f in data["futures_positions"]}


def test_funding_rate_option_gives_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    _, data = check_json(capsys, "--funding-rate", f"{BTC}=0.0001", "--funding-rate", f"{ETH}=-0.0002")
    futures = by_symbol(data)
    btc = futures[BTC]
    # isolated long 0.5 at mark 60010: 0.5 × 60010 × 0.0001 = 3.0005 USDT per 8 h (assumed), 9.0015 a day
    assert btc["funding_rate"] == 0.0001 and btc["funding_interval_hours"] == 8.0
    assert btc["funding_interval_assumed"] is True and btc["funding_source"] == "command line"
    assert btc["next_funding_payment"] == pytest.approx(3.0005)
    assert btc["funding_per_day"] == pytest.approx(9.0015)
    assert btc["next_funding_time"] is None  # not known from the command line
    # after k payments the isolated wallet is 3000 − k·3.0005: LP = (W − 30000) / (0.5 × 0.004 − 0.5)
    after = btc["liquidation_price_after_funding"]
    assert set(after) == {"1", "3", "9"}
    for k in (1, 3, 9):
        assert after[str(k)] == pytest.approx((3000 - k * 3.0005 - 30000) / (0.002 - 0.5), rel=1e-12)
    # funding alone: (3000 − (120.02 − 5)) / (3.0005 / 8) hours
    assert btc["hours_to_liquidation_by_funding"] == pytest.approx(2884.98 / (3.0005 / 8), rel=1e-9)
    eth = futures[ETH]
    # short 10 at 3000 with −0.0002: pays 6 per 8 h; the cross wallet drains 18 a day
    assert eth["next_funding_payment"] == pytest.approx(6.0) and eth["account_funding_per_day"] == pytest.approx(18)
    assert eth["liquidation_price_after_funding"] is None  # cross
    # no rate given for the COIN-M position: unknown, never 0
    inv = futures[BTC_INV]
    for name in ("funding_rate", "next_funding_payment", "funding_per_day", "funding_per_day_quote",
                 "hours_to_liquidation_by_funding", "next_funding_time"):
        assert inv[name] is None, name
    # margin: interest and leverage figures with the per-asset breakdown
    cross = next(m for m in data["margin_accounts"] if m["name"] == "Binance cross")
    assert cross["interest_per_day"] == pytest.approx(6.0) and cross["interest_per_hour"] == pytest.approx(0.25)
    assert cross["hours_to_margin_call"] == pytest.approx((90500 / 1.3 - 30001.25) / 0.25)
    assert cross["effective_leverage"] == pytest.approx(90500 / 60498.75)
    (usdt,) = cross["borrow_costs"]
    assert usdt["hourly_rate"] == pytest.approx(0.0002 / 24) and usdt["interest_per_day_quote"] == pytest.approx(6)


def test_no_rates_means_null_json_and_empty_csv(capsys: pytest.CaptureFixture[str]) -> None:
    _, data = check_json(capsys)
    for row in data["futures_positions"]:
        assert row["funding_rate"] is None and row["funding_per_day"] is None
        assert row["hours_to_liquidation_by_funding"] is None
        assert row["effective_leverage"] is not None
    _, out, _ = run(capsys, EXAMPLE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0].keys())[-len(CARRY_COLUMNS):] == CARRY_COLUMNS == CSV_COLUMNS[-len(CARRY_COLUMNS):]
    for row in rows:
        if row["kind"] == "futures":
            assert row["funding_rate"] == "" and row["funding_per_day"] == ""
            assert row["hours_to_liquidation"] == ""
    cross = next(r for r in rows if r["account"] == "Binance cross")
    assert float(cross["interest_per_day"]) == 6.0
    assert float(cross["hours_to_margin_call"]) == pytest.approx((90500 / 1.3 - 30001.25) / 0.25)
    assert float(cross["effective_leverage"]) == pytest.approx(90500 / 60498.75)


def test_csv_carries_funding_in_quote(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, EXAMPLE, "--format", "csv", "--funding-rate", f"{BTC_INV}=0.0003",
                    "--funding-rate", f"{BTC}=0")
    rows = {r["symbol"]: r for r in csv.DictReader(io.StringIO(out)) if r["kind"] == "futures"}
    # COIN-M: 2000 USD × 0.0003 = 0.6 USD per 8 h → 1.8 a day, written in quote
    assert float(rows[BTC_INV]["funding_rate"]) == 0.0003
    assert float(rows[BTC_INV]["funding_per_day"]) == pytest.approx(1.8)
    # a known rate of 0 is written as 0 (it is not missing); no liquidation by funding then
    assert float(rows[BTC]["funding_rate"]) == 0.0 and float(rows[BTC]["funding_per_day"]) == 0.0
    assert rows[BTC]["hours_to_liquidation"] == ""
    assert rows[ETH]["funding_rate"] == ""


def test_table_shows_leverage_funding_and_carry(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, EXAMPLE, "--funding-rate", f"{BTC}=0.0001")
    header, *lines = out.splitlines()
    assert "EFF LEV" in header and "FUNDING" in header and "CARRY/DAY (USDT)" in header
    btc = next(line for line in lines if BTC in line)
    assert "9.99×" in btc and "+0.0100%/8h" in btc and "9.0015" in btc
    cross = next(line for line in lines if "Binance cross" in line)
    assert "1.50×" in cross and "6.0000" in cross


@pytest.mark.parametrize("bad", [f"{BTC}", f"{BTC}=abc", f"{BTC}=nan", f"{BTC}=1.5", "=0.1"])
def test_bad_funding_rate_is_a_usage_error(bad: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check", EXAMPLE, "--funding-rate", bad])
    assert info.value.code == 3


def test_demo_prices_bring_simulated_rates(capsys: pytest.CaptureFixture[str]) -> None:
    _, data = check_json(capsys, "--prices-from", "demo")
    for row in data["futures_positions"]:
        assert row["funding_rate"] is not None and row["funding_rate"] != 0
        assert row["funding_source"] == "demo (simulated)"
        assert row["next_funding_time"].endswith(("T00:00:00.000Z", "T08:00:00.000Z", "T16:00:00.000Z"))
        # the payment's sign follows side × rate
        sign = 1 if row["side"] == "long" else -1
        assert (row["next_funding_payment"] > 0) == (sign * row["funding_rate"] > 0)


def _config(tmp_path: Path, server: FakeBinance | None = None, leverage: float | None = None) -> str:
    data: dict = {}
    if server is not None:
        data["exchanges"] = {"binance": {"ccxt_config": server.ccxt_config()}}
    if leverage is not None:
        data["alerts"] = {"leverage_warn_above": leverage}
    path = tmp_path / "settings.toml"
    path.write_text(dumps(data), encoding="utf-8")
    return str(path)


def test_prices_from_exchange_fetches_funding_through_ccxt(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake_binance: FakeBinance  # noqa: F811
) -> None:
    next_ms = 1_800_000_000_000  # 2027-01-15T08:00:00Z
    fake_binance.funding["BTCUSDT"] = {"lastFundingRate": "0.00050000", "nextFundingTime": next_ms}
    fake_binance.funding["BTCUSD_PERP"] = {"lastFundingRate": "-0.00010000", "nextFundingTime": next_ms}
    _, data = check_json(capsys, "--prices-from", "binance", "--config", _config(tmp_path, fake_binance))
    futures = by_symbol(data)
    btc = futures[BTC]
    # the fake's mark 60010: 0.5 × 60010 × 0.0005 = 15.0025 USDT per 8 h
    assert btc["mark_price"] == 60010.0 and btc["funding_rate"] == 0.0005
    assert btc["next_funding_payment"] == pytest.approx(15.0025)
    assert btc["next_funding_time"] == "2027-01-15T08:00:00.000Z"
    assert btc["funding_source"] == "binance:linear"
    # COIN-M long with a negative rate receives 2000 / 60020 × 0.0001 BTC
    assert futures[BTC_INV]["next_funding_payment"] == pytest.approx(-2000 / 60020 * 0.0001)
    assert {f["source"] for f in data["feeds"]} >= {"binance:funding:linear", "binance:funding:inverse"}
    assert fake_binance.requests("/dapi/v1/premiumIndex")


def test_funding_fault_degrades_to_unknown_not_failure(fake_binance: FakeBinance) -> None:  # noqa: F811
    portfolio = load_portfolio(EXAMPLE)
    settings = settings_from_dict({"exchanges": {"binance": {"ccxt_config": fake_binance.ccxt_config()}}})
    fake_binance.inject("/fapi/v1/premiumIndex", Fault(status=503))
    clock = [1_000_000.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    infos, health = check_funding(portfolio, "binance", settings, [(ETH, 0.0003)], deadline=20.0,
                                  clock=lambda: clock[0], sleep=sleep)
    assert BTC not in infos  # USDⓈ-M failed: unknown
    assert infos[BTC_INV].rate == pytest.approx(0.0001)  # COIN-M unaffected
    assert infos[ETH].rate == 0.0003  # the command line still applies
    linear = next(h for h in health if h.source == "binance:funding:linear")
    assert linear.state != "ok" and "funding rates" in linear.message and "503" in linear.message
    assert len(fake_binance.requests("/fapi/v1/premiumIndex")) >= 2  # retried with back-off inside the deadline


def test_leverage_warning_from_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, data = check_json(capsys)
    assert by_symbol(data)[ETH]["status"] == "ok"
    code, data = check_json(capsys, "--config", _config(tmp_path, leverage=2.5))
    # ETH short cross at 3.00× is above 2.5×: at least a warning; COIN-M at 0.65× stays ok
    assert by_symbol(data)[ETH]["status"] == "warning"
    assert by_symbol(data)[BTC_INV]["status"] == "ok"
    cross = next(m for m in data["margin_accounts"] if m["name"] == "Binance cross")
    assert cross["status"] == "ok"  # 1.50× is under the limit
    assert code == 1
