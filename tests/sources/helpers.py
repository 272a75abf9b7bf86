"""Shared bits for the source tests: the bundled portfolios and a ccxt feed pointed at the fake server."""

from __future__ import annotations

from typing import Any

from liqwatch.domain.model import Portfolio
from liqwatch.resources import resource_path
from liqwatch.sources.ccxt_feed import CcxtFeed, deep_merge
from liqwatch.store.portfolio import load_portfolio
from tests.fakes.fake_binance import FakeBinance


def example_portfolio() -> Portfolio:
    return load_portfolio(resource_path("examples", "portfolio.toml"))


def demo_portfolio() -> Portfolio:
    return load_portfolio(resource_path("demo", "portfolio.toml"))


def fake_config(server: FakeBinance, timeout_ms: int = 600, **extra: Any) -> dict[str, Any]:
    """URLs of the fake server, a short timeout, and ccxt's throttle kept on but at 1 ms per weight unit (Binance's
    real 50 ms would make each batched call wait ~0.5 s)."""
    return deep_merge(server.ccxt_config(), {"timeout": timeout_ms, "rateLimit": 1, **extra})


def fake_feed(server: FakeBinance, timeout_ms: int = 600, stale_after: float = 15.0) -> CcxtFeed:
    return CcxtFeed("binance", fake_config(server, timeout_ms), stale_after=stale_after, base_backoff=0.2,
                    max_backoff=2.0, seed=3)
