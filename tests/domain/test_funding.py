"""Funding payments, per-day cost, liquidation price after funding and time to liquidation by funding alone.

Every expected number is worked by hand in the comments (not computed with the code under test).
"""

from __future__ import annotations

import math

import pytest

from liqwatch.domain.engine import evaluate_book
from liqwatch.domain.funding import (
    FundedFuturesRisk,
    FundingFigures,
    FundingInfo,
    funding_figures,
    funding_payment,
    next_funding_time,
    wallet_at_liquidation,
    with_funding,
)
from liqwatch.domain.futures import liquidation_price
from liqwatch.domain.risk import FuturesRisk
from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.resources import resource_path
from liqwatch.store.portfolio import load_portfolio
from tests.domain.books import futures_book, position, single

BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"
BTC_INV = "BTC/USD:BTC"


def _one(pos, mark: float, info: FundingInfo | None, wallet: float = 0.0, settle: str = "USDT", now: float = 0.0):
    book = futures_book(pos, wallet=wallet, settle=settle)
    risk = evaluate_book(book, {pos.symbol: mark})
    figures = funding_figures(risk, {info.symbol: info} if info else {}, now, book)
    (only,) = figures.values()
    return only, risk


# --- the payment: sign, linear and inverse --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "rate", "expected"),
    [
        # 2 ETH × 3000 = 6000 USDT notional; 6000 × 0.0001 = 0.6 USDT
        ("long", 0.0001, 0.6),  # rate > 0: longs pay
        ("short", 0.0001, -0.6),  # … shorts receive
        # 6000 × 0.0003 = 1.8 USDT
        ("long", -0.0003, -1.8),  # rate < 0: longs receive
        ("short", -0.0003, 1.8),  # … shorts pay
    ],
)
def test_linear_payment_sign_and_size(side: str, rate: float, expected: float) -> None:
    pos = position(ETH, side, contracts=2, entry=3000, mode="cross")
    figures, _ = _one(pos, 3000.0, FundingInfo(ETH, rate, 8.0), wallet=10_000)
    assert figures.payment == pytest.approx(expected, rel=1e-12)
    assert figures.payment_quote == pytest.approx(expected, rel=1e-12)
    # 8 h interval: three payments a day
    assert figures.per_day == pytest.approx(3 * expected, rel=1e-12)


@pytest.mark.parametrize(
    ("side", "rate", "interval", "payment_btc", "per_day_btc"),
    [
        # N = 20 contracts × 100 USD = 2000 USD; at mark 50000 that is 0.04 BTC; × 0.0001 = 4e-6 BTC (0.2 USD)
        ("long", 0.0001, 8.0, 4e-6, 1.2e-5),
        ("short", 0.0001, 8.0, -4e-6, -1.2e-5),
        # × −0.0002 = 8e-6 BTC paid by the short; 4 h interval → 6 payments a day = 4.8e-5 BTC
        ("short", -0.0002, 4.0, 8e-6, 4.8e-5),
        ("long", -0.0002, 4.0, -8e-6, -4.8e-5),
    ],
)
def test_inverse_payment_in_coin(side: str, rate: float, interval: float, payment_btc: float,
                                 per_day_btc: float) -> None:
    pos = position(BTC_INV, side, contracts=20, contract_size=100, entry=50_000, mode="cross")
    figures, _ = _one(pos, 50_000.0, FundingInfo(BTC_INV, rate, interval), wallet=1.0, settle="BTC")
    assert figures.settle == "BTC"
    assert figures.payment == pytest.approx(payment_btc, rel=1e-12)
    assert figures.per_day == pytest.approx(per_day_btc, rel=1e-12)
    # in quote the coin amount is worth N × rate USD: 2000 × 0.0001 = 0.2, 2000 × 0.0002 = 0.4
    assert figures.payment_quote == pytest.approx(payment_btc * 50_000, rel=1e-12)
    assert abs(figures.payment_quote) == pytest.approx(2000 * abs(rate), rel=1e-12)


def test_payment_is_at_the_mark_not_the_entry() -> None:
    # long 0.5 BTC entered at 60000, mark 60010: 0.5 × 60010 × 0.0001 = 3.0005 USDT
    pos = position(BTC, "long", contracts=0.5, entry=60_000, mode="isolated", wallet=3000)
    assert funding_payment(pos, 60_010.0, 0.0001) == pytest.approx(3.0005, rel=1e-12)


# --- isolated: the liquidation price after k payments and time to liquidation ---------------------------------


