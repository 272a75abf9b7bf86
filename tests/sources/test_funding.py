"""Funding rates through ccxt's real code against the fake Binance, plus the demo feed's simulated rates."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from liqwatch.domain.engine import evaluate_book
from liqwatch.domain.funding import funding_figures
from liqwatch.resources import resource_path
from liqwatch.sources.base import PriceRequest, all_on, price_request
from liqwatch.sources.funding import (
    FundingFetcher,
    SimulatedFunding,
    funding_request,
    parse_interval_hours,
    simulated_funding,
)
from liqwatch.store.portfolio import load_portfolio
from tests.fakes.fake_binance import FakeBinance, Fault, fake_binance  # noqa: F401

BTC, ETH, BTC_INV = "BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USD:BTC"
REQUEST = PriceRequest(futures={"binance": {"linear": (BTC, ETH), "inverse": (BTC_INV,)}})
NEXT_MS = 1_800_000_000_000  # a fixed nextFundingTime (ms)


def _funding_info_route(rows: list[dict[str, Any]]):
    def handler(query: dict[str, str], headers: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, rows, {}
    return handler


def _fetcher(server: FakeBinance, **kwargs: Any) -> FundingFetcher:
    return FundingFetcher("binance", server.ccxt_config(), timeout_ms=2000, seed=1, **kwargs)


def test_rates_next_time_mark_and_interval_through_ccxt(fake_binance: FakeBinance) -> None:  # noqa: F811
    fake_binance.funding["BTCUSDT"] = {"lastFundingRate": "0.00038246", "nextFundingTime": NEXT_MS}
    fake_binance.funding["ETHUSDT"] = {"lastFundingRate": "-0.00012500", "nextFundingTime": NEXT_MS}
    fake_binance.funding["BTCUSD_PERP"] = {"lastFundingRate": "0.00010000", "nextFundingTime": NEXT_MS}
    # Binance's fundingInfo lists only symbols whose interval differs from the default
    fake_binance.add_route("GET", "/fapi/v1/fundingInfo", _funding_info_route([
        {"symbol": "BTCUSDT", "adjustedFundingRateCap": "0.03", "adjustedFundingRateFloor": "-0.03",
         "fundingIntervalHours": 4, "disclaimer": False},
    ]))
    fetcher = _fetcher(fake_binance)
    try:
        now = time.time()
        infos, health = fetcher.poll(REQUEST, now)
    finally:
        fetcher.close()
    assert {h.source: h.state for h in health} == {"binance:funding:linear": "ok",
                                                   "binance:funding:inverse": "ok"}
    btc, eth, inv = infos[BTC], infos[ETH], infos[BTC_INV]
    assert btc.rate == pytest.approx(0.00038246) and eth.rate == pytest.approx(-0.000125)
    assert inv.rate == pytest.approx(0.0001)
    assert btc.next_time == NEXT_MS / 1000 and inv.next_time == NEXT_MS / 1000
    assert btc.mark == 60010.0 and inv.mark == 60020.0  # the fake's default marks
    assert (btc.interval_hours, btc.interval_assumed) == (4.0, False)
    assert (eth.interval_hours, eth.interval_assumed) == (8.0, True)  # not listed: the 8 h default, marked
    assert btc.received_time == now
    # linear through /fapi, inverse through /dapi (ccxt's subType routing)
    assert fake_binance.requests("/fapi/v1/premiumIndex") and fake_binance.requests("/dapi/v1/premiumIndex")


def test_missing_rate_is_unknown_not_zero(fake_binance: FakeBinance) -> None:  # noqa: F811
    # delivery contracts (and a broken row) report an empty rate: ccxt gives None; LiqWatch keeps it None
    fake_binance.funding["ETHUSDT"] = {"lastFundingRate": "", "nextFundingTime": 0}
    fake_binance.drop_symbol(BTC)  # listed, but no premiumIndex row at all
    fetcher = _fetcher(fake_binance)
    try:
        infos, health = fetcher.poll(PriceRequest(futures={"binance": {"linear": (BTC, ETH)}}), time.time())
    finally:
        fetcher.close()
    assert BTC not in infos
    assert infos[ETH].rate is None and infos[ETH].next_time is None
    (linear,) = health
    assert linear.state == "stale"
    assert "ETH/USDT:USDT (rate '')" in linear.message and "BTC/USDT:USDT (no funding rate)" in linear.message


def test_slower_schedule_and_fault_handling(fake_binance: FakeBinance) -> None:  # noqa: F811
    request = PriceRequest(futures={"binance": {"linear": (BTC,)}})
    fetcher = _fetcher(fake_binance, interval=60.0)
    try:
        t0 = time.time()
        infos, _ = fetcher.poll(request, t0)
        assert infos[BTC].rate == pytest.approx(0.0001)
        calls = len(fake_binance.requests("/fapi/v1/premiumIndex"))
        # 30 s later: not due, no request, the same rate
        infos, health = fetcher.poll(request, t0 + 30)
        assert len(fake_binance.requests("/fapi/v1/premiumIndex")) == calls
        assert infos[BTC].received_time == t0 and health[0].state == "ok"
        # 60 s later the exchange rate-limits us: no exception, the old rate is kept (and ages), health says so
        fake_binance.inject("/fapi/v1/premiumIndex", Fault(status=429, retry_after=7))
        infos, health = fetcher.poll(request, t0 + 60)
        assert infos[BTC].received_time == t0
        assert health[0].state in ("retrying", "stale") and "rate limited" in health[0].message
        assert "funding rates" in health[0].message and health[0].source == "binance:funding:linear"
        # inside the Retry-After window nothing is sent
        calls = len(fake_binance.requests("/fapi/v1/premiumIndex"))
        fetcher.poll(request, t0 + 62)
        assert len(fake_binance.requests("/fapi/v1/premiumIndex")) == calls
        # an HTML page instead of JSON: a fault, not a crash and not a rate
        fake_binance.inject("/fapi/v1/premiumIndex", Fault(html=True))
        infos, health = fetcher.poll(request, t0 + 120)
        assert infos[BTC].received_time == t0 and health[0].failures >= 2
        assert "no funding rows" in health[0].message
        # recovery: the new rate arrives and health is ok again
        fake_binance.clear_faults()
        fake_binance.funding["BTCUSDT"] = {"lastFundingRate": "0.00020000"}
        infos, health = fetcher.poll(request, t0 + 300)
        assert infos[BTC].rate == pytest.approx(0.0002) and infos[BTC].received_time == t0 + 300
        assert health[0].state == "ok"
    finally:
        fetcher.close()


def test_figures_from_fetched_rates_end_to_end(fake_binance: FakeBinance) -> None:  # noqa: F811
    portfolio = load_portfolio(resource_path("examples", "portfolio.toml"))
    fake_binance.funding["BTCUSDT"] = {"lastFundingRate": "0.00050000"}
    request = funding_request(all_on(price_request(portfolio, "binance"), "binance"))
    assert not request.spot
    fetcher = _fetcher(fake_binance)
    try:
        now = time.time()
        infos, _ = fetcher.poll(request, now)
    finally:
        fetcher.close()
    risk = evaluate_book(portfolio, portfolio.prices)
    figures = {f.symbol: f for f in funding_figures(risk, infos, now, portfolio).values()}
    # isolated long 0.5 BTC at the portfolio's mark 60010: 0.5 × 60010 × 0.0005 = 15.0025 USDT per 8 h
    assert figures[BTC].payment == pytest.approx(15.0025)
    assert figures[BTC].per_day == pytest.approx(45.0075)
    # short 10 ETH at 3000 with the fake's default +0.0001: receives 3 USDT per 8 h
    assert figures[ETH].payment == pytest.approx(-3.0)
    assert figures[BTC].source == "binance:linear"


@pytest.mark.parametrize(("text", "hours"), [("8h", 8.0), ("4h", 4.0), ("1h", 1.0), (8, 8.0), ("30m", 0.5),
                                             (None, None), ("", None), ("0h", None), ("soon", None)])
def test_parse_interval_hours(text: object, hours: float | None) -> None:
    assert parse_interval_hours(text) == hours


def test_simulated_funding_is_deterministic_and_plausible() -> None:
    symbols = [BTC, ETH, BTC_INV, "SOL/USDT:USDT"]
    period = 8 * 3600.0
    now = 20_000 * period + 1234.0
    first = simulated_funding(symbols, now, seed=7)
    assert first == simulated_funding(symbols, now, seed=7)
    # the rate holds for the whole funding period, changes (for some symbol) in the next one
    same_period = simulated_funding(symbols, now + 3600, seed=7)
    assert {s: i.rate for s, i in same_period.items()} == {s: i.rate for s, i in first.items()}
    next_period = simulated_funding(symbols, now + period, seed=7)
    assert {s: i.rate for s, i in next_period.items()} != {s: i.rate for s, i in first.items()}
    for info in first.values():
        assert info.rate is not None and math.isfinite(info.rate) and abs(info.rate) <= 0.0002
        assert info.interval_hours == 8.0 and info.next_time == 20_001 * period
        assert "simulated" in info.source
    assert len({i.rate for i in first.values()}) > 1  # not one rate for everything
    assert {s: i.rate for s, i in simulated_funding(symbols, now, seed=8).items()} != {
        s: i.rate for s, i in first.items()}


def test_simulated_funding_source_polls_every_futures_symbol() -> None:
    infos, health = SimulatedFunding(seed=7).poll(REQUEST, 1_000_000.0)
    assert set(infos) == {BTC, ETH, BTC_INV}
    assert health[0].state == "ok"
