"""Live prices from an exchange through ccxt's public endpoints (no API key ever passes through here).

Per exchange the feed makes at most one batched call per market type: `fetch_mark_prices` for USDⓈ-M (linear)
and COIN-M (inverse) futures, `fetch_tickers` for the spot pairs of margin holdings. Each of those is a *source*
with its own health and back-off, so a COIN-M outage does not blank USDⓈ-M figures.

Faults, as ccxt 4.5 raises them (binance-risk-notes §4.4): 429/418 → `DDoSProtection`, body -1003 →
`RateLimitExceeded`, 5xx → `ExchangeNotAvailable`/`OperationFailed`, slow → `RequestTimeout` (all *not*
`ExchangeError`); bad symbols and refusals → `ExchangeError`; HTML or truncated JSON bodies → plain Python errors
from the parser, or (during `load_markets`) silently missing markets. All of them become health, never an
exception out of `fetch`, and never a price.
"""

from __future__ import annotations

import copy
import logging
import random
import re
import threading
from dataclasses import dataclass
from typing import Any

from liqwatch.domain.snapshot import FeedHealth, HealthState, Quote
from liqwatch.sources.base import FeedResult, PriceRequest, usable_price

log = logging.getLogger(__name__)

# Credentials never travel through ccxt_config (the settings loader refuses them too).
_SECRET_KEYS = frozenset({"apiKey", "secret", "password", "uid", "privateKey", "walletAddress", "token", "login",
                          "twofa"})
_GROUP_LABEL = {"linear": "USDⓈ-M mark prices", "inverse": "COIN-M mark prices", "spot": "spot tickers"}
_DOWN_AFTER = 5  # consecutive failures after which a source reads "down"

# At most one request in flight per exchange, across every feed object in the process (the poller and a one-shot
# check may coexist; an abandoned hung request still holds its exchange until ccxt's timeout fires).
_INFLIGHT: dict[str, threading.Lock] = {}
_INFLIGHT_GUARD = threading.Lock()


def _inflight_lock(exchange_id: str) -> threading.Lock:
    with _INFLIGHT_GUARD:
        return _INFLIGHT.setdefault(exchange_id, threading.Lock())


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` merged into a copy of `base`, table by table (like ccxt's own `deep_extend`)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _redact(text: str) -> str:
    """Drop credentials a user might have put in a proxy or host URL (`scheme://user:pass@host`)."""
    return re.sub(r"//[^/@\s]+@", "//***@", text)


@dataclass
class _Fault:
    message: str
    retryable: bool = True
    rate_limited: bool = False
    retry_after: float | None = None


@dataclass
class _SourceState:
    failures: int = 0
    next_attempt: float = 0.0
    last_success: float | None = None
    last_fault: _Fault | None = None
    health: FeedHealth | None = None


