"""Funding of perpetual futures: the next payment, the cost per day, and where paying it leaves the position.

Why: a perpetual drifts toward liquidation at a constant price just by paying funding. These figures make that
cost visible and project it. Pure: rates, prices and the time come in as arguments.

How the poller (and `liqwatch check`) calls it — one line per poll, after the engine::

    infos = funding_source.poll(now)                  # Mapping[ccxt symbol, FundingInfo], refreshed every
                                                      # Settings.funding_interval seconds (liqwatch.sources.funding)
    figures = funding_figures(risk, infos, now, portfolio, max_age=3 * settings.funding_interval)
    risk = with_funding(risk, figures)                # futures rows become FundedFuturesRisk (a FuturesRisk)
    snapshot = BookSnapshot(..., risk=risk, ...)

Every consumer then reads the same figures from the snapshot: `getattr(row, "funding_rate", None)` and the other
`FundedFuturesRisk` fields (the alert engine, window columns, CSV). `funding_figures(snapshot, infos, now)` also
works (the portfolio comes from the snapshot).

Formulas (Binance: "Funding Amount = Nominal Value of Positions × Funding Rate", the nominal value at the mark):

    linear  (USDⓈ-M): payment = side · Q · mark · rate        in the settle asset (Q in base units)
    inverse (COIN-M): payment = side · N / mark · rate        coin (N = USD notional = contracts · contract size)
    per day          = payment · 24 / interval_hours

`payment` is a signed cost to the position: positive = the position pays (a long when the rate is positive),
negative = it receives (a short when the rate is positive). Funding of an isolated position is taken from its
isolated wallet W, so after k payments its liquidation price is `futures.liquidation_price(position, W − k·payment)`.
At the current mark the position liquidates when W falls to W* = MM(mark) − uPnL(mark) (the wallet at which
LP = mark); funding alone gets there after (W − W*) / (payment / interval_hours) hours, i.e. at payment number
ceil((W − W*) / payment). Cross positions pay from the cross wallet: the account-level drain is the sum over its
cross positions, and the cross account reaches liquidation when margin balance − Σ maintenance margin is used up.

A missing rate is None (unknown) — never 0 — and so is every figure that depends on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import TYPE_CHECKING, NamedTuple

from liqwatch.domain.fast_init import fast_frozen_init
from liqwatch.domain.futures import liquidation_price, maintenance_margin, unrealized_pnl
from liqwatch.domain.model import FuturesPosition, Portfolio
from liqwatch.domain.risk import PAUSE_EVERY, BookRisk, FuturesRisk

if TYPE_CHECKING:
    from liqwatch.domain.snapshot import BookSnapshot

DEFAULT_INTERVAL_HOURS = 8.0
PROJECTED_PAYMENTS: tuple[int, ...] = (1, 3, 9)

# Tooltip text per `FundedFuturesRisk` field (the window shows it with the row's `funding_source`).
FORMULAS: dict[str, str] = {
    "funding_rate": "Funding rate per interval (+: longs pay shorts).",
    "next_funding_payment": "Next payment = side × size × mark × rate (COIN-M: side × N / mark × rate coin); "
                            "+ = this position pays.",
    "funding_per_day": "Funding per day = next payment × 24 / interval hours, at the current rate and mark.",
    "liquidation_price_after_funding": "Liquidation price with the isolated wallet reduced by k payments "
                                       "(k = 1, 3, 9) at the current rate.",
    "hours_to_liquidation_by_funding": "Hours until funding alone liquidates at the current mark: (wallet − "
                                       "(maint. margin − uPnL)) / payment per hour; cross: (margin balance − "
                                       "Σ maint. margin) / account drain per hour.",
    "effective_leverage": "Notional / margin balance (isolated wallet + uPnL, or the cross account's).",
}


@dataclass(frozen=True, slots=True)
class FundingInfo:
    """One perpetual's funding as a source reports it.

    `rate` is per interval (0.0001 = 0.01 %), None when unknown; `next_time` and `received_time` are epoch
    seconds; `interval_assumed` is True when the source did not say the interval and 8 h is assumed.
    """

    symbol: str
    rate: float | None
    interval_hours: float = DEFAULT_INTERVAL_HOURS
    next_time: float | None = None
    source: str = ""
    mark: float | None = None
    interval_assumed: bool = False
    received_time: float | None = None


@fast_frozen_init  # built once per position per poll: see `fast_init`
@dataclass(frozen=True, slots=True)
class FundingFigures:
    """Funding figures of one futures position (key = `FuturesAccount.position_key`). Amounts are signed costs."""

    key: str
    symbol: str
    settle: str
    margin_mode: str
    rate: float | None
    interval_hours: float | None
    next_time: float | None  # the next funding time at or after `now` (epoch seconds)
    source: str
    payment: float | None  # next payment, settle asset; + = the position pays
    payment_quote: float | None
    per_day: float | None  # settle asset
    per_day_quote: float | None
    liquidation_after: Mapping[int, float | None] = field(default_factory=dict)  # isolated: k → LP
    hours_to_liquidation: float | None = None  # funding alone, at the current mark
    payments_to_liquidation: int | None = None
    account_per_day: float | None = None  # cross: drain of the whole cross wallet per day (settle asset)
    stale: bool = False
    interval_assumed: bool = False


def funding_payment(position: FuturesPosition, mark: float, rate: float) -> float:
    """Next payment as a signed cost in the settle asset (+ = the position pays)."""
    notional = position.size / mark if position.inverse else position.size * mark
    return position.sign * notional * rate + 0.0  # never a negative zero


def per_day(payment: float, interval_hours: float) -> float:
    return payment * 24.0 / interval_hours


def next_funding_time(next_time: float | None, interval_hours: float, now: float) -> float | None:
    """The reported next funding time, rolled forward by whole intervals if it has already passed."""
    if next_time is None or not math.isfinite(next_time) or next_time <= 0:
        return None
    if next_time >= now:
        return next_time
    step = interval_hours * 3600.0
    return next_time + math.ceil((now - next_time) / step) * step


def wallet_at_liquidation(position: FuturesPosition, mark: float) -> float:
    """The wallet W* at which the liquidation price equals the mark: MM(mark) − uPnL(mark).

    At LP = mark the bracket in force is the one at the mark, so this is exact (tests check
    `liquidation_price(position, W*, mark) == mark`)."""
    return maintenance_margin(position, mark)[0] - unrealized_pnl(position, mark)


def hours_until_drained(cushion: float, per_hour: float | None) -> float | None:
    """Hours of a constant drain until `cushion` is used up; None when nothing drains it."""
    if per_hour is None or not per_hour > 0:
        return None
    hours = max(0.0, cushion) / per_hour
    return hours if math.isfinite(hours) else None  # a drain too small to ever matter (a rate of 1e-300)


def isolated_projection(
    position: FuturesPosition, mark: float, payment: float, interval_hours: float,
    counts: Iterable[int] = PROJECTED_PAYMENTS,
) -> tuple[dict[int, float | None], float | None, int | None]:
    """(LP after k payments, hours until funding alone liquidates, number of that payment) for an isolated position."""
    wallet = position.isolated_wallet or 0.0
    after = {k: liquidation_price(position, wallet - k * payment, mark).price for k in counts}
    if payment <= 0:
        return after, None, None
    cushion = wallet - wallet_at_liquidation(position, mark)
    hours = hours_until_drained(cushion, payment / interval_hours)
    payments = cushion / payment
    count = (max(0, math.ceil(payments)) if math.isfinite(payments) else None) if cushion > 0 else 0
    return after, hours, count


def _positions(portfolio: Portfolio) -> dict[str, tuple[int, FuturesPosition]]:
    out: dict[str, tuple[int, FuturesPosition]] = {}
    for a, account in enumerate(portfolio.futures_accounts):
        for i, position in enumerate(account.positions):
            out[account.position_key(i)] = (a, position)
    return out


class SymbolTerms(NamedTuple):
    """What one perpetual's `FundingInfo` says for every position in it (the same for all of them)."""

    rate: float | None
    interval_hours: float | None
    next_time: float | None
    source: str
    stale: bool
    interval_assumed: bool