def test_isolated_long_liquidation_after_payments_closed_form() -> None:
    # long 1 @ 100, isolated wallet 10, MMR 0.5 %, cum 0, mark 100, rate 0.001 → payment 1 × 100 × 0.001 = 0.1
    # closed form (linear, long): LP(W) = (W − Q·EP) / (Q·MMR − Q) = (W − 100) / (−0.995) = (100 − W) / 0.995
    pos = position(BTC, "long", contracts=1, entry=100, wallet=10.0, brackets=single(0.005))
    figures, risk = _one(pos, 100.0, FundingInfo(BTC, 0.001, 8.0))
    assert risk.futures[0].liquidation_price == pytest.approx((100 - 10) / 0.995)
    after = figures.liquidation_after
    assert set(after) == {1, 3, 9}
    assert after[1] == pytest.approx((100 - 9.9) / 0.995, rel=1e-12)  # 90.5527638…
    assert after[3] == pytest.approx((100 - 9.7) / 0.995, rel=1e-12)  # 90.7537688…
    assert after[9] == pytest.approx((100 - 9.1) / 0.995, rel=1e-12)  # 91.3567839…
    # funding alone: W* = MM − uPnL = 100 × 0.005 − 0 = 0.5; drain 10 − 0.5 = 9.5 at 0.1 / 8 h = 0.0125 /h
    assert figures.hours_to_liquidation == pytest.approx(760.0, rel=1e-12)
    assert figures.payments_to_liquidation == 95  # ceil(9.5 / 0.1)
    assert figures.per_day == pytest.approx(0.3)
    assert figures.account_per_day is None


def test_a_vanishing_rate_gives_no_count_instead_of_a_crash() -> None:
    """A rate of 1e-320 (a feed's rounding noise) pays ~1e-318 a time: 9.5 / that overflows to infinity, which
    `math.ceil` cannot count. Found by comparing the array path with this one; both now say "no figure"."""
    pos = position(BTC, "long", contracts=1, entry=100, wallet=10.0, brackets=single(0.005))
    figures, _ = _one(pos, 100.0, FundingInfo(BTC, 1e-320, 8.0))
    assert 0 < figures.payment < 1e-300
    assert figures.payments_to_liquidation is None
    assert figures.hours_to_liquidation is None
    assert figures.liquidation_after[1] == pytest.approx(90 / 0.995, rel=1e-12)  # the wallet barely moves


def test_isolated_short_positive_rate_receives_so_no_time_to_liquidation() -> None:
    # short 1 @ 100, wallet 10, rate +0.001: receives 0.1 per payment; wallet grows → LP moves up (away)
    # closed form (short): LP(W) = (W + Q·EP) / (Q·MMR + Q) = (W + 100) / 1.005
    pos = position(BTC, "short", contracts=1, entry=100, wallet=10.0, brackets=single(0.005))
    figures, _ = _one(pos, 100.0, FundingInfo(BTC, 0.001, 8.0))
    assert figures.payment == pytest.approx(-0.1)
    assert figures.liquidation_after[1] == pytest.approx(110.1 / 1.005, rel=1e-12)
    assert figures.liquidation_after[9] == pytest.approx(110.9 / 1.005, rel=1e-12)
    assert figures.hours_to_liquidation is None
    assert figures.payments_to_liquidation is None


def test_isolated_short_negative_rate_pays_and_liquidates_in_time() -> None:
    # short 2 @ 100, mark 110 (loss 20), wallet 30, MMR 1 %, rate −0.0005, 4 h interval
    # payment = −1 × 2 × 110 × −0.0005 = +0.11; W* = MM − uPnL = 220 × 0.01 − (−20) = 22.2; drain 7.8
    # per hour 0.11 / 4 = 0.0275 → 7.8 / 0.0275 = 283.6363… h; ceil(7.8 / 0.11) = 71 payments
    pos = position(BTC, "short", contracts=2, entry=100, wallet=30.0, brackets=single(0.01))
    figures, _ = _one(pos, 110.0, FundingInfo(BTC, -0.0005, 4.0))
    assert figures.payment == pytest.approx(0.11, rel=1e-12)
    assert figures.per_day == pytest.approx(0.66, rel=1e-12)
    assert figures.hours_to_liquidation == pytest.approx(7.8 / 0.0275, rel=1e-9)
    assert figures.payments_to_liquidation == 71
    # LP after 3 payments: (W + Q·EP) / (Q·MMR + Q) = (29.67 + 200) / 2.02
    assert figures.liquidation_after[3] == pytest.approx(229.67 / 2.02, rel=1e-12)


