"""Futures liquidation maths, one position at a time (the readable reference path).

Binance one-way mode, from the FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts" (freqtrade's
`dry_run_liquidation_price` reproduces its worked example) and the COIN-M FAQ:

    USDⓈ-M (linear):  LP = (WB + UPNL1 − TMM1 + cum − side·Q·EP) / (Q·MMR − side·Q)
    COIN-M (inverse): LP = (N·MMR + side·N) / (WB + UPNL1 − TMM1 + cum + side·N/EP)

WB is the isolated wallet (isolated) or the cross wallet balance (cross); UPNL1 and TMM1 are the unrealized PnL
and maintenance margin of the *other* cross positions of the account (0 when isolated). Q is the size in base
units, N the USD notional of inverse contracts. The bracket (MMR, cum) must be the one that holds at the
liquidation price itself, so every bracket is tried and the consistent one is kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from liqwatch.domain.model import Bracket, FuturesAccount, FuturesPosition, Portfolio
from liqwatch.domain.prices import mark_price
from liqwatch.domain.probability import touch_probability
from liqwatch.domain.risk import FuturesRisk
from liqwatch.domain.status import Status
from liqwatch.domain.thresholds import Thresholds, futures_limits


def bracket_for(brackets: Sequence[Bracket], amount: float) -> int:
    """Index of the bracket holding `amount` (quote notional for linear, coin quantity for inverse)."""
    index = 0
    for i, bracket in enumerate(brackets):
        if amount >= bracket.floor:
            index = i
    return index


def unrealized_pnl(position: FuturesPosition, mark: float) -> float:
    """In the settle asset: side·Q·(MP − EP) for linear, side·N·(1/EP − 1/MP) coin for inverse."""
    if position.inverse:
        pnl = position.sign * position.size * (1.0 / position.entry_price - 1.0 / mark)
    else:
        pnl = position.sign * position.size * (mark - position.entry_price)
    return pnl + 0.0  # never a negative zero


def maintenance_margin(position: FuturesPosition, mark: float) -> tuple[float, Bracket]:
    """Maintenance margin at the mark, in the settle asset, with the bracket that applies there."""
    amount = position.size / mark if position.inverse else position.size * mark
    bracket = position.brackets[bracket_for(position.brackets, amount)]
    return amount * bracket.maint_margin_rate - bracket.maint_amount, bracket


def _liquidation_price_with(position: FuturesPosition, wallet: float, bracket: Bracket) -> float | None:
    side, mmr, cum = position.sign, bracket.maint_margin_rate, bracket.maint_amount
    if position.inverse:
        n = position.size
        denominator = wallet + cum + side * n / position.entry_price
        numerator = n * mmr + side * n
    else:
        q = position.size
        numerator = wallet + cum - side * q * position.entry_price
        denominator = q * mmr - side * q
    if denominator == 0:
        return None
    price = numerator / denominator
    return price if price > 0 and math.isfinite(price) else None


@dataclass(frozen=True, slots=True)
class Liquidation:
    price: float | None
    bracket: Bracket | None


def liquidation_price(position: FuturesPosition, wallet: float, mark: float | None = None) -> Liquidation:
    """Liquidation price for an effective wallet (WB + UPNL1 − TMM1), bracket chosen at the liquidation price.

    Returns a price of None when there is none (an over-collateralised position cannot be liquidated by price).
    """
    brackets = position.brackets
    # `_liquidation_price_with` for each bracket, inlined with the position's properties read once (the same
    # operations in the same order, so the same bits): funding projections call this thousands of times a poll
    side, size, inverse, entry = position.sign, position.size, position.inverse, position.entry_price
    last = len(brackets) - 1
    for i, bracket in enumerate(brackets):
        mmr, cum = bracket.maint_margin_rate, bracket.maint_amount
        if inverse:
            denominator = wallet + cum + side * size / entry
            numerator = size * mmr + side * size
        else:
            numerator = wallet + cum - side * size * entry
            denominator = size * mmr - side * size
        if denominator == 0:
            continue
        price = numerator / denominator
        if not (price > 0 and math.isfinite(price)):
            continue
        amount = size / price if inverse else size * price
        if bracket.floor <= amount < (brackets[i + 1].floor if i < last else math.inf):
            return Liquidation(price, bracket)
    # No bracket is self-consistent (a hand-made table whose cum chain is off): fall back to the bracket at
    # the mark, the figure an exchange UI shows before its own correction.
    reference = mark if mark is not None else position.entry_price
    amount = position.size / reference if position.inverse else position.size * reference
    bracket = brackets[bracket_for(brackets, amount)]
    price = _liquidation_price_with(position, wallet, bracket)
    return Liquidation(price, bracket if price is not None else None)


def crossed(position: FuturesPosition, mark: float, liquidation: float) -> bool:
    return mark <= liquidation if position.side == "long" else mark >= liquidation


def futures_status(distance: float | None, is_crossed: bool, thresholds: Thresholds,
                   position: FuturesPosition | None = None) -> Status:
    """Status from the distance; a position's own `warning_distance` / `danger_distance` override the global."""
    if is_crossed:
        return Status.LIQUIDATION
    if distance is None:
        return Status.OK
    warning, danger = futures_limits(thresholds, position.warning_distance if position else None,
                                     position.danger_distance if position else None)
    if distance <= danger:
        return Status.DANGER
    if distance <= warning:
        return Status.WARNING
    return Status.OK


