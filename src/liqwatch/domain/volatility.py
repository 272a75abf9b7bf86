"""Realised volatility from the prices a feed has delivered, for the 24 h touch probability.

EWMA of squared log returns, each scaled by its own time step so irregular polls (back-off, a sleeping laptop)
do not bias the estimate, with a time-based half-life rather than a per-observation decay for the same reason.
Annualised over a 365-day year because crypto trades every day (the same year `probability` uses).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SECONDS_PER_YEAR = 365.0 * 24.0 * 3600.0


def ewma_volatility(
    times: Sequence[float],
    prices: Sequence[float],
    half_life: float = 900.0,
    min_returns: int = 10,
) -> float | None:
    """Annualised volatility from (time, price) observations in time order, or None with too little data.

    Observations with a non-positive price or a non-increasing time are skipped. `half_life` is in seconds: a
    return that old weighs half as much as one just observed.
    """
    if half_life <= 0:
        raise ValueError(f"half_life must be > 0, got {half_life!r}")
    points = [(t, p) for t, p in zip(times, prices, strict=True) if math.isfinite(p) and p > 0]
    if len(points) < 2:
        return None
    end = points[-1][0]
    weight_sum = 0.0
    variance_sum = 0.0
    count = 0
    previous_time, previous_price = points[0]
    for t, p in points[1:]:
        dt = t - previous_time
        if dt <= 0:
            continue
        r = math.log(p / previous_price)
        w = 0.5 ** ((end - t) / half_life)
        variance_sum += w * r * r / dt
        weight_sum += w
        count += 1
        previous_time, previous_price = t, p
    if count < min_returns or weight_sum <= 0:
        return None
    return math.sqrt(variance_sum / weight_sum * SECONDS_PER_YEAR)