def test_wallet_at_liquidation_puts_the_liquidation_price_on_the_mark() -> None:
    for pos, mark in [
        (position(BTC, "long", contracts=0.5, entry=60_000, wallet=3000), 58_000.0),
        (position(BTC, "short", contracts=3, entry=2000, wallet=500, brackets=single(0.01, 5.0)), 2100.0),
        (position(BTC_INV, "long", contracts=20, contract_size=100, entry=58_000, wallet=0.01), 57_000.0),
        (position(BTC_INV, "short", contracts=7, contract_size=100, entry=30_000, wallet=0.02), 31_000.0),
    ]:
        w_star = wallet_at_liquidation(pos, mark)
        assert liquidation_price(pos, w_star, mark).price == pytest.approx(mark, rel=1e-9)


def test_inverse_isolated_time_to_liquidation() -> None:
    # long N = 2000 USD @ 50000, mark 50000, wallet 0.01 BTC, MMR 0.5 %, rate 0.0001 per 8 h
    # payment = 2000/50000 × 0.0001 = 4e-6 BTC; W* = MM − uPnL = 0.04 × 0.005 − 0 = 0.0002 BTC
    # drain 0.0098 BTC at 4e-6 / 8 = 5e-7 BTC/h → 19600 h; ceil(0.0098 / 4e-6) = 2450 payments
    pos = position(BTC_INV, "long", contracts=20, contract_size=100, entry=50_000, wallet=0.01,
                   brackets=single(0.005))
    figures, _ = _one(pos, 50_000.0, FundingInfo(BTC_INV, 0.0001, 8.0), settle="BTC")
    assert figures.hours_to_liquidation == pytest.approx(19_600.0, rel=1e-9)
    assert figures.payments_to_liquidation == 2450
    # LP after 1 payment, COIN-M closed form: (N·MMR + N) / (W + N/EP) = (10 + 2000) / (0.009996 + 0.04)
    assert figures.liquidation_after[1] == pytest.approx(2010 / (0.009996 + 0.04), rel=1e-12)


def test_rate_zero_is_known_but_never_liquidates() -> None:
    pos = position(BTC, "long", contracts=1, entry=100, wallet=10.0)
    figures, _ = _one(pos, 100.0, FundingInfo(BTC, 0.0, 8.0))
    assert figures.rate == 0.0 and figures.payment == 0.0 and figures.per_day == 0.0
    assert figures.hours_to_liquidation is None


# --- unknown is unknown --------------------------------------------------------------------------------------


@pytest.mark.parametrize("info", [None, FundingInfo(BTC, None), FundingInfo(BTC, math.nan)])
def test_missing_rate_is_none_never_zero(info: FundingInfo | None) -> None:
    pos = position(BTC, "long", contracts=1, entry=100, wallet=10.0)
    figures, _ = _one(pos, 100.0, info)
    for name in ("rate", "payment", "payment_quote", "per_day", "per_day_quote", "hours_to_liquidation",
                 "payments_to_liquidation"):
        assert getattr(figures, name) is None, name
    assert all(v is None for v in figures.liquidation_after.values())


def test_missing_mark_gives_unknown_payment_but_keeps_the_rate() -> None:
    pos = position(BTC, "long", contracts=1, entry=100, wallet=10.0)
    book = futures_book(pos)
    risk = evaluate_book(book, {})
    figures = funding_figures(risk, {BTC: FundingInfo(BTC, 0.0001)}, 0.0, book)[risk.futures[0].key]
    assert figures.rate == 0.0001
    assert figures.payment is None and figures.per_day is None and figures.hours_to_liquidation is None


# --- cross: the account-level drain ---------------------------------------------------------------------------