def symbol_terms(info: FundingInfo | None, now: float, max_age: float | None) -> SymbolTerms:
    """A symbol's usable rate (None, never 0, when unknown), interval, next funding time at or after `now`,
    source, staleness (`received_time` older than `max_age`) and whether the interval is assumed."""
    interval = _interval(info)
    if info is None:
        return SymbolTerms(None, interval, None, "", False, False)
    return SymbolTerms(
        rate=_usable_rate(info.rate),
        interval_hours=interval,
        next_time=next_funding_time(info.next_time, interval, now) if interval else None,
        source=info.source,
        stale=bool(max_age is not None and info.received_time is not None and now - info.received_time > max_age),
        interval_assumed=bool(info.interval_assumed),
    )


def funding_figures(
    risk_book: BookRisk | BookSnapshot,
    funding: Mapping[str, FundingInfo],
    now: float,
    portfolio: Portfolio | None = None,
    *,
    max_age: float | None = None,
    pause: Callable[[], None] | None = None,
) -> dict[str, FundingFigures]:
    """Funding figures for every futures position of the book (one entry per position, known or not).

    `funding` is keyed by ccxt symbol. `portfolio` gives the positions (brackets, isolated wallets); a
    `BookSnapshot` brings its own. `max_age`: seconds after `received_time` at which a rate is marked stale.
    `pause`: called every `PAUSE_EVERY` rows (see `BookArrays.to_risk`).
    """
    if portfolio is None:
        portfolio = getattr(risk_book, "portfolio", None)
        if portfolio is None:
            raise ValueError("funding_figures needs the portfolio (pass it, or pass a BookSnapshot)")
    book: BookRisk = risk_book.risk if hasattr(risk_book, "risk") else risk_book  # type: ignore[assignment]
    positions = _positions(portfolio)

    partial: dict[str, FundingFigures | None] = {}
    # cross accounts: account index → [per-hour drains] (None marks an unknown drain), and their rows with the
    # figures still to complete: a cross row's figures are made once, after its account's drain is known
    cross_drain: dict[int, list[float | None]] = {}
    cross_rows: dict[int, list[tuple[FuturesRisk, dict[str, object]]]] = {}
    by_symbol: dict[str, SymbolTerms] = {}
    for n, row in enumerate(book.futures):
        if pause is not None and n % PAUSE_EVERY == 0:
            pause()
        found = positions.get(row.key)
        if found is None:
            continue
        account_index, position = found
        terms = by_symbol.get(row.symbol)
        if terms is None:
            terms = by_symbol[row.symbol] = symbol_terms(funding.get(row.symbol), now, max_age)
        rate, interval = terms.rate, terms.interval_hours
        mark = row.mark_price
        payment = funding_payment(position, mark, rate) if rate is not None and mark is not None else None
        quote_rate = (mark if position.inverse else 1.0) if mark is not None else None
        daily = per_day(payment, interval) if payment is not None and interval is not None else None
        after: dict[int, float | None] = {}
        hours: float | None = None
        count: int | None = None
        isolated = position.margin_mode == "isolated"
        if isolated:
            if payment is not None and interval is not None and mark is not None and row.margin_balance is not None:
                after, hours, count = isolated_projection(position, mark, payment, interval)
            else:
                after = dict.fromkeys(PROJECTED_PAYMENTS)
        values: dict[str, object] = dict(
            key=row.key,
            symbol=row.symbol,
            settle=position.settle,
            margin_mode=position.margin_mode,
            rate=rate,
            interval_hours=interval,
            next_time=terms.next_time,
            source=terms.source,
            payment=payment,
            payment_quote=payment * quote_rate if payment is not None and quote_rate is not None else None,
            per_day=daily,
            per_day_quote=daily * quote_rate if daily is not None and quote_rate is not None else None,
            liquidation_after=after,
            hours_to_liquidation=hours,
            payments_to_liquidation=count,
            stale=terms.stale,
            interval_assumed=terms.interval_assumed,
        )
        if isolated:
            partial[row.key] = FundingFigures(**values)  # type: ignore[arg-type]
        else:
            partial[row.key] = None  # keeps the book's order; made below
            cross_drain.setdefault(account_index, []).append(
                payment / interval if payment is not None and interval is not None else None
            )
            cross_rows.setdefault(account_index, []).append((row, values))

    # Cross: the whole cross wallet pays; the account liquidates when margin balance − Σ MM is used up.
    for account_index, drains in cross_drain.items():
        members = cross_rows[account_index]
        known = all(d is not None for d in drains)
        per_hour = sum(d for d in drains if d is not None) if known else None
        cushion: float | None = None
        if all(r.margin_balance is not None and r.maint_margin is not None for r, _ in members):
            cushion = members[0][0].margin_balance - sum(r.maint_margin for r, _ in members)  # type: ignore[operator,misc]
        hours = hours_until_drained(cushion, per_hour) if cushion is not None else None
        for row, values in members:
            values.update(account_per_day=per_hour * 24.0 if per_hour is not None else None,
                          hours_to_liquidation=hours)
            partial[row.key] = FundingFigures(**values)  # type: ignore[arg-type]
    return partial  # type: ignore[return-value]  # every None was filled


