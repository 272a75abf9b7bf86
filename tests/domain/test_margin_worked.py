"""Spot-margin figures against hand calculation and Binance's documented rules."""

from __future__ import annotations

import math

import pytest

from liqwatch.domain.engine import evaluate_book
from liqwatch.domain.model import AssetBalance
from liqwatch.domain.status import Status
from liqwatch.domain.thresholds import Thresholds
from tests.domain.books import margin_book

EXAMPLE = (
    AssetBalance("BTC", 1.5),
    AssetBalance("USDT", 500, borrowed=30000, interest=1.25, daily_rate=0.0002),
)


def test_example_account_by_hand() -> None:
    book = margin_book(*EXAMPLE, prices={"BTC": 60000})
    (risk,) = evaluate_book(book, book.prices).margin
    # level = (1.5·60000 + 500) / (30000 + 1.25)
    assert risk.margin_level == pytest.approx(90500 / 30001.25, rel=1e-12)
    # every non-pegged asset (BTC) falls by s: (500 + 90000(1+s)) = 1.1 · 30001.25
    shock = (1.1 * 30001.25 - 500) / 90000 - 1
    assert risk.shock_to_liquidation == pytest.approx(shock, rel=1e-12)
    assert risk.liquidation_prices["BTC"] == pytest.approx(60000 * (1 + shock), rel=1e-12)
    # interest: 30000 · 0.0002 / 24 = 0.25 USDT per hour, 6 per day
    assert risk.interest_per_day == pytest.approx(6.0)
    assert risk.hours_to_liquidation == pytest.approx((90500 / 1.1 - 30001.25) / 0.25, rel=1e-12)
    assert risk.hours_to_margin_call == pytest.approx((90500 / 1.3 - 30001.25) / 0.25, rel=1e-12)
    assert risk.effective_leverage == pytest.approx(90500 / (90500 - 30001.25))
    assert risk.status is Status.OK


def test_binance_interest_example_rate() -> None:
    """Binance: 1000 USDT at 0.02 %/day for 2 charged hours costs 1000 × (0.02 %/24) × 2 = 0.01666667 USDT.

    Here 1210 USDT held against 1000 borrowed: level 1.21; it reaches 1.1 when the liability is 1100, i.e. after
    100 USDT of interest at 1000 × 0.0002 / 24 per hour = 12,000 hours.
    """
    book = margin_book(AssetBalance("USDT", 1210, borrowed=1000, daily_rate=0.0002))
    (risk,) = evaluate_book(book, {}).margin
    assert risk.interest_per_day / 24 * 2 == pytest.approx(0.01666667, abs=1e-8)
    assert risk.hours_to_liquidation == pytest.approx(12000.0)
    assert risk.shock_to_liquidation is None  # only pegged assets: no price move changes the level


def test_nothing_borrowed_is_infinite_level_and_json_null() -> None:
    book = margin_book(AssetBalance("BTC", 1), prices={"BTC": 50000})
    (risk,) = evaluate_book(book, book.prices).margin
    assert math.isinf(risk.margin_level)
    assert risk.shock_to_liquidation is None and risk.liquidation_prices == {}
    assert risk.status is Status.OK


def test_short_account_liquidates_on_a_rise() -> None:
    """Borrowed BTC sold for USDT: the level falls as BTC rises, so the solved shock is positive."""
    book = margin_book(AssetBalance("USDT", 66000), AssetBalance("BTC", 0, borrowed=1), prices={"BTC": 50000})
    (risk,) = evaluate_book(book, book.prices).margin
    # 66000 = 1.1 · 50000 (1+s)  →  s = 0.2
    assert risk.shock_to_liquidation == pytest.approx(0.2)
    assert risk.liquidation_prices["BTC"] == pytest.approx(60000)


def test_two_moving_assets_each_liquidation_price_if_only_it_moves() -> None:
    book = margin_book(
        AssetBalance("BTC", 1),
        AssetBalance("ETH", 10),
        AssetBalance("USDT", 0, borrowed=60000),
        prices={"BTC": 50000, "ETH": 3000},
    )
    (risk,) = evaluate_book(book, book.prices).margin
    # uniform: 80000(1+s) = 66000 → s = −0.175
    assert risk.shock_to_liquidation == pytest.approx(-0.175)
    # only BTC moves: x + 30000 = 66000 → 36000; only ETH: 50000 + 10y = 66000 → 1600
    assert risk.liquidation_prices == pytest.approx({"BTC": 36000, "ETH": 1600})


@pytest.mark.parametrize(
    ("level_target", "status"),
    [(1.6, Status.OK), (1.45, Status.WARNING), (1.25, Status.DANGER), (1.1, Status.LIQUIDATION),
     (1.05, Status.LIQUIDATION)],
)
def test_status_thresholds(level_target: float, status: Status) -> None:
    book = margin_book(AssetBalance("USDT", level_target * 1000, borrowed=1000))
    (risk,) = evaluate_book(book, {}, Thresholds()).margin
    assert risk.status is status


def test_missing_price_is_unknown() -> None:
    book = margin_book(*EXAMPLE)
    (risk,) = evaluate_book(book, {}).margin
    assert risk.status is Status.UNKNOWN
    assert risk.margin_level is None and risk.missing_prices == ("BTC",)


def test_missing_rate_gives_no_projection_rather_than_a_wrong_one() -> None:
    book = margin_book(AssetBalance("BTC", 1), AssetBalance("USDT", 0, borrowed=20000), prices={"BTC": 50000})
    (risk,) = evaluate_book(book, book.prices).margin
    assert risk.hours_to_liquidation is None and risk.interest_per_day is None


def test_an_account_own_warning_level() -> None:
    from dataclasses import replace

    book = margin_book(AssetBalance("USDT", 1800, borrowed=1000))  # level 1.8
    (plain,) = evaluate_book(book, {}).margin
    assert plain.status is Status.OK
    account = replace(book.margin_accounts[0], warning_level=2.0)
    (own,) = evaluate_book(replace(book, margin_accounts=(account,)), {}).margin
    assert own.status is Status.WARNING


def test_a_shock_of_minus_100_percent_has_no_chance_instead_of_a_crash() -> None:
    """A debt of 1e-20 USDT against 1 SOL: only SOL going to exactly 0 liquidates, so the solved shock rounds to
    −1 and the target level 1 + shock to 0. The touch probability is then 0 (found by the hypothesis comparison
    of the two engine paths; the scalar path used to raise ValueError, which would stop `liqwatch check`)."""
    from liqwatch.domain.model import MarginAccount, Portfolio
    from liqwatch.domain.vectorised import CompiledBook

    portfolio = Portfolio(margin_accounts=(
        MarginAccount("m", (AssetBalance("SOL", 1.0), AssetBalance("USDT", 0.0, borrowed=1e-20))),))
    scalar = evaluate_book(portfolio, {"SOL": 5.0}, volatilities={"SOL": 1.0}).margin[0]
    vector = CompiledBook(portfolio).evaluate({"SOL": 5.0}, volatilities={"SOL": 1.0}).to_risk().margin[0]
    assert scalar.shock_to_liquidation == -1.0
    assert scalar.touch_probability == 0.0 == vector.touch_probability
    assert scalar.status is Status.OK
