"""The table's columns as data: one `ColumnSpec` per column, so adding a column is one entry in `COLUMNS`.

A spec says what the header and tooltip read, how to get the raw value from a `Row` (the engine's risk record plus
the freshness facts the model keeps), how to show it, and whether the user may hide it. The raw value is what the
sort role carries, so sorting is by number, never by formatted text.

The table holds margin accounts and futures positions in one list (one row per margin account, one per futures
position): the trader scans one ranking of everything that can be liquidated. Columns that do not apply to a kind
of row show an empty cell; figures that apply but cannot be known show "—".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, NamedTuple

from liqwatch.domain.risk import FuturesRisk, MarginRisk, Risk
from liqwatch.ui.format import (
    DASH,
    fmt_age,
    fmt_amount,
    fmt_level,
    fmt_percent,
    fmt_price,
    fmt_probability,
)
from liqwatch.ui.theme import STATUS_LABELS


class Row(NamedTuple):
    """What one table row shows: the risk record and where its prices came from.

    A `NamedTuple` rather than a frozen dataclass: a 2,000-row book builds 2,000 of these per poll (in the poller
    thread, see `table_batch`), and tuple construction is several times cheaper than a frozen dataclass's
    `__init__`."""

    risk: Risk
    stale: bool = False
    price_time: float | None = None  # epoch seconds of the oldest price the row depends on
    price: float | None = None  # the price shown in the mark/price column
    price_asset: str | None = None  # margin rows: the asset that price belongs to
    what_if: bool = False
    checks: tuple[Any, ...] = ()  # imported rows: `Reconciled` exchange-vs-computed comparisons


NOT_APPLICABLE = object()  # a value that does not exist for this kind of row: shown as an empty cell


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    header: str
    tooltip: str
    value: Callable[[Row], Any]  # raw value (None: unknown, NOT_APPLICABLE: not for this row)
    text: Callable[[Any, Row], str] = field(default=lambda v, row: str(v))
    numeric: bool = True
    hideable: bool = True
    hidden_by_default: bool = False
    live: bool = False  # changes with the clock (data age): refreshed by the window's timer


def _margin_price_asset(risk: MarginRisk) -> str | None:
    if risk.symbol:
        return risk.symbol.split("/", 1)[0]
    if len(risk.liquidation_prices) == 1:
        return next(iter(risk.liquidation_prices))
    return None


def _only(kind: type, getter: Callable[[Any], Any]) -> Callable[[Row], Any]:
    def value(row: Row) -> Any:
        return getter(row.risk) if isinstance(row.risk, kind) else NOT_APPLICABLE

    return value


def _size(row: Row) -> Any:
    r = row.risk
    if isinstance(r, FuturesRisk):
        return r.size
    return r.liability_value


def _size_text(value: Any, row: Row) -> str:
    r = row.risk
    if isinstance(r, FuturesRisk):
        unit = "USD" if r.inverse else r.symbol.split("/", 1)[0]
        return f"{fmt_amount(value)} {unit}"
    return f"debt {fmt_amount(value)}" if value is not None else DASH


def _liquidation_price(row: Row) -> Any:
    r = row.risk
    if isinstance(r, FuturesRisk):
        return r.liquidation_price
    if r.status.value == "unknown":
        return None
    asset = row.price_asset
    if asset is None:
        return NOT_APPLICABLE
    return r.liquidation_prices.get(asset)


def _level(row: Row) -> Any:
    r = row.risk
    return r.margin_level if isinstance(r, MarginRisk) else r.margin_ratio


def _level_text(value: Any, row: Row) -> str:
    if isinstance(row.risk, MarginRisk):
        return fmt_level(value)
    return f"ratio {fmt_percent(value)}" if value is not None else DASH


def _pnl(row: Row) -> Any:
    r = row.risk
    if isinstance(r, FuturesRisk):
        return r.unrealized_pnl_quote
    if r.asset_value is None or r.liability_value is None:
        return None
    return NOT_APPLICABLE


def _distance_text(value: Any, row: Row) -> str:
    if value is None and isinstance(row.risk, MarginRisk) and row.risk.margin_level is not None:
        return "no debt" if math.isinf(row.risk.margin_level) else DASH
    return fmt_percent(value)


def _side(row: Row) -> Any:
    r = row.risk
    return r.side if isinstance(r, FuturesRisk) else f"margin ({r.mode})"


def _symbol(row: Row) -> Any:
    r = row.risk
    if isinstance(r, FuturesRisk):
        return r.symbol
    return r.symbol or "cross account"


def _mark(row: Row) -> Any:
    if isinstance(row.risk, FuturesRisk):
        return row.risk.mark_price
    return row.price if row.price_asset else NOT_APPLICABLE


def _age(row: Row) -> Any:
    # The model substitutes the current age; this getter returns the stamp so the spec stays pure.
    return row.price_time


PROBABILITY_TOOLTIP = (
    "Chance that the price touches the liquidation level within the horizon (24 h by default).\n"
    "P = erfc(d / (σ·√(2T))), d = |ln(liquidation / mark)|, T in years (365-day year).\n"
    "σ: exponentially weighted realised volatility of the feed's own prices (the portfolio file's\n"
    "figure until enough prices have been seen); margin accounts use the value-weighted σ of their assets.\n"
    "Assumes no drift, constant volatility and no jumps: real crashes gap, so this understates tail risk."
)

COLUMNS: list[ColumnSpec] = [
    ColumnSpec("account", "Account", "Margin account or futures account name",
               lambda row: row.risk.account, numeric=False, hideable=False),
    ColumnSpec("symbol", "Symbol / pair", "Futures symbol, isolated-margin pair, or 'cross account'",
               _symbol, numeric=False),
    ColumnSpec("side", "Side", "Long or short (futures); margin mode (margin accounts)", _side, numeric=False),
    ColumnSpec("status", "Status", "Ok, warning, danger, liquidation, or unknown (a price is missing)",
               lambda row: row.risk.status.rank, lambda v, row: STATUS_LABELS[row.risk.status],
               numeric=False, hideable=False),
    ColumnSpec("distance", "Distance to liq.", "How far prices must move before liquidation, as a percentage "
               "of the price (margin: the same move of every non-pegged asset)",
               lambda row: row.risk.distance, _distance_text),
    ColumnSpec("level", "Margin level / ratio", "Margin: margin level = assets / (borrowed + interest); "
               "liquidation at the account's liquidation level (1.1 by default).\n"
               "Futures: margin ratio = maintenance margin / margin balance; liquidation at 100 %.",
               _level, _level_text),
    ColumnSpec("mark", "Mark / price", "Futures: mark price. Margin: price of the pair's base asset",
               _mark, lambda v, row: fmt_price(v)),
    ColumnSpec("liquidation", "Liq. price", "Price at which the position or account is liquidated "
               "(margin: if only that asset moves)", _liquidation_price, lambda v, row: fmt_price(v)),
    ColumnSpec("entry", "Entry", "Futures entry price", _only(FuturesRisk, lambda r: r.entry_price),
               lambda v, row: fmt_price(v)),
    ColumnSpec("size", "Size", "Futures: position size in base units (USD for coin-margined).\n"
               "Margin: total debt (borrowed + interest) in the quote currency.", _size, _size_text),
    ColumnSpec("pnl", "Unrealized PnL", "Unrealized profit or loss in the quote currency",
               _pnl, lambda v, row: fmt_amount(v, plus=True)),
    ColumnSpec("probability", "P(touch 24 h)", PROBABILITY_TOOLTIP,
               lambda row: row.risk.touch_probability, lambda v, row: fmt_probability(v)),
    ColumnSpec("age", "Data age", "Age of the oldest price this row depends on; greyed when stale",
               _age, lambda v, row: fmt_age(v), live=True),
    ColumnSpec("exchange", "Exchange", "Exchange (ccxt id) the account lives on",
               lambda row: row.risk.exchange, lambda v, row: v or "", numeric=False),
]


class Column(IntEnum):
    """Column indices of the built-in columns (extra columns appended to `COLUMNS` follow these)."""

    ACCOUNT = 0
    SYMBOL = 1
    SIDE = 2
    STATUS = 3
    DISTANCE = 4
    LEVEL = 5
    MARK = 6
    LIQUIDATION = 7
    ENTRY = 8
    SIZE = 9
    PNL = 10
    PROBABILITY = 11
    AGE = 12
    EXCHANGE = 13


# --- carrying costs and leverage (issue 9): appended after the built-in columns, hideable -----------------------

def _leverage_text(value: Any, row: Row) -> str:
    if value is None:
        return DASH
    return f"{value:,.2f}×"


def _funding(name: str) -> Callable[[Row], Any]:
    """A funding figure of a futures row (`FundedFuturesRisk`); None (—) when no rate is known, never 0."""
    def value(row: Row) -> Any:
        if not isinstance(row.risk, FuturesRisk):
            return NOT_APPLICABLE
        return getattr(row.risk, name, None)

    return value


def _funding_rate_text(value: Any, row: Row) -> str:
    if value is None:
        return DASH
    hours = getattr(row.risk, "funding_interval_hours", None)
    return f"{fmt_percent(value, 4, plus=True)}" + (f" / {hours:g} h" if hours else "")


def _carry_per_day(row: Row) -> Any:
    """Cost per day in the quote currency: borrow interest (margin) or funding (futures; + = paid)."""
    r = row.risk
    if isinstance(r, MarginRisk):
        return r.interest_per_day
    return getattr(r, "funding_per_day_quote", None)


def _hours_text(value: Any, row: Row) -> str:
    if value is None:
        return DASH
    if value >= 24 * 365 * 10:
        return "> 10 years"
    return fmt_age(value * 3600.0)


def _hours_to_call(row: Row) -> Any:
    r = row.risk
    return r.hours_to_margin_call if isinstance(r, MarginRisk) else NOT_APPLICABLE


def _hours_by_carry(row: Row) -> Any:
    """At constant prices: interest alone (margin) or funding alone (isolated futures) until liquidation."""
    r = row.risk
    if isinstance(r, MarginRisk):
        return r.hours_to_liquidation
    return getattr(r, "hours_to_liquidation_by_funding", None)


COLUMNS.extend([
    ColumnSpec("effective_leverage", "Eff. leverage",
               "Effective leverage. Futures: notional / margin balance (the position's isolated balance, or the "
               "whole cross account's). Margin: total asset value / equity (assets − borrowed − interest).",
               lambda row: row.risk.effective_leverage, _leverage_text),
    ColumnSpec("set_leverage", "Set leverage", "The leverage the trader set on the futures position",
               _only(FuturesRisk, lambda r: r.leverage), _leverage_text, hidden_by_default=True),
    ColumnSpec("funding_rate", "Funding rate",
               "Current funding rate per interval (+: longs pay shorts) and the interval.\n"
               "Source: the exchange's premiumIndex via ccxt fetch_funding_rates (the simulation's own for the "
               "demo); the interval from fetch_funding_intervals, else 8 h.",
               _funding("funding_rate"), _funding_rate_text),
    ColumnSpec("next_funding", "Next funding",
               "Next expected funding payment in the quote currency at the current rate and mark:\n"
               "size × mark × rate (COIN-M: N / mark × rate coin, valued at the mark); + = this position pays.",
               _funding("next_funding_payment_quote"), lambda v, row: fmt_amount(v, plus=True),
               hidden_by_default=True),
    ColumnSpec("carry_per_day", "Carry / day",
               "Carrying cost per day in the quote currency at current rates.\n"
               "Margin: borrow interest = Σ borrowed × daily rate (hourly accrual of daily_rate / 24).\n"
               "Futures: funding = next payment × 24 / interval hours; + = paid, − = received.",
               _carry_per_day, lambda v, row: fmt_amount(v, plus=True)),
    ColumnSpec("hours_to_call", "Interest → call",
               "Margin accounts: time until interest alone brings the margin level to the margin-call level, at "
               "constant prices: (assets / call level − liabilities) / interest per hour.",
               _hours_to_call, _hours_text, hidden_by_default=True),
    ColumnSpec("hours_to_liq_carry", "Carry → liq.",
               "Time until carrying costs alone liquidate at constant prices.\n"
               "Margin: interest until the liquidation level. Isolated futures: funding drains the isolated "
               "wallet until the liquidation price reaches the mark. Cross futures: see the account's drain.",
               _hours_by_carry, _hours_text, hidden_by_default=True),
])


# --- imported items: the exchange's figures of record against the engine's (issue 6) ---------------------------

def _check(row: Row) -> Any:
    """Sort value: 2 disagreement, 1 exchange reports nothing (computed shown), 0 agrees; manual rows: n/a."""
    if not row.checks:
        return NOT_APPLICABLE
    if any(c.disagrees for c in row.checks):
        return 2
    return 1 if any(c.source == "computed" for c in row.checks) else 0


def _check_text(value: Any, row: Row) -> str:
    if value == 2:
        first = next(c for c in row.checks if c.disagrees)
        return f"⚠ {first.figure}: {first.message}"
    if value == 1:
        return "computed (exchange reports none)"
    return "agrees with exchange"


COLUMNS.append(ColumnSpec(
    "exchange_check", "Exchange vs computed",
    "Imported accounts and positions: the exchange's own figures of record (margin level, liquidation price, "
    "maintenance margin) against LiqWatch's computation. A difference beyond 0.05 % (prices) or 1 % (levels) is "
    "flagged; where the exchange sends 0, an empty string or nothing, the computed figure is shown, labelled "
    "computed.",
    _check, _check_text, numeric=False,
))


def column_index(key: str) -> int:
    for i, spec in enumerate(COLUMNS):
        if spec.key == key:
            return i
    raise KeyError(key)
