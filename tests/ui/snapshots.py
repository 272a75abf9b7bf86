"""Build `BookSnapshot`s for UI tests from the example portfolio with the real engine (no feed needed)."""

from __future__ import annotations

from collections.abc import Mapping

from liqwatch.domain.engine import merged_prices
from liqwatch.domain.model import Portfolio
from liqwatch.domain.snapshot import BookSnapshot, FeedHealth, Quote
from liqwatch.domain.vectorised import CompiledBook
from liqwatch.resources import resource_path
from liqwatch.store.portfolio import load_portfolio

T0 = 1_700_000_000.0


def example_portfolio() -> Portfolio:
    return load_portfolio(resource_path("examples", "portfolio.toml"))


def make_snapshot(
    portfolio: Portfolio,
    prices: Mapping[str, float] | None = None,
    *,
    sequence: int = 1,
    time: float = T0,
    stale: frozenset[str] = frozenset(),
    drop: tuple[str, ...] = (),
    volatilities: Mapping[str, float] | None = None,
) -> BookSnapshot:
    """Quotes for every price key (minus `drop`), evaluated with `CompiledBook` exactly as the poller does."""
    merged = merged_prices(portfolio, prices)
    for key in drop:
        merged.pop(key, None)
    quotes = {k: Quote(k, v, "mark" if "/" in k else "last", "test", time - 1.0) for k, v in merged.items()}
    vols = dict(volatilities if volatilities is not None else portfolio.volatility)
    arrays = CompiledBook(portfolio).evaluate(merged, None, vols)
    return BookSnapshot(
        sequence=sequence, time=time, portfolio=portfolio, risk=arrays.to_risk(), quotes=quotes,
        stale_keys=stale, health=(FeedHealth("test", "ok", last_success=time),), volatilities=vols, arrays=arrays,
    )
