"""Borrow interest per asset and the leverage warning: the carrying-cost figures that are not funding.

Why: the engine gives each margin account its total interest per day and its time to the margin-call and
liquidation levels from interest alone; a trader also wants to see *which* loan costs what, at which hourly rate
(Binance: hourly rate = daily rate / 24, I = P × R/24 × hours), and to be warned when leverage drifts above a
limit they chose ("warn me above N×", `AlertSettings.leverage_warn_above`, off by default). Pure: prices in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TypeVar

from liqwatch.domain.model import Portfolio
from liqwatch.domain.prices import asset_price
from liqwatch.domain.risk import BookRisk, FuturesRisk, MarginRisk
from liqwatch.domain.status import Status

R = TypeVar("R", MarginRisk, FuturesRisk)


@dataclass(frozen=True, slots=True)
class BorrowCost:
    """Interest on one borrowed asset of a margin account. Rates are fractions; None means unknown."""

    account_key: str
    asset: str
    borrowed: float
    daily_rate: float | None
    rate_source: str  # "portfolio" (user-entered) or "exchange" (imported with a key)
    price: float | None  # of the asset in quote
    interest_per_hour: float | None  # in the asset
    interest_per_hour_quote: float | None
    interest_per_day_quote: float | None

    @property
    def hourly_rate(self) -> float | None:
        return None if self.daily_rate is None else self.daily_rate / 24.0


def borrow_costs(portfolio: Portfolio, prices: Mapping[str, float]) -> dict[str, tuple[BorrowCost, ...]]:
    """Per margin account key, one entry per asset with a borrowed principal > 0 (interest accrues on principal)."""
    out: dict[str, tuple[BorrowCost, ...]] = {}
    for account in portfolio.margin_accounts:
        rows = []
        for balance in account.assets:
            if not balance.borrowed > 0:
                continue
            price = asset_price(portfolio, prices, balance.asset)
            rate = balance.daily_rate
            per_hour = None if rate is None else balance.borrowed * rate / 24.0
            per_hour_quote = None if per_hour is None or price is None else per_hour * price
            rows.append(
                BorrowCost(
                    account_key=account.key,
                    asset=balance.asset,
                    borrowed=balance.borrowed,
                    daily_rate=rate,
                    rate_source="exchange" if account.source == "imported" else "portfolio",
                    price=price,
                    interest_per_hour=per_hour,
                    interest_per_hour_quote=per_hour_quote,
                    interest_per_day_quote=None if per_hour_quote is None else per_hour_quote * 24.0,
                )
            )
        out[account.key] = tuple(rows)
    return out


def leverage_warnings(book: BookRisk, limit: float | None) -> set[str]:
    """Keys of margin accounts and futures positions whose effective leverage is above `limit` (None: off).

    An unknown leverage (missing price, equity <= 0) is not flagged here: those rows are already unknown or
    in danger by their own figures."""
    if limit is None:
        return set()
    return {r.key for r in book if r.effective_leverage is not None and r.effective_leverage > limit}


def apply_leverage_warnings(book: BookRisk, limit: float | None) -> BookRisk:
    """The same book with every row above the leverage limit raised to at least `warning`."""
    keys = leverage_warnings(book, limit)
    if not keys:
        return book

    margin = tuple(_raised(r, keys) for r in book.margin)
    futures = tuple(_raised(r, keys) for r in book.futures)
    return BookRisk(margin=margin, futures=futures)


def _raised(row: R, keys: set[str]) -> R:
    if row.key not in keys or row.status.rank >= Status.WARNING.rank:
        return row
    values = {f.name: getattr(row, f.name) for f in fields(row)}
    values["status"] = Status.WARNING
    return type(row)(**values)
