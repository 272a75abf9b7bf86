"""The what-if view-model: shocked prices re-evaluated with the same engine the live figures come from.

A shock is a fractional move (−0.2 = prices 20 % lower) applied to every non-pegged asset, with optional per-asset
overrides. Shocked prices are the snapshot's own prices moved: an asset's spot price and every futures symbol on
that base move together. The figures come from `CompiledBook.evaluate`, never from a second formula, and the
liquidation list is found by searching the shock with that same engine (a grid, then bisection), so cross-margin
siblings and bracket changes are accounted for exactly as the live engine accounts for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from liqwatch.domain.engine import merged_prices
from liqwatch.domain.model import Portfolio
from liqwatch.domain.risk import BookRisk
from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.domain.status import CODE_BY_STATUS, Status
from liqwatch.domain.thresholds import Thresholds
from liqwatch.domain.vectorised import BookArrays, CompiledBook

_LIQ = CODE_BY_STATUS[Status.LIQUIDATION]


def base_of(key: str) -> str:
    """The asset a price key moves with: "BTC/USDT:USDT" -> "BTC", "ETH" -> "ETH"."""
    return key.split("/", 1)[0]


def snapshot_prices(snapshot: BookSnapshot) -> dict[str, float]:
    """The prices the snapshot was evaluated at: the file's fixed prices overlaid by the feed's quotes."""
    return merged_prices(snapshot.portfolio, {k: q.price for k, q in snapshot.quotes.items()})


def shocked_prices(
    portfolio: Portfolio, prices: Mapping[str, float], shock: float, overrides: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Every price of a non-pegged asset times (1 + its shock); pegged assets and quote stay put."""
    overrides = overrides or {}
    out: dict[str, float] = {}
    for key, price in prices.items():
        asset = base_of(key)
        if portfolio.is_pegged(asset):
            out[key] = price
            continue
        out[key] = price * (1.0 + overrides.get(asset, shock))
    return out


@dataclass(frozen=True, slots=True)
class Liquidation:
    """One row of the liquidation list: the uniform shock (fraction) at which the row liquidates."""

    key: str
    name: str
    shock: float


class WhatIf:
    """Holds the shock settings and evaluates a snapshot under them (GUI-thread, plain Python: no Qt)."""

    def __init__(self, search_low: float = -0.95, search_high: float = 1.0, grid_step: float = 0.01) -> None:
        self.shock = 0.0
        self.overrides: dict[str, float] = {}
        self.search_low, self.search_high, self.grid_step = search_low, search_high, grid_step
        self._compiled: CompiledBook | None = None

    @property
    def active(self) -> bool:
        return self.shock != 0.0 or any(v != 0.0 for v in self.overrides.values())

    def compiled(self, portfolio: Portfolio) -> CompiledBook:
        if self._compiled is None or self._compiled.portfolio is not portfolio:
            self._compiled = CompiledBook(portfolio)
        return self._compiled

    def moving_assets(self, portfolio: Portfolio) -> list[str]:
        """Assets the slider moves (non-pegged), for the per-asset override list."""
        assets = {b.asset for a in portfolio.margin_accounts for b in a.assets}
        assets |= {p.base for a in portfolio.futures_accounts for p in a.positions}
        return sorted(a for a in assets if not portfolio.is_pegged(a))

    def _evaluate(self, snapshot: BookSnapshot, shock: float, thresholds: Thresholds | None) -> BookArrays:
        prices = shocked_prices(snapshot.portfolio, snapshot_prices(snapshot), shock, self.overrides)
        return self.compiled(snapshot.portfolio).evaluate(prices, thresholds, snapshot.volatilities or None)

    def prices(self, snapshot: BookSnapshot) -> dict[str, float]:
        """The shocked prices at the current settings."""
        return shocked_prices(snapshot.portfolio, snapshot_prices(snapshot), self.shock, self.overrides)

    def evaluate(self, snapshot: BookSnapshot, thresholds: Thresholds | None = None) -> BookRisk:
        """The book at the current shock and overrides."""
        return self._evaluate(snapshot, self.shock, thresholds).to_risk()

    def liquidation_order(self, snapshot: BookSnapshot, thresholds: Thresholds | None = None) -> list[Liquidation]:
        """Rows that liquidate within the search range, nearest shock first (overrides held fixed)."""
        book = self.compiled(snapshot.portfolio)
        names = [a.name for a in snapshot.portfolio.margin_accounts] + [
            f"{acc.name} {acc.positions[i].symbol} {acc.positions[i].side}" for acc, i in book.f_origin
        ]
        keys = [a.key for a in snapshot.portfolio.margin_accounts] + [acc.position_key(i) for acc, i in book.f_origin]
        if not keys:
            return []

        def liquidated(shock: float) -> np.ndarray:
            arrays = self._evaluate(snapshot, shock, thresholds)
            return np.concatenate([arrays.m_status, arrays.f_status]) == _LIQ

        found: dict[int, float] = {}
        now = liquidated(0.0)
        for i in np.flatnonzero(now):
            found[int(i)] = 0.0
        for direction in (-1.0, 1.0):
            limit = self.search_low if direction < 0 else self.search_high
            steps = round(abs(limit) / self.grid_step)
            previous_shock, previous = 0.0, now
            for k in range(1, steps + 1):
                shock = direction * k * self.grid_step
                current = liquidated(shock)
                fresh = [int(i) for i in np.flatnonzero(current & ~previous) if int(i) not in found]
                if fresh:
                    self._bisect(fresh, previous_shock, shock, liquidated, found)
                previous_shock, previous = shock, current
                if len(found) == len(keys):
                    break
        order = sorted(found.items(), key=lambda item: (abs(item[1]), item[0]))
        return [Liquidation(keys[i], names[i], shock) for i, shock in order]

    @staticmethod
    def _bisect(rows: list[int], safe: float, hit: float, liquidated: object, found: dict[int, float],
                tolerance: float = 1e-4) -> None:
        """Refine each row's liquidation shock between a safe and a liquidated shock, sharing evaluations."""
        pending = {i: (safe, hit) for i in rows}
        while pending:
            groups: dict[tuple[float, float], list[int]] = {}
            for i, bounds in pending.items():
                groups.setdefault(bounds, []).append(i)
            pending = {}
            for (lo, hi), members in groups.items():
                if abs(hi - lo) <= tolerance:
                    for i in members:
                        found[i] = hi
                    continue
                mid = (lo + hi) / 2.0
                state = liquidated(mid)  # type: ignore[operator]
                for i in members:
                    pending[i] = (lo, mid) if state[i] else (mid, hi)
