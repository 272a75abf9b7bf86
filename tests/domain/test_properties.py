"""Properties of the risk maths over random inputs (hypothesis), and scalar ↔ vectorised agreement."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from liqwatch.domain.engine import evaluate_book
from liqwatch.domain.futures import liquidation_price, maintenance_margin, unrealized_pnl
from liqwatch.domain.margin import solve_uniform_shock
from liqwatch.domain.model import AssetBalance, Bracket, FuturesAccount, MarginAccount, Portfolio
from liqwatch.domain.vectorised import CompiledBook
from liqwatch.store.brackets import default_brackets
from tests.domain.books import margin_book, position, single

prices = st.floats(min_value=0.01, max_value=1e6)
sizes = st.floats(min_value=1e-3, max_value=1e4)
rates = st.floats(min_value=0.001, max_value=0.1)


@st.composite
def hand_made_tables(draw: st.DrawFn) -> tuple[Bracket, ...]:
    """1–5 tiers with rising floors and any maintenance amounts: a cum chain that is off (as a hand-typed table may
    be) can make no tier, or several, self-consistent, which is where "the first consistent tier" matters."""
    floor, tiers = 0.0, []
    for _ in range(draw(st.integers(1, 5))):
        tiers.append(Bracket(floor, draw(rates), draw(st.floats(0, 5000))))
        floor += draw(st.floats(1, 100000))
    return tuple(tiers)


@given(entry=prices, qty=sizes, mmr=rates, lev_frac=st.floats(0.01, 0.99), short=st.booleans(),
       inverse=st.booleans())
def test_liquidation_price_lies_beyond_entry_on_the_losing_side(
    entry: float, qty: float, mmr: float, lev_frac: float, short: bool, inverse: bool
) -> None:
    """With leverage > 1 and below the bracket's maximum (1/MMR), a long liquidates below entry, a short above."""
    leverage = 1 + lev_frac * (1 / mmr - 1)
    if inverse:
        p = position("BTC/USD:BTC", "short" if short else "long", qty, entry, brackets=single(mmr))
        wallet = p.size / entry / leverage
    else:
        p = position("BTC/USDT:USDT", "short" if short else "long", qty, entry, brackets=single(mmr))
        wallet = p.size * entry / leverage
    liq = liquidation_price(p, wallet).price
    if liq is None:
        assert (not short and not inverse) or (short and inverse)
        return
    assert (liq > entry) if short else (liq < entry)


@given(entry=prices, qty=sizes, mmr=rates, wallet_frac=st.floats(0.02, 0.9), short=st.booleans(),
       inverse=st.booleans())
def test_at_the_liquidation_price_margin_balance_equals_maintenance_margin(
    entry: float, qty: float, mmr: float, wallet_frac: float, short: bool, inverse: bool
) -> None:
    symbol = "BTC/USD:BTC" if inverse else "BTC/USDT:USDT"
    p = position(symbol, "short" if short else "long", qty, entry, brackets=single(mmr, 0.0))
    wallet = wallet_frac * (p.size / entry if inverse else p.size * entry)
    liq = liquidation_price(p, wallet).price
    if liq is None:
        return
    balance = wallet + unrealized_pnl(p, liq)
    mm, _ = maintenance_margin(p, liq)
    assert balance == pytest.approx(mm, rel=1e-6, abs=1e-9 * max(1.0, abs(wallet)))


@given(btc=st.floats(0.01, 100), usdt=st.floats(0, 1e6), debt_frac=st.floats(0.05, 0.85), price=prices,
       ll=st.floats(1.0, 1.2))
def test_level_at_the_solved_shock_is_the_liquidation_level(
    btc: float, usdt: float, debt_frac: float, price: float, ll: float
) -> None:
    assets = btc * price + usdt
    debt = debt_frac * assets
    shock = solve_uniform_shock(usdt, debt, btc * price, 0.0, ll)
    if usdt >= ll * debt:  # the pegged assets alone cover the liquidation level: no fall liquidates
        assert shock is None
        return
    assume(usdt < ll * debt * (1 - 1e-9))
    assert shock is not None
    level = (usdt + btc * price * (1 + shock)) / debt
    assert level == pytest.approx(ll, rel=1e-9)


@given(btc=st.floats(0.01, 100), debt=st.floats(1, 1e6), price=prices, drop=st.floats(0.01, 0.99))
def test_margin_level_falls_as_the_held_asset_falls(btc: float, debt: float, price: float, drop: float) -> None:
    book = margin_book(AssetBalance("BTC", btc), AssetBalance("USDT", 0, borrowed=debt))
    (before,) = evaluate_book(book, {"BTC": price}).margin
    (after,) = evaluate_book(book, {"BTC": price * (1 - drop)}).margin
    assert after.margin_level < before.margin_level


# --- scalar ↔ vectorised --------------------------------------------------------------------------------------

SYMBOLS = [("BTC/USDT:USDT", False), ("ETH/USDT:USDT", False), ("SOL/USDT:USDT", False), ("BTC/USD:BTC", True)]


