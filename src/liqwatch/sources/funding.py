"""Funding rates of the book's perpetuals: from an exchange through ccxt, or simulated for the demo feed.

Why a separate, slower source: rates change once per funding interval (8 h on most Binance perpetuals), so asking
every price poll wastes request weight; `Settings.funding_interval` (60 s) is plenty to show the current rate and
the next funding time.

`FundingFetcher` is a `CcxtFeed` whose per-market-type fetch asks `fetch_funding_rates` instead of
`fetch_mark_prices`: the same one-request-in-flight rule, back-off with jitter, Retry-After, fault classification
and health messages as the price feeds (one source per exchange and market type: `binance:funding:linear`,
`binance:funding:inverse`). From ccxt's funding-rate structure it reads `fundingRate` (Binance `lastFundingRate`),
`fundingTimestamp` (`nextFundingTime`) and `interval`; premiumIndex carries no interval, so it comes from
`fetch_funding_intervals` where the exchange has it (Binance lists only symbols whose interval differs from its
default), refreshed hourly, else 8 h is assumed and marked so. A missing or unreadable rate is None, never 0.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from liqwatch.domain.funding import DEFAULT_INTERVAL_HOURS, FundingInfo
from liqwatch.domain.model import Portfolio
from liqwatch.domain.snapshot import FeedHealth, Quote
from liqwatch.sources.base import PriceRequest, all_on, price_request, usable_price
from liqwatch.sources.ccxt_feed import CcxtFeed, _Fault
from liqwatch.store.settings import Settings

log = logging.getLogger(__name__)

INTERVALS_REFRESH = 3600.0  # seconds between fetch_funding_intervals calls (intervals change rarely)
_GROUP_NAME = {"linear": "USDⓈ-M", "inverse": "COIN-M"}


def funding_request(request: PriceRequest) -> PriceRequest:
    """Only the futures part of a price request: spot pairs have no funding."""
    return PriceRequest(quote=request.quote, futures=request.futures, spot={})


def parse_interval_hours(value: Any) -> float | None:
    """ccxt's `interval` ("8h", "4h", "1h", or a number of hours) as hours; None if absent or unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        hours = float(value)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(h|m)?\s*", str(value))
        if match is None:
            return None
        hours = float(match.group(1)) / (60.0 if match.group(2) == "m" else 1.0)
    return hours if math.isfinite(hours) and hours > 0 else None


def funding_info(symbol: str, raw: Mapping[str, Any], source: str, now: float,
                 interval_hours: float | None = None) -> FundingInfo:
    """A `FundingInfo` from one ccxt funding-rate structure (unknown fields stay None, never 0)."""
    rate = raw.get("fundingRate")
    usable = (float(rate) if isinstance(rate, int | float) and not isinstance(rate, bool) and math.isfinite(rate)
              else None)
    stamp = raw.get("fundingTimestamp")
    next_time = stamp / 1000.0 if isinstance(stamp, int | float) and not isinstance(stamp, bool) and stamp > 0 \
        else None
    hours = interval_hours if interval_hours is not None else parse_interval_hours(raw.get("interval"))
    return FundingInfo(
        symbol=symbol,
        rate=usable,
        interval_hours=hours if hours is not None else DEFAULT_INTERVAL_HOURS,
        next_time=next_time,
        source=source,
        mark=usable_price(raw.get("markPrice")),
        interval_assumed=hours is None,
        received_time=now,
    )


