"""Shared pieces of exchange import: the result record, the ccxt client factory, position mapping helpers.

An import yields an `ImportedBook`: immutable `MarginAccount`/`FuturesAccount` records marked `source="imported"`,
each carrying the exchange's own figures (`ExchangeFigures`) as the figures of record, plus plain-language notes
about anything the exchange did not report. Positions are sorted by (symbol, side) so that
`FuturesAccount.position_key` stays stable between imports and the alert engine can tell a vanished or shrunk
position from a reordering.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from liqwatch.domain.model import Bracket, ExchangeFigures, FuturesAccount, FuturesPosition, MarginAccount
from liqwatch.sources.import_errors import ExchangeImportError, ImportProblem, install_log_redaction
from liqwatch.store.accounts import ExchangeAccount
from liqwatch.store.secrets import Credentials
from liqwatch.store.settings import SECRET_CCXT_KEYS

if TYPE_CHECKING:
    import ccxt


@dataclass(frozen=True)
class ImportedBook:
    """Everything one exchange account holds, as imported at `fetched_at` (epoch seconds)."""

    account_id: str
    exchange: str
    label: str
    fetched_at: float
    margin_accounts: tuple[MarginAccount, ...] = ()
    futures_accounts: tuple[FuturesAccount, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def position_count(self) -> int:
        return len(self.margin_accounts) + sum(len(a.positions) for a in self.futures_accounts)


def make_client(account: ExchangeAccount, credentials: Credentials,
                ccxt_config: Mapping[str, Any] | None = None) -> ccxt.Exchange:
    """A synchronous ccxt client for one account. Credential keys in `ccxt_config` are refused (settings file)."""
    import ccxt  # on the importer's thread, when an import runs: not on the window's start-up path

    klass = getattr(ccxt, account.exchange, None)
    if klass is None or account.exchange not in ccxt.exchanges:
        raise ExchangeImportError(ImportProblem("exchange", f"unknown exchange {account.exchange!r} (not in ccxt)"))
    install_log_redaction()
    config: dict[str, Any] = {"enableRateLimit": True, "timeout": 15_000}
    for key, value in (ccxt_config or {}).items():
        if key not in SECRET_CCXT_KEYS:
            config[key] = value
    config.update(credentials.ccxt_config())
    client = klass(config)
    if account.testnet:
        client.set_sandbox_mode(True)
    return client


def number(value: Any, where: str, *, positive: bool = False, allow_none: bool = False) -> float | None:
    """Parse an exchange number; a bad one fails the import with a message naming the field and the value."""
    if value is None or value == "":
        if allow_none:
            return None
        raise ExchangeImportError(ImportProblem("bad_response", f"{where} is missing"))
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ExchangeImportError(ImportProblem("bad_response", f"{where} must be a number, got {value!r}")) from None
    if not math.isfinite(result) or (positive and result <= 0):
        raise ExchangeImportError(ImportProblem("bad_response", f"{where} must be a finite number"
                                                          f"{' > 0' if positive else ''}, got {value!r}"))
    return result


def optional_price(value: Any) -> float | None:
    """A reported price, or None where the exchange sends 0, "", nothing, or garbage for "not available"."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) and result > 0 else None


def brackets_from_tiers(tiers: Sequence[Mapping[str, Any]]) -> tuple[Bracket, ...]:
    """ccxt leverage tiers → brackets; Binance's `cum` lives only in `info` (notes §4.1)."""
    out = []
    for tier in tiers:
        info = tier.get("info") or {}
        floor = optional_price(tier.get("minNotional")) or 0.0
        rate = tier.get("maintenanceMarginRate")
        if rate is None:
            continue
        cum = info.get("cum") if isinstance(info, Mapping) else None
        out.append(Bracket(floor=floor, maint_margin_rate=float(rate), maint_amount=float(cum or 0.0)))
    return tuple(sorted(out, key=lambda b: b.floor))


def fallback_brackets(position: Mapping[str, Any]) -> tuple[Bracket, ...] | None:
    """One bracket from the position's own maintenance figures when no tier table is available."""
    rate = position.get("maintenanceMarginPercentage")
    if rate:
        return (Bracket(0.0, float(rate), 0.0),)
    maint, notional = position.get("maintenanceMargin"), position.get("notional")
    if maint and notional:
        return (Bracket(0.0, abs(float(maint)) / abs(float(notional)), 0.0),)
    return None


def sort_positions(positions: Sequence[FuturesPosition]) -> tuple[FuturesPosition, ...]:
    return tuple(sorted(positions, key=lambda p: (p.symbol, p.side)))


def accounts_by_settle(
    by_settle: Mapping[str, list[FuturesPosition]], wallets: Mapping[str, float], name: str, exchange: str,
    notes: list[str],
) -> tuple[FuturesAccount, ...]:
    """One imported futures account per settle asset, named `"{name} {settle}"`; a missing cross wallet balance is
    taken as 0 and said so in `notes` (the computed cross figures then understate the cushion)."""
    accounts = []
    for settle, positions in sorted(by_settle.items()):
        wallet = wallets.get(settle)
        if wallet is None:
            wallet = 0.0
            notes.append(f"{name} {settle}: the exchange reported no cross wallet balance; computed figures for "
                         "cross positions assume 0")
        accounts.append(FuturesAccount(
            name=f"{name} {settle}", settle=settle, wallet_balance=wallet,
            positions=sort_positions(positions), exchange=exchange, source="imported",
        ))
    return tuple(accounts)


def build_position(raw: Mapping[str, Any], where: str, brackets: tuple[Bracket, ...],
                   figures: ExchangeFigures, *, isolated_wallet: float | None) -> FuturesPosition | None:
    """A unified ccxt position → `FuturesPosition`; None for a flat (zero-size) row."""
    contracts = abs(number(raw.get("contracts"), f"{where}: contracts", allow_none=True) or 0.0)
    if contracts == 0:
        return None
    side = raw.get("side")
    if side not in ("long", "short"):
        raise ExchangeImportError(ImportProblem("bad_response", f"{where}: side must be long or short, got {side!r}"))
    mode = raw.get("marginMode") or "cross"
    if mode not in ("cross", "isolated"):
        raise ExchangeImportError(ImportProblem("bad_response", f"{where}: marginMode must be cross or isolated, "
                                                          f"got {mode!r}"))
    entry = number(raw.get("entryPrice"), f"{where}: entryPrice", positive=True)
    size = number(raw.get("contractSize"), f"{where}: contractSize", positive=True, allow_none=True) or 1.0
    leverage = optional_price(raw.get("leverage"))
    return FuturesPosition(
        symbol=str(raw["symbol"]), side=side, contracts=contracts, entry_price=float(entry or 0.0),
        margin_mode=mode, brackets=brackets, contract_size=size,
        isolated_wallet=isolated_wallet if mode == "isolated" else None, leverage=leverage,
        exchange_figures=figures,
    )


def liquidation_note(label: str, raw_value: Any) -> str:
    shown = "nothing" if raw_value is None else repr(raw_value)
    return (f"{label}: the exchange sent {shown} for the liquidation price; LiqWatch's computed price is "
            "shown instead, labelled computed")
