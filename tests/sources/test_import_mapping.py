"""Unified ccxt Position dicts → LiqWatch records (no server), OKX's inverted margin ratio, and the merge."""

from __future__ import annotations

import pytest

from liqwatch.domain.model import FuturesAccount, MarginAccount, Portfolio
from liqwatch.domain.reconcile import reconcile
from liqwatch.sources.import_common import ImportedBook
from liqwatch.sources.import_errors import ExchangeImportError
from liqwatch.sources.import_generic import accounts_from_unified, exchange_margin_level
from liqwatch.sources.import_run import merge_imported


def unified(**over: object) -> dict:
    row = {"symbol": "BTC/USDT:USDT", "side": "long", "contracts": 0.5, "contractSize": 1.0, "entryPrice": 60000.0,
           "markPrice": 61000.0, "liquidationPrice": 55000.0, "marginMode": "cross", "notional": 30500.0,
           "maintenanceMargin": 152.5, "maintenanceMarginPercentage": 0.005, "marginRatio": 0.05,
           "collateral": 3050.0, "leverage": 10, "info": {}}
    row.update(over)
    return row


def test_okx_margin_ratio_is_equity_over_requirement_and_kept_as_is() -> None:
    assert exchange_margin_level("okx", unified(info={"mgnRatio": "11.731726509588816"})) == pytest.approx(11.7317265)
    # ccxt's unified marginRatio is requirement / equity (Binance's sense): inverted to the same orientation
    assert exchange_margin_level("bybit", unified(marginRatio=0.05)) == pytest.approx(20.0)


def test_unified_positions_map_sorted_with_figures_and_notes() -> None:
    notes: list[str] = []
    rows = [unified(symbol="ETH/USDT:USDT", side="short", contracts=3, entryPrice=3000, liquidationPrice=None,
                    marginMode="isolated", collateral=310.0),
            unified(), unified(contracts=0)]
    (account,) = accounts_from_unified("bybit", "Sub", rows, {"USDT": 5000.0}, {}, notes)
    assert account.source == "imported" and account.wallet_balance == 5000.0
    assert [(p.symbol, p.side) for p in account.positions] == [("BTC/USDT:USDT", "long"), ("ETH/USDT:USDT", "short")]
    btc, eth = account.positions
    assert btc.brackets[0].maint_margin_rate == 0.005 and btc.exchange_figures.liquidation_price == 55000.0
    assert btc.exchange_figures.margin_level == pytest.approx(20.0)
    assert eth.isolated_wallet == 310.0 and eth.exchange_figures.liquidation_price is None
    assert any("ETH/USDT:USDT" in n and "nothing" in n for n in notes)


def test_bad_entry_price_names_the_field_and_value() -> None:
    with pytest.raises(ExchangeImportError, match=r"entryPrice must be a finite number > 0, got -1"):
        accounts_from_unified("okx", "X", [unified(entryPrice=-1)], {}, {}, [])


def test_reconcile_message_and_missing_exchange_value() -> None:
    r = reconcile("liquidation price", 64846.98753790, 64790.12)
    assert r.disagrees and r.message == "exchange 64,846.99 vs computed 64,790.12"
    assert r.value == 64846.98753790 and r.source == "exchange"
    for missing in (0.0, None):
        m = reconcile("liquidation price", missing, 64790.12)
        assert m.source == "computed" and m.value == 64790.12 and "exchange reports none" in m.message
    assert not reconcile("margin level", float("inf"), float("inf")).disagrees


def test_merge_never_overwrites_manual_entries_and_replaces_old_imports() -> None:
    manual = MarginAccount(name="Main cross margin", assets=())
    old = FuturesAccount(name="old import", settle="USDT", wallet_balance=1, positions=(), source="imported")
    base = Portfolio(margin_accounts=(manual,), futures_accounts=(old,))
    imported = MarginAccount(name="Main cross margin", assets=(), source="imported")
    book = ImportedBook("a", "binance", "Main", 0.0, margin_accounts=(imported,))
    merged = merge_imported(base, [book])
    assert merged.margin_accounts[0] is manual
    assert [a.name for a in merged.margin_accounts] == ["Main cross margin", "Main cross margin (imported)"]
    assert merged.futures_accounts == ()
    assert merge_imported(merged, []).margin_accounts == (manual,)
