"""What flows from a feed through the engine to every consumer: quotes, feed health and the book snapshot.

A `BookSnapshot` is immutable and self-contained: the window, the alert engine, the store and `liqwatch watch`
all read the same object, so they can never disagree about a figure or its freshness.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from liqwatch.domain.model import Portfolio
from liqwatch.domain.risk import BookRisk, Risk

if TYPE_CHECKING:
    from liqwatch.domain.reconcile import Reconciled
    from liqwatch.domain.vectorised import BookArrays

PriceKind = Literal["mark", "last", "index", "fixed"]
HealthState = Literal["ok", "retrying", "stale", "down"]


@dataclass(frozen=True, slots=True)
class Quote:
    """One price: `key` is an asset ("BTC") or a ccxt symbol ("BTC/USDT:USDT"); times are epoch seconds."""

    key: str
    price: float
    kind: PriceKind
    source: str
    received_time: float
    exchange_time: float | None = None

    def age(self, now: float) -> float:
        """Seconds since the exchange stamped the price (or since it arrived, when it carries no stamp)."""
        stamp = self.exchange_time if self.exchange_time is not None else self.received_time
        return max(0.0, now - stamp)


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """How one source (an exchange and market type, the simulation, a replay) is doing."""

    source: str
    state: HealthState
    message: str = ""
    last_success: float | None = None
    failures: int = 0


@dataclass(frozen=True)
class BookSnapshot:
    """The book evaluated at one poll."""

    sequence: int
    time: float
    portfolio: Portfolio
    risk: BookRisk
    quotes: Mapping[str, Quote] = field(default_factory=dict)
    stale_keys: frozenset[str] = frozenset()
    health: tuple[FeedHealth, ...] = ()
    volatilities: Mapping[str, float] = field(default_factory=dict)
    arrays: BookArrays | None = None
    # imported items: exchange figures of record against the engine's (`liqwatch.domain.reconcile`), by risk key
    reconciled: Mapping[str, tuple[Reconciled, ...]] = field(default_factory=dict)

    def is_stale(self, risk: Risk) -> bool:
        return risk.key in self.stale_keys

    @property
    def feed_stale(self) -> bool:
        """True when any source is stale or down: the monitor is (partly) blind."""
        return any(h.state in ("stale", "down") for h in self.health)
