"""Funding figures for the whole book at once: what `with_funding(risk, funding_figures(...))` gives, from arrays.

Why: the poller turns every poll into records in its own thread, and each millisecond of that Python is a
millisecond the GUI thread may wait for the interpreter. For a 2,000-row book the per-row funding maths (three
liquidation prices after 1, 3 and 9 payments per isolated position, a bracket scan each) and the intermediate
`FundingFigures` records were ~35 ms of every poll. Here the maths runs on the compiled book's arrays (the
liquidation prices through `CompiledBook._liquidation_prices`, the same bracket rule) and each row's record is made
once, directly as a `FundedFuturesRisk`.

`liqwatch.domain.funding` stays the reference: tests check both give the same records (to 1e-9 relative, as the
vectorised engine matches the scalar one) over random books, rates and times.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from liqwatch.domain.funding import (
    PROJECTED_PAYMENTS,
    FundedFuturesRisk,
    FundingInfo,
    _risk_fields,
    symbol_terms,
)
from liqwatch.domain.risk import PAUSE_EVERY, BookRisk
from liqwatch.domain.vectorised import BookArrays, _none

_NO_PROJECTION: dict[int, float | None] = dict.fromkeys(PROJECTED_PAYMENTS)


def funded_book(
    arrays: BookArrays,
    risk: BookRisk,
    funding: Mapping[str, FundingInfo],
    now: float,
    *,
    max_age: float | None = None,
    pause: Callable[[], None] | None = None,
) -> BookRisk:
    """`risk` (which must be `arrays.to_risk()`) with every futures row carrying its funding figures.

    Equal to `with_funding(risk, funding_figures(risk, funding, now, portfolio, max_age=max_age))` for the
    compiled book's portfolio. `pause`: called every `PAUSE_EVERY` rows (see `BookArrays.to_risk`)."""
    b = arrays.book
    n = b.n_futures
    if len(risk.futures) != n:
        raise ValueError(f"risk has {len(risk.futures)} futures rows, the compiled book {n}")
    if n == 0:
        return risk
    # per price key (the compiled book's own index of every row's symbol), not per row
    per_symbol = [symbol_terms(funding.get(key), now, max_age) for key in b.price_keys]
    sym = b.f_sym_idx
    rate = np.asarray([np.nan if t.rate is None else t.rate for t in per_symbol], dtype=float)[sym]
    interval = np.asarray([np.nan if t.interval_hours is None else t.interval_hours for t in per_symbol],
                          dtype=float)[sym]

    mark = arrays.f_mark  # NaN: unknown
    size, sign, inverse = b.f_size, b.f_sign, b.f_inverse
    isolated = ~b.f_cross
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        notional = np.where(inverse, size / mark, size * mark)
        payment = sign * notional * rate + 0.0  # NaN where the mark or the rate is unknown
        quote_rate = np.where(inverse, mark, 1.0)
        payment_quote = payment * quote_rate
        daily = payment * 24.0 / interval
        daily_quote = daily * quote_rate

        # isolated: the liquidation price after k payments, and how long funding alone takes to liquidate
        project = isolated & ~np.isnan(payment) & ~np.isnan(interval) & ~np.isnan(arrays.f_balance)
        wallet = b.f_iso
        at_mark = b.bracket_at(notional)  # the fallback bracket of `liquidation_price`: the one at the mark
        after = {}
        for k in PROJECTED_PAYMENTS:
            w = wallet - k * payment
            a0 = np.where(inverse, sign * size, w - sign * size * b.f_entry)
            b0 = np.where(inverse, w + sign * size / b.f_entry, -sign * size)
            lp, _ = b._liquidation_prices(a0, b0, at_mark)
            lp[~((lp > 0) & np.isfinite(lp))] = np.nan
            after[k] = lp
        cushion = wallet - (arrays.f_mm - arrays.f_upnl)
        draining = project & (payment > 0)
        hours = np.where(draining, np.maximum(0.0, cushion) / (payment / interval), np.nan)
        hours[~np.isfinite(hours)] = np.nan  # as `hours_until_drained`: a drain too small to matter

        # cross: the account's whole cross wallet pays; it liquidates when margin balance − Σ MM is used up
        cross = b.f_cross
        na = b.n_futures_accounts
        acc = b.f_acc
        drain = payment / interval
        unknown_drain = np.bincount(acc, weights=(cross & np.isnan(drain)).astype(float), minlength=na) > 0
        per_hour = np.bincount(acc, weights=np.where(cross, drain, 0.0), minlength=na)
        per_hour = np.where(unknown_drain, np.nan, per_hour)
        unknown_cushion = np.bincount(
            acc, weights=(cross & (np.isnan(arrays.f_balance) | np.isnan(arrays.f_mm))).astype(float), minlength=na
        ) > 0
        mm_sum = np.bincount(acc, weights=np.where(cross, arrays.f_mm, 0.0), minlength=na)
        cross_cushion = np.where(unknown_cushion[acc], np.nan, arrays.f_balance - mm_sum[acc])
        cross_per_hour = per_hour[acc]
        cross_hours = np.where(cross_per_hour > 0, np.maximum(0.0, cross_cushion) / cross_per_hour, np.nan)
        cross_hours[~np.isfinite(cross_hours)] = np.nan
        hours = np.where(cross, cross_hours, hours)
        account_per_day = np.where(cross, cross_per_hour * 24.0, np.nan)

    columns = [c.tolist() for c in (payment, payment_quote, daily, daily_quote, hours, account_per_day, cushion)]
    after_lists = [after[k].tolist() for k in PROJECTED_PAYMENTS]
    sym_list = sym.tolist()
    project_list = project.tolist()
    draining_list = draining.tolist()
    isolated_list = isolated.tolist()
    rows = []
    for j, (row, pay, pay_quote, day, day_quote, hrs, acc_day, cush) in enumerate(
            zip(risk.futures, *columns, strict=True)):
        if pause is not None and j % PAUSE_EVERY == 0:
            pause()
        rate_j, interval_j, next_time, source, stale, assumed = per_symbol[sym_list[j]]
        projection: dict[int, float | None] | None = None
        count: int | None = None
        if isolated_list[j]:
            if project_list[j]:
                projection = {k: _none(values[j]) for k, values in zip(PROJECTED_PAYMENTS, after_lists, strict=True)}
                if draining_list[j]:
                    payments = cush / pay
                    count = (max(0, math.ceil(payments)) if math.isfinite(payments) else None) if cush > 0 else 0
            else:
                projection = dict(_NO_PROJECTION)
        rows.append(FundedFuturesRisk(
            *_risk_fields(row), rate_j, interval_j, next_time, _none(pay), _none(pay_quote), _none(day),
            _none(day_quote), projection, _none(hrs), count, _none(acc_day), source, stale, assumed,
        ))
    return BookRisk(margin=risk.margin, futures=tuple(rows))
