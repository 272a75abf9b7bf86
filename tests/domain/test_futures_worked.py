"""Futures liquidation prices against worked numbers.

USDⓈ-M: the Binance FAQ "calc example" as reproduced by freqtrade's `test_liquidation_price_binance` (expected
values rounded to the cent there). COIN-M: the Binance COIN-M FAQ maintenance examples and a hand calculation.
"""

from __future__ import annotations

from itertools import pairwise

import pytest

from liqwatch.domain.engine import evaluate_book
from liqwatch.domain.futures import bracket_for, liquidation_price, maintenance_margin, unrealized_pnl
from liqwatch.domain.model import Bracket
from liqwatch.domain.status import Status
from liqwatch.store.brackets import default_brackets
from tests.domain.books import futures_book, position, single

WB = 1535443.01
ETH = {"symbol": "ETH/USDT:USDT", "contracts": 3683.979, "entry": 1456.84, "brackets": single(0.10, 135365.00)}
BTC = {"symbol": "BTC/USDT:USDT", "contracts": 109.488, "entry": 32481.98, "brackets": single(0.025, 16300.0)}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [(ETH, 1114.78), (BTC, 18778.73)],
)
def test_binance_faq_isolated_long(spec: dict, expected: float) -> None:
    p = position(mode="isolated", wallet=WB, **spec)
    liq = liquidation_price(p, WB)
    assert liq.price == pytest.approx(expected, abs=0.005)


def test_binance_faq_cross_two_positions() -> None:
    """Each position's liquidation price includes the other's maintenance margin and uPnL at its mark."""
    book = futures_book(
        position(mode="cross", **ETH),
        position(mode="cross", **BTC),
        wallet=WB,
        prices={"ETH/USDT:USDT": 1335.18, "BTC/USDT:USDT": 31967.27},
    )
    eth, btc = evaluate_book(book, book.prices).futures
    assert eth.liquidation_price == pytest.approx(1153.26, abs=0.005)
    assert btc.liquidation_price == pytest.approx(26316.89, abs=0.005)


def test_cross_account_margin_ratio_is_total_maint_over_balance() -> None:
    book = futures_book(
        position(mode="cross", **ETH),
        position(mode="cross", **BTC),
        wallet=WB,
        prices={"ETH/USDT:USDT": 1335.18, "BTC/USDT:USDT": 31967.27},
    )
    eth, btc = evaluate_book(book, book.prices).futures
    mm_eth = 3683.979 * 1335.18 * 0.10 - 135365.0
    mm_btc = 109.488 * 31967.27 * 0.025 - 16300.0
    upnl = 3683.979 * (1335.18 - 1456.84) + 109.488 * (31967.27 - 32481.98)
    ratio = (mm_eth + mm_btc) / (WB + upnl)
    assert eth.margin_ratio == pytest.approx(ratio, rel=1e-12)
    assert btc.margin_ratio == pytest.approx(ratio, rel=1e-12)
    assert eth.maint_margin == pytest.approx(mm_eth, rel=1e-12)


def test_short_isolated_by_hand() -> None:
    # short 10 ETH at 3000 with 3000 USDT isolated, MMR 0.5 %, cum 50:
    # LP = (3000 + 50 + 10·3000) / (10·0.005 + 10) = 33050 / 10.05
    p = position("ETH/USDT:USDT", "short", 10, 3000, wallet=3000, brackets=single(0.005, 50))
    assert liquidation_price(p, 3000).price == pytest.approx(33050 / 10.05, rel=1e-12)


def test_bracket_is_chosen_at_the_liquidation_price_not_at_the_mark() -> None:
    """A 1 BTC long at 60,000 (notional 60k, bracket 2 at the mark) with 11,000 USDT isolated.

    Bracket 2 (MMR 0.5 %, cum 50) gives LP = (11000 + 50 − 60000)/(0.005 − 1) = 49195.98: notional 49,197 is
    below bracket 2's floor of 50,000, so it is inconsistent. Bracket 1 (MMR 0.4 %, cum 0) gives
    LP = (11000 − 60000)/(0.004 − 1) = 49196.787…, notional inside bracket 1: that is the answer.
    """
    table = default_brackets().lookup("BTC/USDT:USDT", inverse=False)
    assert table is not None
    p = position(contracts=1, entry=60000, wallet=11000, brackets=table)
    liq = liquidation_price(p, 11000, mark=60000)
    assert liq.bracket == table[0]
    assert liq.price == pytest.approx(49000 / 0.996, rel=1e-12)
    mm_at_mark, bracket_at_mark = maintenance_margin(p, 60000)
    assert bracket_at_mark == table[1]
    assert mm_at_mark == pytest.approx(60000 * 0.005 - 50)


def test_bundled_bracket_tables_follow_the_cum_chain() -> None:
    """cum_n = floor_n × (MMR_n − MMR_{n−1}) + cum_{n−1} (Binance FAQ: 250,000 × (1 % − 0.5 %) + 50 = 1,300)."""
    table = default_brackets()
    for symbol, rows in [*table.linear.items(), *table.inverse.items()]:
        for prev, cur in pairwise(rows):
            expected = cur.floor * (cur.maint_margin_rate - prev.maint_margin_rate) + prev.maint_amount
            assert cur.maint_amount == pytest.approx(expected, rel=1e-9, abs=1e-9), symbol
    assert [b.maint_amount for b in table.linear["BTC/USDT:USDT"][:4]] == [0, 50, 950, 11450]


