"""Book snapshots for store tests, built from the example portfolio with the real engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from liqwatch.domain.engine import evaluate_book, merged_prices
from liqwatch.domain.model import Portfolio
from liqwatch.domain.snapshot import BookSnapshot, FeedHealth, Quote
from liqwatch.resources import resource_path
from liqwatch.store.portfolio import load_portfolio

T0 = 1_700_000_000.0


def example_portfolio() -> Portfolio:
    return load_portfolio(resource_path("examples", "portfolio.toml"))


def make_snapshot(
    portfolio: Portfolio | None = None,
    prices: Mapping[str, float] | None = None,
    *,
    time: float = T0,
    sequence: int = 1,
    stale: frozenset[str] = frozenset(),
) -> BookSnapshot:
    portfolio = portfolio or example_portfolio()
    merged = merged_prices(portfolio, prices)
    quotes = {k: Quote(k, v, "mark" if "/" in k else "last", "test", time - 1.0) for k, v in merged.items()}
    risk = evaluate_book(portfolio, merged, None, portfolio.volatility or None)
    return BookSnapshot(sequence=sequence, time=time, portfolio=portfolio, risk=risk, quotes=quotes,
                        stale_keys=stale, health=(FeedHealth("test", "ok", last_success=time),))


def at(snapshot: BookSnapshot, time: float, sequence: int | None = None) -> BookSnapshot:
    """The same book and figures stamped at another time (cheap: no re-evaluation)."""
    return dataclasses.replace(snapshot, time=time, sequence=sequence if sequence is not None else snapshot.sequence)
