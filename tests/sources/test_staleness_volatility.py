"""The stale rule and the EWMA volatility (pure domain functions; tested here next to the feeds that use them)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liqwatch.domain.model import AssetBalance, Bracket, FuturesAccount, FuturesPosition, MarginAccount, Portfolio
from liqwatch.domain.snapshot import Quote
from liqwatch.domain.staleness import stale_keys
from liqwatch.domain.volatility import SECONDS_PER_YEAR, ewma_volatility

NOW = 1_000_000.0
B = (Bracket(0, 0.005, 0),)


def position(symbol: str, mode: str) -> FuturesPosition:
    return FuturesPosition(symbol, "long", 1, 100, mode, B, isolated_wallet=10 if mode == "isolated" else None)  # type: ignore[arg-type]


PORTFOLIO = Portfolio(
    margin_accounts=(
        MarginAccount("m", (AssetBalance("BTC", 1), AssetBalance("USDT", 0, borrowed=10))),
        MarginAccount("n", (AssetBalance("ETH", 1), AssetBalance("SOL", 0), AssetBalance("USDT", 0, 5))),
    ),
    futures_accounts=(FuturesAccount("f", "USDT", 100, (
        position("BTC/USDT:USDT", "cross"), position("ETH/USDT:USDT", "cross"), position("SOL/USDT:USDT", "isolated"),
    )),),
)
F = PORTFOLIO.futures_accounts[0]


def q(key: str, age: float) -> Quote:
    return Quote(key, 1.0, "mark", "t", NOW - age, NOW - age)


def fresh(**ages: float) -> dict[str, Quote]:
    keys = {"BTC": 0, "ETH": 0, "SOL": 0, "BTC/USDT:USDT": 0, "ETH/USDT:USDT": 0, "SOL/USDT:USDT": 0}
    keys.update({k.replace("_", "/").replace("/USDT/USDT", "/USDT:USDT"): v for k, v in ages.items()})
    return {k: q(k, a) for k, a in keys.items()}


def test_nothing_stale_when_everything_is_fresh_or_exactly_at_the_limit() -> None:
    assert stale_keys(PORTFOLIO, fresh(), NOW, 15) == frozenset()
    assert stale_keys(PORTFOLIO, fresh(BTC=15), NOW, 15) == frozenset()


def test_margin_account_is_stale_when_a_held_asset_is() -> None:
    assert stale_keys(PORTFOLIO, fresh(BTC=16), NOW, 15) == {"margin:m"}
    assert stale_keys(PORTFOLIO, fresh(SOL=99), NOW, 15) == set()  # SOL held at 0, owed 0: not a dependency


def test_cross_positions_share_staleness_isolated_ones_do_not() -> None:
    quotes = fresh(BTC_USDT_USDT=20)
    assert stale_keys(PORTFOLIO, quotes, NOW, 15) == {F.position_key(0), F.position_key(1)}
    quotes = fresh(SOL_USDT_USDT=20)
    assert stale_keys(PORTFOLIO, quotes, NOW, 15) == {F.position_key(2)}


def test_fixed_or_missing_prices_are_not_stale() -> None:
    quotes = fresh()
    del quotes["BTC"], quotes["ETH/USDT:USDT"]
    assert stale_keys(PORTFOLIO, quotes, NOW, 15) == frozenset()


def test_a_position_priced_by_its_base_asset_follows_that_quote() -> None:
    quotes = fresh(ETH=30)
    del quotes["ETH/USDT:USDT"]
    assert {F.position_key(0), F.position_key(1)} <= stale_keys(PORTFOLIO, quotes, NOW, 15)


@pytest.mark.parametrize("sigma", [0.5, 1.5])
def test_ewma_recovers_the_volatility_of_a_random_walk(sigma: float) -> None:
    rng = np.random.default_rng(1)
    steps = rng.uniform(1.0, 9.0, 3000)  # irregular polls
    times = np.cumsum(steps)
    returns = rng.standard_normal(3000) * sigma * np.sqrt(steps / SECONDS_PER_YEAR)
    prices = 100 * np.exp(np.cumsum(returns))
    estimate = ewma_volatility(list(times), list(prices), half_life=5000)
    assert estimate == pytest.approx(sigma, rel=0.12)


def test_ewma_needs_enough_data_and_ignores_bad_points() -> None:
    assert ewma_volatility([1, 2, 3], [1, 1.1, 1.2]) is None
    times = list(range(20))
    prices = [100.0] * 20
    assert ewma_volatility(times, prices) == 0.0
    prices_bad = [*prices[:10], math.nan, 0.0, *prices[12:]]
    assert ewma_volatility(times, prices_bad) == 0.0
    with pytest.raises(ValueError):
        ewma_volatility(times, prices, half_life=0)
