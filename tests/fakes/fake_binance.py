"""A fake Binance on 127.0.0.1: a real HTTP server answering Binance-shaped JSON, with fault injection.

Tests point ccxt at it through `ccxt_config` URL overrides (`server.ccxt_config()`), so ccxt's real request,
error-mapping and parsing code runs; nothing in ccxt is mocked. Other test suites add endpoints without editing
this file through `add_route`, e.g.::

    def account(query, headers):
        return 200, {"marginLevel": "2.5", "userAssets": []}, {}
    server.add_route("GET", "/sapi/v1/margin/account", account)

Prices are set at run time with `set_price` (unified keys: "BTC/USDT:USDT", "BTC/USD:BTC", or a spot asset
"BTC" priced through BTCUSDT); a price may be any string ("0", "NaN") to test how bad values are refused.
Faults are injected per path with `inject(path, Fault(...))`.

Use it as a context manager (`with FakeBinance() as server:`) or through the `fake_binance` pytest fixture:
import it into your test folder's conftest.py (`from tests.fakes.fake_binance import fake_binance  # noqa: F401`);
importing it into a test module makes ruff report F811 where a test takes it as an argument.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

Body = Any  # dict/list → JSON; str/bytes → sent as they are
Response = tuple[int, Body, Mapping[str, str]]
Handler = Callable[[dict[str, str], Mapping[str, str]], Response]

# ccxt's binance `urls.api` names → path prefix on this server.
API_PREFIXES = {
    "public": "/api/v3",
    "private": "/api/v3",
    "v1": "/api/v1",
    "sapi": "/sapi/v1",
    "sapiV2": "/sapi/v2",
    "sapiV3": "/sapi/v3",
    "sapiV4": "/sapi/v4",
    "fapiPublic": "/fapi/v1",
    "fapiPublicV2": "/fapi/v2",
    "fapiPublicV3": "/fapi/v3",
    "fapiPrivate": "/fapi/v1",
    "fapiPrivateV2": "/fapi/v2",
    "fapiPrivateV3": "/fapi/v3",
    "fapiData": "/futures/data",
    "dapiPublic": "/dapi/v1",
    "dapiPrivate": "/dapi/v1",
    "dapiPrivateV2": "/dapi/v2",
    "dapiData": "/futures/data",
    "papi": "/papi/v1",
    "papiV2": "/papi/v2",
    "eapiPublic": "/eapi/v1",
    "eapiPrivate": "/eapi/v1",
}

DEFAULT_PRICES: dict[str, str] = {
    "BTC/USDT:USDT": "60010",
    "ETH/USDT:USDT": "3001",
    "SOL/USDT:USDT": "150.1",
    "BTC/USD:BTC": "60020",
    "ETH/USD:ETH": "3002",
    "BTC": "60000",
    "ETH": "3000",
    "SOL": "150",
    "BNB": "550",
}


@dataclass
class Fault:
    """What to do to requests on one path. `times`: how many requests it affects (None: until cleared).

    - `latency`: seconds added before answering;
    - `hang`: never answer (until the fault is cleared or the server stops) — the client must time out;
    - `status` (+ `retry_after`, `body`): answer with that HTTP status, e.g. 429, 418, 500, 503;
    - `malformed`: HTTP 200 with a truncated JSON body; `html`: HTTP 200 with an HTML page (a captive portal,
      a CDN error page).
    """

    latency: float = 0.0
    hang: bool = False
    status: int | None = None
    retry_after: float | None = None
    body: Body = None
    malformed: bool = False
    html: bool = False
    times: int | None = None


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    time: float


@dataclass
class _Market:
    kind: str  # linear | inverse | spot
    id: str
    base: str
    quote: str
    settle: str | None = None
    contract_size: float = 1.0


def _market_for(key: str) -> _Market:
    """Binance market for a unified key: "A/Q:Q" linear, "A/USD:A" inverse perpetual, asset "A" → AUSDT spot."""
    if "/" not in key:
        return _Market("spot", f"{key}USDT", key, "USDT")
    pair, _, settle = key.partition(":")
    base, _, quote = pair.partition("/")
    if settle and settle == base:
        return _Market("inverse", f"{base}{quote}_PERP", base, quote, settle, 100.0 if base == "BTC" else 10.0)
    if settle:
        return _Market("linear", f"{base}{quote}", base, quote, settle)
    return _Market("spot", f"{base}{quote}", base, quote)


class FakeBinance:
    """The server. Thread-safe: tests change prices and faults while ccxt talks to it from other threads."""

    def __init__(self, prices: Mapping[str, str | float] | None = None) -> None:
        self._lock = threading.Lock()
        self._markets: dict[str, _Market] = {}
        self._prices: dict[str, str] = {}
        self._dropped: set[str] = set()
        self._faults: dict[str, Fault] = {}
        self._routes: dict[tuple[str, str], Handler] = {}
        self._log: list[LoggedRequest] = []
        self._release = threading.Event()  # set on stop: hanging requests return
        self.funding: dict[str, dict[str, Any]] = {}  # binance id → premiumIndex field overrides
        for key, price in (prices or DEFAULT_PRICES).items():
            self.set_price(key, price)
        self._install_default_routes()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> FakeBinance:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._handle(self, "GET")

            def do_POST(self) -> None:
                server._handle(self, "POST")

            def do_DELETE(self) -> None:
                server._handle(self, "DELETE")

            def do_PUT(self) -> None:
                server._handle(self, "PUT")

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._release.clear()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-binance", daemon=False)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeBinance:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def ccxt_config(self) -> dict[str, Any]:
        """`urls.api` overrides for every Binance API name, for `ccxt.binance(config)` or `ccxt_config`."""
        return {"urls": {"api": {name: self.base_url + prefix for name, prefix in API_PREFIXES.items()}}}

    # --- state --------------------------------------------------------------------------------------------
    def set_price(self, key: str, price: str | float) -> None:
        """Set a mark (futures key) or last price (spot asset or "A/Q" pair); adds the market if new."""
        market = _market_for(key)
        with self._lock:
            self._markets[market.id + ":" + market.kind] = market
            self._prices[market.id + ":" + market.kind] = str(price)
            self._dropped.discard(market.id + ":" + market.kind)

    def drop_symbol(self, key: str) -> None:
        """The market stays listed but its price rows disappear from price endpoints (a missing symbol)."""
        market = _market_for(key)
        with self._lock:
            self._dropped.add(market.id + ":" + market.kind)

    def restore_symbol(self, key: str) -> None:
        market = _market_for(key)
        with self._lock:
            self._dropped.discard(market.id + ":" + market.kind)

    def inject(self, path: str, fault: Fault) -> None:
        with self._lock:
            self._faults[path] = fault

    def clear_faults(self, path: str | None = None) -> None:
        with self._lock:
            if path is None:
                self._faults.clear()
            else:
                self._faults.pop(path, None)

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        """Answer `method path` with `handler(query, headers) -> (status, body, headers)`; replaces a route."""
        with self._lock:
            self._routes[(method.upper(), path)] = handler

    def requests(self, path: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self._log if path is None or r.path == path]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # --- HTTP ---------------------------------------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(request.headers.get("Content-Length") or 0)
        if length:
            query.update(parse_qsl(request.rfile.read(length).decode("utf-8", "replace")))
        with self._lock:
            self._log.append(LoggedRequest(method, parts.path, query, time.time()))
            fault = self._faults.get(parts.path)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.pop(parts.path, None)
            handler = self._routes.get((method, parts.path))
        try:
            status, body, headers = self._respond(parts.path, method, query, request.headers, fault, handler)
            if status == 0:  # hang ended by stop(): drop the connection
                request.close_connection = True
                return
            self._send(request, status, body, headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); nothing to answer

    def _respond(self, path: str, method: str, query: dict[str, str], headers: Mapping[str, str],
                 fault: Fault | None, handler: Handler | None) -> Response:
        if fault is not None:
            if fault.latency:
                self._release.wait(fault.latency)
            if fault.hang:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not self._release.is_set():
                    with self._lock:
                        if self._faults.get(path) is not fault:
                            break
                    self._release.wait(0.05)
                if self._release.is_set():
                    return 0, None, {}
            if fault.status is not None:
                extra = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
                body = fault.body if fault.body is not None else {
                    "code": -1003 if fault.status in (418, 429) else -1001,
                    "msg": f"injected HTTP {fault.status}",
                }
                return fault.status, body, extra
            if fault.malformed:
                return 200, '{"symbol": "BTCUSDT", "markPrice": "600', {}
            if fault.html:
                return 200, "<html><head><title>Maintenance</title></head><body>Be right back</body></html>", {
                    "Content-Type": "text/html"}
            if fault.body is not None:
                return 200, fault.body, {}
        if handler is None:
            return 404, {"code": -5000, "msg": f"no route {method} {path}"}, {}
        return handler(query, headers)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: Body, headers: Mapping[str, str]) -> None:
        if isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = json.dumps(body).encode()
        request.send_response(status)
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "application/json")
        request.send_header("Content-Type", content_type)
        for name, value in headers.items():
            if name.lower() != "content-type":
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    # --- default Binance endpoints ------------------------------------------------------------------------
    def _install_default_routes(self) -> None:
        self.add_route("GET", "/fapi/v1/exchangeInfo", lambda q, h: (200, self._exchange_info("linear"), {}))
        self.add_route("GET", "/dapi/v1/exchangeInfo", lambda q, h: (200, self._exchange_info("inverse"), {}))
        self.add_route("GET", "/api/v3/exchangeInfo", lambda q, h: (200, self._exchange_info("spot"), {}))
        self.add_route("GET", "/fapi/v1/premiumIndex", lambda q, h: self._premium_index("linear", q))
        self.add_route("GET", "/dapi/v1/premiumIndex", lambda q, h: self._premium_index("inverse", q))
        self.add_route("GET", "/api/v3/ticker/price", lambda q, h: self._ticker_price(q))
        self.add_route("GET", "/api/v3/ticker/24hr", lambda q, h: self._ticker_24hr(q))
        self.add_route("GET", "/api/v3/time", lambda q, h: (200, {"serverTime": _ms()}, {}))
        self.add_route("GET", "/fapi/v1/time", lambda q, h: (200, {"serverTime": _ms()}, {}))
        self.add_route("GET", "/dapi/v1/time", lambda q, h: (200, {"serverTime": _ms()}, {}))

    def _rows(self, kind: str) -> list[tuple[_Market, str, bool]]:
        with self._lock:
            return [(m, self._prices[key], key in self._dropped)
                    for key, m in self._markets.items() if m.kind == kind]

    def _exchange_info(self, kind: str) -> dict[str, Any]:
        symbols = []
        for market, _price, _dropped in self._rows(kind):
            filters = [
                {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
                {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "10000", "stepSize": "0.001"},
            ]
            row: dict[str, Any] = {
                "symbol": market.id, "baseAsset": market.base, "quoteAsset": market.quote,
                "baseAssetPrecision": 8, "quotePrecision": 8, "filters": filters,
            }
            if kind == "spot":
                row.update({"status": "TRADING", "isSpotTradingAllowed": True, "isMarginTradingAllowed": True,
                            "permissions": ["SPOT", "MARGIN"], "orderTypes": ["LIMIT", "MARKET"]})
            else:
                row.update({"contractType": "PERPETUAL", "deliveryDate": 4133404800000, "onboardDate": 1569398400000,
                            "marginAsset": market.settle, "pricePrecision": 2, "quantityPrecision": 3,
                            "orderTypes": ["LIMIT", "MARKET"], "timeInForce": ["GTC"]})
                if kind == "inverse":
                    row.update({"pair": market.base + market.quote, "contractStatus": "TRADING",
                                "contractSize": int(market.contract_size)})
                else:
                    row.update({"pair": market.id, "status": "TRADING"})
            symbols.append(row)
        return {"timezone": "UTC", "serverTime": _ms(), "rateLimits": [], "exchangeFilters": [], "symbols": symbols}

    def _premium_index(self, kind: str, query: dict[str, str]) -> Response:
        now = _ms()
        rows = []
        for market, price, dropped in self._rows(kind):
            if dropped or (query.get("symbol") and query["symbol"] != market.id):
                continue
            row: dict[str, Any] = {
                "symbol": market.id, "markPrice": price, "indexPrice": price, "estimatedSettlePrice": price,
                "lastFundingRate": "0.00010000", "interestRate": "0.00010000",
                "nextFundingTime": (now // 28_800_000 + 1) * 28_800_000, "time": now,
            }
            if kind == "inverse":
                row["pair"] = market.base + market.quote
            row.update(self.funding.get(market.id, {}))
            rows.append(row)
        if kind == "linear" and query.get("symbol"):
            return (200, rows[0], {}) if rows else (400, {"code": -1121, "msg": "Invalid symbol."}, {})
        return 200, rows, {}

    def _spot_rows(self, query: dict[str, str]) -> list[tuple[_Market, str]]:
        wanted: set[str] | None = None
        if query.get("symbols"):
            wanted = set(json.loads(query["symbols"]))
        elif query.get("symbol"):
            wanted = {query["symbol"]}
        return [(m, p) for m, p, dropped in self._rows("spot")
                if not dropped and (wanted is None or m.id in wanted)]

    def _ticker_price(self, query: dict[str, str]) -> Response:
        rows = [{"symbol": m.id, "price": p} for m, p in self._spot_rows(query)]
        return 200, (rows[0] if query.get("symbol") and rows else rows), {}

    def _ticker_24hr(self, query: dict[str, str]) -> Response:
        now = _ms()
        rows = [{
            "symbol": m.id, "priceChange": "0", "priceChangePercent": "0", "weightedAvgPrice": p,
            "prevClosePrice": p, "lastPrice": p, "lastQty": "0.1", "bidPrice": p, "bidQty": "1", "askPrice": p,
            "askQty": "1", "openPrice": p, "highPrice": p, "lowPrice": p, "volume": "1000",
            "quoteVolume": "1000", "openTime": now - 86_400_000, "closeTime": now, "firstId": 1, "lastId": 2,
            "count": 2,
        } for m, p in self._spot_rows(query)]
        return 200, (rows[0] if query.get("symbol") and rows else rows), {}


def _ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def fake_binance() -> Iterator[FakeBinance]:
    """A started fake Binance with the default prices; stopped (hanging requests released) after the test."""
    server = FakeBinance().start()
    try:
        yield server
    finally:
        server.stop()


__all__ = ["API_PREFIXES", "DEFAULT_PRICES", "FakeBinance", "Fault", "LoggedRequest", "fake_binance"]