@st.composite
def books(draw: st.DrawFn) -> tuple[Portfolio, dict[str, float], dict[str, float]]:
    table = default_brackets()
    margin_accounts = []
    for i in range(draw(st.integers(0, 3))):
        assets = []
        for asset in draw(st.lists(st.sampled_from(["BTC", "ETH", "USDT", "SOL"]), min_size=1, max_size=3,
                                   unique=True)):
            assets.append(AssetBalance(
                asset,
                draw(st.floats(0, 50)) * (1 if asset != "USDT" else 5000),
                borrowed=draw(st.floats(0, 20)) * (1 if asset != "USDT" else 5000),
                interest=draw(st.floats(0, 1)),
                daily_rate=draw(st.one_of(st.none(), st.floats(0, 0.001))),
            ))
        warning = draw(st.one_of(st.none(), st.floats(1.31, 3.0)))  # an account's own warning level, sometimes
        margin_accounts.append(MarginAccount(f"m{i}", tuple(assets), warning_level=warning))
    futures_accounts = []
    for a, settle in enumerate(draw(st.lists(st.sampled_from(["USDT", "BTC"]), max_size=3))):
        positions = []
        for _ in range(draw(st.integers(1, 4))):
            symbol, inverse = draw(st.sampled_from([s for s in SYMBOLS if s[1] == (settle == "BTC")]))
            brackets = draw(st.one_of(
                st.just(table.lookup(symbol, inverse)),
                st.builds(lambda r, c: (Bracket(0, r, c),), rates, st.floats(0, 100)),
                hand_made_tables(),
            ))
            mode = draw(st.sampled_from(["cross", "isolated"]))
            entry = draw(st.floats(10, 100000))
            contracts = draw(st.floats(0.01, 50))
            size_scale = 100 if inverse else 1
            own = draw(st.one_of(st.none(), st.tuples(st.floats(0.01, 0.3), st.floats(0.0, 1.0))))
            positions.append(replace(position(
                symbol, draw(st.sampled_from(["long", "short"])), contracts, entry, mode,
                wallet=draw(st.floats(0, 1)) * (contracts * size_scale / entry if inverse else contracts * entry),
                brackets=brackets, contract_size=size_scale,
            ), warning_distance=own[0] if own else None, danger_distance=own[0] * own[1] if own else None))
        wallet = draw(st.floats(0, 5)) if settle == "BTC" else draw(st.floats(0, 200000))
        futures_accounts.append(FuturesAccount(f"f{a}", settle, wallet, tuple(positions)))
    keys = ["BTC", "ETH", "SOL", *[s for s, _ in SYMBOLS]]
    price_map = {}
    for key in keys:
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue  # missing
        if choice == 1:
            price_map[key] = draw(st.sampled_from([0.0, -1.0, math.nan, math.inf]))
        else:
            price_map[key] = draw(st.floats(5, 150000))
    vols = {k: draw(st.floats(0.1, 2.0)) for k in ("BTC", "ETH", "SOL") if draw(st.booleans())}
    portfolio = Portfolio(margin_accounts=tuple(margin_accounts), futures_accounts=tuple(futures_accounts))
    return portfolio, price_map, vols


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isinf(a) or math.isinf(b):
            return a == b
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return a == b


@settings(max_examples=300, deadline=None)
@given(books())
def test_vectorised_engine_agrees_with_the_scalar_reference(case: tuple) -> None:
    portfolio, price_map, vols = case
    scalar = evaluate_book(portfolio, price_map, volatilities=vols)
    vector = CompiledBook(portfolio).evaluate(price_map, volatilities=vols).to_risk()
    assert len(scalar) == len(vector)
    for s, v in zip(scalar, vector, strict=True):
        for name in s.__dataclass_fields__:
            assert _close(getattr(s, name), getattr(v, name)), (name, getattr(s, name), getattr(v, name), s)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_bracket_scan_picks_what_every_bracket_at_once_picks(data: st.DataObject) -> None:
    """`CompiledBook._liquidation_prices` scans tier by tier over the rows still open and skips rows that cannot
    have a positive price; the plain way computes every (tier, row) price and takes the first consistent one, else
    the tier at the mark. Both must give the same tier and the same bits, whatever the balances."""
    table = default_brackets()
    positions = []
    for _ in range(data.draw(st.integers(1, 12))):
        symbol, inverse = data.draw(st.sampled_from(SYMBOLS))
        brackets = data.draw(st.one_of(st.just(table.lookup(symbol, inverse)), hand_made_tables()))
        positions.append(position(symbol, data.draw(st.sampled_from(["long", "short"])),
                                  data.draw(st.floats(0.01, 50)), data.draw(st.floats(10, 100000)), "isolated",
                                  wallet=1.0, brackets=brackets, contract_size=100 if inverse else 1))
    book = CompiledBook(Portfolio(futures_accounts=(FuturesAccount("f", "USDT", 0.0, tuple(positions)),)))
    n, k = book.n_futures, book.floors.shape[0]
    magnitudes = st.floats(-1e7, 1e7)
    a0 = np.asarray(data.draw(st.lists(magnitudes, min_size=n, max_size=n)))
    b0 = np.asarray(data.draw(st.lists(st.one_of(magnitudes, st.floats(-2, 2)), min_size=n, max_size=n)))
    at_mark = np.asarray([data.draw(st.integers(0, max(0, len(p.brackets) - 1))) for p in positions])

    liq, chosen = book._liquidation_prices(a0, b0, at_mark)

    rows = np.arange(n)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        every = (a0 + book._num_const) / (b0 + book._den_const)
        consistent = (every > 0) & (every >= book._lp_lo) & (every < book._lp_hi)
    first = np.argmax(consistent, axis=0)
    expected_tier = np.where(consistent[first, rows], first, at_mark)
    assert every.shape == (k, n)
    assert chosen.tolist() == expected_tier.tolist()
    np.testing.assert_array_equal(liq, every[expected_tier, rows])
