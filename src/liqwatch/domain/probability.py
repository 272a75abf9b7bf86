"""Chance that a price touches a level within a horizon.

Model: the log-price is a driftless Brownian motion with annualised volatility sigma. By the reflection principle
the probability that it touches a barrier at log-distance d = |ln(L/S)| within T years is
``P = 2·Φ(−d / (σ√T)) = erfc(d / (σ√(2T)))``. Assumptions the user sees in the tooltip: no drift, constant
volatility, continuous trading without jumps (real crashes jump, so the figure understates tail risk), and a
year of 365 days because crypto trades every day.
"""

from __future__ import annotations

import math

HOURS_PER_YEAR = 24.0 * 365.0


def touch_probability(price: float, level: float, volatility: float, horizon_hours: float) -> float:
    """P(price touches level within horizon) under driftless GBM; 1.0 if already at or beyond the level."""
    if price <= 0 or level <= 0 or volatility <= 0 or horizon_hours <= 0:
        raise ValueError("price, level, volatility and horizon must be > 0")
    distance = abs(math.log(level / price))
    if distance == 0:
        return 1.0
    scale = volatility * math.sqrt(2.0 * horizon_hours / HOURS_PER_YEAR)
    return min(1.0, math.erfc(distance / scale))


def sigma_distance(price: float, level: float, volatility: float, horizon_hours: float) -> float:
    """Log-distance to the level in standard deviations of the horizon's move."""
    return abs(math.log(level / price)) / (volatility * math.sqrt(horizon_hours / HOURS_PER_YEAR))
