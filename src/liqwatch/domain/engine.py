"""Whole-book evaluation: the scalar reference path and the entry point every screen uses.

`evaluate_book` is the readable per-account/per-position path. `liqwatch.domain.vectorised.CompiledBook` computes
the same figures with numpy over the whole book at once; tests check that both agree on random books.
"""

from __future__ import annotations

from collections.abc import Mapping

from liqwatch.domain.futures import evaluate_futures_account
from liqwatch.domain.margin import evaluate_margin_account
from liqwatch.domain.model import Portfolio
from liqwatch.domain.risk import BookRisk
from liqwatch.domain.thresholds import Thresholds


def evaluate_book(
    portfolio: Portfolio,
    prices: Mapping[str, float],
    thresholds: Thresholds | None = None,
    volatilities: Mapping[str, float] | None = None,
) -> BookRisk:
    """Evaluate every account and position at `prices` (asset or ccxt symbol → price in quote)."""
    limits = thresholds or Thresholds()
    margin = tuple(
        evaluate_margin_account(account, portfolio, prices, limits, volatilities)
        for account in portfolio.margin_accounts
    )
    futures = tuple(
        risk
        for account in portfolio.futures_accounts
        for risk in evaluate_futures_account(account, portfolio, prices, limits, volatilities)
    )
    return BookRisk(margin=margin, futures=futures)


def merged_prices(portfolio: Portfolio, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The file's fixed `[prices]` overlaid by fresher prices (command line, feed)."""
    merged = dict(portfolio.prices)
    if overrides:
        merged.update(overrides)
    return merged
