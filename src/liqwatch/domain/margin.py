"""Spot-margin account risk, one account at a time (the readable reference path).

Margin level = Σ asset value / Σ (borrowed + interest) value (Binance Cross Margin Classic). The uniform shock
``s`` moves every non-pegged asset price by the factor (1 + s); with pegged sums A_p, L_p and non-pegged sums
A_n, L_n the level equals the liquidation level LL where

    (1 + s) = (LL·L_p − A_p) / (A_n − LL·L_n)

Interest accrues hourly on the borrowed principal at daily_rate / 24 (Binance: I = P × R/24 × hours), so at
constant prices the liability grows by k = Σ borrowed·rate/24·price per hour and the level reaches LL after
(A/LL − L) / k hours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from liqwatch.domain.model import MarginAccount, Portfolio
from liqwatch.domain.prices import asset_price
from liqwatch.domain.probability import touch_probability
from liqwatch.domain.risk import MarginRisk
from liqwatch.domain.status import Status
from liqwatch.domain.thresholds import Thresholds


def account_identity(account: MarginAccount, thresholds: Thresholds) -> dict[str, Any]:
    """The fields of a `MarginRisk` that describe the account rather than its prices (both engine paths)."""
    return {
        "key": account.key,
        "name": account.name,
        "exchange": account.exchange,
        "mode": account.mode,
        "symbol": account.symbol,
        "liquidation_level": account.liquidation_level,
        "margin_call_level": account.margin_call_level,
        "warning_level": (account.warning_level if account.warning_level is not None
                          else thresholds.margin_warning_level),
    }


def unknown_account(identity: dict[str, Any], missing: tuple[str, ...]) -> MarginRisk:
    """An account whose figures cannot be known: a price of an asset it holds or owes is missing."""
    return MarginRisk(status=Status.UNKNOWN, asset_value=None, liability_value=None, margin_level=None,
                      shock_to_liquidation=None, missing_prices=missing, **identity)


def margin_status(level: float, account: MarginAccount, thresholds: Thresholds) -> Status:
    if level <= account.liquidation_level:
        return Status.LIQUIDATION
    if level <= account.margin_call_level:
        return Status.DANGER
    warning = account.warning_level if account.warning_level is not None else thresholds.margin_warning_level
    if level <= warning:
        return Status.WARNING
    return Status.OK


def solve_uniform_shock(
    assets_pegged: float, liab_pegged: float, assets_moving: float, liab_moving: float, level: float
) -> float | None:
    """The uniform move s of non-pegged prices at which the margin level equals `level`; None if none exists."""
    denominator = assets_moving - level * liab_moving
    if denominator == 0:
        return None
    factor = (level * liab_pegged - assets_pegged) / denominator
    if not factor > 0:
        return None
    return factor - 1.0


def hours_until_level(asset_value: float, liability_value: float, per_hour: float, level: float) -> float | None:
    """Hours of interest accrual at constant prices until the margin level falls to `level`."""
    if per_hour <= 0:
        return None
    return max(0.0, (asset_value / level - liability_value) / per_hour)


def evaluate_margin_account(
    account: MarginAccount,
    portfolio: Portfolio,
    prices: Mapping[str, float],
    thresholds: Thresholds,
    volatilities: Mapping[str, float] | None = None,
) -> MarginRisk:
    vols = volatilities or {}
    missing: list[str] = []
    a_peg = l_peg = a_mov = l_mov = 0.0
    per_hour = 0.0
    rates_known = True
    weighted_vol = 0.0
    vol_weight = 0.0
    vol_known = True
    valued: list[tuple[str, float, float, float]] = []  # asset, price, total, liability
    for balance in account.assets:
        price = asset_price(portfolio, prices, balance.asset)
        if price is None:
            if balance.total != 0 or balance.liability != 0:
                missing.append(balance.asset)
            continue
        value, liability = balance.total * price, balance.liability * price
        if portfolio.is_pegged(balance.asset):
            a_peg += value
            l_peg += liability
        else:
            a_mov += value
            l_mov += liability
            valued.append((balance.asset, price, balance.total, balance.liability))
            gross = value + liability
            if gross > 0:
                vol = vols.get(balance.asset)
                if vol is None or not vol > 0:
                    vol_known = False
                else:
                    weighted_vol += vol * gross
                    vol_weight += gross
        if balance.borrowed > 0:
            if balance.daily_rate is None:
                rates_known = False
            else:
                per_hour += balance.borrowed * balance.daily_rate / 24.0 * price

    common = account_identity(account, thresholds)
    if missing:
        return unknown_account(common, tuple(missing))

    assets, liabilities = a_peg + a_mov, l_peg + l_mov
    equity = assets - liabilities
    leverage = assets / equity if equity > 0 else None
    if liabilities == 0:
        return MarginRisk(
            status=Status.OK,
            asset_value=assets,
            liability_value=0.0,
            margin_level=math.inf,
            shock_to_liquidation=None,
            effective_leverage=leverage,
            touch_probability=0.0,
            interest_per_day=0.0,
            **common,
        )

    level = assets / liabilities
    status = margin_status(level, account, thresholds)
    shock = solve_uniform_shock(a_peg, l_peg, a_mov, l_mov, account.liquidation_level)

    liquidation_prices: dict[str, float] = {}
    for asset, price, total, liability in valued:
        # Only this asset moves: A_other + q·x = LL·(L_other + d·x).
        a_other = assets - total * price
        l_other = liabilities - liability * price
        denominator = total - account.liquidation_level * liability
        if denominator != 0:
            x = (account.liquidation_level * l_other - a_other) / denominator
            if x > 0:
                liquidation_prices[asset] = x

    volatility = weighted_vol / vol_weight if vol_known and vol_weight > 0 else None
    probability: float | None = None
    if status is Status.LIQUIDATION:
        probability = 1.0
    elif shock is None:
        probability = 0.0 if volatility is not None else None
    elif volatility is not None:
        # 1 + shock rounds to 0 when only a total collapse liquidates (a debt of 1e-20 against real assets): a
        # driftless log-price never reaches 0, so the chance is 0, as the array path's erfc(∞) gives
        level_ratio = 1.0 + shock
        probability = (touch_probability(1.0, level_ratio, volatility, thresholds.horizon_hours)
                       if level_ratio > 0 else 0.0)

    return MarginRisk(
        status=status,
        asset_value=assets,
        liability_value=liabilities,
        margin_level=level,
        shock_to_liquidation=shock,
        liquidation_prices=liquidation_prices,
        hours_to_liquidation=hours_until_level(assets, liabilities, per_hour, account.liquidation_level)
        if rates_known
        else None,
        hours_to_margin_call=hours_until_level(assets, liabilities, per_hour, account.margin_call_level)
        if rates_known
        else None,
        interest_per_day=per_hour * 24.0 if rates_known else None,
        effective_leverage=leverage,
        volatility=volatility,
        touch_probability=probability,
        **common,
    )
