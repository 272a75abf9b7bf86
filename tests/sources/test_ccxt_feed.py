"""CcxtFeed against the fake Binance: ccxt's real request, error-mapping and parsing code runs on every test."""

from __future__ import annotations

import threading
import time

import pytest

from liqwatch.sources.base import price_request
from liqwatch.sources.ccxt_feed import CcxtFeed, _inflight_lock
from tests.fakes.fake_binance import FakeBinance, Fault
from tests.sources.helpers import example_portfolio, fake_config, fake_feed

LINEAR = ("BTC/USDT:USDT", "ETH/USDT:USDT")


@pytest.fixture
def request_():
    return price_request(example_portfolio(), "binance")


def health_of(result, group: str):
    return next(h for h in result.health if h.source == f"binance:{group}")


def test_batched_fetch_returns_the_servers_prices(fake_binance: FakeBinance, request_) -> None:
    fake_binance.set_price("BTC/USDT:USDT", "61234.5")
    fake_binance.set_price("ETH", "2999.25")
    feed = fake_feed(fake_binance)
    now = time.time()
    result = feed.fetch(request_, now)
    assert result.quotes["BTC/USDT:USDT"].price == 61234.5
    assert result.quotes["BTC/USDT:USDT"].kind == "mark"
    assert result.quotes["BTC/USD:BTC"].price == 60020.0
    assert result.quotes["ETH"].price == 2999.25
    assert result.quotes["ETH"].kind == "last"
    assert set(result.quotes) == {"BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USD:BTC", "BTC", "ETH"}
    assert all(h.state == "ok" for h in result.health)
    assert all(q.age(time.time()) < 5 for q in result.quotes.values())
    # one batched call per market type, never one per symbol
    assert len(fake_binance.requests("/fapi/v1/premiumIndex")) == 1
    assert len(fake_binance.requests("/dapi/v1/premiumIndex")) == 1
    assert len(fake_binance.requests("/api/v3/ticker/24hr")) == 1
    fake_binance.set_price("BTC/USDT:USDT", "59000")
    assert feed.fetch(request_, time.time()).quotes["BTC/USDT:USDT"].price == 59000.0
    assert len(fake_binance.requests("/fapi/v1/exchangeInfo")) == 1  # markets loaded once
    feed.close()


