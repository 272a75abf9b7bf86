"""The words of an alert: one line with the figure and the threshold it crossed.

Kept apart from the rules so the wording can change without touching when alerts fire, and so the tray, the
log, `liqwatch watch` and the hooks all say the same thing about the same event.
"""

from __future__ import annotations

import math

from liqwatch.domain.risk import FuturesRisk, MarginRisk, Risk
from liqwatch.domain.status import Status
from liqwatch.domain.thresholds import Thresholds

_STATUS_WORD = {
    Status.OK: "OK",
    Status.WARNING: "Warning",
    Status.UNKNOWN: "Unknown",
    Status.DANGER: "Danger",
    Status.LIQUIDATION: "Liquidation",
}


def price_text(value: float | None) -> str:
    """Prices with as many decimals as their size needs (61,234.50; 1.2345; 0.000123)."""
    if value is None or math.isnan(value):
        return "—"
    magnitude = abs(value)
    decimals = 2 if magnitude >= 100 else 4 if magnitude >= 1 else 6
    return f"{value:,.{decimals}f}"


def level_text(value: float | None) -> str:
    if value is None:
        return "—"
    return "∞" if math.isinf(value) else f"{value:.2f}"


def risk_label(risk: Risk) -> str:
    """How a trader names the row: "Main cross margin", "Perps BTC/USDT:USDT long"."""
    if isinstance(risk, MarginRisk):
        symbol = f" {risk.symbol}" if risk.mode == "isolated" and risk.symbol else ""
        return f"{risk.name}{symbol} {risk.mode} margin"
    return risk.name


def status_title(status: Status, risk: Risk) -> str:
    return f"{_STATUS_WORD[status]}: {risk_label(risk)}"


def margin_threshold(risk: MarginRisk, status: Status, thresholds: Thresholds) -> float | None:
    if status is Status.LIQUIDATION:
        return risk.liquidation_level
    if status is Status.DANGER:
        return risk.margin_call_level
    if status is Status.WARNING:
        return risk.warning_level if risk.warning_level is not None else thresholds.margin_warning_level
    return None


def futures_threshold(status: Status, thresholds: Thresholds, risk: FuturesRisk | None = None) -> float | None:
    """The threshold in force: the position's own (carried on its record) or the global one."""
    if status is Status.LIQUIDATION:
        return 0.0
    if status is Status.DANGER:
        own = risk.danger_distance if risk is not None else None
        return own if own is not None else thresholds.futures_danger_distance
    if status is Status.WARNING:
        own = risk.warning_distance if risk is not None else None
        return own if own is not None else thresholds.futures_warning_distance
    return None


def risk_text(risk: Risk, status: Status, thresholds: Thresholds) -> tuple[str, float | None, float | None]:
    """(text, figure, threshold) for a risk alert. Figure: margin level, or futures distance as a fraction."""
    if isinstance(risk, MarginRisk):
        figure = risk.margin_level
        threshold = margin_threshold(risk, status, thresholds)
        parts = [
            f"margin call at {risk.margin_call_level:.2f}",
            f"liquidation at {risk.liquidation_level:.2f}",
        ]
        if status is Status.WARNING and threshold is not None:
            parts.insert(0, f"warning at {threshold:.2f}")
        text = f"{risk_label(risk)} level {level_text(figure)} — {', '.join(parts)}"
        return text, figure, threshold
    assert isinstance(risk, FuturesRisk)
    figure = risk.distance
    threshold = futures_threshold(status, thresholds, risk)
    mark, liq = price_text(risk.mark_price), price_text(risk.liquidation_price)
    if status is Status.LIQUIDATION:
        text = f"{risk.name} mark {mark} crossed the liquidation price {liq}"
    else:
        distance = "—" if figure is None else f"{figure * 100:.2f}%"
        zone = "danger" if status is Status.DANGER else "warning"
        limit = "—" if threshold is None else f"{threshold * 100:.2f}%"
        text = f"{risk.name} mark {mark} is {distance} from liquidation at {liq} — {zone} within {limit}"
    return text, figure, threshold
