"""Immutable results of a risk evaluation: one record per margin account and per futures position.

`None` means the figure does not exist or cannot be known (no borrowing, no liquidation price, a missing price);
`math.inf` is used for a margin level with nothing borrowed. No figure is ever NaN or a stand-in 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from liqwatch.domain.fast_init import fast_frozen_init
from liqwatch.domain.status import Status

PAUSE_EVERY = 64  # records built between two calls of a per-row loop's `pause` (about half a millisecond)


@fast_frozen_init  # built once per account per poll: see `fast_init`
@dataclass(frozen=True, slots=True)
class MarginRisk:
    key: str
    name: str
    exchange: str | None
    mode: str
    symbol: str | None
    liquidation_level: float
    margin_call_level: float
    status: Status
    asset_value: float | None
    liability_value: float | None
    margin_level: float | None
    shock_to_liquidation: float | None
    liquidation_prices: dict[str, float] = field(default_factory=dict)
    hours_to_liquidation: float | None = None
    hours_to_margin_call: float | None = None
    interest_per_day: float | None = None
    effective_leverage: float | None = None
    volatility: float | None = None
    touch_probability: float | None = None
    missing_prices: tuple[str, ...] = ()
    warning_level: float | None = None  # the warning level in force for this account (its own or the global)

    kind = "margin"

    @property
    def distance(self) -> float | None:
        """Distance to liquidation as the uniform move of every non-pegged asset (fraction, >= 0)."""
        return None if self.shock_to_liquidation is None else abs(self.shock_to_liquidation)

    @property
    def account(self) -> str:
        return self.name


@fast_frozen_init  # built once per position per poll: see `fast_init`
@dataclass(frozen=True, slots=True)
class FuturesRisk:
    key: str
    account: str
    exchange: str | None
    symbol: str
    side: str
    margin_mode: str
    inverse: bool
    settle: str
    contracts: float
    size: float
    entry_price: float
    leverage: float | None
    status: Status
    mark_price: float | None
    liquidation_price: float | None
    distance: float | None
    margin_ratio: float | None
    maint_margin: float | None
    maint_margin_rate: float | None
    maint_amount: float | None
    unrealized_pnl: float | None
    unrealized_pnl_quote: float | None
    margin_balance: float | None
    notional_quote: float | None
    effective_leverage: float | None
    volatility: float | None = None
    touch_probability: float | None = None
    missing_prices: tuple[str, ...] = ()
    warning_distance: float | None = None  # the thresholds in force for this position (its own or the global)
    danger_distance: float | None = None

    kind = "futures"

    @property
    def name(self) -> str:
        return f"{self.account} {self.symbol} {self.side}"


Risk = MarginRisk | FuturesRisk


@dataclass(frozen=True, slots=True)
class BookRisk:
    """The whole book evaluated at one set of prices."""

    margin: tuple[MarginRisk, ...] = ()
    futures: tuple[FuturesRisk, ...] = ()

    def __iter__(self) -> Iterator[Risk]:
        yield from self.margin
        yield from self.futures

    def __len__(self) -> int:
        return len(self.margin) + len(self.futures)

    @property
    def worst_status(self) -> Status:
        return Status.worst(r.status for r in self)

    def by_risk(self) -> list[Risk]:
        """Riskiest first: by status, then by the smallest distance to liquidation."""
        return sort_by_risk(self)


def sort_by_risk(rows: Iterable[Risk]) -> list[Risk]:
    def key(row: Risk) -> tuple[int, float]:
        distance = row.distance
        return (-row.status.rank, distance if distance is not None else float("inf"))

    return sorted(rows, key=key)
