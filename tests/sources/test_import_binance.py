"""The whole Binance import through ccxt's real code against the loopback fake, including every error kind."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from liqwatch.domain.engine import evaluate_book
from liqwatch.domain.model import Portfolio
from liqwatch.domain.reconcile import reconcile_position
from liqwatch.sources.import_errors import ExchangeImportError
from liqwatch.sources.import_run import check_key, run_import
from liqwatch.store.accounts import BINANCE_KINDS, ExchangeAccount
from liqwatch.store.secrets import Credentials
from tests.fakes.binance_signed import API_KEY, SECRET, SignedBinance
from tests.fakes.fake_binance import FakeBinance, Fault

ACCOUNT = ExchangeAccount(id="acct1", exchange="binance", label="Main", kinds=BINANCE_KINDS)
GOOD = Credentials(API_KEY, SECRET)


@pytest.fixture
def signed() -> Iterator[SignedBinance]:
    with FakeBinance() as server:
        yield SignedBinance(server)


def config(signed: SignedBinance) -> dict[str, Any]:
    return {**signed.ccxt_config(), "timeout": 3000, "enableRateLimit": False}


def _import(signed: SignedBinance, credentials: Credentials = GOOD, **kw: Any):
    return run_import(ACCOUNT, credentials, config(signed), clock=lambda: 1000.0, **kw)


def test_full_import_maps_every_kind_with_exchange_figures(signed: SignedBinance) -> None:
    book = _import(signed)
    assert book.fetched_at == 1000.0
    cross = next(a for a in book.margin_accounts if a.mode == "cross")
    assert cross.source == "imported" and cross.liquidation_level == 1.1
    assert cross.exchange_figures.margin_level == pytest.approx(11.64405625)
    bnb = next(a for a in cross.assets if a.asset == "BNB")
    assert (bnb.total, bnb.borrowed, bnb.daily_rate) == (2346.5, pytest.approx(201.66666672), 0.0003)
    assert "ETH" not in {a.asset for a in cross.assets}  # all-zero rows are not imported

    isolated = [a for a in book.margin_accounts if a.mode == "isolated"]
    assert [a.symbol for a in isolated] == ["BTC/USDT"]  # the empty ETHUSDT pair is skipped
    assert isolated[0].liquidation_level == 1.05  # liquidateRate, not 1.1
    assert isolated[0].exchange_figures.liquidation_price == 52552.5
    usdt = next(a for a in isolated[0].assets if a.asset == "USDT")
    assert (usdt.borrowed, usdt.interest, usdt.daily_rate) == (25000.0, 2.5, 0.00024)

    usdm = next(a for a in book.futures_accounts if a.settle == "USDT")
    assert usdm.wallet_balance == 25.72470371  # crossWalletBalance
    assert [(p.symbol, p.side) for p in usdm.positions] == [("BTC/USDT:USDT", "long"), ("ETH/USDT:USDT", "short")]
    btc, eth = usdm.positions
    assert btc.exchange_figures.liquidation_price == pytest.approx(64846.98753790)
    assert btc.exchange_figures.maint_margin == pytest.approx(2.43009666)
    assert btc.exchange_figures.mark_price == pytest.approx(67502.68519858)
    assert [(b.floor, b.maint_margin_rate, b.maint_amount) for b in btc.brackets][1] == (50000.0, 0.005, 50.0)
    assert eth.margin_mode == "isolated" and eth.isolated_wallet == 150.0 and eth.contracts == 2.0

    coinm = next(a for a in book.futures_accounts if a.settle == "BTC")
    (inverse,) = coinm.positions
    assert inverse.inverse and inverse.contract_size == 100.0 and inverse.contracts == 10.0
    assert coinm.wallet_balance == 0.05
    assert inverse.exchange_figures.liquidation_price is None  # Binance sent ""
    assert any("BTC/USD:BTC" in n and "computed" in n for n in book.notes)


def test_margin_level_999_means_no_debt_and_pro_liquidates_at_one(signed: SignedBinance) -> None:
    signed.cross["marginLevel"] = "999.00000000"
    signed.cross["accountType"] = "MARGIN_2"
    cross = next(a for a in _import(signed).margin_accounts if a.mode == "cross")
    assert math.isinf(cross.exchange_figures.margin_level)
    assert cross.liquidation_level == 1.0 and cross.exchange_figures.liquidation_level == 1.0


def test_zero_liquidation_price_is_reported_and_computed_one_is_labelled(signed: SignedBinance) -> None:
    signed.usdm_positions[0]["liquidationPrice"] = "0"
    book = _import(signed)
    account = next(a for a in book.futures_accounts if a.settle == "USDT")
    assert account.positions[0].exchange_figures.liquidation_price is None
    assert any("'0'" in n and "computed" in n for n in book.notes)
    portfolio = Portfolio(futures_accounts=(account,))
    risk = evaluate_book(portfolio, {"BTC/USDT:USDT": 67502.68519858, "ETH/USDT:USDT": 3001.0})
    (liq, *_rest) = reconcile_position(account.positions[0], risk.futures[0])
    assert liq.source == "computed" and liq.value == risk.futures[0].liquidation_price
    assert "exchange reports none" in liq.message


def test_reconcile_agrees_on_the_fixture_and_flags_a_disagreement(signed: SignedBinance) -> None:
    prices = {"BTC/USDT:USDT": 67502.68519858, "ETH/USDT:USDT": 3001.0}
    account = next(a for a in _import(signed).futures_accounts if a.settle == "USDT")
    risk = evaluate_book(Portfolio(futures_accounts=(account,)), prices)
    liq = reconcile_position(account.positions[0], risk.futures[0])[0]
    assert liq.source == "exchange" and liq.value == pytest.approx(64846.98753790)
    assert risk.futures[0].liquidation_price == pytest.approx(64846.98753790, rel=1e-6)
    assert not liq.disagrees
    signed.usdm_account["assets"][0]["crossWalletBalance"] = "26.2"  # our input now differs from Binance's
    account = next(a for a in _import(signed).futures_accounts if a.settle == "USDT")
    risk = evaluate_book(Portfolio(futures_accounts=(account,)), prices)
    liq = reconcile_position(account.positions[0], risk.futures[0])[0]
    assert liq.disagrees and liq.value == pytest.approx(64846.98753790)
    assert liq.message.startswith("exchange 64,846.99 vs computed 64,79")


def test_position_keys_stay_stable_when_a_position_shrinks(signed: SignedBinance) -> None:
    first = next(a for a in _import(signed).futures_accounts if a.settle == "USDT")
    signed.usdm_positions.reverse()
    signed.usdm_positions[0]["positionAmt"] = "-1"  # ETH shrinks from 2 to 1
    second = next(a for a in _import(signed).futures_accounts if a.settle == "USDT")
    assert [first.position_key(i) for i in range(2)] == [second.position_key(i) for i in range(2)]
    assert second.positions[1].contracts == 1.0


@pytest.mark.parametrize(("setup", "kind", "phrase"), [
    (lambda s: s.keys.clear(), "auth", "rejected the API key"),
    (lambda s: s.keys.update({API_KEY: "other-secret"}), "auth", "signature"),
    (lambda s: setattr(s, "clock_offset_ms", 120_000), "timestamp", "clock"),
    (lambda s: s.server.inject("/sapi/v1/margin/account", Fault(status=418, body={
        "code": -1003, "msg": "Way too much request weight used; IP banned until 1567814160000."})),
     "ip_ban", "banned this IP"),
    (lambda s: s.server.inject("/fapi/v3/positionRisk", Fault(status=429)), "rate_limit", "rate limit"),
    (lambda s: s.server.inject("/sapi/v1/margin/account", Fault(status=200, body={
        "code": -1003, "msg": "Too many requests queued."})), "rate_limit", "rate limit"),
])
def test_each_fault_gets_its_own_sanitised_message(signed: SignedBinance, setup: Any, kind: str,
                                                   phrase: str) -> None:
    setup(signed)
    with pytest.raises(ExchangeImportError) as caught:
        _import(signed)
    problem = caught.value.problem
    assert problem.kind == kind, problem.message
    assert phrase in problem.message
    assert SECRET not in problem.message and API_KEY not in problem.message
    assert "signature=" not in problem.message or "signature=***" in problem.message


def test_revoked_key_after_a_good_import(signed: SignedBinance) -> None:
    _import(signed)
    signed.revoked.add(API_KEY)
    with pytest.raises(ExchangeImportError) as caught:
        _import(signed, had_success=True)
    assert caught.value.problem.kind == "revoked"
    assert "revoked" in caught.value.problem.message


def test_check_key_warns_when_trading_or_withdrawal_enabled(signed: SignedBinance) -> None:
    ok = check_key(ACCOUNT, GOOD, config(signed))
    assert ok.authenticated and ok.permissions_known
    assert not any("more than read" in w for w in ok.warnings)
    signed.restrictions.update(enableWithdrawals=True, enableSpotAndMarginTrading=True)
    risky = check_key(ACCOUNT, GOOD, config(signed))
    assert risky.authenticated
    assert any("withdrawals" in w and "spot and margin trading" in w for w in risky.warnings)
    bad = check_key(ACCOUNT, Credentials("wrong-key-123", SECRET), config(signed))
    assert not bad.authenticated and "rejected the API key" in bad.message
    assert "wrong-key-123" not in bad.message
