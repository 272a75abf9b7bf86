"""Binance import through ccxt: cross and isolated margin, USDⓈ-M and COIN-M positions, brackets, borrow rates.

The exchange's own figures are the figures of record (binance-risk-notes §1.1: since 2026 the margin level includes
collateral haircuts, so a local recomputation is only an approximation):

- cross margin: `info.marginLevel` (999 = no debt → ∞) and `info.accountType` (`MARGIN_2`, Cross Margin Pro,
  liquidates at 1.0, Classic at 1.1);
- isolated pairs: per-pair `marginLevel`, `liquidateRate` (the pair's tiered liquidation level, not 1.1),
  `liquidatePrice`, `marginLevelStatus`;
- futures: positionRisk's `liquidationPrice`, `markPrice`, `maintMargin`, with `cum` from the brackets' `info`.

Any error fails the whole import (the caller keeps the last good one, marked stale) rather than importing half a
book: a kind silently skipped would look like vanished positions. The only exception is an account type the user
does not have (Binance -3003 / -11001 "… does not exist"), which is noted and skipped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import ccxt

from liqwatch.domain.model import AssetBalance, ExchangeFigures, FuturesAccount, MarginAccount
from liqwatch.sources.import_common import (
    ImportedBook,
    accounts_by_settle,
    brackets_from_tiers,
    build_position,
    fallback_brackets,
    liquidation_note,
    number,
    optional_price,
)
from liqwatch.sources.import_errors import ExchangeImportError, ImportProblem
from liqwatch.store.accounts import ExchangeAccount

NO_DEBT_LEVEL = 999.0
CLASSIC_LIQUIDATION = 1.1
PRO_LIQUIDATION = 1.0
CLASSIC_MARGIN_CALL = 1.3
# Isolated tiers put the margin call 0.04-0.0425 above the liquidation ratio (notes §1.2); the API reports only
# the liquidation ratio, so the call level is approximated from it.
ISOLATED_CALL_GAP = 0.04
_MISSING_ACCOUNT_CODES = ("-3003", "-11001", "-3052")


def margin_level(value: Any, where: str) -> float:
    level = number(value, where)
    assert level is not None
    return math.inf if level >= NO_DEBT_LEVEL else level


def _missing_account(exc: ccxt.ExchangeError) -> bool:
    text = str(exc)
    return any(f'"code":{code}' in text.replace(" ", "") for code in _MISSING_ACCOUNT_CODES)


def _asset(row: Mapping[str, Any], where: str, rate: float | None) -> AssetBalance:
    asset = str(row.get("asset", ""))
    total = (number(row.get("free"), f"{where} {asset}: free") or 0.0) + (
        number(row.get("locked", "0"), f"{where} {asset}: locked") or 0.0)
    return AssetBalance(
        asset=asset, total=total, borrowed=number(row.get("borrowed", "0"), f"{where} {asset}: borrowed") or 0.0,
        interest=number(row.get("interest", "0"), f"{where} {asset}: interest") or 0.0, daily_rate=rate,
    )


def _borrow_rates(client: ccxt.Exchange, assets: set[str], notes: list[str]) -> dict[str, float]:
    """Daily borrow rates (ccxt `fetch_cross_borrow_rate`: `rate` is per day) for the assets with debt."""
    rates: dict[str, float] = {}
    for asset in sorted(assets):
        try:
            rate = client.fetch_cross_borrow_rate(asset)
        except (ccxt.BadSymbol, ccxt.NotSupported, ccxt.BadRequest):
            notes.append(f"no borrow rate for {asset}; interest projection unavailable for it")
            continue
        value = optional_price(rate.get("rate")) if rate else None
        if value is None:
            notes.append(f"no borrow rate for {asset}; interest projection unavailable for it")
        else:
            rates[asset] = value
    return rates


def import_cross_margin(client: ccxt.Exchange, label: str, notes: list[str]) -> tuple[MarginAccount, ...]:
    try:
        balance = client.fetch_balance({"type": "margin"})
    except ccxt.ExchangeError as exc:
        if _missing_account(exc):
            notes.append("cross margin: no cross margin account on this key")
            return ()
        raise
    info = balance.get("info") or {}
    where = "cross margin account"
    rows = [r for r in info.get("userAssets", []) if any(
        (optional_price(r.get(k)) or 0.0) != 0.0 for k in ("free", "locked", "borrowed", "interest"))]
    if not rows:
        return ()
    debt = {str(r.get("asset")) for r in rows if (optional_price(r.get("borrowed")) or 0.0) > 0}
    rates = _borrow_rates(client, debt, notes)
    assets = tuple(sorted((_asset(r, where, rates.get(str(r.get("asset")))) for r in rows), key=lambda a: a.asset))
    account_type = str(info.get("accountType") or "MARGIN_1")
    pro = account_type == "MARGIN_2"
    liquidation = PRO_LIQUIDATION if pro else CLASSIC_LIQUIDATION
    level = margin_level(info.get("marginLevel"), f"{where}: marginLevel")
    if pro:
        notes.append("cross margin is Cross Margin Pro (MARGIN_2): liquidation at margin level 1.0, not 1.1")
    return (MarginAccount(
        name=f"{label} cross margin", assets=assets, mode="cross", exchange="binance",
        liquidation_level=liquidation, margin_call_level=max(CLASSIC_MARGIN_CALL, liquidation + 0.05),
        source="imported",
        exchange_figures=ExchangeFigures(margin_level=level, liquidation_level=liquidation),
    ),)


def import_isolated_margin(client: ccxt.Exchange, label: str, notes: list[str]) -> tuple[MarginAccount, ...]:
    try:
        balance = client.fetch_balance({"type": "margin", "marginMode": "isolated"})
    except ccxt.ExchangeError as exc:
        if _missing_account(exc):
            notes.append("isolated margin: no isolated margin account on this key")
            return ()
        raise
    info = balance.get("info") or {}
    accounts = []
    for pair in info.get("assets", []):
        symbol_id = str(pair.get("symbol", ""))
        base, quote = pair.get("baseAsset") or {}, pair.get("quoteAsset") or {}
        legs = (base, quote)
        if not any((optional_price(leg.get(k)) or 0.0) != 0.0 for leg in legs
                   for k in ("free", "locked", "borrowed", "interest")):
            continue
        where = f"isolated margin {symbol_id}"
        debt = {str(leg.get("asset")) for leg in legs if (optional_price(leg.get("borrowed")) or 0.0) > 0}
        rates = _borrow_rates(client, debt, notes)
        assets = tuple(_asset(leg, where, rates.get(str(leg.get("asset")))) for leg in legs)
        symbol = f"{base.get('asset')}/{quote.get('asset')}"
        liquidation = optional_price(pair.get("liquidateRate"))
        if liquidation is None:
            liquidation = CLASSIC_LIQUIDATION
            notes.append(f"{symbol} isolated: the exchange sent no liquidateRate; assuming {liquidation}")
        status = str(pair.get("marginLevelStatus") or "")
        if status in ("MARGIN_CALL", "PRE_LIQUIDATION", "FORCE_LIQUIDATION"):
            notes.append(f"{symbol} isolated: exchange status {status}")
        liq_price = optional_price(pair.get("liquidatePrice"))
        if liq_price is None:
            notes.append(liquidation_note(f"{symbol} isolated", pair.get("liquidatePrice")))
        accounts.append(MarginAccount(
            name=f"{label} {symbol} isolated", assets=assets, mode="isolated", exchange="binance", symbol=symbol,
            liquidation_level=liquidation, margin_call_level=liquidation + ISOLATED_CALL_GAP, source="imported",
            exchange_figures=ExchangeFigures(
                margin_level=margin_level(pair.get("marginLevel"), f"{where}: marginLevel"),
                liquidation_level=liquidation, liquidation_price=liq_price,
                mark_price=optional_price(pair.get("indexPrice")),
            ),
        ))
    return tuple(sorted(accounts, key=lambda a: a.name))


def _wallets(info: Mapping[str, Any]) -> dict[str, float]:
    wallets = {}
    for row in info.get("assets", []) or []:
        value = optional_price(row.get("crossWalletBalance"))
        if value is None:
            try:
                value = float(row.get("crossWalletBalance"))
            except (TypeError, ValueError):
                continue
        wallets[str(row.get("asset"))] = value
    return wallets


def import_futures(client: ccxt.Exchange, label: str, notes: list[str], *, inverse: bool) -> tuple[
        FuturesAccount, ...]:
    """USDⓈ-M (`inverse=False`) or COIN-M positions, one `FuturesAccount` per margin (settle) asset."""
    params: dict[str, Any] = {"subType": "inverse"} if inverse else {}
    family = "COIN-M" if inverse else "USDⓈ-M"
    raw_positions = [p for p in client.fetch_positions(None, dict(params)) if optional_price(p.get("contracts"))]
    if not raw_positions:
        return ()
    symbols = sorted({str(p["symbol"]) for p in raw_positions})
    tiers = client.fetch_leverage_tiers(None if inverse else symbols, dict(params))
    balance = client.fetch_balance({"type": "swap", **params})
    info = balance.get("info") or {}
    wallets = _wallets(info)
    if not inverse and "USDT" not in wallets and info.get("totalCrossWalletBalance") is not None:
        wallets["USDT"] = float(info["totalCrossWalletBalance"])
    by_settle: dict[str, list] = {}
    for raw in raw_positions:
        symbol = str(raw["symbol"])
        where = f"{family} {symbol} {raw.get('side')}"
        pinfo = raw.get("info") or {}
        brackets = brackets_from_tiers(tiers.get(symbol, [])) or fallback_brackets(raw)
        if not brackets:
            raise ExchangeImportError(ImportProblem("bad_response", f"{where}: no maintenance brackets reported"))
        liq = optional_price(pinfo.get("liquidationPrice"))
        if liq is None:
            notes.append(liquidation_note(where, pinfo.get("liquidationPrice")))
        figures = ExchangeFigures(
            liquidation_price=liq,
            maint_margin=optional_price(pinfo.get("maintMargin")),
            mark_price=optional_price(pinfo.get("markPrice")),
        )
        isolated = optional_price(pinfo.get("isolatedWallet"))
        position = build_position(raw, where, brackets, figures, isolated_wallet=isolated)
        if position is not None:
            by_settle.setdefault(position.settle, []).append(position)
    return accounts_by_settle(by_settle, wallets, f"{label} {family}", "binance", notes)


def import_binance(client: ccxt.Exchange, account: ExchangeAccount,
                   clock: Callable[[], float] = time.time) -> ImportedBook:
    """Run every kind the account asks for; raises ccxt errors or `ExchangeImportError` (caller classifies them)."""
    notes: list[str] = []
    margin: list[MarginAccount] = []
    futures: list[FuturesAccount] = []
    kinds = set(account.kinds)
    if account.testnet and kinds & {"cross_margin", "isolated_margin"}:
        notes.append("margin import is not available on the Binance testnet; only futures are imported")
        kinds -= {"cross_margin", "isolated_margin"}
    if "cross_margin" in kinds:
        margin.extend(import_cross_margin(client, account.label, notes))
    if "isolated_margin" in kinds:
        margin.extend(import_isolated_margin(client, account.label, notes))
    if "usdm" in kinds:
        futures.extend(import_futures(client, account.label, notes, inverse=False))
    if "coinm" in kinds:
        futures.extend(import_futures(client, account.label, notes, inverse=True))
    return ImportedBook(
        account_id=account.id, exchange="binance", label=account.label, fetched_at=clock(),
        margin_accounts=tuple(margin), futures_accounts=tuple(futures), notes=tuple(notes),
    )
