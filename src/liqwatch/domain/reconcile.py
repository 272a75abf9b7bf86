"""Exchange figures of record against LiqWatch's own computation, for imported accounts and positions.

For an imported item the exchange's number is the one of record (it knows haircuts, hedge legs and fee buffers we
may not); the engine's number sits beside it. A disagreement beyond a tolerance is flagged with a short message
("exchange 64,846.99 vs computed 64,790.12") because it means either the exchange changed its rules or our inputs
are incomplete — both worth a look. Where the exchange reports nothing (0, "", None) for a liquidation price, the
computed figure is used and labelled computed, never passed off as the exchange's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from liqwatch.domain.model import FuturesPosition, MarginAccount, Portfolio
from liqwatch.domain.risk import BookRisk, FuturesRisk, MarginRisk

FigureSource = Literal["exchange", "computed", "none"]

# Relative tolerances: prices agree to 0.05 % (rounding; a real input difference shows above that); margin
# levels to 1 % (haircuts,
# price snapshots taken at slightly different moments).
PRICE_TOLERANCE = 0.0005
LEVEL_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class Reconciled:
    """One figure: the value to show, where it comes from, and whether the two sources disagree."""

    figure: str
    value: float | None
    source: FigureSource
    exchange: float | None
    computed: float | None
    disagrees: bool
    message: str


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "∞"
    if abs(value) >= 100:
        return f"{value:,.2f}"
    return f"{value:,.4g}" if abs(value) >= 1 else f"{value:.6g}"


def _usable(value: float | None) -> float | None:
    if value is None or math.isnan(value):
        return None
    return value


def reconcile(figure: str, exchange: float | None, computed: float | None,
              tolerance: float = PRICE_TOLERANCE, *, zero_is_missing: bool = True) -> Reconciled:
    """Compare one figure. `tolerance` is relative to the exchange's value; ∞ agrees only with ∞."""
    exchange = _usable(exchange)
    computed = _usable(computed)
    if exchange is not None and zero_is_missing and exchange == 0:
        exchange = None
    if exchange is None and computed is None:
        return Reconciled(figure, None, "none", None, None, False, f"{figure}: not reported, cannot compute")
    if exchange is None:
        return Reconciled(figure, computed, "computed", None, computed, False,
                          f"{figure}: exchange reports none; computed {_fmt(computed)}")  # type: ignore[arg-type]
    if computed is None:
        return Reconciled(figure, exchange, "exchange", exchange, None, False,
                          f"{figure}: exchange {_fmt(exchange)} (no computed figure)")
    if math.isinf(exchange) or math.isinf(computed):
        disagrees = exchange != computed
    else:
        disagrees = abs(exchange - computed) > tolerance * max(abs(exchange), 1e-12)
    message = f"exchange {_fmt(exchange)} vs computed {_fmt(computed)}"
    return Reconciled(figure, exchange, "exchange", exchange, computed, disagrees,
                      message if disagrees else f"{figure}: exchange and computed agree ({_fmt(exchange)})")


def reconcile_position(position: FuturesPosition, risk: FuturesRisk,
                       tolerance: float = PRICE_TOLERANCE) -> tuple[Reconciled, ...]:
    """Liquidation price and maintenance margin of an imported position; empty for a manual one."""
    figures = position.exchange_figures
    if figures is None:
        return ()
    out = [reconcile("liquidation price", figures.liquidation_price, risk.liquidation_price, tolerance)]
    if figures.maint_margin is not None:
        out.append(reconcile("maintenance margin", figures.maint_margin, risk.maint_margin, LEVEL_TOLERANCE))
    if figures.margin_level is not None and risk.margin_ratio:
        # exchange margin level (equity / requirement) vs the engine's requirement / equity, inverted
        out.append(reconcile("margin level", figures.margin_level, 1.0 / risk.margin_ratio, LEVEL_TOLERANCE))
    return tuple(out)


def reconcile_margin(account: MarginAccount, risk: MarginRisk,
                     tolerance: float = LEVEL_TOLERANCE) -> tuple[Reconciled, ...]:
    """Margin level (and, for isolated pairs, the liquidation price) of an imported margin account."""
    figures = account.exchange_figures
    if figures is None:
        return ()
    out = [reconcile("margin level", figures.margin_level, risk.margin_level, tolerance)]
    if account.mode == "isolated" and account.symbol:
        base = account.symbol.split("/", 1)[0]
        computed = risk.liquidation_prices.get(base)
        out.append(reconcile("liquidation price", figures.liquidation_price, computed, PRICE_TOLERANCE))
    return tuple(out)


def reconcile_book(portfolio: Portfolio, book: BookRisk) -> dict[str, tuple[Reconciled, ...]]:
    """Every imported item's comparison, by risk key (manual items have no exchange figures: absent)."""
    out: dict[str, tuple[Reconciled, ...]] = {}
    risks = {r.key: r for r in book}
    for account in portfolio.margin_accounts:
        risk = risks.get(account.key)
        if account.exchange_figures is not None and isinstance(risk, MarginRisk):
            out[account.key] = reconcile_margin(account, risk)
    for futures in portfolio.futures_accounts:
        for i, position in enumerate(futures.positions):
            key = futures.position_key(i)
            risk = risks.get(key)
            if position.exchange_figures is not None and isinstance(risk, FuturesRisk):
                out[key] = reconcile_position(position, risk)
    return out