class CcxtFeed:
    """Mark prices and spot tickers from one ccxt exchange.

    `ccxt_config` (from `Settings.ccxt_config(exchange)`) is deep-merged over LiqWatch's defaults and handed to the
    ccxt constructor: testnets, regional hosts, proxies, and (in tests) a fake server's URLs.
    """

    def __init__(
        self,
        exchange_id: str,
        ccxt_config: dict[str, Any] | None = None,
        *,
        timeout_ms: int = 5000,
        stale_after: float = 15.0,
        base_backoff: float = 1.0,
        max_backoff: float = 60.0,
        seed: int | None = None,
    ) -> None:
        self.name = exchange_id
        self.exchange_id = exchange_id
        self._user_config = {k: v for k, v in (ccxt_config or {}).items() if k not in _SECRET_KEYS}
        self.ccxt_config = dict(self._user_config)  # what other sources of the same exchange reuse (no secrets)
        self.timeout_ms = int(self._user_config.get("timeout", timeout_ms))
        self.stale_after = stale_after
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self._rng = random.Random(seed)
        import ccxt

        if exchange_id not in ccxt.exchanges:
            raise ValueError(f"{exchange_id!r} is not a ccxt exchange id")
        self._exchange: Any = None
        self._last_status: int | None = None
        self._markets_fault: _Fault | None = None
        self._types: tuple[str, ...] = ()
        self._reloaded = False
        self._wanted_types: tuple[str, ...] = ()
        self._sources: dict[str, _SourceState] = {}
        self._closed = False

    # --- ccxt plumbing ------------------------------------------------------------------------------------
    def _make_exchange(self, types: tuple[str, ...]) -> Any:
        import ccxt

        cls = getattr(ccxt, self.exchange_id)
        defaults: dict[str, Any] = {
            "enableRateLimit": True,
            "timeout": self.timeout_ms,
            "options": {"fetchMarkets": {"types": list(types)}, "fetchCurrencies": False},
        }
        config = deep_merge(defaults, self._user_config)
        config["timeout"] = self.timeout_ms
        exchange = cls(config)
        plain = exchange.on_rest_response

        def remember_status(code: Any, reason: Any, *args: Any) -> Any:
            # ccxt keeps the headers of the last response but not its status; fault messages name it
            self._last_status = code if isinstance(code, int) else None
            return plain(code, reason, *args)

        exchange.on_rest_response = remember_status
        return exchange

    def _ensure_exchange(self, types: tuple[str, ...]) -> Any:
        if self._exchange is None or not set(types) <= set(self._types):
            self._close_exchange()
            self._types = tuple(sorted(set(types) | set(self._types)))
            self._exchange = self._make_exchange(self._types)
        return self._exchange

    def _load_markets(self, exchange: Any, group: str) -> None:
        """Load (or, when a needed market type is missing, reload once per fetch) and check the market list."""
        if self._markets_fault is not None:  # already failed during this fetch: do not wait for it again
            raise _BadMarketsError(self._markets_fault.message)
        markets = exchange.markets
        incomplete = bool(markets) and not all(_has_type(markets, g) for g in self._wanted_types)
        if not markets or (incomplete and not self._reloaded):
            markets = exchange.load_markets(reload=bool(markets))
            self._reloaded = True
        if not _has_type(markets or {}, group):
            # binance parses an HTML page (HTTP 200) as "no markets" without raising: never read that as
            # "this symbol does not exist"
            raise _BadMarketsError(f"market list for {_GROUP_LABEL[group].split()[0]} came back empty "
                                   "(not JSON? an HTML page?)")

    def _close_exchange(self) -> None:
        exchange, self._exchange = self._exchange, None
        session = getattr(exchange, "session", None)
        if session is not None:
            try:
                session.close()
            except Exception:  # closing is best effort
                log.debug("closing the ccxt session failed", exc_info=True)

    def close(self) -> None:
        """Release the HTTP session; a request still in flight finishes (or times out) on its own."""
        self._closed = True
        lock = _inflight_lock(self.exchange_id)
        if lock.acquire(blocking=False):
            try:
                self._close_exchange()
            finally:
                lock.release()

    # --- fetching ------------------------------------------------------------------------------------------
    def fetch(self, request: PriceRequest, now: float) -> FeedResult:
        groups: dict[str, tuple[str, ...]] = {
            kind: symbols for kind, symbols in request.futures.get(self.exchange_id, {}).items() if symbols
        }
        assets = request.spot.get(self.exchange_id, ())
        if assets:
            groups["spot"] = assets
        quotes: dict[str, Quote] = {}
        health: list[FeedHealth] = []
        rate_limited = False
        waits: list[float] = []
        lock = _inflight_lock(self.exchange_id)
        if not lock.acquire(blocking=False):
            for group in groups:
                state = self._sources.setdefault(group, _SourceState())
                fault = _Fault("the previous request has not returned yet")
                health.append(self._health(group, state, now, fault, failed=False))
            return FeedResult(quotes, tuple(health), retry_after=self.timeout_ms / 1000, rate_limited=False)
        try:
            self._closed = False
            self._markets_fault = None
            self._reloaded = False
            self._wanted_types = tuple(sorted(groups))
            for group, wanted in groups.items():
                state = self._sources.setdefault(group, _SourceState())
                if now < state.next_attempt:
                    health.append(self._health(group, state, now, state.last_fault, failed=False))
                    waits.append(state.next_attempt - now)
                    continue
                got, missing, fault = self._fetch_group(group, wanted, request, now)
                quotes.update(got)
                if fault is None:
                    state.failures = 0
                    state.next_attempt = 0.0
                    state.last_success = now
                    state.last_fault = None
                    health.append(self._ok_health(group, state, missing))
                    continue
                state.failures += 1
                delay = min(self.max_backoff, self.base_backoff * 2 ** (state.failures - 1))
                delay *= 0.5 + 0.5 * self._rng.random()
                if fault.retry_after is not None:
                    delay = max(delay, fault.retry_after)
                if not fault.retryable:
                    delay = max(delay, min(self.max_backoff, 30.0))
                state.next_attempt = now + delay
                state.last_fault = fault
                rate_limited = rate_limited or fault.rate_limited
                waits.append(delay)
                health.append(self._health(group, state, now, fault, failed=True))
        finally:
            lock.release()
        return FeedResult(quotes, tuple(health), retry_after=min(waits) if waits else None,
                          rate_limited=rate_limited)

    def next_attempt(self) -> float:
        """Earliest time any failing source will be tried again (0 if none is backing off)."""
        return max((s.next_attempt for s in self._sources.values()), default=0.0)

    def _ready_exchange(self, group: str) -> Any:
        """The ccxt exchange with its markets loaded (raises what ccxt raises; see `_fault_of`)."""
        self._last_status = None
        exchange = self._ensure_exchange(self._wanted_types)
        self._load_markets(exchange, group)
        return exchange

    def _fault_of(self, exc: Exception, group: str) -> _Fault:
        """What a failed batch means for its source; a failure while loading markets is remembered as such."""
        if isinstance(exc, _BadMarketsError):
            return _Fault(str(exc))
        fault = self._classify(exc, group)
        if self._exchange is not None and not getattr(self._exchange, "markets", None):
            self._markets_fault = fault
        return fault

    def _fetch_group(
        self, group: str, wanted: tuple[str, ...], request: PriceRequest, now: float
    ) -> tuple[dict[str, Quote], list[str], _Fault | None]:
        try:
            exchange = self._ready_exchange(group)
            if group == "spot":
                pairs = {request.spot_pair(asset): asset for asset in wanted}
                known = [p for p in pairs if p in exchange.markets]
                tickers = exchange.fetch_tickers(known, {"type": "spot"}) if known else {}
                keyed = {pairs[p]: (p, t) for p, t in tickers.items() if p in pairs}
                field, kind = "last", "last"
            else:
                known = [s for s in wanted if s in exchange.markets]
                tickers = exchange.fetch_mark_prices(known, {"subType": group}) if known else {}
                keyed = {s: (s, t) for s, t in tickers.items() if s in wanted}
                field, kind = "markPrice", "mark"
            if not isinstance(tickers, dict):
                raise TypeError(f"expected a ticker table, got {type(tickers).__name__}")
        except Exception as exc:
            return {}, [], self._fault_of(exc, group)
        quotes: dict[str, Quote] = {}
        refused: list[str] = []
        for key in wanted:
            entry = keyed.get(key)
            if entry is None:
                listed = (request.spot_pair(key) if group == "spot" else key) in exchange.markets
                refused.append(f"{key} ({'not quoted' if listed else 'not listed'})")
                continue
            _, ticker = entry
            raw = ticker.get(field)
            price = usable_price(raw)
            if price is None:
                refused.append(f"{key} (price {ticker.get('info', {}).get(_raw_field(group), raw)!r})")
                continue
            stamp = ticker.get("timestamp")
            exchange_time = stamp / 1000.0 if isinstance(stamp, int | float) and stamp > 0 else None
            if exchange_time is not None and exchange_time > now:
                exchange_time = now  # a clock ahead of ours must not make a quote look younger than it is
            quotes[key] = Quote(key, price, kind, f"{self.exchange_id}:{group}", now,  # type: ignore[arg-type]
                                exchange_time)
        return quotes, refused, None

    def _classify(self, exc: Exception, group: str) -> _Fault:
        """Turn what ccxt raised into a fault the user can read (the two ccxt families are disjoint)."""
        import ccxt

        status = f"HTTP {self._last_status}" if self._last_status and self._last_status >= 400 else None
        if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
            retry_after = _retry_after(self._exchange)
            hint = f", Retry-After {retry_after:g} s" if retry_after is not None else ""
            return _Fault(f"rate limited ({status or _status_of(exc)}{hint})", rate_limited=True,
                          retry_after=retry_after)
        if isinstance(exc, ccxt.RequestTimeout):
            return _Fault(f"no answer within {self.timeout_ms} ms (timeout)")
        if isinstance(exc, ccxt.ExchangeNotAvailable):
            return _Fault(f"exchange unavailable ({status or _status_of(exc)})")
        if isinstance(exc, ccxt.NetworkError):
            return _Fault(f"network error ({status or _short(exc)})")
        if isinstance(exc, ccxt.ExchangeError):
            return _Fault(f"exchange refused the request ({status or _short(exc)})", retryable=False)
        if isinstance(exc, ccxt.BaseError):  # OperationFailed, BadResponse, …: server-side trouble, retry
            return _Fault(f"server error ({status or _short(exc)})")
        if isinstance(exc, ValueError | TypeError | AttributeError | KeyError | IndexError):
            # ccxt fed an HTML page or truncated JSON to its parser
            log.info("%s %s: unreadable response: %r", self.exchange_id, group, exc)
            return _Fault("unreadable response (not the JSON expected: an HTML page or a cut-off body)")
        log.exception("%s %s: unexpected error while fetching prices", self.exchange_id, group)
        return _Fault(f"unexpected error ({type(exc).__name__})")

    # --- health --------------------------------------------------------------------------------------------
    def _label(self, group: str) -> str:
        return f"{self.exchange_id} {_GROUP_LABEL[group]}"

    def _ok_health(self, group: str, state: _SourceState, refused: list[str]) -> FeedHealth:
        source = f"{self.exchange_id}:{group}"
        if refused:
            message = f"{self._label(group)}: no usable price for " + ", ".join(refused)
            return FeedHealth(source, "stale", message, state.last_success, 0)
        return FeedHealth(source, "ok", "", state.last_success, 0)

    def _health(self, group: str, state: _SourceState, now: float, fault: _Fault | None,
                failed: bool) -> FeedHealth:
        source = f"{self.exchange_id}:{group}"
        if fault is None:
            return state.health or FeedHealth(source, "ok", "", state.last_success, state.failures)
        wait = max(0.0, state.next_attempt - now)
        retry = f"; next try in {wait:.1f} s" if wait > 0 else ""
        stale = state.last_success is None or now - state.last_success > self.stale_after
        status: HealthState
        if state.failures >= _DOWN_AFTER or not fault.retryable:
            status = "down"
        elif stale and state.failures > 1:
            status = "stale"
        else:
            status = "retrying"
        message = _redact(f"{self._label(group)}: {fault.message}{retry}")
        health = FeedHealth(source, status, message, state.last_success, state.failures)
        state.health = health
        return health


class _BadMarketsError(Exception):
    pass


def _has_type(markets: dict[str, Any], group: str) -> bool:
    return any(m.get(group) for m in markets.values())


def _raw_field(group: str) -> str:
    return "lastPrice" if group == "spot" else "markPrice"


def _retry_after(exchange: Any) -> float | None:
    headers = getattr(exchange, "last_response_headers", None) or {}
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _status_of(exc: Exception) -> str:
    match = re.search(r"\b(4\d\d|5\d\d)\b", str(exc))
    if match:
        return f"HTTP {match.group(1)}"
    code = re.search(r'"code":\s*(-?\d+)', str(exc))
    return f"code {code.group(1)}" if code else type(exc).__name__


def _short(exc: Exception) -> str:
    text = _redact(" ".join(str(exc).split()))
    return (text[:160] + "…") if len(text) > 160 else text or type(exc).__name__
