"""CSV rows for snapshots and history: one row per account/position per time.

The column list is a user-facing contract (README documents it): columns are only ever added, at the end.
Numbers are written with `repr` (full precision, `.` decimal point whatever the locale); an infinite margin level is
written `inf`; a figure that does not exist is an empty field. Quoting follows RFC 4180 (the csv module's
default dialect with `\\r\\n` line ends).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from liqwatch.domain.risk import FuturesRisk, MarginRisk, Risk

CSV_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "account",
    "exchange",
    "kind",
    "symbol",
    "side",
    "size",
    "entry_price",
    "price",
    "price_kind",
    "liquidation_price",
    "margin_level",
    "margin_ratio",
    "distance",
    "unrealized_pnl",
    "status",
    "stale",
    "figure_source",
    # carrying costs and leverage (issue 9); money columns in the quote currency, empty when unknown
    "funding_rate",
    "funding_per_day",
    "effective_leverage",
    "interest_per_day",
    "hours_to_margin_call",
    "hours_to_liquidation",
)


def iso_utc(epoch_seconds: float) -> str:
    """ISO-8601 UTC with milliseconds and a Z, e.g. 2026-11-29T12:00:00.000Z."""
    stamp = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(float(value))


def risk_row(
    risk: Risk,
    timestamp: float,
    *,
    stale: bool = False,
    price_kind: str = "",
    figure_source: str = "computed",
) -> dict[str, str]:
    """One CSV row (column → text) for a margin account or futures position."""
    if isinstance(risk, MarginRisk):
        liq_prices = list(risk.liquidation_prices.values())
        return {
            "timestamp": iso_utc(timestamp),
            "account": risk.name,
            "exchange": risk.exchange or "",
            "kind": "margin",
            "symbol": risk.symbol or "",
            "side": "",
            "size": "",
            "entry_price": "",
            "price": "",
            "price_kind": price_kind,
            "liquidation_price": number(liq_prices[0]) if len(liq_prices) == 1 else "",
            "margin_level": number(risk.margin_level),
            "margin_ratio": "",
            "distance": number(risk.distance),
            "unrealized_pnl": "",
            "status": risk.status.value,
            "stale": "true" if stale else "false",
            "figure_source": figure_source,
            "funding_rate": "",
            "funding_per_day": "",
            "effective_leverage": number(risk.effective_leverage),
            "interest_per_day": number(risk.interest_per_day),
            "hours_to_margin_call": number(risk.hours_to_margin_call),
            "hours_to_liquidation": number(risk.hours_to_liquidation),
        }
    assert isinstance(risk, FuturesRisk)
    return {
        "timestamp": iso_utc(timestamp),
        "account": risk.account,
        "exchange": risk.exchange or "",
        "kind": "futures",
        "symbol": risk.symbol,
        "side": risk.side,
        "size": number(risk.size),
        "entry_price": number(risk.entry_price),
        "price": number(risk.mark_price),
        "price_kind": price_kind,
        "liquidation_price": number(risk.liquidation_price),
        "margin_level": "",
        "margin_ratio": number(risk.margin_ratio),
        "distance": number(risk.distance),
        "unrealized_pnl": number(risk.unrealized_pnl_quote),
        "status": risk.status.value,
        "stale": "true" if stale else "false",
        "figure_source": figure_source,
        # funding figures ride on `liqwatch.domain.funding.FundedFuturesRisk`; a plain row has none (unknown)
        "funding_rate": number(getattr(risk, "funding_rate", None)),
        "funding_per_day": number(getattr(risk, "funding_per_day_quote", None)),
        "effective_leverage": number(risk.effective_leverage),
        "interest_per_day": "",
        "hours_to_margin_call": "",
        "hours_to_liquidation": number(getattr(risk, "hours_to_liquidation_by_funding", None)),
    }


def write_rows(stream: IO[str], rows: Iterable[dict[str, Any]], header: bool = True) -> int:
    """Write rows under the contract's header; returns the number of data rows written."""
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    if header:
        writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def iter_rows(risks: Iterable[Risk], timestamp: float, stale_keys: frozenset[str] = frozenset(),
              price_kind: str = "") -> Iterator[dict[str, str]]:
    for risk in risks:
        yield risk_row(risk, timestamp, stale=risk.key in stale_keys, price_kind=price_kind)
