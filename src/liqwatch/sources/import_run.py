"""Entry points for exchange import: run one import, check a new key, list capable exchanges, merge the book.

Everything here is synchronous and Qt-free; `liqwatch.ui.workers.importer` calls it from its own thread. Every
failure leaves as an `ExchangeImportError` whose message is classified and sanitised (`import_errors`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from liqwatch.domain.model import FuturesAccount, MarginAccount, Portfolio
from liqwatch.sources.import_common import ImportedBook, make_client
from liqwatch.sources.import_errors import ExchangeImportError, ImportProblem, classify, sanitise
from liqwatch.store.accounts import ExchangeAccount
from liqwatch.store.secrets import Credentials

if TYPE_CHECKING:  # ccxt (~0.3 s to import) loads when an import or a key check runs, on the importer's thread
    import ccxt

# apiRestrictions flags that mean the key can do more than read (LiqWatch needs read only).
_BINANCE_RISKY = {
    "enableWithdrawals": "withdrawals",
    "enableSpotAndMarginTrading": "spot and margin trading",
    "enableFutures": "futures trading",
    "enableMargin": "margin loans, repayments and transfers",
    "enableInternalTransfer": "internal transfers",
    "permitsUniversalTransfer": "universal transfers",
    "enableVanillaOptions": "options trading",
    "enablePortfolioMarginTrading": "portfolio margin trading",
    "enableFixApiTrade": "FIX API trading",
}


def supported_exchanges() -> list[str]:
    """ccxt exchanges that can report futures positions or a margin balance; Binance first."""
    import ccxt

    found = []
    for exchange_id in ccxt.exchanges:
        klass = getattr(ccxt, exchange_id, None)
        if klass is None:
            continue
        try:
            has = klass().has
        except Exception:  # an exchange class that cannot be built here is not offered
            continue
        if has.get("fetchPositions") or (has.get("fetchBalance") and has.get("margin")):
            found.append(exchange_id)
    found.sort(key=lambda e: (e != "binance", e))
    return found


def run_import(account: ExchangeAccount, credentials: Credentials | None,
               ccxt_config: Mapping[str, Any] | None = None, *, client: ccxt.Exchange | None = None,
               had_success: bool = False, clock: Callable[[], float] = time.time) -> ImportedBook:
    """Import one account. Raises `ExchangeImportError` with a specific, sanitised message on any fault."""
    if credentials is None:
        raise ExchangeImportError(ImportProblem("no_key", f"{account.label}: no API key stored (add it in Accounts)"))
    try:
        from liqwatch.sources.import_binance import import_binance
        from liqwatch.sources.import_generic import import_generic

        client = client or make_client(account, credentials, ccxt_config)
        if account.exchange == "binance":
            return import_binance(client, account, clock)
        return import_generic(client, account, clock)
    except ExchangeImportError as exc:
        raise ExchangeImportError(replace(exc.problem, message=sanitise(exc.problem.message,
                                                                  credentials.values()))) from None
    except Exception as exc:
        problem = classify(exc, account.exchange, had_success=had_success)
        raise ExchangeImportError(replace(problem, message=sanitise(problem.message, credentials.values()))) from None


@dataclass(frozen=True)
class KeyCheck:
    """Result of checking a freshly saved key: it must authenticate; it should be read-only."""

    authenticated: bool
    message: str
    warnings: tuple[str, ...] = ()
    permissions_known: bool = False
    read_only: bool | None = None  # None: the exchange does not say


def check_key(account: ExchangeAccount, credentials: Credentials,
              ccxt_config: Mapping[str, Any] | None = None, *, client: ccxt.Exchange | None = None) -> KeyCheck:
    """Authenticate with the key and read its permissions where the exchange reports them (Binance)."""
    try:
        client = client or make_client(account, credentials, ccxt_config)
        if account.exchange == "binance" and not account.testnet:
            restrictions = client.sapi_get_account_apirestrictions()
            risky = [label for flag, label in _BINANCE_RISKY.items() if restrictions.get(flag) is True]
            warnings = []
            if risky:
                warnings.append("This key can do more than read: " + ", ".join(risky) + " enabled. LiqWatch "
                                "needs read only; create a read-only key and replace this one.")
            if restrictions.get("enableReading") is False:
                warnings.append("This key cannot read account data (enableReading is off); imports will fail.")
            if restrictions.get("ipRestrict") is False:
                warnings.append("This key is not restricted to trusted IP addresses.")
            return KeyCheck(True, "the key authenticated", tuple(warnings), permissions_known=True,
                            read_only=not risky)
        if account.exchange == "binance":
            client.fetch_balance({"type": "swap"})
        else:
            client.fetch_balance()
        return KeyCheck(True, "the key authenticated", (
            f"{account.exchange} does not report key permissions through ccxt; make sure the key is read-only.",
        ))
    except Exception as exc:
        problem = classify(exc, account.exchange)
        return KeyCheck(False, sanitise(problem.message, credentials.values()))


def _without_imported(portfolio: Portfolio) -> tuple[tuple[MarginAccount, ...], tuple[FuturesAccount, ...]]:
    return (tuple(a for a in portfolio.margin_accounts if a.source != "imported"),
            tuple(a for a in portfolio.futures_accounts if a.source != "imported"))


def _unique(name: str, taken: set[str]) -> str:
    candidate = name if name not in taken else f"{name} (imported)"
    n = 2
    while candidate in taken:
        candidate = f"{name} (imported {n})"
        n += 1
    taken.add(candidate)
    return candidate


def merge_imported(base: Portfolio, books: Iterable[ImportedBook]) -> Portfolio:
    """Manual entries of `base` kept untouched; imported items (replacing any previous import) appended.

    An imported name that collides with a manual one is renamed, never the manual one: an import never
    overwrites a manual entry.
    """
    manual_margin, manual_futures = _without_imported(base)
    margin_names = {a.name for a in manual_margin}
    futures_names = {a.name for a in manual_futures}
    margin = list(manual_margin)
    futures = list(manual_futures)
    for book in sorted(books, key=lambda b: b.account_id):
        margin.extend(replace(a, name=_unique(a.name, margin_names)) for a in book.margin_accounts)
        futures.extend(replace(a, name=_unique(a.name, futures_names)) for a in book.futures_accounts)
    return replace(base, margin_accounts=tuple(margin), futures_accounts=tuple(futures))
