"""Small builders for portfolios used across the domain tests."""

from __future__ import annotations

from liqwatch.domain.model import (
    AssetBalance,
    Bracket,
    FuturesAccount,
    FuturesPosition,
    MarginAccount,
    Portfolio,
)


def single(mmr: float, cum: float = 0.0) -> tuple[Bracket, ...]:
    return (Bracket(0.0, mmr, cum),)


def position(
    symbol: str = "BTC/USDT:USDT",
    side: str = "long",
    contracts: float = 1.0,
    entry: float = 100.0,
    mode: str = "isolated",
    wallet: float | None = 10.0,
    brackets: tuple[Bracket, ...] | None = None,
    contract_size: float = 1.0,
) -> FuturesPosition:
    return FuturesPosition(
        symbol=symbol,
        side=side,  # type: ignore[arg-type]
        contracts=contracts,
        entry_price=entry,
        margin_mode=mode,  # type: ignore[arg-type]
        brackets=brackets or single(0.005),
        contract_size=contract_size,
        isolated_wallet=wallet if mode == "isolated" else None,
    )


def futures_book(*positions: FuturesPosition, wallet: float = 0.0, settle: str = "USDT",
                 prices: dict[str, float] | None = None) -> Portfolio:
    return Portfolio(
        prices=prices or {},
        futures_accounts=(FuturesAccount("acct", settle, wallet, tuple(positions)),),
    )


def margin_book(*assets: AssetBalance, liq: float = 1.1, call: float = 1.3,
                prices: dict[str, float] | None = None) -> Portfolio:
    return Portfolio(
        prices=prices or {},
        margin_accounts=(MarginAccount("m", tuple(assets), liquidation_level=liq, margin_call_level=call),),
    )
