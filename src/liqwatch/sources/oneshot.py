"""Prices for one `liqwatch check --prices-from demo|<exchange>` run.

'demo' is one deterministic draw of the simulation (`settings.simulation_seed`) one demo poll after its start.
An exchange is asked through ccxt with the same faults handling as the poller, retried with back-off for at
most `deadline` seconds (30 s) in all; if a source still fails then, `PriceFetchError` names the exchange and the
fault (cli.py prints it and exits 3). Individual missing or unusable prices are simply absent: the engine marks
the figures that need them `unknown`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from liqwatch.domain.model import Portfolio
from liqwatch.domain.snapshot import FeedHealth, Quote
from liqwatch.sources.base import all_on, price_request
from liqwatch.store.settings import Settings

DEADLINE = 30.0
ONESHOT_TIMEOUT_MS = 8000


class PriceFetchError(Exception):
    """Prices could not be fetched; the message names the exchange and the fault, never a secret."""


def fetch_prices(
    portfolio: Portfolio,
    source: str,
    settings: Settings,
    *,
    deadline: float | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, Quote], list[FeedHealth]]:
    source = source.strip()
    if source == "demo":
        from liqwatch.sources.simulated import SimulatedFeed

        feed = SimulatedFeed(portfolio, settings.simulation_seed)
        request = all_on(price_request(portfolio, "demo"), "demo")
        now = clock()
        feed.fetch(request, now - settings.poll_interval_demo)
        result = feed.fetch(request, now)
        return dict(result.quotes), list(result.health)
    return _fetch_exchange(portfolio, source.lower(), settings, DEADLINE if deadline is None else deadline,
                           clock, sleep)


def _fetch_exchange(
    portfolio: Portfolio, exchange_id: str, settings: Settings, deadline: float,
    clock: Callable[[], float], sleep: Callable[[float], None],
) -> tuple[dict[str, Quote], list[FeedHealth]]:
    from liqwatch.sources.ccxt_feed import CcxtFeed

    config = settings.ccxt_config(exchange_id)
    timeout_ms = int(config.get("timeout", ONESHOT_TIMEOUT_MS))
    try:
        feed = CcxtFeed(exchange_id, config, timeout_ms=timeout_ms, stale_after=deadline)
    except ValueError as exc:
        raise PriceFetchError(f"--prices-from: {exc}; use 'demo' or a ccxt exchange id such as 'binance'") from None
    request = all_on(price_request(portfolio, exchange_id), exchange_id)
    groups = len(request.futures.get(exchange_id, {})) + (1 if request.spot.get(exchange_id) else 0)
    if groups == 0:
        return {}, []
    start = clock()
    quotes: dict[str, Quote] = {}
    health: dict[str, FeedHealth] = {}
    try:
        while True:
            result = feed.fetch(request, clock())
            quotes.update(result.quotes)
            health.update({h.source: h for h in result.health})
            failing = [h for h in health.values() if h.failures > 0 or h.state in ("retrying", "down")]
            if not failing:
                return quotes, list(health.values())
            wait = max(0.0, feed.next_attempt() - clock())
            # the next attempt must be able to finish (every source may take a full timeout) inside the deadline
            if clock() + wait + groups * timeout_ms / 1000.0 > start + deadline:
                faults = "; ".join(h.message for h in failing)
                raise PriceFetchError(
                    f"{exchange_id}: could not fetch prices within {deadline:g} s: {faults}"
                )
            sleep(wait)
            for h in failing:
                health.pop(h.source, None)
    finally:
        feed.close()