def _usable_rate(rate: object) -> float | None:
    """A rate must be a finite number; anything else (None, "", NaN) is unknown, never 0."""
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        return None
    return float(rate) if math.isfinite(rate) else None


def _interval(info: FundingInfo | None) -> float | None:
    if info is None:
        return None
    hours = info.interval_hours
    if isinstance(hours, int | float) and math.isfinite(hours) and hours > 0:
        return float(hours)
    return DEFAULT_INTERVAL_HOURS


# --- the risk records, enriched --------------------------------------------------------------------------------


@fast_frozen_init  # built once per position per poll: see `fast_init`
@dataclass(frozen=True, slots=True)
class FundedFuturesRisk(FuturesRisk):
    """A `FuturesRisk` that also carries its funding figures (what `with_funding` returns).

    Subclassing keeps every existing consumer working (`isinstance(row, FuturesRisk)`, same fields) while the alert
    engine and the window read the funding fields by name.
    """

    funding_rate: float | None = None
    funding_interval_hours: float | None = None
    next_funding_time: float | None = None
    next_funding_payment: float | None = None
    next_funding_payment_quote: float | None = None
    funding_per_day: float | None = None
    funding_per_day_quote: float | None = None
    liquidation_price_after_funding: Mapping[int, float | None] | None = None  # isolated only
    hours_to_liquidation_by_funding: float | None = None
    payments_to_liquidation_by_funding: int | None = None
    account_funding_per_day: float | None = None  # cross only
    funding_source: str = ""
    funding_stale: bool = False
    funding_interval_assumed: bool = False


