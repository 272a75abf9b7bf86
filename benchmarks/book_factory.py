"""Synthetic books of any size for the benchmarks: margin accounts and linear/inverse futures, isolated and cross."""

from __future__ import annotations

import numpy as np

from liqwatch.domain.model import AssetBalance, FuturesAccount, FuturesPosition, MarginAccount, Portfolio
from liqwatch.store.brackets import default_brackets

BASES = {"BTC": 60000.0, "ETH": 3000.0, "SOL": 150.0, "BNB": 550.0, "XRP": 0.6, "DOGE": 0.15}


def make_book(positions: int, seed: int = 1) -> tuple[Portfolio, dict[str, float]]:
    """A book of about `positions` items: 10 % margin accounts, the rest futures in accounts of 20 positions."""
    rng = np.random.default_rng(seed)
    table = default_brackets()
    n_margin = max(1, positions // 10)
    n_futures = max(1, positions - n_margin)
    assets = list(BASES)
    margin_accounts = []
    for i in range(n_margin):
        held = rng.choice(assets, size=2, replace=False)
        balances = [AssetBalance(str(a), float(rng.uniform(0.5, 5) * 3000 / BASES[str(a)])) for a in held]
        value = sum(b.total * BASES[b.asset] for b in balances)
        balances.append(AssetBalance("USDT", 0.0, borrowed=float(value * rng.uniform(0.3, 0.8)),
                                     interest=1.0, daily_rate=0.0002))
        margin_accounts.append(MarginAccount(f"margin {i}", tuple(balances)))
    futures_accounts = []
    per_account = 20
    for a in range(0, n_futures, per_account):
        inverse = (a // per_account) % 4 == 3
        positions_list = []
        for _ in range(min(per_account, n_futures - a)):
            if inverse:
                symbol, base = "BTC/USD:BTC", "BTC"
                brackets = table.lookup(symbol, True)
            else:
                base = str(rng.choice(assets))
                symbol = f"{base}/USDT:USDT"
                brackets = table.lookup(symbol, False)
            assert brackets is not None, symbol
            entry = BASES[base] * float(rng.uniform(0.9, 1.1))
            contracts = float(rng.uniform(1, 50)) if inverse else float(rng.uniform(1000, 50000) / entry)
            isolated = bool(rng.random() < 0.5)
            size = contracts * (100 if inverse else 1)
            notional_settle = size / entry if inverse else size * entry
            positions_list.append(FuturesPosition(
                symbol=symbol, side="long" if rng.random() < 0.6 else "short", contracts=contracts,
                entry_price=entry, margin_mode="isolated" if isolated else "cross", brackets=brackets,
                contract_size=100 if inverse else 1,
                isolated_wallet=notional_settle / float(rng.uniform(3, 20)) if isolated else None,
            ))
        wallet = 5.0 if inverse else 200000.0
        futures_accounts.append(FuturesAccount(f"futures {a // per_account}", "BTC" if inverse else "USDT", wallet,
                                               tuple(positions_list)))
    prices = dict(BASES)
    for base, price in BASES.items():
        prices[f"{base}/USDT:USDT"] = price
    prices["BTC/USD:BTC"] = BASES["BTC"]
    return Portfolio(margin_accounts=tuple(margin_accounts), futures_accounts=tuple(futures_accounts)), prices


def moved(prices: dict[str, float], rng: np.random.Generator) -> dict[str, float]:
    """A new price batch: every price moves by a small random amount."""
    return {k: v * float(np.exp(rng.normal(0, 0.002))) for k, v in prices.items()}