def test_cross_account_drain_example_portfolio() -> None:
    portfolio = load_portfolio(resource_path("examples", "portfolio.toml"))
    risk = evaluate_book(portfolio, portfolio.prices)
    infos = {
        BTC: FundingInfo(BTC, 0.0001, 8.0),
        ETH: FundingInfo(ETH, -0.0002, 8.0),
        BTC_INV: FundingInfo(BTC_INV, 0.0003, 8.0),
    }
    figures = funding_figures(risk, infos, 0.0, portfolio)
    by_symbol = {f.symbol: f for f in figures.values()}
    eth = by_symbol[ETH]
    # short 10 ETH at mark 3000, rate −0.0002: pays 30000 × 0.0002 = 6 USDT per 8 h, 18 per day
    assert eth.payment == pytest.approx(6.0) and eth.per_day == pytest.approx(18.0)
    # the cross wallet holds only this cross position: drain 18/day; cushion = balance 10000 − MM 100 = 9900
    # at 6/8 = 0.75 USDT/h → 13200 h
    assert eth.account_per_day == pytest.approx(18.0)
    assert eth.hours_to_liquidation == pytest.approx(13_200.0)
    assert eth.liquidation_after == {}
    # the isolated BTC long pays from its own wallet: 0.5 × 60010 × 0.0001 = 3.0005 per 8 h
    btc = by_symbol[BTC]
    assert btc.payment == pytest.approx(3.0005) and btc.per_day_quote == pytest.approx(9.0015)
    # W* = MM − uPnL = 30005 × 0.004 − 5 = 115.02; drain 3000 − 115.02 = 2884.98 at 3.0005/8 per hour
    assert btc.hours_to_liquidation == pytest.approx(2884.98 / (3.0005 / 8), rel=1e-9)
    assert btc.payments_to_liquidation == 962  # 2884.98 / 3.0005 = 961.5…
    # COIN-M long 2000 USD at 60020, rate 0.0003: 2000/60020 × 0.0003 BTC = 0.6 USD per 8 h
    inv = by_symbol[BTC_INV]
    assert inv.payment_quote == pytest.approx(0.6) and inv.per_day_quote == pytest.approx(1.8)


def test_cross_drain_unknown_when_a_sibling_rate_is_missing() -> None:
    a = position(BTC, "long", contracts=1, entry=100, mode="cross")
    b = position(ETH, "short", contracts=1, entry=100, mode="cross")
    book = futures_book(a, b, wallet=50.0)
    risk = evaluate_book(book, {BTC: 100.0, ETH: 100.0})
    figures = funding_figures(risk, {BTC: FundingInfo(BTC, 0.001)}, 0.0, book)
    for f in figures.values():
        assert f.account_per_day is None and f.hours_to_liquidation is None
    # both known: long pays 0.1, short pays −1 × 100 × −0.002 = 0.2 per 8 h → 0.9 a day for the account
    figures = funding_figures(risk, {BTC: FundingInfo(BTC, 0.001), ETH: FundingInfo(ETH, -0.002)}, 0.0, book)
    for f in figures.values():
        assert f.account_per_day == pytest.approx(0.9)
        # cushion = 50 − (0.5 + 0.5) = 49 at 0.3/8 = 0.0375 per hour → 1306.67 h
        assert f.hours_to_liquidation == pytest.approx(49 / 0.0375)


# --- times, staleness, the enriched records --------------------------------------------------------------------


def test_next_funding_time_rolls_forward_past_now() -> None:
    eight = 8 * 3600.0
    assert next_funding_time(1000 * eight, 8.0, 1000 * eight - 5) == 1000 * eight
    assert next_funding_time(1000 * eight, 8.0, 1000 * eight + 1) == 1001 * eight
    assert next_funding_time(1000 * eight, 8.0, 1002.5 * eight) == 1003 * eight
    assert next_funding_time(None, 8.0, 0.0) is None
    assert next_funding_time(0, 8.0, 5.0) is None  # Binance delivery contracts report 0


def test_stale_rate_is_marked() -> None:
    pos = position(BTC, "long", contracts=1, entry=100, wallet=10.0)
    book = futures_book(pos)
    risk = evaluate_book(book, {BTC: 100.0})
    info = FundingInfo(BTC, 0.0001, received_time=1000.0)
    assert not funding_figures(risk, {BTC: info}, 1100.0, book, max_age=180)[risk.futures[0].key].stale
    assert funding_figures(risk, {BTC: info}, 1200.0, book, max_age=180)[risk.futures[0].key].stale


