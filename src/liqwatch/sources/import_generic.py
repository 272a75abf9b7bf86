"""Futures import from any ccxt exchange with unified `fetch_positions` / `fetch_balance` (Bybit, OKX, …).

The figures of record come from ccxt's unified Position: `liquidationPrice`, `markPrice`, `maintenanceMargin`.
LiqWatch's `ExchangeFigures.margin_level` for a futures position means *equity / maintenance requirement*
(higher is safer, liquidation at 1.0). Exchanges disagree on which way up "margin ratio" is:

- OKX's own `mgnRatio` (in `info`) is already equity / requirement (liquidation at ≤ 100 %), used as is;
- ccxt's unified `marginRatio` (and Binance's) is requirement / equity (liquidation at ≥ 100 %), so it is inverted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import ccxt

from liqwatch.domain.model import ExchangeFigures, FuturesAccount, FuturesPosition
from liqwatch.sources.import_common import (
    ImportedBook,
    accounts_by_settle,
    brackets_from_tiers,
    build_position,
    fallback_brackets,
    liquidation_note,
    optional_price,
)
from liqwatch.sources.import_errors import ExchangeImportError, ImportProblem
from liqwatch.store.accounts import ExchangeAccount

FUTURES_LIQUIDATION_LEVEL = 1.0


def exchange_margin_level(exchange: str, raw: Mapping[str, Any]) -> float | None:
    """Equity / maintenance requirement as the exchange reports it, converted to that one orientation."""
    info = raw.get("info") or {}
    if exchange.startswith("okx"):
        return optional_price(info.get("mgnRatio"))
    ratio = optional_price(raw.get("marginRatio"))
    return None if ratio is None else 1.0 / ratio


def position_from_unified(exchange: str, raw: Mapping[str, Any], tiers: Mapping[str, Any],
                          notes: list[str]) -> FuturesPosition | None:
    symbol = str(raw.get("symbol"))
    where = f"{exchange} {symbol} {raw.get('side')}"
    brackets = brackets_from_tiers(tiers.get(symbol, []) or []) or fallback_brackets(raw)
    if not brackets:
        raise ExchangeImportError(ImportProblem("bad_response", f"{where}: no maintenance margin rate reported"))
    liq = optional_price(raw.get("liquidationPrice"))
    if liq is None:
        notes.append(liquidation_note(where, raw.get("liquidationPrice")))
    level = exchange_margin_level(exchange, raw)
    figures = ExchangeFigures(
        margin_level=level, liquidation_level=FUTURES_LIQUIDATION_LEVEL if level is not None else None,
        liquidation_price=liq, maint_margin=optional_price(raw.get("maintenanceMargin")),
        mark_price=optional_price(raw.get("markPrice")),
    )
    isolated = optional_price(raw.get("collateral")) if raw.get("marginMode") == "isolated" else None
    return build_position(raw, where, brackets, figures, isolated_wallet=isolated)


def accounts_from_unified(exchange: str, label: str, raw_positions: list[Mapping[str, Any]],
                          wallets: Mapping[str, float], tiers: Mapping[str, Any],
                          notes: list[str]) -> tuple[FuturesAccount, ...]:
    """Pure mapping (no network): unified positions + wallet per settle asset → one account per settle asset."""
    by_settle: dict[str, list[FuturesPosition]] = {}
    for raw in raw_positions:
        position = position_from_unified(exchange, raw, tiers, notes)
        if position is not None:
            by_settle.setdefault(position.settle, []).append(position)
    return accounts_by_settle(by_settle, wallets, f"{label} {exchange}", exchange, notes)


def import_generic(client: ccxt.Exchange, account: ExchangeAccount,
                   clock: Callable[[], float] = time.time) -> ImportedBook:
    notes: list[str] = []
    if not client.has.get("fetchPositions"):
        raise ExchangeImportError(ImportProblem("exchange", f"{account.exchange} does not offer position import "
                                                      "through ccxt (no fetchPositions)"))
    raw_positions = [p for p in client.fetch_positions() if optional_price(p.get("contracts"))]
    wallets: dict[str, float] = {}
    tiers: Mapping[str, Any] = {}
    if raw_positions:
        balance = client.fetch_balance()
        for asset, total in (balance.get("total") or {}).items():
            if total is not None:
                wallets[str(asset)] = float(total)
        if client.has.get("fetchLeverageTiers"):
            symbols = sorted({str(p["symbol"]) for p in raw_positions})
            try:
                tiers = client.fetch_leverage_tiers(symbols)
            except (ccxt.NotSupported, ccxt.BadRequest, ccxt.BadSymbol):
                notes.append("leverage tiers unavailable; each position's own maintenance rate is used")
    futures = accounts_from_unified(account.exchange, account.label, raw_positions, wallets, tiers, notes)
    return ImportedBook(account_id=account.id, exchange=account.exchange, label=account.label,
                        fetched_at=clock(), futures_accounts=futures, notes=tuple(notes))
