"""Which figures rest on an old price: the "stale" rule, as a pure function of the book, the quotes and the time.

A figure is stale when a quote it depends on is older than the limit (default `Settings.stale_limit()`: three
poll intervals, at least 15 s). A margin account depends on the quote of every non-pegged asset it holds or owes;
an isolated futures position on its own mark; a cross position on the mark of every cross position of its
account, because they share one margin balance. Prices that did not come from a feed (the portfolio file's fixed
prices) have no age and are not judged here; missing prices make figures `unknown` in the engine instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from liqwatch.domain.model import FuturesPosition, Portfolio
from liqwatch.domain.snapshot import Quote


def _position_quote(quotes: Mapping[str, Quote], position: FuturesPosition) -> Quote | None:
    """The quote the engine prices a position with: its symbol's, else its base asset's."""
    return quotes.get(position.symbol) or quotes.get(position.base)


def stale_keys(portfolio: Portfolio, quotes: Mapping[str, Quote], now: float, limit: float) -> frozenset[str]:
    """Risk keys (`MarginAccount.key`, `FuturesAccount.position_key(i)`) whose figures use a quote older than
    `limit` seconds at `now`."""

    def old(quote: Quote | None) -> bool:
        return quote is not None and quote.age(now) > limit

    out: set[str] = set()
    for account in portfolio.margin_accounts:
        for balance in account.assets:
            if portfolio.is_pegged(balance.asset) or (balance.total == 0 and balance.liability == 0):
                continue
            if old(quotes.get(balance.asset)):
                out.add(account.key)
                break
    for futures in portfolio.futures_accounts:
        cross_old = any(
            old(_position_quote(quotes, p)) for p in futures.positions if p.margin_mode == "cross"
        )
        for index, position in enumerate(futures.positions):
            if (position.margin_mode == "cross" and cross_old) or old(_position_quote(quotes, position)):
                out.add(futures.position_key(index))
    return frozenset(out)
