"""The feed interface: what the book needs priced, and what a feed returns.

One request describes the whole book's needs so a feed can batch: futures marks grouped by exchange and market
type (one `fetch_mark_prices` call per group), spot assets priced through their `ASSET/quote` pair (one
`fetch_tickers` call per exchange). Quote keys are what the engine looks up: the ccxt symbol for futures, the
asset for spot holdings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from liqwatch.domain.model import Portfolio
from liqwatch.domain.snapshot import FeedHealth, Quote

MarketType = Literal["linear", "inverse"]


@dataclass(frozen=True)
class PriceRequest:
    """What the book needs priced.

    `futures[exchange][market_type]` holds ccxt symbols; `spot[exchange]` holds assets (priced via
    `f"{asset}/{quote}"`). Items without an exchange are filed under the exchange the request was built for.
    """

    quote: str = "USDT"
    futures: Mapping[str, Mapping[MarketType, tuple[str, ...]]] = field(default_factory=dict)
    spot: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def spot_pair(self, asset: str) -> str:
        return f"{asset}/{self.quote}"

    @property
    def keys(self) -> frozenset[str]:
        """Every quote key the book asks for."""
        out: set[str] = set()
        for groups in self.futures.values():
            for symbols in groups.values():
                out.update(symbols)
        for assets in self.spot.values():
            out.update(assets)
        return frozenset(out)

    @property
    def is_empty(self) -> bool:
        return not self.keys


def price_request(portfolio: Portfolio, exchange_id: str = "binance") -> PriceRequest:
    """The request for a portfolio; items with no `exchange` are priced on `exchange_id`."""
    futures: dict[str, dict[MarketType, set[str]]] = {}
    spot: dict[str, set[str]] = {}
    for account in portfolio.futures_accounts:
        exchange = (account.exchange or exchange_id).lower()
        for position in account.positions:
            kind: MarketType = "inverse" if position.inverse else "linear"
            futures.setdefault(exchange, {}).setdefault(kind, set()).add(position.symbol)
    for margin in portfolio.margin_accounts:
        exchange = (margin.exchange or exchange_id).lower()
        for balance in margin.assets:
            if portfolio.is_pegged(balance.asset) or (balance.total == 0 and balance.liability == 0):
                continue
            spot.setdefault(exchange, set()).add(balance.asset)
    return PriceRequest(
        quote=portfolio.quote,
        futures={ex: {kind: tuple(sorted(s)) for kind, s in groups.items()} for ex, groups in futures.items()},
        spot={ex: tuple(sorted(assets)) for ex, assets in spot.items()},
    )


def all_on(request: PriceRequest, exchange_id: str) -> PriceRequest:
    """The same needs, all filed under one exchange (the simulation and replays price everything)."""
    futures: dict[str, dict[MarketType, set[str]]] = {exchange_id: {}}
    for groups in request.futures.values():
        for kind, symbols in groups.items():
            futures[exchange_id].setdefault(kind, set()).update(symbols)
    assets = {a for group in request.spot.values() for a in group}
    return PriceRequest(
        quote=request.quote,
        futures={exchange_id: {k: tuple(sorted(v)) for k, v in futures[exchange_id].items()}},
        spot={exchange_id: tuple(sorted(assets))},
    )


@dataclass(frozen=True)
class FeedResult:
    """One fetch: usable quotes only, the health of each source, and how long the feed asks callers to wait.

    `retry_after` (seconds, or None) is the soonest a new call can do useful work; `rate_limited` says the exchange
    pushed back (HTTP 429/418, -1003), so a poller should slow down.
    """

    quotes: dict[str, Quote]
    health: tuple[FeedHealth, ...] = ()
    retry_after: float | None = None
    rate_limited: bool = False


@runtime_checkable
class Feed(Protocol):
    """A price source. `fetch` never raises for faults of the source: they come back as health."""

    name: str

    def fetch(self, request: PriceRequest, now: float) -> FeedResult: ...

    def close(self) -> None: ...


def usable_price(value: object) -> float | None:
    """The price as a float if it is a finite number > 0 (numbers or numeric strings), else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        price = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return price if math.isfinite(price) and price > 0 else None
