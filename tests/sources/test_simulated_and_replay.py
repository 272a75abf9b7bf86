"""The simulation and the replay, driven in simulated time (no sleeping) through the vectorised engine."""

from __future__ import annotations

import math

import pytest

from liqwatch.domain.model import Portfolio
from liqwatch.domain.staleness import stale_keys
from liqwatch.domain.status import Status
from liqwatch.domain.vectorised import CompiledBook
from liqwatch.resources import resource_path
from liqwatch.sources.base import all_on, price_request
from liqwatch.sources.replay import ReplayError, ReplayFeed, parse_timestamp
from liqwatch.sources.simulated import SimulatedFeed
from liqwatch.store.settings import Settings
from tests.sources.helpers import demo_portfolio, example_portfolio

T0 = 1_700_000_000.0


def run(feed, portfolio: Portfolio, times: list[float]) -> list[Status]:
    """Worst status of the book after each poll."""
    book = CompiledBook(portfolio)
    request = all_on(price_request(portfolio), "demo")
    worst = []
    for t in times:
        prices = dict(portfolio.prices)
        prices.update({k: q.price for k, q in feed.fetch(request, t).quotes.items()})
        worst.append(book.evaluate(prices).to_risk().worst_status)
    return worst


def first(statuses: list[Status], status: Status) -> int | None:
    return next((i for i, s in enumerate(statuses) if s is status), None)


@pytest.mark.parametrize("seed", [Settings().simulation_seed, *range(10)])
def test_demo_walks_into_warning_then_danger_within_a_minute(seed: int) -> None:
    portfolio = demo_portfolio()
    interval = Settings().poll_interval_demo
    polls = [T0 + i * interval for i in range(int(60 / interval) + 1)]
    worst = run(SimulatedFeed(portfolio, seed), portfolio, polls)
    assert worst[0] is Status.OK, "a newcomer first sees a calm book"
    warning, danger = first(worst, Status.WARNING), first(worst, Status.DANGER)
    assert warning is not None and danger is not None
    assert warning < danger
    assert Status.LIQUIDATION not in worst


def test_simulation_is_deterministic_and_independent_of_poll_rhythm() -> None:
    portfolio = example_portfolio()
    request = all_on(price_request(portfolio), "demo")
    regular = SimulatedFeed(portfolio, 5)
    for i in range(31):
        last = regular.fetch(request, T0 + 2 * i)
    jumpy = SimulatedFeed(portfolio, 5)
    jumpy.fetch(request, T0)
    jumpy.fetch(request, T0 + 7.3)
    direct = jumpy.fetch(request, T0 + 60)
    other = SimulatedFeed(portfolio, 6)
    other.fetch(request, T0)
    assert {k: q.price for k, q in last.quotes.items()} == {k: q.price for k, q in direct.quotes.items()}
    assert {k: q.price for k, q in other.fetch(request, T0 + 60).quotes.items()} != {
        k: q.price for k, q in direct.quotes.items()}
    assert set(direct.quotes) == request.keys
    assert all(q.kind == ("mark" if "/" in k else "last") for k, q in direct.quotes.items())
    assert all(math.isfinite(q.price) and q.price > 0 for q in direct.quotes.values())


def test_simulation_starts_at_the_portfolios_prices() -> None:
    portfolio = example_portfolio()
    result = SimulatedFeed(portfolio, 1).fetch(all_on(price_request(portfolio), "demo"), T0)
    assert result.quotes["BTC"].price == 60000
    assert result.quotes["BTC/USDT:USDT"].price == 60010


# --- replay --------------------------------------------------------------------------------------------------
def test_crash_sample_drives_the_demo_book_to_liquidation_at_1000x() -> None:
    portfolio = demo_portfolio()
    feed = ReplayFeed(resource_path("replay", "crash-sample.csv"), speed=1000)
    # 3 recorded hours at 1000×: 10.8 s of caller time, polled every 0.1 s without sleeping
    times = [T0 + 0.1 * i for i in range(120)]
    worst = run(feed, portfolio, times)
    ok, warning, danger, liquidation = (first(worst, s) for s in (Status.OK, Status.WARNING, Status.DANGER,
                                                                   Status.LIQUIDATION))
    assert ok == 0 and warning is not None and danger is not None and liquidation is not None
    assert ok < warning < danger < liquidation
    assert feed.finished(times[-1])
    assert feed.clock(T0 + 1.0) == pytest.approx(feed.first_time + 1000.0)


def test_replay_quotes_are_the_rows_in_effect(tmp_path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("# a comment line\ntimestamp,symbol,price\n"
                    "2024-08-05T00:00:00Z,BTC,100\n2024-08-05T00:00:10Z,BTC,0\n2024-08-05T00:00:20Z,BTC,90\n"
                    "1722816000,BTC/USDT:USDT,101\n", encoding="utf-8")
    feed = ReplayFeed(path, speed=10)
    start = feed.fetch(price_request(Portfolio()), T0).quotes
    assert start["BTC"].price == 100 and start["BTC/USDT:USDT"].price == 101
    at_12s = feed.fetch(price_request(Portfolio()), T0 + 1.2).quotes  # replay +12 s: the "0" row is refused
    assert at_12s["BTC"].price == 100
    assert at_12s["BTC"].age(T0 + 1.2) == pytest.approx(1.2)  # and the old price ages
    assert feed.fetch(price_request(Portfolio()), T0 + 2.0).quotes["BTC"].price == 90


def test_a_gap_in_the_replay_makes_figures_stale(tmp_path) -> None:
    portfolio = example_portfolio()
    path = tmp_path / "gap.csv"
    path.write_text("timestamp,symbol,price\n0,BTC/USDT:USDT,60000\n0,ETH/USDT:USDT,3000\n"
                    "100,ETH/USDT:USDT,3001\n", encoding="utf-8")
    feed = ReplayFeed(path, speed=1)
    feed.fetch(price_request(portfolio), T0)
    quotes = feed.fetch(price_request(portfolio), T0 + 100).quotes
    stale = stale_keys(portfolio, quotes, T0 + 100, 15.0)
    usdm = portfolio.futures_accounts[0]
    assert usdm.position_key(0) in stale  # BTC isolated: its own mark is 100 s old
    assert usdm.position_key(1) not in stale  # ETH cross: fresh, and no other cross sibling


def test_bad_replay_rows_are_named(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,symbol,price\nyesterday,BTC,1\n2024-08-05T00:00:00Z,,1\n0,BTC,lots\n",
                    encoding="utf-8")
    with pytest.raises(ReplayError) as info:
        ReplayFeed(path)
    problems = info.value.problems
    assert any("line 2" in p and "'yesterday'" in p for p in problems)
    assert any("line 3" in p and "symbol is empty" in p for p in problems)
    assert any("line 4" in p and "'lots'" in p for p in problems)
    with pytest.raises(ReplayError, match="speed must be a number > 0"):
        ReplayFeed(resource_path("replay", "crash-sample.csv"), speed=0)


def test_timestamps() -> None:
    assert parse_timestamp("1722816000000") == 1722816000.0
    assert parse_timestamp("2024-08-05T00:00:00") == parse_timestamp("2024-08-05T00:00:00+00:00") == 1722816000.0
