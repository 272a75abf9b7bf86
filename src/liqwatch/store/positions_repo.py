"""The portfolio kept in the database: what the trader typed (manual items) and the last import (a cache).

The window saves after every edit and loads on start, so nothing typed is lost; the exchange import refreshes its
cache so the book shows (marked stale until the first poll) even before the network answers. Every save replaces
its part of the book in one transaction: a crash leaves the previous book or the new one, never a mix.

Accounts are stored as JSON documents of the frozen domain types (one row per account, in portfolio order). The
domain types hold no credentials, so nothing secret can reach this table.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from liqwatch.domain.model import (
    AssetBalance,
    Bracket,
    ExchangeFigures,
    FuturesAccount,
    FuturesPosition,
    MarginAccount,
    Portfolio,
)
from liqwatch.store.db import durable_transaction

Account = MarginAccount | FuturesAccount


class StoredPortfolioError(ValueError):
    """A stored account could not be read back (a damaged row); names the row."""


@dataclass(frozen=True)
class ImportedCache:
    margin_accounts: tuple[MarginAccount, ...]
    futures_accounts: tuple[FuturesAccount, ...]
    saved_time: float | None  # when the import was cached (epoch seconds); None: never


def _num(value: float | None) -> Any:
    """JSON has no infinity: write it as a string so a round trip keeps it."""
    if value is not None and isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _unnum(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        return float(value)
    return float(value)


def _figures(f: ExchangeFigures | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {
        "margin_level": _num(f.margin_level),
        "liquidation_level": _num(f.liquidation_level),
        "liquidation_price": _num(f.liquidation_price),
        "maint_margin": _num(f.maint_margin),
        "mark_price": _num(f.mark_price),
    }


def _unfigures(d: dict[str, Any] | None) -> ExchangeFigures | None:
    if d is None:
        return None
    return ExchangeFigures(**{k: _unnum(v) for k, v in d.items()})


def account_to_dict(account: Account) -> dict[str, Any]:
    if isinstance(account, MarginAccount):
        return {
            "name": account.name,
            "mode": account.mode,
            "exchange": account.exchange,
            "symbol": account.symbol,
            "liquidation_level": account.liquidation_level,
            "margin_call_level": account.margin_call_level,
            "source": account.source,
            "exchange_figures": _figures(account.exchange_figures),
            "warning_level": account.warning_level,
            "assets": [
                {"asset": a.asset, "total": a.total, "borrowed": a.borrowed, "interest": a.interest,
                 "daily_rate": a.daily_rate}
                for a in account.assets
            ],
        }
    return {
        "name": account.name,
        "settle": account.settle,
        "wallet_balance": account.wallet_balance,
        "exchange": account.exchange,
        "source": account.source,
        "positions": [
            {
                "symbol": p.symbol,
                "side": p.side,
                "contracts": p.contracts,
                "entry_price": p.entry_price,
                "margin_mode": p.margin_mode,
                "brackets": [[b.floor, b.maint_margin_rate, b.maint_amount] for b in p.brackets],
                "contract_size": p.contract_size,
                "isolated_wallet": p.isolated_wallet,
                "leverage": p.leverage,
                "exchange_figures": _figures(p.exchange_figures),
                "warning_distance": p.warning_distance,
                "danger_distance": p.danger_distance,
            }
            for p in account.positions
        ],
    }


def margin_from_dict(d: dict[str, Any]) -> MarginAccount:
    return MarginAccount(
        name=d["name"],
        assets=tuple(AssetBalance(a["asset"], a["total"], a["borrowed"], a["interest"], a["daily_rate"])
                     for a in d["assets"]),
        mode=d["mode"],
        exchange=d["exchange"],
        symbol=d["symbol"],
        liquidation_level=d["liquidation_level"],
        margin_call_level=d["margin_call_level"],
        source=d["source"],
        exchange_figures=_unfigures(d["exchange_figures"]),
        warning_level=d.get("warning_level"),  # absent in rows saved before per-account thresholds
    )


def futures_from_dict(d: dict[str, Any]) -> FuturesAccount:
    return FuturesAccount(
        name=d["name"],
        settle=d["settle"],
        wallet_balance=d["wallet_balance"],
        exchange=d["exchange"],
        source=d["source"],
        positions=tuple(
            FuturesPosition(
                symbol=p["symbol"],
                side=p["side"],
                contracts=p["contracts"],
                entry_price=p["entry_price"],
                margin_mode=p["margin_mode"],
                brackets=tuple(Bracket(*b) for b in p["brackets"]),
                contract_size=p["contract_size"],
                isolated_wallet=p["isolated_wallet"],
                leverage=p["leverage"],
                exchange_figures=_unfigures(p["exchange_figures"]),
                warning_distance=p.get("warning_distance"),
                danger_distance=p.get("danger_distance"),
            )
            for p in d["positions"]
        ),
    )


def _meta_to_dict(portfolio: Portfolio) -> dict[str, Any]:
    return {
        "quote": portfolio.quote,
        "stablecoins": sorted(portfolio.stablecoins),
        "prices": dict(portfolio.prices),
        "volatility": dict(portfolio.volatility),
    }


class PositionsRepository:
    """Save and load the book. One instance per connection (per thread)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # -- writing ---------------------------------------------------------------------------------------------
    def save_portfolio(self, portfolio: Portfolio, now: float | None = None) -> None:
        """Replace the whole stored book (manual items, imported cache and the portfolio's settings) at once."""
        stamp = time.time() if now is None else now
        with durable_transaction(self._conn):
            self._write_meta(portfolio, stamp)
            self._conn.execute("DELETE FROM accounts")
            self._insert(portfolio.margin_accounts, portfolio.futures_accounts, None, stamp)

    def save_manual(self, portfolio: Portfolio, now: float | None = None) -> None:
        """Replace only the manual items (and the portfolio's settings); the imported cache is kept.

        The window calls this after an edit: imported items in `portfolio` are ignored here because the import owns
        them (`save_imported`).
        """
        stamp = time.time() if now is None else now
        with durable_transaction(self._conn):
            self._write_meta(portfolio, stamp)
            self._conn.execute("DELETE FROM accounts WHERE source = 'manual'")
            self._insert(portfolio.margin_accounts, portfolio.futures_accounts, "manual", stamp)

    def save_imported(
        self,
        margin_accounts: tuple[MarginAccount, ...] | list[MarginAccount],
        futures_accounts: tuple[FuturesAccount, ...] | list[FuturesAccount],
        now: float | None = None,
        exchange: str | None = None,
    ) -> None:
        """Replace the imported cache (only that exchange's rows when `exchange` is given)."""
        stamp = time.time() if now is None else now
        with durable_transaction(self._conn):
            if exchange is None:
                self._conn.execute("DELETE FROM accounts WHERE source = 'imported'")
            else:
                self._conn.execute("DELETE FROM accounts WHERE source = 'imported' AND exchange = ?", (exchange,))
            self._insert(tuple(margin_accounts), tuple(futures_accounts), "imported", stamp, force_source=True)

    def _write_meta(self, portfolio: Portfolio, stamp: float) -> None:
        self._conn.execute(
            "INSERT INTO portfolio_meta (id, data, saved_time) VALUES (1, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data, saved_time = excluded.saved_time",
            (json.dumps(_meta_to_dict(portfolio), allow_nan=False), stamp),
        )

    def _insert(
        self,
        margin: tuple[MarginAccount, ...],
        futures: tuple[FuturesAccount, ...],
        only: str | None,
        stamp: float,
        force_source: bool = False,
    ) -> None:
        rows = []
        ordinal = 0
        for kind, accounts in (("margin", margin), ("futures", futures)):
            for account in accounts:
                if force_source and account.source != only:
                    raise ValueError(f"account {account.name!r}: source must be {only!r}, got {account.source!r}")
                if only is not None and account.source != only:
                    continue
                document = json.dumps(account_to_dict(account), ensure_ascii=False, allow_nan=False)
                rows.append((account.source, kind, ordinal, account.name, account.exchange or "", document, stamp))
                ordinal += 1
        self._conn.executemany(
            "INSERT INTO accounts (source, kind, ordinal, name, exchange, data, saved_time) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    # -- reading ---------------------------------------------------------------------------------------------
    def _accounts(self, where: str = "") -> tuple[tuple[MarginAccount, ...], tuple[FuturesAccount, ...]]:
        margin: list[MarginAccount] = []
        futures: list[FuturesAccount] = []
        for row_id, kind, data in self._conn.execute(
            f"SELECT id, kind, data FROM accounts {where} ORDER BY source = 'imported', ordinal, id"
        ):
            try:
                document = json.loads(data)
                if kind == "margin":
                    margin.append(margin_from_dict(document))
                else:
                    futures.append(futures_from_dict(document))
            except (ValueError, KeyError, TypeError) as exc:
                raise StoredPortfolioError(f"stored account row {row_id} ({kind}) cannot be read: {exc}") from None
        return tuple(margin), tuple(futures)

    def load_portfolio(self) -> Portfolio | None:
        """The stored book (manual items, then the imported cache, each in saved order); None if never saved."""
        row = self._conn.execute("SELECT data FROM portfolio_meta WHERE id = 1").fetchone()
        margin, futures = self._accounts()
        if row is None and not margin and not futures:
            return None
        meta = json.loads(row[0]) if row else {}
        defaults = Portfolio()
        return Portfolio(
            quote=meta.get("quote", defaults.quote),
            stablecoins=frozenset(meta.get("stablecoins", defaults.stablecoins)),
            prices={k: float(v) for k, v in meta.get("prices", {}).items()},
            volatility={k: float(v) for k, v in meta.get("volatility", {}).items()},
            margin_accounts=margin,
            futures_accounts=futures,
        )

    def load_imported(self) -> ImportedCache:
        margin, futures = self._accounts("WHERE source = 'imported'")
        stamp = self._conn.execute("SELECT MAX(saved_time) FROM accounts WHERE source = 'imported'").fetchone()[0]
        return ImportedCache(margin, futures, stamp)
