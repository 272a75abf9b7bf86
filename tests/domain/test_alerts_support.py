"""Shared by the alert tests (no tests here): small books and recorded price paths that drive the real engine
(`evaluate_book`) into the alert engine.

Margin account "Main": 1 BTC against 40,000 USDT borrowed, so its margin level is price / 40,000:
warning at ≤ 1.5 (60,000), margin call at ≤ 1.3 (52,000), liquidation at ≤ 1.1 (44,000).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from liqwatch.domain.alerts import Alert, AlertEngine
from liqwatch.domain.engine import evaluate_book
from liqwatch.domain.model import (
    AssetBalance,
    Bracket,
    FuturesAccount,
    FuturesPosition,
    MarginAccount,
    Portfolio,
)
from liqwatch.domain.snapshot import BookSnapshot, FeedHealth
from liqwatch.domain.thresholds import Thresholds

DEBT = 40_000.0
MAIN_KEY = "margin:Main"


def margin_account(source: str = "manual", btc: float = 1.0, debt: float = DEBT) -> MarginAccount:
    return MarginAccount(
        name="Main",
        assets=(AssetBalance("BTC", btc), AssetBalance("USDT", 0.0, borrowed=debt)),
        source=source,  # type: ignore[arg-type]
    )


def btc_long(contracts: float = 0.5, symbol: str = "BTC/USDT:USDT", side: str = "long") -> FuturesPosition:
    return FuturesPosition(
        symbol=symbol,
        side=side,  # type: ignore[arg-type]
        contracts=contracts,
        entry_price=60_000.0,
        margin_mode="isolated",
        brackets=(Bracket(0.0, 0.004, 0.0),),
        isolated_wallet=3_000.0 * contracts / 0.5,
        leverage=10.0,
    )


def futures_account(positions: Iterable[FuturesPosition], source: str = "imported") -> FuturesAccount:
    return FuturesAccount(
        name="Perps", settle="USDT", wallet_balance=10_000.0, positions=tuple(positions),
        source=source,  # type: ignore[arg-type]
    )


def margin_book(source: str = "manual") -> Portfolio:
    return Portfolio(margin_accounts=(margin_account(source),))


def snapshot(
    portfolio: Portfolio,
    prices: Mapping[str, float],
    now: float,
    sequence: int = 0,
    thresholds: Thresholds | None = None,
    stale_keys: Iterable[str] = (),
    health: Iterable[FeedHealth] = (),
) -> BookSnapshot:
    risk = evaluate_book(portfolio, prices, thresholds or Thresholds())
    return BookSnapshot(
        sequence=sequence, time=now, portfolio=portfolio, risk=risk,
        stale_keys=frozenset(stale_keys), health=tuple(health),
    )


def run_margin_path(engine: AlertEngine, btc_prices: Iterable[float], start: float = 0.0,
                    interval: float = 2.0, portfolio: Portfolio | None = None) -> list[list[Alert]]:
    """Feed one snapshot per price, `interval` seconds apart; returns the alerts of each poll."""
    book = portfolio or margin_book()
    out = []
    for i, price in enumerate(btc_prices):
        now = start + i * interval
        out.append(engine.process(snapshot(book, {"BTC": price}, now, i), now))
    return out


def level_price(level: float) -> float:
    """The BTC price that gives "Main" this margin level."""
    return level * DEBT
