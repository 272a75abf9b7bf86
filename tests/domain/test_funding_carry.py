"""Margin interest per asset, time to margin call / liquidation from interest alone, effective leverage, and the
"warn me above N×" leverage warning — scalar and vectorised paths checked against hand-computed numbers.
"""

from __future__ import annotations

import pytest

from liqwatch.domain.carry import apply_leverage_warnings, borrow_costs, leverage_warnings
from liqwatch.domain.engine import evaluate_book
from liqwatch.domain.model import AssetBalance, MarginAccount, Portfolio
from liqwatch.domain.status import Status
from liqwatch.domain.vectorised import CompiledBook
from liqwatch.resources import resource_path
from liqwatch.store.portfolio import load_portfolio
from tests.domain.books import futures_book, margin_book, position


@pytest.fixture
def example() -> Portfolio:
    return load_portfolio(resource_path("examples", "portfolio.toml"))


def _both(portfolio: Portfolio, prices: dict[str, float]):
    scalar = evaluate_book(portfolio, prices)
    vector = CompiledBook(portfolio).evaluate(prices).to_risk()
    return scalar, vector


def test_borrow_costs_binance_cross(example: Portfolio) -> None:
    costs = borrow_costs(example, example.prices)
    (usdt,) = costs["margin:Binance cross"]
    # 30000 USDT at 0.02 %/day: hourly rate 0.0002/24 = 8.333e-6; 30000 × 8.333e-6 = 0.25 USDT/h, 6 USDT/day
    assert usdt.asset == "USDT" and usdt.borrowed == 30_000
    assert usdt.hourly_rate == pytest.approx(0.0002 / 24, rel=1e-12)
    assert usdt.interest_per_hour == pytest.approx(0.25, rel=1e-12)
    assert usdt.interest_per_hour_quote == pytest.approx(0.25, rel=1e-12)
    assert usdt.interest_per_day_quote == pytest.approx(6.0, rel=1e-12)
    assert usdt.rate_source == "portfolio"
    # ETH isolated: 30500 USDT at 0.025 %/day → 30500 × 0.00025 / 24 = 0.31770833 USDT/h, 7.625 USDT/day
    (eth_usdt,) = costs["margin:ETH isolated"]
    assert eth_usdt.interest_per_hour_quote == pytest.approx(0.3177083333, rel=1e-9)
    assert eth_usdt.interest_per_day_quote == pytest.approx(7.625, rel=1e-12)


def test_borrow_cost_of_a_coin_is_valued_at_its_price() -> None:
    # 2 BTC borrowed at 0.012 %/day: 2 × 0.00012 / 24 = 1e-5 BTC/h; at 50000 → 0.5 USDT/h, 12 USDT/day
    book = margin_book(AssetBalance("USDT", 200_000), AssetBalance("BTC", 0, borrowed=2, daily_rate=0.00012))
    (btc,) = borrow_costs(book, {"BTC": 50_000.0})["margin:m"]
    assert btc.interest_per_hour == pytest.approx(1e-5, rel=1e-12)
    assert btc.interest_per_hour_quote == pytest.approx(0.5, rel=1e-12)
    assert btc.interest_per_day_quote == pytest.approx(12.0, rel=1e-12)
    # price unknown → the coin amount is known, the quote value is not (never 0)
    (blind,) = borrow_costs(book, {})["margin:m"]
    assert blind.interest_per_hour == pytest.approx(1e-5)
    assert blind.interest_per_hour_quote is None and blind.interest_per_day_quote is None


def test_borrow_cost_without_a_rate_is_unknown() -> None:
    book = margin_book(AssetBalance("BTC", 1), AssetBalance("USDT", 0, borrowed=100))
    (usdt,) = borrow_costs(book, {"BTC": 50_000.0})["margin:m"]
    assert usdt.daily_rate is None and usdt.hourly_rate is None
    assert usdt.interest_per_hour is None and usdt.interest_per_day_quote is None


def test_imported_account_rate_source_is_the_exchange() -> None:
    account = MarginAccount("x", (AssetBalance("USDT", 0, borrowed=10, daily_rate=0.0001),), source="imported")
    (row,) = borrow_costs(Portfolio(margin_accounts=(account,)), {})["margin:x"]
    assert row.rate_source == "exchange"


