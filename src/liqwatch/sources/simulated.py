"""The built-in simulation: the default feed when nothing is configured, so a newcomer sees the monitor work.

Prices follow geometric Brownian motion with occasional jumps, on a one-second grid that starts at the first fetch:
the path depends only on the seed and the elapsed time, never on how often or how irregularly it is polled. On
top of the noise runs a slow, deterministic swing of the whole market (down for the first minute, back up, above
the start, back again; a 4-minute cycle) so the bundled demo portfolio drifts into warning and danger within the
first minute and recovers later: the demo shows alerts firing and re-arming. Volatility is deliberately far above
a real market's (about 5× a year's worth of BTC moves a day); this is a demonstration, not a market model.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from liqwatch.domain.model import Portfolio
from liqwatch.domain.snapshot import FeedHealth, Quote
from liqwatch.sources.base import FeedResult, PriceRequest, usable_price

# Realistic starting prices for assets the portfolio does not price itself.
DEFAULT_START_PRICES: dict[str, float] = {
    "BTC": 60000.0, "ETH": 3000.0, "SOL": 150.0, "BNB": 550.0, "XRP": 0.55, "DOGE": 0.12, "ADA": 0.40,
    "AVAX": 30.0, "LINK": 14.0, "DOT": 6.0, "LTC": 70.0, "TRX": 0.12, "TON": 6.0, "MATIC": 0.60,
}
# How strongly each asset follows the market factor (alts swing harder than BTC).
BETA: dict[str, float] = {"BTC": 1.0, "ETH": 1.25}
DEFAULT_BETA = 1.4


@dataclass(frozen=True)
class SimulationParams:
    step: float = 1.0  # seconds per grid step
    swing: float = 0.09  # amplitude of the market's deterministic swing (log move)
    cycle: float = 240.0  # seconds per full swing cycle
    market_sigma: float = 0.001  # market noise per √second
    idio_sigma: float = 0.0004  # asset-specific noise per √second
    jump_rate: float = 1.0 / 90.0  # jumps per second
    jump_sigma: float = 0.005  # jump size (log), symmetric
    max_catch_up: int = 86_400  # steps simulated in one call at most; beyond that the clock restarts


class SimulatedFeed:
    """Seeded, deterministic simulated prices for every futures symbol (mark) and spot asset (last)."""

    name = "demo"

    def __init__(self, portfolio: Portfolio, seed: int = 7, params: SimulationParams | None = None) -> None:
        self.seed = int(seed)
        self.params = params or SimulationParams()
        self._starts: dict[str, float] = {}
        self.set_portfolio(portfolio)
        self._t0: float | None = None
        self._k = 0
        self._market = 0.0  # cumulative market noise + jumps (log)
        self._idio: dict[str, float] = {}
        self._market_rng = np.random.default_rng([self.seed, 0])
        self._asset_rngs: dict[str, np.random.Generator] = {}

    def set_portfolio(self, portfolio: Portfolio) -> None:
        """Starting prices: the portfolio's `[prices]`, else an entry price, else a realistic default."""
        starts: dict[str, float] = {}
        for key, value in portfolio.prices.items():
            price = usable_price(value)
            if price is not None:
                starts[key] = price
        for account in portfolio.futures_accounts:
            for position in account.positions:
                starts.setdefault(position.base, starts.get(position.symbol) or DEFAULT_START_PRICES.get(
                    position.base, position.entry_price))
                starts.setdefault(position.symbol, starts[position.base])
        for margin in portfolio.margin_accounts:
            for balance in margin.assets:
                if not portfolio.is_pegged(balance.asset) and balance.asset in DEFAULT_START_PRICES:
                    starts.setdefault(balance.asset, DEFAULT_START_PRICES[balance.asset])
        self._starts.update(starts)

    # --- the path -----------------------------------------------------------------------------------------
    def _rng(self, asset: str) -> np.random.Generator:
        rng = self._asset_rngs.get(asset)
        if rng is None:
            rng = np.random.default_rng([self.seed, zlib.crc32(asset.encode()) + 1])
            self._asset_rngs[asset] = rng
        return rng

    def _advance(self, steps: int, assets: list[str]) -> None:
        p = self.params
        dt = p.step
        for _ in range(steps):
            self._k += 1
            z, u, j = self._market_rng.standard_normal(), self._market_rng.random(), self._market_rng.standard_normal()
            self._market += p.market_sigma * math.sqrt(dt) * z - 0.5 * p.market_sigma**2 * dt
            if u < p.jump_rate * dt:
                self._market += p.jump_sigma * j
            for asset in assets:
                self._idio[asset] = self._idio.get(asset, 0.0) + p.idio_sigma * math.sqrt(dt) * float(
                    self._rng(asset).standard_normal())

    def _log_move(self, asset: str) -> float:
        p = self.params
        t = self._k * p.step
        swing = -p.swing * math.sin(2.0 * math.pi * t / p.cycle)
        return BETA.get(asset, DEFAULT_BETA) * (swing + self._market) + self._idio.get(asset, 0.0)

    def price(self, key: str) -> float | None:
        """Current simulated price of a key (asset or ccxt symbol), None if it has no starting price."""
        base = key.split("/", 1)[0]
        start = self._starts.get(key) or self._starts.get(base) or DEFAULT_START_PRICES.get(base)
        if start is None:
            return None
        return start * math.exp(self._log_move(base))

    # --- Feed ---------------------------------------------------------------------------------------------
    def fetch(self, request: PriceRequest, now: float) -> FeedResult:
        p = self.params
        if self._t0 is None or now < self._t0:
            self._t0, self._k = now, 0
        target = int((now - self._t0) // p.step)
        if target - self._k > p.max_catch_up:  # a very long gap (laptop slept): restart the grid here
            self._t0 = now - self._k * p.step
            target = self._k
        keys = sorted(request.keys)
        assets = sorted({k.split("/", 1)[0] for k in keys} | set(self._idio))
        self._advance(target - self._k, assets)
        stamp = self._t0 + self._k * p.step
        quotes: dict[str, Quote] = {}
        for key in keys:
            price = self.price(key)
            if price is None:
                continue
            kind = "mark" if "/" in key else "last"
            quotes[key] = Quote(key, price, kind, "demo", now, stamp)  # type: ignore[arg-type]
        health = FeedHealth("demo", "ok", f"simulated prices (seed {self.seed})", now, 0)
        return FeedResult(quotes, (health,))

    def close(self) -> None:
        """Nothing to release."""
