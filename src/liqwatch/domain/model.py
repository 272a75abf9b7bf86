"""The book as the trader describes it: margin accounts and futures positions.

These are immutable inputs to the engine. The portfolio file loader (`liqwatch.store.portfolio`) and the exchange
import build them; the engine never mutates them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal

Side = Literal["long", "short"]
MarginMode = Literal["cross", "isolated"]


@dataclass(frozen=True, slots=True)
class Bracket:
    """One maintenance-margin tier. `floor` is in quote notional (linear) or coin quantity (inverse)."""

    floor: float
    maint_margin_rate: float
    maint_amount: float


@dataclass(frozen=True, slots=True)
class AssetBalance:
    """One asset of a spot-margin account. `daily_rate` is the borrow interest per day (0.0002 = 0.02 %)."""

    asset: str
    total: float
    borrowed: float = 0.0
    interest: float = 0.0
    daily_rate: float | None = None

    @property
    def liability(self) -> float:
        return self.borrowed + self.interest


@dataclass(frozen=True, slots=True)
class ExchangeFigures:
    """Figures of record reported by an exchange for an imported account or position (None: not reported)."""

    margin_level: float | None = None
    liquidation_level: float | None = None
    liquidation_price: float | None = None
    maint_margin: float | None = None
    mark_price: float | None = None


@dataclass(frozen=True, slots=True)
class MarginAccount:
    name: str
    assets: tuple[AssetBalance, ...]
    mode: MarginMode = "cross"
    exchange: str | None = None
    symbol: str | None = None
    liquidation_level: float = 1.1
    margin_call_level: float = 1.3
    source: Literal["manual", "imported"] = "manual"
    exchange_figures: ExchangeFigures | None = None
    warning_level: float | None = None  # this account's own warning threshold; None: the global one

    @property
    def key(self) -> str:
        """Stable identity of the account across snapshots."""
        return f"margin:{self.name}"


@functools.lru_cache(maxsize=4096)
def _symbol_parts(symbol: str) -> tuple[str, str, bool]:
    """(base, settle, inverse) of a ccxt symbol, parsed once per symbol: the engine asks for them per position
    several times per poll."""
    base = symbol.split("/", 1)[0]
    settle = symbol.split(":", 1)[1] if ":" in symbol else symbol.split("/", 1)[1]
    return base, settle, settle == base


@dataclass(frozen=True, slots=True)
class FuturesPosition:
    """A one-way (or hedge-mode leg) perpetual position.

    `brackets` holds at least one tier; a position given `maint_margin_rate` + `maint_amount` carries them as a
    single bracket with floor 0.
    """

    symbol: str
    side: Side
    contracts: float
    entry_price: float
    margin_mode: MarginMode
    brackets: tuple[Bracket, ...]
    contract_size: float = 1.0
    isolated_wallet: float | None = None
    leverage: float | None = None
    exchange_figures: ExchangeFigures | None = None
    warning_distance: float | None = None  # this position's own thresholds (fractions); None: the global ones
    danger_distance: float | None = None

    @property
    def base(self) -> str:
        return _symbol_parts(self.symbol)[0]

    @property
    def settle(self) -> str:
        return _symbol_parts(self.symbol)[1]

    @property
    def inverse(self) -> bool:
        """Coin-margined (inverse) contracts settle in their base asset: BTC/USD:BTC."""
        return _symbol_parts(self.symbol)[2]

    @property
    def size(self) -> float:
        """Base units for linear contracts; USD notional for inverse ones."""
        return self.contracts * self.contract_size

    @property
    def sign(self) -> int:
        return 1 if self.side == "long" else -1


@dataclass(frozen=True, slots=True)
class FuturesAccount:
    name: str
    settle: str
    wallet_balance: float
    positions: tuple[FuturesPosition, ...]
    exchange: str | None = None
    source: Literal["manual", "imported"] = "manual"

    def position_key(self, index: int) -> str:
        position = self.positions[index]
        return f"futures:{self.name}:{position.symbol}:{position.side}:{index}"


@dataclass(frozen=True, slots=True)
class Portfolio:
    quote: str = "USDT"
    stablecoins: frozenset[str] = frozenset({"USDT", "USDC", "FDUSD"})
    prices: dict[str, float] = field(default_factory=dict)
    volatility: dict[str, float] = field(default_factory=dict)  # asset → annualised volatility (optional)
    margin_accounts: tuple[MarginAccount, ...] = ()
    futures_accounts: tuple[FuturesAccount, ...] = ()

    def is_pegged(self, asset: str) -> bool:
        """The quote asset and the declared stablecoins are valued at 1 quote and never shocked."""
        return asset == self.quote or asset in self.stablecoins

    @property
    def position_count(self) -> int:
        return len(self.margin_accounts) + sum(len(a.positions) for a in self.futures_accounts)
