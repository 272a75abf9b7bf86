"""`liqwatch check --prices-from`: one simulated draw, or an exchange asked with bounded retries."""

from __future__ import annotations

import json

import pytest

from liqwatch import cli
from liqwatch.resources import resource_path
from liqwatch.sources import oneshot
from liqwatch.sources.oneshot import PriceFetchError, fetch_prices
from liqwatch.store.settings import Settings, settings_from_dict
from tests.fakes.fake_binance import FakeBinance, Fault
from tests.sources.helpers import example_portfolio, fake_config

EXAMPLE = str(resource_path("examples", "portfolio.toml"))


class FakeClock:
    """Time that only moves when the code under test sleeps: retries are tested without waiting."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def settings_for(server: FakeBinance) -> Settings:
    return settings_from_dict({"exchanges": {"binance": {"ccxt_config": fake_config(server, 500)}}})


def test_demo_is_one_deterministic_draw_for_the_seed() -> None:
    portfolio = example_portfolio()
    clock = FakeClock()
    a, health = fetch_prices(portfolio, "demo", Settings(simulation_seed=3), clock=clock)
    b, _ = fetch_prices(portfolio, "demo", Settings(simulation_seed=3), clock=clock)
    c, _ = fetch_prices(portfolio, "demo", Settings(simulation_seed=4), clock=clock)
    assert {k: q.price for k, q in a.items()} == {k: q.price for k, q in b.items()}
    assert {k: q.price for k, q in a.items()} != {k: q.price for k, q in c.items()}
    assert set(a) == {"BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USD:BTC", "BTC", "ETH"}
    assert a["BTC/USDT:USDT"].kind == "mark" and a["ETH"].kind == "last"
    assert a["BTC"].price != portfolio.prices["BTC"]  # a draw, not the file's fixed price
    assert [h.state for h in health] == ["ok"]


def test_exchange_prices_come_from_the_configured_server(fake_binance: FakeBinance) -> None:
    fake_binance.set_price("BTC/USDT:USDT", "55555")
    quotes, health = fetch_prices(example_portfolio(), "binance", settings_for(fake_binance))
    assert quotes["BTC/USDT:USDT"].price == 55555.0
    assert {h.state for h in health} == {"ok"}


def test_a_rate_limit_is_retried_after_retry_after(fake_binance: FakeBinance) -> None:
    fake_binance.inject("/fapi/v1/premiumIndex", Fault(status=429, retry_after=2, times=1))
    clock = FakeClock()
    quotes, health = fetch_prices(example_portfolio(), "binance", settings_for(fake_binance), clock=clock,
                                  sleep=clock.sleep)
    assert quotes["BTC/USDT:USDT"].price == 60010.0
    assert {h.state for h in health} == {"ok"}
    assert clock.slept and clock.slept[0] >= 2.0
    assert len(fake_binance.requests("/fapi/v1/premiumIndex")) == 2


@pytest.mark.parametrize(("fault", "text"), [
    (Fault(status=503, body="down"), "exchange unavailable (HTTP 503)"),
    (Fault(status=429, retry_after=5), "rate limited (HTTP 429"),
])
def test_persistent_fault_gives_up_within_the_deadline(fake_binance: FakeBinance, fault: Fault, text: str) -> None:
    fake_binance.inject("/dapi/v1/premiumIndex", fault)
    clock = FakeClock()
    start = clock.now
    with pytest.raises(PriceFetchError) as info:
        fetch_prices(example_portfolio(), "binance", settings_for(fake_binance), clock=clock, sleep=clock.sleep)
    message = str(info.value)
    assert message.startswith("binance: could not fetch prices within 30 s")
    assert "COIN-M" in message and text in message
    assert clock.now - start <= 30.0
    assert len(fake_binance.requests("/dapi/v1/premiumIndex")) >= 2  # it did retry


def test_missing_and_zero_prices_are_absent_not_fatal(fake_binance: FakeBinance) -> None:
    fake_binance.drop_symbol("BTC/USD:BTC")
    fake_binance.set_price("ETH/USDT:USDT", "0")
    quotes, _ = fetch_prices(example_portfolio(), "binance", settings_for(fake_binance))
    assert "BTC/USD:BTC" not in quotes and "ETH/USDT:USDT" not in quotes
    assert quotes["BTC/USDT:USDT"].price == 60010.0


def test_unknown_source_is_a_fetch_error() -> None:
    with pytest.raises(PriceFetchError, match="'krakenn' is not a ccxt exchange id"):
        fetch_prices(example_portfolio(), "krakenn", Settings())


# --- through the command line -------------------------------------------------------------------------------
def test_cli_check_demo_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["check", EXAMPLE, "--prices-from", "demo", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    quotes, _ = fetch_prices(example_portfolio(), "demo", Settings())
    by_symbol = {row["symbol"]: row for row in data["futures_positions"]}
    assert by_symbol["BTC/USDT:USDT"]["mark_price"] == pytest.approx(quotes["BTC/USDT:USDT"].price, rel=1e-3)
    assert by_symbol["BTC/USDT:USDT"]["mark_price"] != 60010  # not the file's fixed price
    assert data["feeds"] == [{"source": "demo", "state": "ok", "message": "simulated prices (seed 7)"}]
    assert code in (0, 1, 2)


def write_config(tmp_path, server: FakeBinance) -> str:
    api = server.ccxt_config()["urls"]["api"]
    lines = ["[exchanges.binance.ccxt_config]", "timeout = 500", "rateLimit = 1",
             "[exchanges.binance.ccxt_config.urls.api]"]
    lines += [f'{name} = "{url}"' for name, url in api.items()]
    path = tmp_path / "settings.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_cli_check_uses_the_configured_servers_prices(tmp_path, fake_binance: FakeBinance,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    fake_binance.set_price("BTC/USDT:USDT", "54321")
    fake_binance.set_price("BTC/USD:BTC", "54000")
    config = write_config(tmp_path, fake_binance)
    code = cli.main(["check", EXAMPLE, "--prices-from", "binance", "--config", config, "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    by_symbol = {row["symbol"]: row for row in data["futures_positions"]}
    assert by_symbol["BTC/USDT:USDT"]["mark_price"] == 54321.0
    assert by_symbol["BTC/USD:BTC"]["mark_price"] == 54000.0
    assert {f["state"] for f in data["feeds"]} == {"ok"}
    assert fake_binance.requests("/fapi/v1/premiumIndex")
    assert code in (0, 1, 2)


def test_cli_check_exits_3_naming_the_exchange_and_fault(tmp_path, fake_binance: FakeBinance, monkeypatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(oneshot, "DEADLINE", 2.0)
    fake_binance.inject("/fapi/v1/premiumIndex", Fault(status=418))
    code = cli.main(["check", EXAMPLE, "--prices-from", "binance", "--config", write_config(tmp_path, fake_binance)])
    captured = capsys.readouterr()
    assert code == 3
    assert captured.out == ""
    assert "binance: could not fetch prices within 2 s" in captured.err
    assert "rate limited (HTTP 418" in captured.err


def test_cli_check_unusable_prices_make_figures_unknown(tmp_path, fake_binance: FakeBinance,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    fake_binance.set_price("BTC/USD:BTC", "NaN")
    fake_binance.set_price("BTC", "0")
    portfolio = tmp_path / "p.toml"
    text = resource_path("examples", "portfolio.toml").read_text(encoding="utf-8")
    text = text.replace('"BTC/USD:BTC" = 60020\n', "").replace("BTC = 60000\n", "")
    portfolio.write_text(text, encoding="utf-8")
    code = cli.main(["check", str(portfolio), "--prices-from", "binance", "--config",
                     write_config(tmp_path, fake_binance), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    coin_m = next(r for r in data["futures_positions"] if r["symbol"] == "BTC/USD:BTC")
    assert coin_m["status"] == "unknown" and coin_m["mark_price"] is None
    cross = next(r for r in data["margin_accounts"] if r["name"] == "Binance cross")
    assert cross["status"] == "unknown" and cross["missing_prices"] == ["BTC"]
    usdm = next(r for r in data["futures_positions"] if r["symbol"] == "BTC/USDT:USDT")
    assert usdm["mark_price"] == 60010.0  # the rest of the book still has its live figures
    assert code == 3