def test_with_funding_keeps_every_figure_and_adds_funding() -> None:
    portfolio = load_portfolio(resource_path("examples", "portfolio.toml"))
    risk = evaluate_book(portfolio, portfolio.prices)
    infos = {BTC: FundingInfo(BTC, 0.0001, 8.0, next_time=28_800.0, source="binance")}
    snapshot = BookSnapshot(sequence=1, time=0.0, portfolio=portfolio, risk=risk)
    funded = with_funding(risk, funding_figures(snapshot, infos, 10.0))
    assert funded.margin == risk.margin
    for before, after in zip(risk.futures, funded.futures, strict=True):
        assert isinstance(after, FuturesRisk) and isinstance(after, FundedFuturesRisk)
        for name in FuturesRisk.__dataclass_fields__:
            assert getattr(after, name) == getattr(before, name), name
    btc = next(r for r in funded.futures if r.symbol == BTC)
    assert btc.funding_rate == 0.0001 and btc.next_funding_time == 28_800.0
    assert btc.funding_source == "binance"
    assert set(btc.liquidation_price_after_funding) == {1, 3, 9}
    eth = next(r for r in funded.futures if r.symbol == ETH)
    assert eth.funding_rate is None and eth.funding_per_day is None  # no rate: unknown
    assert eth.liquidation_price_after_funding is None  # cross: not an isolated projection


def test_funding_figures_needs_the_portfolio() -> None:
    pos = position(BTC, "long")
    risk = evaluate_book(futures_book(pos), {BTC: 100.0})
    with pytest.raises(ValueError, match="portfolio"):
        funding_figures(risk, {}, 0.0)


def test_alert_engine_reads_the_funding_fields() -> None:
    """Contract with `liqwatch.domain.alerts`: it reads `funding_rate` / `next_funding_time` off the risk rows."""
    from liqwatch.domain.alerts import AlertEngine
    from liqwatch.domain.thresholds import Thresholds
    from liqwatch.store.settings import AlertSettings

    portfolio = load_portfolio(resource_path("examples", "portfolio.toml"))
    risk = evaluate_book(portfolio, portfolio.prices)
    infos = {BTC: FundingInfo(BTC, 0.002, 8.0, next_time=28_800.0), ETH: FundingInfo(ETH, 0.0001, 8.0)}
    funded = with_funding(risk, funding_figures(risk, infos, 10.0, portfolio))
    snapshot = BookSnapshot(sequence=1, time=10.0, portfolio=portfolio, risk=funded)
    alerts = AlertEngine(AlertSettings(funding_rate_threshold=0.001), Thresholds()).process(snapshot, 10.0)
    funding_alerts = [a for a in alerts if a.kind == "funding"]
    assert [a.symbol for a in funding_alerts] == [BTC]  # 0.2 % ≥ 0.1 %; ETH's 0.01 % and COIN-M's unknown: none
    assert funding_alerts[0].figure == 0.002


def test_with_funding_puts_each_figure_in_its_own_field() -> None:
    """`with_funding` passes values by position: give every figure a different value, so a swap would show."""
    portfolio = load_portfolio(resource_path("examples", "portfolio.toml"))
    risk = evaluate_book(portfolio, portfolio.prices)
    row = next(r for r in risk.futures if r.margin_mode == "isolated")
    figures = FundingFigures(
        key=row.key, symbol=row.symbol, settle=row.settle, margin_mode="isolated", rate=0.0001, interval_hours=4.0,
        next_time=1234.0, source="feed-x", payment=2.5, payment_quote=2.6, per_day=15.0, per_day_quote=15.6,
        liquidation_after={1: 100.0, 3: 110.0, 9: 130.0}, hours_to_liquidation=77.0, payments_to_liquidation=19,
        account_per_day=-3.0, stale=True, interval_assumed=True,
    )
    funded = next(r for r in with_funding(risk, {row.key: figures}).futures if r.key == row.key)
    assert isinstance(funded, FundedFuturesRisk)
    assert (funded.funding_rate, funded.funding_interval_hours, funded.next_funding_time) == (0.0001, 4.0, 1234.0)
    assert (funded.next_funding_payment, funded.next_funding_payment_quote) == (2.5, 2.6)
    assert (funded.funding_per_day, funded.funding_per_day_quote) == (15.0, 15.6)
    assert funded.liquidation_price_after_funding == {1: 100.0, 3: 110.0, 9: 130.0}
    assert funded.liquidation_price_after_funding is not figures.liquidation_after  # a copy, not shared
    assert (funded.hours_to_liquidation_by_funding, funded.payments_to_liquidation_by_funding) == (77.0, 19)
    assert funded.account_funding_per_day == -3.0 and funded.funding_source == "feed-x"
    assert funded.funding_stale is True and funded.funding_interval_assumed is True
    for name in FuturesRisk.__dataclass_fields__:
        assert getattr(funded, name) == getattr(row, name), name
    bare = next(r for r in with_funding(risk, {}).futures if r.key == row.key)  # no figures: every funding None
    assert bare.funding_rate is None and bare.funding_source == "" and bare.liquidation_price_after_funding is None