def test_interest_projection_example_cross_both_paths(example: Portfolio) -> None:
    # A = 1.5 × 60000 + 500 = 90500; L = 30000 + 1.25 = 30001.25; interest 0.25 USDT/h at constant prices
    # margin call at 1.3: liability may grow to 90500/1.3 = 69615.3846 → (69615.3846 − 30001.25)/0.25 = 158456.54 h
    # liquidation at 1.1: 90500/1.1 = 82272.7273 → (82272.7273 − 30001.25)/0.25 = 209085.91 h
    # effective leverage A / (A − L) = 90500 / 60498.75 = 1.49590
    for risk in _both(example, example.prices):
        cross = next(r for r in risk.margin if r.name == "Binance cross")
        assert cross.interest_per_day == pytest.approx(6.0, rel=1e-12)
        assert cross.hours_to_margin_call == pytest.approx(158_456.538461538, rel=1e-9)
        assert cross.hours_to_liquidation == pytest.approx(209_085.909090909, rel=1e-9)
        assert cross.effective_leverage == pytest.approx(1.4958986756, rel=1e-9)
        # ETH isolated: A = 12 × 3000 = 36000, L = 30503.1 → 36000 / 5496.9 = 6.54915
        iso = next(r for r in risk.margin if r.name == "ETH isolated")
        assert iso.effective_leverage == pytest.approx(36_000 / 5_496.9, rel=1e-12)
        assert iso.interest_per_day == pytest.approx(7.625, rel=1e-12)


def test_futures_effective_leverage_both_paths(example: Portfolio) -> None:
    # isolated BTC long: notional 0.5 × 60010 = 30005; margin balance = wallet 3000 + uPnL 5 → 30005/3005
    # cross ETH short: notional 30000 / cross balance 10000 (wallet + cross uPnL 0) = 3
    # COIN-M long: notional 2000/60020 BTC over balance 0.05 + 2000 × (1/58000 − 1/60020) BTC
    inverse_balance = 0.05 + 2000 * (1 / 58_000 - 1 / 60_020)
    expected = {
        "BTC/USDT:USDT": 30_005 / 3_005,
        "ETH/USDT:USDT": 3.0,
        "BTC/USD:BTC": (2000 / 60_020) / inverse_balance,
    }
    for risk in _both(example, example.prices):
        for row in risk.futures:
            assert row.effective_leverage == pytest.approx(expected[row.symbol], rel=1e-12), row.symbol


def test_cross_leverage_uses_the_cross_balance_including_sibling_pnl() -> None:
    # two cross longs, wallet 1000: A 1 @ 100 marked 120 (uPnL +20), B 2 @ 50 marked 40 (uPnL −20)
    # cross balance = 1000 + 20 − 20 = 1000; A: 120 / 1000 = 0.12; B: 80 / 1000 = 0.08
    a = position("A/USDT:USDT", "long", contracts=1, entry=100, mode="cross")
    b = position("B/USDT:USDT", "long", contracts=2, entry=50, mode="cross")
    book = futures_book(a, b, wallet=1000.0)
    for risk in _both(book, {"A/USDT:USDT": 120.0, "B/USDT:USDT": 40.0}):
        assert [r.effective_leverage for r in risk.futures] == pytest.approx([0.12, 0.08], rel=1e-12)
        assert [r.margin_balance for r in risk.futures] == pytest.approx([1000.0, 1000.0], rel=1e-12)


def test_leverage_warning_off_by_default_and_raises_to_warning(example: Portfolio) -> None:
    risk = evaluate_book(example, example.prices)
    assert leverage_warnings(risk, None) == set()
    assert apply_leverage_warnings(risk, None) is risk
    # limit 2.5×: ETH isolated margin 6.55×, BTC isolated futures 9.99×, ETH cross 3× are above; cross 1.50×
    # and COIN-M 0.65× are not
    keys = leverage_warnings(risk, 2.5)
    names = {r.name for r in risk if r.key in keys}
    assert names == {"ETH isolated", "Binance USDⓈ-M BTC/USDT:USDT long", "Binance USDⓈ-M ETH/USDT:USDT short"}
    raised = apply_leverage_warnings(risk, 2.5)
    before = {r.key: r.status for r in risk}
    for row in raised:
        if row.key in keys:
            assert row.status.rank >= Status.WARNING.rank
            assert row.status == Status.worst([before[row.key], Status.WARNING])
        else:
            assert row.status == before[row.key]
    eth_cross = next(r for r in raised.futures if r.symbol == "ETH/USDT:USDT")
    assert before[eth_cross.key] is Status.OK and eth_cross.status is Status.WARNING
    # exactly at the limit is not above it
    assert eth_cross.key not in leverage_warnings(risk, 3.0 + 1e-9)


def test_leverage_warning_never_lowers_a_worse_status() -> None:
    # long 1 @ 100 isolated wallet 2, mark 98.5: LP = (2 − 100)/(0.005 − 1) = 98.49 → 0.01 % away: danger
    pos = position("X/USDT:USDT", "long", contracts=1, entry=100, wallet=2.0)
    risk = evaluate_book(futures_book(pos), {"X/USDT:USDT": 98.5})
    assert risk.futures[0].status is Status.DANGER
    assert apply_leverage_warnings(risk, 1.0).futures[0].status is Status.DANGER