def with_funding(book: BookRisk, figures: Mapping[str, FundingFigures],
                 pause: Callable[[], None] | None = None) -> BookRisk:
    """The same book with every futures row carrying its funding figures (rows without figures: all None).

    `pause`: called every `PAUSE_EVERY` rows (see `BookArrays.to_risk`)."""
    rows = []
    for i, row in enumerate(book.futures):
        if pause is not None and i % PAUSE_EVERY == 0:
            pause()
        f = figures.get(row.key)
        if f is None:
            rows.append(FundedFuturesRisk(*_risk_fields(row)))
            continue
        # positional, in `FundedFuturesRisk`'s field order (checked by `_check_field_order` at import): ~3× faster
        # than a dict of 44 names per row, for 2,000 rows per poll in the poller thread
        rows.append(FundedFuturesRisk(
            *_risk_fields(row), f.rate, f.interval_hours, f.next_time, f.payment, f.payment_quote, f.per_day,
            f.per_day_quote, dict(f.liquidation_after) if f.margin_mode == "isolated" else None,
            f.hours_to_liquidation, f.payments_to_liquidation, f.account_per_day, f.source, f.stale,
            f.interval_assumed,
        ))
    return BookRisk(margin=book.margin, futures=tuple(rows))


_risk_fields = attrgetter(*(f.name for f in fields(FuturesRisk)))  # a row's `FuturesRisk` values, in order
_FUNDING_FIELDS = (
    "funding_rate", "funding_interval_hours", "next_funding_time", "next_funding_payment",
    "next_funding_payment_quote", "funding_per_day", "funding_per_day_quote", "liquidation_price_after_funding",
    "hours_to_liquidation_by_funding", "payments_to_liquidation_by_funding", "account_funding_per_day",
    "funding_source", "funding_stale", "funding_interval_assumed",
)


def _check_field_order() -> None:
    """`with_funding` passes values by position: the class must be `FuturesRisk`'s fields, then these, in order."""
    expected = [f.name for f in fields(FuturesRisk)] + list(_FUNDING_FIELDS)
    actual = [f.name for f in fields(FundedFuturesRisk)]
    if actual != expected:
        raise TypeError(f"FundedFuturesRisk fields changed order; with_funding expects {expected}, got {actual}")


_check_field_order()
