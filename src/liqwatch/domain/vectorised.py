"""The whole book as numpy arrays, re-evaluated from a new price batch in a few milliseconds.

`CompiledBook` flattens a `Portfolio` once (positions, holdings, padded bracket tables) and `evaluate` computes every
figure of `liqwatch.domain.margin` and `liqwatch.domain.futures` with array operations: the same formulas, the
same bracket-at-liquidation-price rule, the same refusal of unusable prices. `BookArrays.to_risk()` turns the
arrays into the same records the scalar path returns, so both can be compared exactly in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from liqwatch.domain.futures import position_identity, unknown_position
from liqwatch.domain.margin import account_identity, unknown_account
from liqwatch.domain.model import Portfolio
from liqwatch.domain.probability import HOURS_PER_YEAR
from liqwatch.domain.risk import PAUSE_EVERY, BookRisk, FuturesRisk, MarginRisk
from liqwatch.domain.status import CODE_BY_STATUS, STATUS_BY_CODE, Status
from liqwatch.domain.thresholds import Thresholds

_OK, _WARNING, _UNKNOWN, _DANGER, _LIQUIDATION = (
    CODE_BY_STATUS[s]
    for s in (Status.OK, Status.WARNING, Status.UNKNOWN, Status.DANGER, Status.LIQUIDATION)
)

Array = np.ndarray


def erfc(x: Array) -> Array:
    """Complementary error function for x >= 0 (Numerical Recipes `erfcc`, fractional error < 1.2e-7).

    numpy has no erfc and scipy is not a dependency; this Chebyshev fit is accurate far beyond the two decimals a
    probability is shown with.
    """
    t = 1.0 / (1.0 + 0.5 * x)
    poly = -x * x - 1.26551223 + t * (
        1.00002368
        + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (
            -1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))
        )))))
    )
    return t * np.exp(poly)


def _touch(log_distance: Array, vol: Array, horizon_hours: float) -> Array:
    scale = vol * np.sqrt(2.0 * horizon_hours / HOURS_PER_YEAR)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        p = np.where(log_distance == 0, 1.0, erfc(log_distance / scale))
    return np.minimum(p, 1.0)


def _price_vector(keys: list[str], prices: Mapping[str, float]) -> tuple[Array, Array]:
    """(present, value): value is NaN where the key is absent or its price unusable (<= 0, NaN, inf)."""
    present = np.fromiter((k in prices for k in keys), dtype=bool, count=len(keys))
    raw = []
    for key in keys:
        value = prices.get(key)
        raw.append(value if isinstance(value, int | float) and not isinstance(value, bool) else np.nan)
    values = np.asarray(raw, dtype=float)
    with np.errstate(invalid="ignore"):
        values[~(np.isfinite(values) & (values > 0))] = np.nan
    return present, values


@dataclass(frozen=True)
class BookArrays:
    """Figures for every row of a compiled book; NaN marks a figure that does not exist."""

    book: CompiledBook
    limits: Thresholds
    # margin accounts
    m_status: Array
    m_assets: Array
    m_liabs: Array
    m_level: Array
    m_shock: Array
    m_hours_liq: Array
    m_hours_call: Array
    m_interest_day: Array
    m_leverage: Array
    m_vol: Array
    m_prob: Array
    m_missing: Array  # bool per holding row
    h_liq_price: Array  # per holding row: the asset's own liquidation price if only it moves
    # futures positions
    f_status: Array
    f_mark: Array
    f_liq: Array
    f_distance: Array
    f_ratio: Array
    f_mm: Array
    f_mmr: Array
    f_cum: Array
    f_upnl: Array
    f_balance: Array
    f_notional: Array
    f_leverage: Array
    f_vol: Array
    f_prob: Array
    f_blind: Array  # bool: unknown because of itself or a cross sibling

    @property
    def worst_code(self) -> int:
        ranks = [s.rank for s in STATUS_BY_CODE]
        codes = np.concatenate([self.m_status, self.f_status])
        if codes.size == 0:
            return _OK
        return int(max(codes, key=lambda c: ranks[c]))

    def to_risk(self, pause: Callable[[], None] | None = None) -> BookRisk:
        """The same records `liqwatch.domain.engine.evaluate_book` returns.

        `pause`: called every `PAUSE_EVERY` records, so a caller in a worker thread can let another thread (the
        GUI's) have the interpreter; it must not change anything this reads.

        This runs in the poller thread for every poll, and its Python time is GIL time the GUI thread waits for:
        the arrays are turned into lists once (NaN tested as `v != v`), and the price-independent identity of
        each row is built once per book and thresholds (`CompiledBook.identities`), which made it ~3× faster."""
        b = self.book
        margin_ids, futures_ids = b.identities(self.limits)
        margin: list[MarginRisk] = []
        m_status = self.m_status.tolist()
        if m_status:
            m_missing = self.m_missing.tolist()
            h_liq = self.h_liq_price.tolist()
            columns = (self.m_assets, self.m_liabs, self.m_level, self.m_shock, self.m_hours_liq,
                       self.m_hours_call, self.m_interest_day, self.m_leverage, self.m_vol, self.m_prob)
            for i, (code, assets, liabs, level, shock, h_liq_i, h_call, interest, leverage, vol, prob) in enumerate(
                    zip(m_status, *(c.tolist() for c in columns), strict=True)):
                if pause is not None and i % PAUSE_EVERY == 0:
                    pause()
                rows = b.h_rows_of[i]
                common = margin_ids[i]
                status = STATUS_BY_CODE[code]
                if status is Status.UNKNOWN:
                    missing = tuple(b.h_asset[r] for r in rows if m_missing[r])
                    margin.append(unknown_account(common, missing))
                    continue
                liq_prices = {b.h_asset[r]: h_liq[r] for r in rows if not b.h_pegged_list[r] and h_liq[r] == h_liq[r]}
                margin.append(MarginRisk(
                    status=status, asset_value=assets, liability_value=liabs, margin_level=_none(level),
                    shock_to_liquidation=_none(shock), liquidation_prices=liq_prices,
                    hours_to_liquidation=_none(h_liq_i), hours_to_margin_call=_none(h_call),
                    interest_per_day=_none(interest), effective_leverage=_none(leverage), volatility=_none(vol),
                    touch_probability=_none(prob), **common,
                ))
        futures: list[FuturesRisk] = []
        f_status = self.f_status.tolist()
        if f_status:
            f_mark = self.f_mark.tolist()
            f_blind = self.f_blind.tolist()
            inverse = b.f_inverse.tolist()
            columns = (self.f_liq, self.f_distance, self.f_ratio, self.f_mm, self.f_mmr, self.f_cum, self.f_upnl,
                       self.f_balance, self.f_notional, self.f_leverage, self.f_vol, self.f_prob)
            for j, (code, mark, blind, liq, distance, ratio, mm, mmr, cum, upnl, balance, notional, leverage, vol,
                    prob) in enumerate(zip(f_status, f_mark, f_blind, *(c.tolist() for c in columns), strict=True)):
                if pause is not None and j % PAUSE_EVERY == 0:
                    pause()
                common = futures_ids[j]
                if blind:
                    siblings = b.f_cross_siblings[j] if b.f_cross[j] else (j,)
                    missing = tuple(b.f_symbol[k] for k in siblings if f_mark[k] != f_mark[k])
                    futures.append(unknown_position(common, _none(mark), missing))
                    continue
                rate = mark if inverse[j] else 1.0
                futures.append(FuturesRisk(
                    status=STATUS_BY_CODE[code], mark_price=mark, liquidation_price=_none(liq),
                    distance=_none(distance), margin_ratio=_none(ratio), maint_margin=mm, maint_margin_rate=mmr,
                    maint_amount=cum, unrealized_pnl=upnl, unrealized_pnl_quote=upnl * rate, margin_balance=balance,
                    notional_quote=notional * rate, effective_leverage=_none(leverage), volatility=_none(vol),
                    touch_probability=_none(prob), **common,
                ))
        return BookRisk(margin=tuple(margin), futures=tuple(futures))


def _key_vols(keys: list[str], vols: Mapping[str, float]) -> Array:
    """Volatility per price key (NaN where unknown or not positive)."""
    out = np.asarray([vols.get(k, np.nan) for k in keys], dtype=float)
    with np.errstate(invalid="ignore"):
        out[~(out > 0)] = np.nan
    return out


def _none(value: float) -> float | None:
    """A Python float from `tolist()`, or None for NaN (NaN is the one value unequal to itself)."""
    return None if value != value else value


class CompiledBook:
    """A portfolio flattened into arrays once; `evaluate(prices)` is then pure array arithmetic."""

    def __init__(self, portfolio: Portfolio) -> None:
        self.portfolio = portfolio
        self._compile_margin(portfolio)
        self._compile_futures(portfolio)
        self.h_pegged_list: list[bool] = self.h_pegged.tolist()  # per-row lookups in `to_risk`
        self._identities: dict[Thresholds, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}

    def identities(self, limits: Thresholds) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The price-independent fields of every margin account's and futures position's record, built once per
        thresholds (they only change with the book, which makes a new `CompiledBook`). Shared, never mutated."""
        cached = self._identities.get(limits)
        if cached is None:
            margin = [account_identity(a, limits) for a in self.portfolio.margin_accounts]
            futures = [position_identity(account, index, limits) for account, index in self.f_origin]
            cached = self._identities[limits] = (margin, futures)
        return cached

    # --- compilation -------------------------------------------------------------------------------------
    def _compile_margin(self, portfolio: Portfolio) -> None:
        acc, asset, total, liab, borrowed, rate, pegged = [], [], [], [], [], [], []
        self.h_rows_of: list[list[int]] = []
        for i, account in enumerate(portfolio.margin_accounts):
            rows = []
            for balance in account.assets:
                rows.append(len(acc))
                acc.append(i)
                asset.append(balance.asset)
                total.append(balance.total)
                liab.append(balance.liability)
                borrowed.append(balance.borrowed)
                rate.append(np.nan if balance.daily_rate is None else balance.daily_rate)
                pegged.append(portfolio.is_pegged(balance.asset))
            self.h_rows_of.append(rows)
        self.n_margin = len(portfolio.margin_accounts)
        self.h_acc = np.asarray(acc, dtype=np.intp)
        self.h_asset = asset
        self.h_total = np.asarray(total, dtype=float)
        self.h_liab = np.asarray(liab, dtype=float)
        self.h_borrowed = np.asarray(borrowed, dtype=float)
        self.h_rate = np.asarray(rate, dtype=float)
        self.h_pegged = np.asarray(pegged, dtype=bool)
        self.m_ll = np.asarray([a.liquidation_level for a in portfolio.margin_accounts], dtype=float)
        self.m_mcl = np.asarray([a.margin_call_level for a in portfolio.margin_accounts], dtype=float)
        self.m_warn = np.asarray([np.nan if a.warning_level is None else a.warning_level
                                  for a in portfolio.margin_accounts], dtype=float)  # NaN: the global threshold

    def _compile_futures(self, portfolio: Portfolio) -> None:
        origin, acc, symbol, base = [], [], [], []
        sign, size, entry, inverse, cross, iso = [], [], [], [], [], []
        own_warning, own_danger = [], []
        bracket_rows = []
        wallets = []
        for a, account in enumerate(portfolio.futures_accounts):
            wallets.append(account.wallet_balance)
            for index, position in enumerate(account.positions):
                origin.append((account, index))
                acc.append(a)
                symbol.append(position.symbol)
                base.append(position.base)
                sign.append(position.sign)
                size.append(position.size)
                entry.append(position.entry_price)
                inverse.append(position.inverse)
                cross.append(position.margin_mode == "cross")
                iso.append(position.isolated_wallet or 0.0)
                own_warning.append(np.nan if position.warning_distance is None else position.warning_distance)
                own_danger.append(np.nan if position.danger_distance is None else position.danger_distance)
                bracket_rows.append(position.brackets)
        n = len(origin)
        k = max((len(b) for b in bracket_rows), default=1)
        floors = np.full((n, k), np.inf)
        mmr = np.zeros((n, k))
        cum = np.zeros((n, k))
        for r, brackets in enumerate(bracket_rows):
            for c, bracket in enumerate(brackets):
                floors[r, c] = bracket.floor
                mmr[r, c] = bracket.maint_margin_rate
                cum[r, c] = bracket.maint_amount
        self.f_origin = origin
        self.n_futures = n
        self.n_futures_accounts = len(portfolio.futures_accounts)
        self.f_acc = np.asarray(acc, dtype=np.intp)
        self.f_symbol = symbol
        self.f_base = base
        self.f_sign = np.asarray(sign, dtype=float)
        self.f_size = np.asarray(size, dtype=float)
        self.f_entry = np.asarray(entry, dtype=float)
        self.f_inverse = np.asarray(inverse, dtype=bool)
        self.f_cross = np.asarray(cross, dtype=bool)
        self.f_iso = np.asarray(iso, dtype=float)
        self.f_warn = np.asarray(own_warning, dtype=float)  # NaN: the global threshold
        self.f_danger = np.asarray(own_danger, dtype=float)
        self.a_wallet = np.asarray(wallets, dtype=float)
        # Bracket tables are stored bracket-major, shape (k, n): a bracket's column for every row is then one
        # contiguous vector, which made the per-bracket passes below ~3× faster than row-major (n, k).
        self.floors, self.mmr, self.cum = floors.T.copy(), mmr.T.copy(), cum.T.copy()
        upper = np.concatenate([floors[:, 1:], np.full((n, 1), np.inf)], axis=1)
        # Per (row, bracket) constants of the liquidation-price fraction LP = (a0 + A) / (b0 + B), where only a0 and
        # b0 change with prices and wallets (linear: A = cum, B = Q·MMR; inverse: A = N·MMR, B = cum), and the price
        # range in which each bracket holds (linear: notional Q·LP in [floor, upper); inverse: coin N/LP in
        # [floor, upper), i.e. LP in (N/upper, N/floor]).
        q = self.f_size[:, None]
        inv = self.f_inverse[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            num_const = np.where(inv, q * mmr, cum)
            den_const = np.where(inv, cum, q * mmr)
            lp_lo = np.where(inv, q / upper, floors / q)
            lp_hi = np.where(inv, np.where(floors > 0, q / floors, np.inf), upper / q)
        self._num_const, self._den_const = num_const.T.copy(), den_const.T.copy()
        self._lp_lo, self._lp_hi = lp_lo.T.copy(), lp_hi.T.copy()
        real = np.isfinite(floors)  # padding columns (floor ∞) can never hold
        self._n_brackets = real.sum(axis=1)
        # the range of A and B over each row's real brackets: `_liquidation_prices` uses it to skip the rows where
        # no bracket can give a positive price (every numerator of one sign, every denominator of the other)
        self._num_min = np.where(real, num_const, np.inf).min(axis=1, initial=np.inf)
        self._num_max = np.where(real, num_const, -np.inf).max(axis=1, initial=-np.inf)
        self._den_min = np.where(real, den_const, np.inf).min(axis=1, initial=np.inf)
        self._den_max = np.where(real, den_const, -np.inf).max(axis=1, initial=-np.inf)
        siblings: dict[int, list[int]] = {}
        for j in range(n):
            if cross[j]:
                siblings.setdefault(acc[j], []).append(j)
        self.f_cross_siblings = [tuple(siblings.get(acc[j], ())) for j in range(n)]
        # price keys: one vector lookup per evaluation
        self.price_keys = sorted(set(symbol) | set(base) | set(asset for asset in self.h_asset))
        index = {key: i for i, key in enumerate(self.price_keys)}
        self.f_sym_idx = np.asarray([index[s] for s in symbol], dtype=np.intp)
        self.f_base_idx = np.asarray([index[b] for b in base], dtype=np.intp)
        self.h_key_idx = np.asarray([index[a] for a in self.h_asset], dtype=np.intp)

    # --- evaluation --------------------------------------------------------------------------------------
    def evaluate(
        self,
        prices: Mapping[str, float],
        thresholds: Thresholds | None = None,
        volatilities: Mapping[str, float] | None = None,
    ) -> BookArrays:
        limits = thresholds or Thresholds()
        present, values = _price_vector(self.price_keys, prices)
        vols = volatilities or {}
        margin = self._evaluate_margin(values, limits, vols)
        futures = self._evaluate_futures(present, values, limits, vols)
        return BookArrays(book=self, limits=limits, **margin, **futures)

    def _evaluate_margin(self, values: Array, limits: Thresholds, vols: Mapping[str, float]) -> dict[str, Array]:
        n = self.n_margin
        price = np.where(self.h_pegged, 1.0, values[self.h_key_idx]) if self.h_acc.size else np.zeros(0)
        held = (self.h_total != 0) | (self.h_liab != 0)
        missing = np.isnan(price) & held
        known = ~np.isnan(price)
        p = np.where(known, price, 0.0)
        value, liab = self.h_total * p, self.h_liab * p
        moving = ~self.h_pegged & known

        def per_account(weights: Array) -> Array:
            return np.bincount(self.h_acc, weights=weights, minlength=n).astype(float)

        blind = per_account(missing.astype(float)) > 0
        a_peg = per_account(np.where(self.h_pegged, value, 0.0))
        l_peg = per_account(np.where(self.h_pegged, liab, 0.0))
        a_mov = per_account(np.where(moving, value, 0.0))
        l_mov = per_account(np.where(moving, liab, 0.0))
        assets, liabs = a_peg + a_mov, l_peg + l_mov
        needs_rate = known & (self.h_borrowed > 0)
        rates_known = per_account((needs_rate & np.isnan(self.h_rate)).astype(float)) == 0
        per_hour = per_account(np.where(needs_rate, self.h_borrowed * np.nan_to_num(self.h_rate) / 24.0 * p, 0.0))

        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            borrowed = liabs != 0
            level = np.where(borrowed, assets / np.where(borrowed, liabs, 1.0), np.inf)
            ll = self.m_ll
            den = a_mov - ll * l_mov
            factor = np.where(den != 0, (ll * l_peg - a_peg) / np.where(den != 0, den, 1.0), np.nan)
            shock = np.where(borrowed & (factor > 0), factor - 1.0, np.nan)
            equity = assets - liabs
            leverage = np.where(equity > 0, assets / equity, np.nan)

            def hours(level_target: Array) -> Array:
                h = np.maximum(0.0, (assets / level_target - liabs) / np.where(per_hour > 0, per_hour, 1.0))
                return np.where(borrowed & rates_known & (per_hour > 0), h, np.nan)

            hours_liq = hours(ll)
            hours_call = hours(self.m_mcl)
            interest_day = np.where(
                rates_known, np.where(borrowed, per_hour * 24.0, 0.0), np.nan
            )

            # per-asset liquidation price if only that asset moves
            acc = self.h_acc
            a_other = assets[acc] - value
            l_other = liabs[acc] - liab
            solo_den = self.h_total - ll[acc] * self.h_liab
            x = (ll[acc] * l_other - a_other) / np.where(solo_den != 0, solo_den, 1.0)
            solo = np.where(moving & (solo_den != 0) & (x > 0) & borrowed[acc], x, np.nan)

        status = np.full(n, _OK, dtype=np.int8)
        status[level <= np.where(np.isnan(self.m_warn), limits.margin_warning_level, self.m_warn)] = _WARNING
        status[level <= self.m_mcl] = _DANGER
        status[level <= ll] = _LIQUIDATION
        status[blind] = _UNKNOWN

        # value-weighted volatility of the non-pegged assets
        gross = np.where(moving, value + liab, 0.0)
        vol_of = _key_vols(self.price_keys, vols)[self.h_key_idx] if self.h_acc.size else np.zeros(0)
        lacks_vol = per_account((moving & (gross > 0) & np.isnan(vol_of)).astype(float)) > 0
        weight = per_account(gross)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            vol = per_account(np.where(gross > 0, np.nan_to_num(vol_of) * gross, 0.0)) / weight
        vol = np.where(~lacks_vol & (weight > 0), vol, np.nan)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            dist = np.abs(np.log(1.0 + shock))
            prob = _touch(dist, vol, limits.horizon_hours)
        prob = np.where(np.isnan(shock), np.where(np.isnan(vol), np.nan, 0.0), prob)
        prob = np.where(status == _LIQUIDATION, 1.0, prob)
        prob = np.where(borrowed, prob, 0.0)
        interest_day = np.where(borrowed, interest_day, 0.0)
        vol = np.where(borrowed, vol, np.nan)
        return {
            "m_status": status,
            "m_assets": assets,
            "m_liabs": liabs,
            "m_level": level,
            "m_shock": shock,
            "m_hours_liq": hours_liq,
            "m_hours_call": hours_call,
            "m_interest_day": interest_day,
            "m_leverage": leverage,
            "m_vol": vol,
            "m_prob": prob,
            "m_missing": missing,
            "h_liq_price": solo,
        }

    def _evaluate_futures(
        self, present: Array, values: Array, limits: Thresholds, vols: Mapping[str, float]
    ) -> dict[str, Array]:
        n = self.n_futures
        sym_present = present[self.f_sym_idx] if n else np.zeros(0, dtype=bool)
        mark = np.where(sym_present, values[self.f_sym_idx], values[self.f_base_idx]) if n else np.zeros(0)
        known = ~np.isnan(mark)
        m = np.where(known, mark, 1.0)
        sign, size, entry, inverse = self.f_sign, self.f_size, self.f_entry, self.f_inverse
        rows = np.arange(n)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            amount = np.where(inverse, size / m, size * m)
            idx = self.bracket_at(amount)
            mm = amount * self.mmr[idx, rows] - self.cum[idx, rows]
            upnl = np.where(inverse, sign * size * (1.0 / entry - 1.0 / m), sign * size * (m - entry))
        mm = np.where(known, mm, 0.0)
        upnl = np.where(known, upnl, 0.0) + 0.0  # never a negative zero

        na = self.n_futures_accounts
        cross_known = self.f_cross & known
        c_upnl = np.bincount(self.f_acc, weights=np.where(cross_known, upnl, 0.0), minlength=na)
        c_mm = np.bincount(self.f_acc, weights=np.where(cross_known, mm, 0.0), minlength=na)
        c_blind = np.bincount(self.f_acc, weights=(self.f_cross & ~known).astype(float), minlength=na) > 0
        blind = ~known | (self.f_cross & c_blind[self.f_acc])
        acc = self.f_acc
        wallet = np.where(
            self.f_cross,
            self.a_wallet[acc] + (c_upnl[acc] - upnl) - (c_mm[acc] - mm),
            self.f_iso,
        )
        balance = np.where(self.f_cross, self.a_wallet[acc] + c_upnl[acc], self.f_iso + upnl)
        ratio_mm = np.where(self.f_cross, c_mm[acc], mm)

        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            a0 = np.where(inverse, sign * size, wallet - sign * size * entry)
            b0 = np.where(inverse, wallet + sign * size / entry, -sign * size)
        liq, chosen = self._liquidation_prices(a0, b0, idx)
        with np.errstate(invalid="ignore"):
            liq[~((liq > 0) & np.isfinite(liq))] = np.nan
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            distance = np.abs(m - liq) / m
            is_crossed = np.where(sign > 0, m <= liq, m >= liq) & ~np.isnan(liq)
            ratio = np.where(balance > 0, ratio_mm / np.where(balance > 0, balance, 1.0), np.nan)
            notional = np.where(inverse, size / m, size * m)
            leverage = np.where(balance > 0, notional / np.where(balance > 0, balance, 1.0), np.nan)
        status = np.full(n, _OK, dtype=np.int8)
        status[distance <= np.where(np.isnan(self.f_warn), limits.futures_warning_distance, self.f_warn)] = _WARNING
        status[distance <= np.where(np.isnan(self.f_danger), limits.futures_danger_distance, self.f_danger)] = _DANGER
        status[is_crossed] = _LIQUIDATION
        status[blind] = _UNKNOWN
        bracket = np.where(np.isnan(liq), idx, chosen)

        vol = _key_vols(self.price_keys, vols)[self.f_base_idx] if n else np.zeros(0)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            has_vol = ~np.isnan(vol)
            prob = np.full(n, np.nan)
            if has_vol.any():
                prob = _touch(np.abs(np.log(liq / m)), vol, limits.horizon_hours)
        prob = np.where(np.isnan(liq), np.where(np.isnan(vol), np.nan, 0.0), prob)
        prob = np.where(is_crossed, 1.0, prob)

        out = {
            "f_liq": liq, "f_distance": distance, "f_ratio": ratio, "f_mm": mm, "f_upnl": upnl,
            "f_balance": balance, "f_notional": notional, "f_leverage": leverage, "f_prob": prob,
        }
        if blind.any():  # usually nothing is blind: then there is nothing to blank (each array is this call's own)
            out = {name: np.where(blind, np.nan, values) for name, values in out.items()}
        nan = np.full(n, np.nan)
        return {
            **out,
            "f_status": status,
            "f_mark": np.where(known, mark, np.nan),
            "f_mmr": self.mmr[bracket, rows] if n else nan,
            "f_cum": self.cum[bracket, rows] if n else nan,
            "f_vol": vol,
            "f_blind": blind,
        }

    def bracket_at(self, amount: Array) -> Array:
        """Index of the bracket holding each row's `amount` (quote notional, or coin quantity for inverse), as
        `liqwatch.domain.futures.bracket_for` picks it; 0 below the first floor and for NaN."""
        return np.maximum((self.floors <= amount).sum(axis=0) - 1, 0)

    def _liquidation_prices(self, a0: Array, b0: Array, at_mark: Array) -> tuple[Array, Array]:
        """(price, bracket) per futures row: the first bracket whose price lies in its own range, as
        `liqwatch.domain.futures.liquidation_price` scans; where none does, the bracket at the mark (`at_mark`).

        Scanning bracket by bracket over the rows still unresolved, instead of computing every (row, bracket)
        price at once, does about a third of the work: most rows resolve in the first two brackets, and rows
        that cannot have a positive price in any bracket (a well-collateralised cross book) are never scanned.
        The arithmetic per element is the same, so the figures are bit-for-bit those of the full matrix."""
        num, den, lo, hi = self._num_const, self._den_const, self._lp_lo, self._lp_hi
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # floating-point addition is monotone, so these bounds hold for every bracket's own sum
            never = (((a0 + self._num_min) >= 0) & ((b0 + self._den_max) <= 0)) | (
                ((a0 + self._num_max) <= 0) & ((b0 + self._den_min) >= 0))
            todo = np.flatnonzero(~never & (self._n_brackets > 0))
            liq = np.empty(a0.size)
            chosen = at_mark.copy()
            resolved = np.zeros(a0.size, dtype=bool)
            for k in range(num.shape[0]):
                if not todo.size:
                    break
                price = (a0[todo] + num[k, todo]) / (b0[todo] + den[k, todo])
                holds = (price > 0) & (price >= lo[k, todo]) & (price < hi[k, todo])
                hit = todo[holds]
                liq[hit] = price[holds]
                chosen[hit] = k
                resolved[hit] = True
                todo = todo[~holds & (self._n_brackets[todo] > k + 1)]
            rest = np.flatnonzero(~resolved)
            fallback = at_mark[rest]
            liq[rest] = (a0[rest] + num[fallback, rest]) / (b0[rest] + den[fallback, rest])
        return liq, chosen
