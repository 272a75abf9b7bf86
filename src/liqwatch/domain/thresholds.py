"""Status thresholds. Defaults follow Binance Cross Margin Classic and common futures practice."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Global thresholds; an account's own `margin_call_level` / `liquidation_level` set its danger and
    liquidation bounds.

    - margin accounts: warning at margin level <= `margin_warning_level`, danger at <= the account's margin call
      level, liquidation at <= its liquidation level;
    - futures: warning when the mark is within `futures_warning_distance` of the liquidation price (fraction of
      the mark), danger within `futures_danger_distance`, liquidation once the mark crosses it.
    """

    margin_warning_level: float = 1.5
    futures_warning_distance: float = 0.10
    futures_danger_distance: float = 0.05
    horizon_hours: float = 24.0

    def __post_init__(self) -> None:
        if not self.margin_warning_level > 0:
            raise ValueError(f"margin_warning_level must be > 0, got {self.margin_warning_level!r}")
        if not 0 <= self.futures_danger_distance <= self.futures_warning_distance < 1:
            raise ValueError(
                "futures distances must satisfy 0 <= danger <= warning < 1, got "
                f"danger={self.futures_danger_distance!r}, warning={self.futures_warning_distance!r}"
            )
        if not self.horizon_hours > 0:
            raise ValueError(f"horizon_hours must be > 0, got {self.horizon_hours!r}")


def futures_limits(thresholds: Thresholds, warning: float | None, danger: float | None) -> tuple[float, float]:
    """(warning, danger) distance for one position: its own where set, else the global ones."""
    return (warning if warning is not None else thresholds.futures_warning_distance,
            danger if danger is not None else thresholds.futures_danger_distance)