class FundingFetcher(CcxtFeed):
    """Funding rates from one ccxt exchange, fetched at most every `interval` seconds per market type.

    `poll(request, now)` returns every rate known so far (older ones keep their `received_time`, so consumers can
    mark them stale) and the health of each funding source. It never raises for exchange faults.
    """

    def __init__(
        self,
        exchange_id: str,
        ccxt_config: dict[str, Any] | None = None,
        *,
        interval: float = 60.0,
        timeout_ms: int = 5000,
        stale_after: float | None = None,
        base_backoff: float = 1.0,
        max_backoff: float = 60.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(exchange_id, ccxt_config, timeout_ms=timeout_ms,
                         stale_after=stale_after if stale_after is not None else 3 * interval,
                         base_backoff=base_backoff, max_backoff=max_backoff, seed=seed)
        self.name = f"{exchange_id} funding"
        self.interval = interval
        self._infos: dict[str, FundingInfo] = {}
        self._intervals: dict[str, float] = {}  # symbol → hours reported by fetch_funding_intervals
        self._intervals_at: dict[str, float] = {}  # market type → when they were last fetched
        self._fetched_at: dict[str, float] = {}  # market type → last successful rates fetch
        self._health_by_group: dict[str, FeedHealth] = {}

    # --- the schedule -------------------------------------------------------------------------------------
    def due(self, request: PriceRequest, now: float) -> bool:
        return bool(self._due_groups(request, now))

    def _due_groups(self, request: PriceRequest, now: float) -> dict[str, tuple[str, ...]]:
        groups = request.futures.get(self.exchange_id, {})
        return {
            kind: symbols for kind, symbols in groups.items()
            if symbols and (kind not in self._fetched_at or now - self._fetched_at[kind] >= self.interval)
        }

    def poll(self, request: PriceRequest, now: float) -> tuple[dict[str, FundingInfo], tuple[FeedHealth, ...]]:
        """Fetch the market types that are due (back-off permitting); return all rates known and their health."""
        due = self._due_groups(request, now)
        if due:
            result = self.fetch(PriceRequest(quote=request.quote, futures={self.exchange_id: due}), now)
            for health in result.health:
                group = health.source.rsplit(":", 1)[-1]
                if health.failures == 0 and health.last_success == now:  # fetched now (rates may be partial)
                    self._fetched_at[group] = now
                self._health_by_group[group] = dataclasses.replace(
                    health, source=f"{self.exchange_id}:funding:{group}")
        wanted = {s for symbols in request.futures.get(self.exchange_id, {}).values() for s in symbols}
        infos = {s: info for s, info in self._infos.items() if s in wanted}
        groups = request.futures.get(self.exchange_id, {})
        health = tuple(self._health_by_group[g] for g in groups if g in self._health_by_group)
        return infos, health

    # --- CcxtFeed hooks -----------------------------------------------------------------------------------
    def _label(self, group: str) -> str:
        return f"{self.exchange_id} {_GROUP_NAME.get(group, group)} funding rates"

    def _ok_health(self, group: str, state: Any, refused: list[str]) -> FeedHealth:
        health = super()._ok_health(group, state, refused)
        return dataclasses.replace(health, message=health.message.replace("no usable price", "no usable rate"))

    def _fetch_group(
        self, group: str, wanted: tuple[str, ...], request: PriceRequest, now: float
    ) -> tuple[dict[str, Quote], list[str], _Fault | None]:
        try:
            exchange = self._ready_exchange(group)
            known = [s for s in wanted if s in exchange.markets]
            rates = self._fetch_rates(exchange, group, known) if known else {}
            if not isinstance(rates, dict):
                raise TypeError(f"expected a funding-rate table, got {type(rates).__name__}")
        except Exception as exc:
            return {}, [], self._fault_of(exc, group)
        if known and not rates:
            # ccxt parses an HTML page or a cut-off body into an empty table: a fault, not "no funding"
            return {}, [], _Fault("no funding rows in the answer (not the JSON expected: an HTML page or a "
                                  "cut-off body?)")
        if known:
            self._refresh_intervals(exchange, group, known, now)
        refused: list[str] = []
        source = f"{self.exchange_id}:{group}"
        for symbol in wanted:
            raw = rates.get(symbol)
            if not isinstance(raw, dict):
                refused.append(f"{symbol} ({'no funding rate' if symbol in exchange.markets else 'not listed'})")
                continue
            info = funding_info(symbol, raw, source, now, self._intervals.get(symbol))
            if info.rate is None:
                shown = (raw.get("info") or {}).get("lastFundingRate", raw.get("fundingRate"))
                refused.append(f"{symbol} (rate {shown!r})")
            self._infos[symbol] = info
        return {}, refused, None

    def _fetch_rates(self, exchange: Any, group: str, symbols: list[str]) -> dict[str, Any]:
        params = {"subType": group}
        if exchange.has.get("fetchFundingRates"):
            return exchange.fetch_funding_rates(symbols, params)
        if exchange.has.get("fetchFundingRate"):
            return {s: exchange.fetch_funding_rate(s, params) for s in symbols}
        import ccxt

        raise ccxt.NotSupported(f"{self.exchange_id} does not publish funding rates through ccxt")

    def _refresh_intervals(self, exchange: Any, group: str, symbols: list[str], now: float) -> None:
        """Best effort: a failure here keeps the intervals known so far (else 8 h assumed), never fails the rates."""
        if not exchange.has.get("fetchFundingIntervals"):
            return
        last = self._intervals_at.get(group)
        if last is not None and now - last < INTERVALS_REFRESH:
            return
        self._intervals_at[group] = now
        try:
            table = exchange.fetch_funding_intervals(symbols, {"subType": group})
        except Exception as exc:  # any fault: keep what we had
            log.info("%s %s: funding intervals unavailable: %s", self.exchange_id, group, type(exc).__name__)
            return
        if not isinstance(table, dict):
            return
        for symbol, raw in table.items():
            hours = parse_interval_hours(raw.get("interval")) if isinstance(raw, dict) else None
            if hours is not None:
                self._intervals[symbol] = hours


# --- the demo feed ---------------------------------------------------------------------------------------------

SIMULATED_INTERVAL_HOURS = 8.0


def simulated_rate(symbol: str, slot: int, seed: int = 7) -> float:
    """A deterministic, plausible funding rate per symbol and funding period: mostly slightly positive (longs pay),
    now and then negative, in steps of 0.0001 %; the same seed, symbol and period always give the same rate."""
    digest = zlib.crc32(f"{seed}:{symbol}:{slot}".encode())
    base = zlib.crc32(f"{seed}:{symbol}".encode()) % 21 - 5  # −5 … +15 → −0.005 % … +0.015 % typical level
    wobble = digest % 11 - 5  # −5 … +5 → ±0.005 % from period to period
    return round(((base + wobble) or 1) * 1e-5, 8)  # never exactly 0: the demo should show a cost


def simulated_funding(symbols: Iterable[str], now: float, seed: int = 7) -> dict[str, FundingInfo]:
    """Simulated funding for the demo feed: 8 h periods aligned on 00:00/08:00/16:00 UTC like Binance."""
    period = SIMULATED_INTERVAL_HOURS * 3600.0
    slot = int(now // period)
    return {
        symbol: FundingInfo(
            symbol=symbol,
            rate=simulated_rate(symbol, slot, seed),
            interval_hours=SIMULATED_INTERVAL_HOURS,
            next_time=(slot + 1) * period,
            source="demo (simulated)",
            received_time=now,
        )
        for symbol in symbols
    }


class SimulatedFunding:
    """The demo feed's funding source, with the same `poll` shape as `FundingFetcher`."""

    name = "demo funding"

    def __init__(self, seed: int = 7) -> None:
        self.seed = int(seed)

    def poll(self, request: PriceRequest, now: float) -> tuple[dict[str, FundingInfo], tuple[FeedHealth, ...]]:
        symbols = {s for groups in request.futures.values() for ss in groups.values() for s in ss}
        return simulated_funding(sorted(symbols), now, self.seed), (FeedHealth("demo:funding", "ok", "", now, 0),)

    def close(self) -> None:
        pass


# --- one-shot, for `liqwatch check` ----------------------------------------------------------------------------

ONESHOT_DEADLINE = 15.0
ONESHOT_TIMEOUT_MS = 8000


def check_funding(
    portfolio: Portfolio,
    prices_from: str | None,
    settings: Settings,
    manual: Iterable[tuple[str, float]] = (),
    now: float | None = None,
    *,
    deadline: float = ONESHOT_DEADLINE,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, FundingInfo], list[FeedHealth]]:
    """Funding rates for one `liqwatch check` run: simulated for 'demo', fetched once (retried with back-off for at
    most `deadline` seconds) for an exchange, then overridden by `--funding-rate SYMBOL=RATE`. A rate that could
    not be had is simply absent (the figures show it as unknown); a failure is reported as health, never raised."""
    now = clock() if now is None else now
    infos: dict[str, FundingInfo] = {}
    health: list[FeedHealth] = []
    source = (prices_from or "").strip()
    if source == "demo":
        symbols = sorted({p.symbol for a in portfolio.futures_accounts for p in a.positions})
        infos.update(simulated_funding(symbols, now, settings.simulation_seed))
    elif source:
        got, health = _fetch_funding_once(portfolio, source.lower(), settings, deadline, clock, sleep)
        infos.update(got)
    for symbol, rate in manual:
        infos[symbol] = FundingInfo(symbol, rate, DEFAULT_INTERVAL_HOURS, None, "command line",
                                    interval_assumed=True, received_time=now)
    return infos, health


def _fetch_funding_once(
    portfolio: Portfolio, exchange_id: str, settings: Settings, deadline: float,
    clock: Callable[[], float], sleep: Callable[[float], None],
) -> tuple[dict[str, FundingInfo], list[FeedHealth]]:
    request = funding_request(all_on(price_request(portfolio, exchange_id), exchange_id))
    if request.is_empty:
        return {}, []
    config = settings.ccxt_config(exchange_id)
    timeout_ms = int(config.get("timeout", ONESHOT_TIMEOUT_MS))
    try:
        fetcher = FundingFetcher(exchange_id, config, interval=math.inf, timeout_ms=timeout_ms,
                                 stale_after=deadline)
    except ValueError as exc:
        return {}, [FeedHealth(f"{exchange_id}:funding", "down", f"funding rates: {exc}")]
    groups = len(request.futures.get(exchange_id, {}))
    start = clock()
    try:
        while True:
            infos, health = fetcher.poll(request, clock())
            failing = [h for h in health if h.failures > 0]
            wait = max(0.0, fetcher.next_attempt() - clock())
            if not failing or any(h.state == "down" for h in failing) or (
                clock() + wait + groups * timeout_ms / 1000.0 > start + deadline
            ):
                return infos, list(health)
            sleep(wait)
    finally:
        fetcher.close()