FAULTS = {
    "429": (Fault(status=429, retry_after=1.5), "rate limited (HTTP 429, Retry-After 1.5 s)"),
    "418": (Fault(status=418), "rate limited (HTTP 418"),
    "-1003": (Fault(status=400, body={"code": -1003, "msg": "Too many requests"}), "rate limited"),
    "500": (Fault(status=500, body="Internal Server Error"), "HTTP 500"),
    "503": (Fault(status=503, body="Service Unavailable"), "exchange unavailable (HTTP 503)"),
    "malformed": (Fault(malformed=True), "unreadable response"),
    "html": (Fault(html=True), "unreadable response"),
    "timeout": (Fault(hang=True), "no answer within 600 ms (timeout)"),
    "latency": (Fault(latency=1.0), "no answer within 600 ms (timeout)"),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_is_visible_then_recovers(fake_binance: FakeBinance, request_, name: str) -> None:
    fault, text = FAULTS[name]
    feed = fake_feed(fake_binance)
    now = time.time()
    assert feed.fetch(request_, now).quotes["BTC/USDT:USDT"].price == 60010.0
    fake_binance.set_price("BTC/USDT:USDT", "12345")  # what a parser must never pass on as fresh
    fake_binance.inject("/fapi/v1/premiumIndex", fault)
    result = feed.fetch(request_, now + 1)
    linear = health_of(result, "linear")
    assert not set(LINEAR) & set(result.quotes), "no linear price may come out of a failed call"
    assert linear.state in ("retrying", "stale", "down")
    assert linear.message.startswith("binance USDⓈ-M mark prices: ")
    assert text in linear.message
    assert linear.failures == 1
    # the other sources are unaffected
    assert health_of(result, "inverse").state == "ok" and "BTC/USD:BTC" in result.quotes
    assert health_of(result, "spot").state == "ok" and "BTC" in result.quotes
    rate_limited = name in ("429", "418", "-1003")
    assert result.rate_limited is rate_limited
    if name == "429":
        assert result.retry_after is not None and result.retry_after >= 1.5  # Retry-After honoured
    # while backing off, the source is not asked again
    calls = len(fake_binance.requests("/fapi/v1/premiumIndex"))
    feed.fetch(request_, now + 1.01)
    assert len(fake_binance.requests("/fapi/v1/premiumIndex")) == calls
    fake_binance.clear_faults()
    recovered = feed.fetch(request_, feed.next_attempt() + 0.01)
    assert health_of(recovered, "linear").state == "ok"
    assert recovered.quotes["BTC/USDT:USDT"].price == 12345.0
    feed.close()


def test_repeated_failures_back_off_exponentially_then_read_down(fake_binance: FakeBinance, request_) -> None:
    feed = fake_feed(fake_binance, stale_after=3.0)
    fake_binance.inject("/fapi/v1/premiumIndex", Fault(status=503))
    now = time.time()
    delays, states = [], []
    for _ in range(6):
        result = feed.fetch(request_, now)
        attempt = feed._sources["linear"].next_attempt
        delays.append(attempt - now)
        states.append(health_of(result, "linear").state)
        now = attempt + 0.001
    # base 0.2 s doubling with jitter in [0.5, 1]: each wait at least the previous one's lower bound
    for i, delay in enumerate(delays):
        assert min(2.0, 0.2 * 2**i) * 0.5 - 1e-9 <= delay <= min(2.0, 0.2 * 2**i) + 1e-9
    assert delays[-1] > delays[0] * 4
    assert states[0] == "retrying" and states[-1] == "down"
    assert "stale" in states  # no success for longer than stale_after


def test_html_exchange_info_is_not_taken_for_an_empty_exchange(fake_binance: FakeBinance, request_) -> None:
    fake_binance.inject("/fapi/v1/exchangeInfo", Fault(html=True))
    feed = fake_feed(fake_binance)
    now = time.time()
    result = feed.fetch(request_, now)
    linear = health_of(result, "linear")
    assert linear.state != "ok" and "came back empty" in linear.message
    assert not set(LINEAR) & set(result.quotes)
    fake_binance.clear_faults()
    recovered = feed.fetch(request_, feed.next_attempt() + 0.01)
    assert health_of(recovered, "linear").state == "ok"
    assert recovered.quotes["ETH/USDT:USDT"].price == 3001.0


def test_missing_symbol_is_absent_and_named(fake_binance: FakeBinance, request_) -> None:
    fake_binance.drop_symbol("ETH/USDT:USDT")
    feed = fake_feed(fake_binance)
    result = feed.fetch(request_, time.time())
    assert "ETH/USDT:USDT" not in result.quotes
    assert result.quotes["BTC/USDT:USDT"].price == 60010.0
    linear = health_of(result, "linear")
    assert linear.state == "stale"
    assert "no usable price for ETH/USDT:USDT (not quoted)" in linear.message
    fake_binance.restore_symbol("ETH/USDT:USDT")
    assert feed.fetch(request_, time.time()).quotes["ETH/USDT:USDT"].price == 3001.0


@pytest.mark.parametrize("bad", ["0", "NaN", "-5", "abc"])
def test_unusable_price_is_never_quoted(fake_binance: FakeBinance, request_, bad: str) -> None:
    fake_binance.set_price("BTC/USDT:USDT", bad)
    fake_binance.set_price("ETH", bad)
    feed = fake_feed(fake_binance)
    result = feed.fetch(request_, time.time())
    assert "BTC/USDT:USDT" not in result.quotes and "ETH" not in result.quotes
    assert result.quotes["ETH/USDT:USDT"].price == 3001.0
    assert f"BTC/USDT:USDT (price {bad!r})" in health_of(result, "linear").message
    spot = health_of(result, "spot")
    # ccxt's spot ticker parser chokes on some bad values ("NaN" breaks its arithmetic): then the whole batch is
    # refused as unreadable, which is visible and safe
    assert spot.state != "ok"
    assert "ETH (price" in spot.message or "unreadable response" in spot.message


def test_unlisted_asset_is_named(fake_binance: FakeBinance) -> None:
    from liqwatch.domain.model import AssetBalance, MarginAccount, Portfolio

    portfolio = Portfolio(margin_accounts=(MarginAccount("m", (AssetBalance("ZZZ", 5), AssetBalance(
        "USDT", 0, borrowed=10))),))
    result = fake_feed(fake_binance).fetch(price_request(portfolio), time.time())
    assert result.quotes == {}
    assert "ZZZ (not listed)" in health_of(result, "spot").message


def test_one_request_in_flight_per_exchange(fake_binance: FakeBinance, request_) -> None:
    lock = _inflight_lock("binance")
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:  # stands for an abandoned request that has not timed out yet
        with lock:
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        held.wait(2)
        result = fake_feed(fake_binance).fetch(request_, time.time())
        assert result.quotes == {}
        assert all("previous request has not returned yet" in h.message for h in result.health)
        assert fake_binance.requests() == []
    finally:
        release.set()
        holder.join()


def test_ccxt_config_is_deep_merged_and_secrets_never_pass(fake_binance: FakeBinance) -> None:
    config = fake_config(fake_binance, 700, apiKey="SECRET-KEY", secret="SECRET", options={"recvWindow": 4000})
    feed = CcxtFeed("binance", config)
    exchange = feed._make_exchange(("linear",))
    assert exchange.timeout == 700
    assert exchange.enableRateLimit is True
    assert exchange.urls["api"]["fapiPublic"] == fake_binance.base_url + "/fapi/v1"
    assert exchange.options["fetchMarkets"]["types"] == ["linear"]
    assert exchange.options["fetchCurrencies"] is False
    assert exchange.options["recvWindow"] == 4000
    assert not exchange.apiKey and not exchange.secret


def test_unknown_exchange_id_is_refused() -> None:
    with pytest.raises(ValueError, match="'nosuchexchange' is not a ccxt exchange id"):
        CcxtFeed("nosuchexchange")


def test_connection_refused_is_a_network_fault(request_) -> None:
    server = FakeBinance().start()
    config = fake_config(server)
    server.stop()  # nothing listens on that port any more
    result = CcxtFeed("binance", config, base_backoff=0.1).fetch(request_, time.time())
    assert result.quotes == {}
    assert all(h.state != "ok" and h.message.startswith("binance ") for h in result.health)
