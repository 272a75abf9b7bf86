"""Writing a portfolio back to the file format `liqwatch.store.portfolio` reads (export, dialog validation).

`portfolio_to_dict` is the exact inverse of `parse_portfolio` for what the file format holds: brackets are always
written out, so an exported file gives the same figures even after the bundled bracket table changes. What the
format has no field for (exchange-reported figures of imported items) is not written.
"""

from __future__ import annotations

from typing import Any

from liqwatch.domain.model import FuturesAccount, FuturesPosition, MarginAccount, Portfolio
from liqwatch.store.portfolio import FORMAT_VERSION
from liqwatch.store.toml_write import dumps


def margin_account_to_dict(account: MarginAccount) -> dict[str, Any]:
    out: dict[str, Any] = {"name": account.name}
    if account.exchange:
        out["exchange"] = account.exchange
    out["mode"] = account.mode
    if account.symbol:
        out["symbol"] = account.symbol
    out["liquidation_level"] = account.liquidation_level
    out["margin_call_level"] = account.margin_call_level
    if account.warning_level is not None:
        out["warning_level"] = account.warning_level
    assets = []
    for a in account.assets:
        item: dict[str, Any] = {"asset": a.asset, "total": a.total, "borrowed": a.borrowed, "interest": a.interest}
        if a.daily_rate is not None:
            item["daily_rate"] = a.daily_rate
        assets.append(item)
    out["assets"] = assets
    return out


def position_to_dict(p: FuturesPosition) -> dict[str, Any]:
    out: dict[str, Any] = {
        "symbol": p.symbol, "side": p.side, "contracts": p.contracts, "entry_price": p.entry_price,
        "margin_mode": p.margin_mode,
    }
    if p.isolated_wallet is not None and p.margin_mode == "isolated":
        out["isolated_wallet"] = p.isolated_wallet
    if p.leverage is not None:
        out["leverage"] = p.leverage
    if p.contract_size != 1.0:
        out["contract_size"] = p.contract_size
    if p.warning_distance is not None:
        out["warning_distance"] = p.warning_distance
    if p.danger_distance is not None:
        out["danger_distance"] = p.danger_distance
    out["brackets"] = [
        {"floor": b.floor, "maint_margin_rate": b.maint_margin_rate, "maint_amount": b.maint_amount}
        for b in p.brackets
    ]
    return out


def futures_account_to_dict(account: FuturesAccount) -> dict[str, Any]:
    out: dict[str, Any] = {"name": account.name}
    if account.exchange:
        out["exchange"] = account.exchange
    out["settle"] = account.settle
    out["wallet_balance"] = account.wallet_balance
    out["positions"] = [position_to_dict(p) for p in account.positions]
    return out


def portfolio_to_dict(portfolio: Portfolio) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "quote": portfolio.quote,
        "stablecoins": sorted(portfolio.stablecoins),
    }
    if portfolio.prices:
        out["prices"] = dict(portfolio.prices)
    if portfolio.volatility:
        out["volatility"] = dict(portfolio.volatility)
    if portfolio.margin_accounts:
        out["margin_account"] = [margin_account_to_dict(a) for a in portfolio.margin_accounts]
    if portfolio.futures_accounts:
        out["futures_account"] = [futures_account_to_dict(a) for a in portfolio.futures_accounts]
    return out


def portfolio_to_toml(portfolio: Portfolio) -> str:
    return "# LiqWatch portfolio file, format version 1 (exported)\n" + dumps(portfolio_to_dict(portfolio))