def test_coin_m_faq_maintenance_examples() -> None:
    # "Maintenance Margin = 100 * 100 / 25,000 * 0.4% - 0 = 0.0016 BTC"
    p = position("BTC/USD:BTC", contracts=100, contract_size=100, entry=25000, mode="cross", wallet=None,
                 brackets=default_brackets().lookup("BTC/USD:BTC", inverse=True))
    mm, bracket = maintenance_margin(p, 25000)
    assert mm == pytest.approx(0.0016, rel=1e-12)
    assert bracket.maint_margin_rate == 0.004
    # "if the BTCUSD contract position is 300 BTC, the Maintenance Margin Rate would be 12.5%" and the
    # maintenance amount 11.605 BTC.
    index = bracket_for(p.brackets, 300)
    assert p.brackets[index] == Bracket(200, 0.125, 11.605)


def test_coin_m_long_by_hand() -> None:
    # 20 contracts × 100 USD = 2000 USD long at 58,000 with a 0.05 BTC wallet, MMR 0.4 %:
    # LP = (2000·0.004 + 2000) / (0.05 + 2000/58000) = 2008 / 0.0844827586… = 23768.163…
    p = position("BTC/USD:BTC", contracts=20, contract_size=100, entry=58000, wallet=0.05, brackets=single(0.004))
    assert liquidation_price(p, 0.05).price == pytest.approx(2008 / (0.05 + 2000 / 58000), rel=1e-12)
    # inverse PnL: side·N·(1/EP − 1/MP) in BTC
    assert unrealized_pnl(p, 60000) == pytest.approx(2000 * (1 / 58000 - 1 / 60000), rel=1e-12)


def test_over_collateralised_long_has_no_liquidation_price() -> None:
    book = futures_book(position(contracts=1, entry=100, wallet=200), prices={"BTC/USDT:USDT": 100})
    (risk,) = evaluate_book(book, book.prices).futures
    assert risk.liquidation_price is None
    assert risk.distance is None
    assert risk.status is Status.OK


def test_status_bands_and_crossing() -> None:
    # isolated long 1 @100, wallet 10, MMR 0.5 %: LP = (10 − 100)/(0.005 − 1) = 90.452…
    lp = 90 / 0.995
    p = position(contracts=1, entry=100, wallet=10)
    for mark, status in [(lp * 1.2, Status.OK), (lp * 1.08, Status.WARNING), (lp * 1.04, Status.DANGER),
                         (lp * 0.999, Status.LIQUIDATION)]:
        book = futures_book(p, prices={"BTC/USDT:USDT": mark})
        (risk,) = evaluate_book(book, book.prices).futures
        assert risk.status is status, mark
        assert risk.distance == pytest.approx(abs(mark - lp) / mark)


def test_missing_or_bad_price_is_unknown_never_zero() -> None:
    for prices in ({}, {"BTC/USDT:USDT": 0.0}, {"BTC/USDT:USDT": float("nan")}, {"BTC/USDT:USDT": -5.0}):
        book = futures_book(position(), prices=prices)
        (risk,) = evaluate_book(book, book.prices).futures
        assert risk.status is Status.UNKNOWN
        assert risk.liquidation_price is None and risk.unrealized_pnl is None


def test_cross_position_is_unknown_when_a_sibling_price_is_missing() -> None:
    book = futures_book(
        position("BTC/USDT:USDT", mode="cross"),
        position("ETH/USDT:USDT", mode="cross"),
        position("SOL/USDT:USDT", mode="isolated"),
        wallet=100,
        prices={"BTC/USDT:USDT": 100, "SOL/USDT:USDT": 100},
    )
    btc, eth, sol = evaluate_book(book, book.prices).futures
    assert btc.status is Status.UNKNOWN and btc.missing_prices == ("ETH/USDT:USDT",)
    assert eth.status is Status.UNKNOWN
    assert sol.status is not Status.UNKNOWN


def test_symbol_price_preferred_over_base_asset_price() -> None:
    book = futures_book(position(), prices={"BTC/USDT:USDT": 101, "BTC": 99})
    (risk,) = evaluate_book(book, book.prices).futures
    assert risk.mark_price == 101
    book = futures_book(position(), prices={"BTC": 99})
    (risk,) = evaluate_book(book, book.prices).futures
    assert risk.mark_price == 99


def test_a_position_own_thresholds_override_the_global_ones() -> None:
    """LP = 90 / 0.995 = 90.45; at a mark 15 % above it the global bands (10 % / 5 %) say ok, but a position set
    to warn within 20 % and be in danger within 16 % is in danger; its neighbour keeps the global rule."""
    from dataclasses import replace

    lp = 90 / 0.995
    careful = replace(position("BTC/USDT:USDT", contracts=1, entry=100, wallet=10), warning_distance=0.2,
                      danger_distance=0.16)
    plain = position("ETH/USDT:USDT", contracts=1, entry=100, wallet=10)
    mark = lp / (1 - 0.15)  # distance |mark − lp| / mark = 0.15
    book = futures_book(careful, plain, prices={"BTC/USDT:USDT": mark, "ETH/USDT:USDT": mark})
    mine, other = evaluate_book(book, book.prices).futures
    assert mine.distance == pytest.approx(0.15)
    assert mine.status is Status.DANGER
    assert other.status is Status.OK
