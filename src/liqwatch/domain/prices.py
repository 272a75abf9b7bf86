"""How the engine finds a price for an asset or a futures symbol, and which prices it refuses."""

from __future__ import annotations

import math
from collections.abc import Mapping

from liqwatch.domain.model import FuturesPosition, Portfolio


def usable(price: object) -> bool:
    """A price of 0, a negative, NaN, infinity or a non-number is never used."""
    return isinstance(price, int | float) and not isinstance(price, bool) and math.isfinite(price) and price > 0


def asset_price(portfolio: Portfolio, prices: Mapping[str, float], asset: str) -> float | None:
    """Price of an asset in the portfolio's quote: pegged assets are 1, others must be quoted and usable."""
    if portfolio.is_pegged(asset):
        return 1.0
    price = prices.get(asset)
    return float(price) if usable(price) else None  # type: ignore[arg-type]


def mark_price(prices: Mapping[str, float], position: FuturesPosition) -> float | None:
    """A futures position uses its symbol's price if given, else its base asset's."""
    for key in (position.symbol, position.base):
        price = prices.get(key)
        if price is not None:
            return float(price) if usable(price) else None
    return None
