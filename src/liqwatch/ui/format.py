"""Number formatting for the window: every figure formatted for its magnitude, and never a stand-in zero.

`DASH` marks a figure that should exist but cannot be known (a missing price); an empty string marks a figure that
does not apply to the row (an entry price for a margin account). Keeping the two apart is what lets the trader tell
"no data" from "not relevant".
"""

from __future__ import annotations

import math

DASH = "—"
MINUS = "−"


def _decimals(value: float, significant: int = 5, minimum: int = 2, maximum: int = 8) -> int:
    """Decimals that show about `significant` digits: 60,010.00 · 3.0125 · 0.00012345."""
    if value == 0 or not math.isfinite(value):
        return minimum
    magnitude = math.floor(math.log10(abs(value)))
    return max(minimum, min(maximum, significant - 1 - magnitude))


def _signed(text: str, negative: bool, plus: bool) -> str:
    if negative:
        return MINUS + text
    return ("+" + text) if plus else text


def fmt_price(value: float | None) -> str:
    """A price: thousands separators, about five significant digits, at least two decimals."""
    if value is None or math.isnan(value):
        return DASH
    if math.isinf(value):
        return "∞"
    return _signed(f"{abs(value):,.{_decimals(value)}f}", value < 0, plus=False)


def fmt_amount(value: float | None, plus: bool = False) -> str:
    """A quantity or a money amount; large ones compact (1.25 M) so columns stay narrow."""
    if value is None or math.isnan(value):
        return DASH
    if math.isinf(value):
        return "∞"
    size = abs(value)
    if size >= 1e9:
        text = f"{size / 1e9:,.2f} G"
    elif size >= 1e6:
        text = f"{size / 1e6:,.2f} M"
    elif size >= 1000:
        text = f"{size:,.0f}" if size >= 100_000 else f"{size:,.2f}"
    elif size >= 1:
        text = f"{size:,.2f}"
    else:
        text = f"{size:,.{_decimals(size, significant=4)}f}"
    if float(text.replace(",", "").split(" ")[0]) == 0:
        return "0.00"
    return _signed(text, value < 0, plus)


def fmt_percent(fraction: float | None, decimals: int = 2, plus: bool = False) -> str:
    """A fraction shown as a percentage: 0.0523 -> "5.23 %"."""
    if fraction is None or math.isnan(fraction):
        return DASH
    if math.isinf(fraction):
        return "∞"
    value = fraction * 100.0
    if abs(value) >= 1000:
        decimals = 0
    return _signed(f"{abs(value):,.{decimals}f} %", value < 0 and round(value, decimals) != 0, plus)


def fmt_probability(p: float | None) -> str:
    """A probability: tiny ones as "< 0.01 %", near-certain ones as "> 99.99 %", never a misleading 0 or 100."""
    if p is None or math.isnan(p):
        return DASH
    if p <= 0:
        return "0 %"
    if p < 1e-4:
        return "< 0.01 %"
    if p >= 1:
        return "100 %"
    if p > 0.9999:
        return "> 99.99 %"
    return fmt_percent(p, 2 if p < 0.1 else 1)


def fmt_level(level: float | None) -> str:
    """A margin level (assets / liabilities): three decimals near the thresholds, ∞ with nothing borrowed."""
    if level is None or math.isnan(level):
        return DASH
    if math.isinf(level):
        return "∞"
    return f"{level:,.3f}" if level < 100 else f"{level:,.0f}"


def fmt_age(seconds: float | None) -> str:
    """Age of a price: "4 s", "12 min", "3 h 05 min"."""
    if seconds is None or math.isnan(seconds):
        return DASH
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours, rest = divmod(int(minutes), 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    return f"{hours // 24} d {hours % 24} h"