def position_identity(account: FuturesAccount, index: int, thresholds: Thresholds) -> dict[str, Any]:
    """The fields of a `FuturesRisk` that describe the position rather than its prices (both engine paths)."""
    position = account.positions[index]
    warning, danger = futures_limits(thresholds, position.warning_distance, position.danger_distance)
    return {
        "key": account.position_key(index),
        "account": account.name,
        "exchange": account.exchange,
        "symbol": position.symbol,
        "side": position.side,
        "margin_mode": position.margin_mode,
        "inverse": position.inverse,
        "settle": position.settle,
        "contracts": position.contracts,
        "size": position.size,
        "entry_price": position.entry_price,
        "leverage": position.leverage,
        "warning_distance": warning,
        "danger_distance": danger,
    }


def unknown_position(identity: dict[str, Any], mark: float | None, missing: tuple[str, ...]) -> FuturesRisk:
    """A position whose figures cannot be known: a price it depends on is missing."""
    return FuturesRisk(
        status=Status.UNKNOWN, mark_price=mark, liquidation_price=None, distance=None, margin_ratio=None,
        maint_margin=None, maint_margin_rate=None, maint_amount=None, unrealized_pnl=None,
        unrealized_pnl_quote=None, margin_balance=None, notional_quote=None, effective_leverage=None,
        missing_prices=missing, **identity,
    )


def _quote_rate(position: FuturesPosition, portfolio: Portfolio, mark: float) -> float:
    """Settle-asset → quote: a coin settles at the mark (USD ≈ quote), a stablecoin at 1."""
    return mark if position.inverse else 1.0


def evaluate_futures_account(
    account: FuturesAccount,
    portfolio: Portfolio,
    prices: Mapping[str, float],
    thresholds: Thresholds,
    volatilities: Mapping[str, float] | None = None,
) -> list[FuturesRisk]:
    vols = volatilities or {}
    marks = [mark_price(prices, p) for p in account.positions]
    cross = [i for i, p in enumerate(account.positions) if p.margin_mode == "cross"]
    cross_blind = any(marks[i] is None for i in cross)
    upnl: dict[int, float] = {}
    mm: dict[int, tuple[float, Bracket]] = {}
    for i, position in enumerate(account.positions):
        mark = marks[i]
        if mark is not None:
            upnl[i] = unrealized_pnl(position, mark)
            mm[i] = maintenance_margin(position, mark)
    cross_upnl = sum(upnl[i] for i in cross if i in upnl)
    cross_mm = sum(mm[i][0] for i in cross if i in mm)
    cross_balance = account.wallet_balance + cross_upnl

    results: list[FuturesRisk] = []
    for i, position in enumerate(account.positions):
        mark = marks[i]
        is_cross = position.margin_mode == "cross"
        common = position_identity(account, i, thresholds)
        if mark is None or (is_cross and cross_blind):
            missing = tuple(
                account.positions[j].symbol
                for j in (cross if is_cross else [i])
                if marks[j] is None
            )
            results.append(unknown_position(common, mark, missing))
            continue

        own_mm, own_bracket = mm[i]
        own_upnl = upnl[i]
        if is_cross:
            wallet = account.wallet_balance + (cross_upnl - own_upnl) - (cross_mm - own_mm)
            balance = cross_balance
            ratio_mm = cross_mm
        else:
            isolated = position.isolated_wallet or 0.0
            wallet = isolated
            balance = isolated + own_upnl
            ratio_mm = own_mm
        liq = liquidation_price(position, wallet, mark)
        distance = abs(mark - liq.price) / mark if liq.price is not None else None
        is_crossed = liq.price is not None and crossed(position, mark, liq.price)
        status = futures_status(distance, is_crossed, thresholds, position)
        notional_settle = position.size / mark if position.inverse else position.size * mark
        rate = _quote_rate(position, portfolio, mark)
        vol = vols.get(position.base)
        vol_ok = vol is not None and vol > 0
        probability: float | None = None
        if is_crossed:
            probability = 1.0
        elif liq.price is None:
            probability = 0.0 if vol_ok else None
        elif vol_ok:
            probability = touch_probability(mark, liq.price, vol, thresholds.horizon_hours)
        results.append(
            FuturesRisk(
                status=status,
                mark_price=mark,
                liquidation_price=liq.price,
                distance=distance,
                margin_ratio=ratio_mm / balance if balance > 0 else None,
                maint_margin=own_mm,
                maint_margin_rate=(liq.bracket or own_bracket).maint_margin_rate,
                maint_amount=(liq.bracket or own_bracket).maint_amount,
                unrealized_pnl=own_upnl,
                unrealized_pnl_quote=own_upnl * rate,
                margin_balance=balance,
                notional_quote=notional_settle * rate,
                effective_leverage=notional_settle / balance if balance > 0 else None,
                volatility=vol if vol_ok else None,
                touch_probability=probability,
                **common,
            )
        )
    return results
