"""`liqwatch watch`: the feed → engine → alert-engine loop without Qt, printing alerts and calling hooks.

Why: the monitor must also run where no desktop is (a small server, over SSH) and reach the trader's phone. It
uses the same settings file, engine and alert policy as the window, so a replay shows exactly what the window
would have alerted.

Live (`--prices-from demo|<exchange>`, default the settings' feed) it polls until SIGINT/SIGTERM, then flushes
and exits 0. With `--replay CSV` it drives the replay with simulated clock values (`--speed` × real time per poll
interval, no sleeping), then exits with the monitoring-plugin status of the worst state seen (0 ok, 1 warning,
2 danger or liquidation, 3 unknown). In a replay, printed alert times are the recording's times and hooks are off
unless `--hooks` is given (a replay should not page anyone by surprise).
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from liqwatch.domain.alerts import Alert, AlertEngine
from liqwatch.domain.engine import evaluate_book, merged_prices
from liqwatch.domain.funding import funding_figures, with_funding
from liqwatch.domain.model import Portfolio
from liqwatch.domain.risk import BookRisk, FuturesRisk, MarginRisk, Risk
from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.domain.staleness import stale_keys

EXIT_OK, EXIT_UNKNOWN = 0, 3
DEFAULT_SPEED = 60.0


def register(subparsers: Any) -> None:
    watch = subparsers.add_parser(
        "watch", help="watch a portfolio without a window: print alerts as they fire, call alert hooks",
        description="Run the monitor headless. Live until Ctrl-C/SIGTERM (exit 0), or through a --replay CSV "
                    "(exit with the monitoring status of the worst state seen).")
    watch.add_argument("portfolio", help="portfolio file (TOML, format version 1)")
    watch.add_argument("--prices-from", metavar="SOURCE",
                       help="'demo' (simulated) or a ccxt exchange id (default: the settings' feed)")
    watch.add_argument("--config", metavar="FILE", help="settings file (TOML): thresholds, alerts, hooks")
    watch.add_argument("--replay", metavar="CSV", help="replay a timestamp,symbol,price CSV instead of live prices")
    watch.add_argument("--speed", type=_speed_arg, default=DEFAULT_SPEED, metavar="X",
                       help=f"replay speed, × real time (default {DEFAULT_SPEED:g})")
    watch.add_argument("--format", choices=("text", "jsonl"), default="text")
    watch.add_argument("--hooks", action=argparse.BooleanOptionalAction, default=None,
                       help="call the settings' alert hooks (default: on live, off in a replay)")
    watch.add_argument("--max-polls", type=int, default=None, metavar="N",
                       help="stop after N polls (exit 0 live)")
    watch.set_defaults(func=run_watch)


def _speed_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--speed must be a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"--speed must be > 0, got {text!r}")
    return value


# ---- output --------------------------------------------------------------------------------------------------


def alert_json(alert: Alert) -> dict[str, Any]:
    from liqwatch.sources.hooks import alert_payload

    return alert_payload(alert)


def alert_line(alert: Alert) -> str:
    from liqwatch.store.csv_export import iso_utc

    return f"{iso_utc(alert.time)} {alert.severity.upper():<8} {alert.text}"


def printer(fmt: str, out: Any = None) -> Callable[[Alert], None]:
    def emit(alert: Alert) -> None:
        stream = out or sys.stdout
        if fmt == "jsonl":
            stream.write(json.dumps(alert_json(alert), ensure_ascii=False) + "\n")
        else:
            stream.write(alert_line(alert) + "\n")
        stream.flush()

    return emit


# ---- the loop ------------------------------------------------------------------------------------------------


@dataclass
class WatchLoop:
    """One poll = fetch → evaluate → snapshot → alert engine → emit + hooks. Pure apart from the feed."""

    portfolio: Portfolio
    feed: Any  # liqwatch.sources.base.Feed
    request: Any  # liqwatch.sources.base.PriceRequest
    engine: AlertEngine
    thresholds: Any
    stale_limit: float
    emit: Callable[[Alert], None]
    submit: Callable[[list[Alert]], None] | None = None
    alert_time: Callable[[float], float] | None = None  # replay: wall → recording time
    sequence: int = 0
    worst: dict[str, Risk] = field(default_factory=dict)
    retry_after: float | None = None
    funding: Any = None  # a funding source with `poll(request, now)` (exchange or simulation); None: a replay
    funding_max_age: float = 180.0

    def poll(self, now: float) -> list[Alert]:
        result = self.feed.fetch(self.request, now)
        self.retry_after = result.retry_after
        quotes = dict(result.quotes)
        prices = merged_prices(self.portfolio, {k: q.price for k, q in quotes.items()})
        volatility = self.portfolio.volatility or None
        risk = evaluate_book(self.portfolio, prices, self.thresholds, volatility)
        health = tuple(result.health)
        if self.funding is not None:  # the same funding figures (and funding alerts) as the window
            infos, funding_health = self.funding.poll(self.request, now)
            risk = with_funding(risk, funding_figures(risk, infos, now, self.portfolio, max_age=self.funding_max_age))
            health += tuple(funding_health)
        self.sequence += 1
        snapshot = BookSnapshot(
            sequence=self.sequence, time=now, portfolio=self.portfolio, risk=risk, quotes=quotes,
            stale_keys=stale_keys(self.portfolio, quotes, now, self.stale_limit), health=health,
            volatilities=dict(self.portfolio.volatility),
        )
        for row in risk:
            seen = self.worst.get(row.key)
            if seen is None or row.status.rank > seen.status.rank:
                self.worst[row.key] = row
        alerts = self.engine.process(snapshot, now)
        if self.alert_time is not None:
            alerts = [replace(a, time=self.alert_time(a.time)) for a in alerts]
        for alert in alerts:
            self.emit(alert)
        if self.submit is not None and alerts:
            self.submit(alerts)
        return alerts

    def worst_book(self) -> BookRisk:
        rows = list(self.worst.values())
        return BookRisk(margin=tuple(r for r in rows if isinstance(r, MarginRisk)),
                        futures=tuple(r for r in rows if isinstance(r, FuturesRisk)))


class StopFlag:
    """Set from a signal handler, so it takes no lock: `threading.Event.set` in a handler can deadlock when the
    signal lands while the main thread holds the event's lock inside `wait`."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def sleep(self, seconds: float, slice_: float = 0.2) -> None:
        """Sleep up to `seconds`, waking within `slice_` of the flag being set."""
        deadline = time.monotonic() + seconds
        while not self._set:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(slice_, left))


def run_replay(loop: WatchLoop, replay: Any, interval: float, stop: StopFlag,
               max_polls: int | None = None) -> int:
    """Drive a replay with simulated wall-clock values, `interval` apart: as fast as the CPU allows."""
    from liqwatch.cli import exit_status

    now = replay.first_time
    replay.start(now)
    polls = 0
    while not stop.is_set():
        loop.poll(now)
        polls += 1
        if replay.finished(now) or (max_polls is not None and polls >= max_polls):
            break
        now += interval
    return exit_status(loop.worst_book())


def run_live(loop: WatchLoop, interval: float, stop: StopFlag, max_polls: int | None = None,
             clock: Callable[[], float] = time.time) -> int:
    """Poll every `interval` seconds (longer if the exchange asks) until `stop` is set."""
    polls = 0
    while not stop.is_set():
        started = time.monotonic()
        loop.poll(clock())
        polls += 1
        if max_polls is not None and polls >= max_polls:
            break
        wait = max(interval, loop.retry_after or 0.0) - (time.monotonic() - started)
        stop.sleep(max(0.0, wait))
    return EXIT_OK


# ---- the command ---------------------------------------------------------------------------------------------


def run_watch(args: argparse.Namespace) -> int:
    from liqwatch.cli import _InputError, load_settings_arg
    from liqwatch.store.portfolio import PortfolioError, load_portfolio

    def fail(*problems: str) -> int:
        for problem in problems:
            print(problem, file=sys.stderr)
        return EXIT_UNKNOWN

    try:
        settings = load_settings_arg(args.config)
        portfolio = load_portfolio(args.portfolio)
    except (PortfolioError, _InputError) as exc:
        return fail(*exc.problems)
    if args.replay and args.prices_from:
        return fail("liqwatch watch: give either --replay or --prices-from, not both")
    if args.max_polls is not None and args.max_polls < 1:
        return fail(f"liqwatch watch: --max-polls must be >= 1, got {args.max_polls}")

    from liqwatch.sources.base import all_on, price_request

    replay = None
    if args.replay:
        from liqwatch.sources.replay import ReplayError, ReplayFeed

        try:
            replay = ReplayFeed(args.replay, args.speed)
        except ReplayError as exc:
            return fail(*exc.problems)
        feed: Any = replay
        funding: Any = None  # a recording carries no funding rates
        source = "demo"
        request = all_on(price_request(portfolio, "replay"), "replay")
    else:
        source = (args.prices_from or settings.feed).strip()
        if source == "demo":
            from liqwatch.sources.funding import SimulatedFunding
            from liqwatch.sources.simulated import SimulatedFeed

            feed = SimulatedFeed(portfolio, settings.simulation_seed)
            funding = SimulatedFunding(settings.simulation_seed)
            request = all_on(price_request(portfolio, "demo"), "demo")
        else:
            from liqwatch.sources.ccxt_feed import CcxtFeed

            source = source.lower()
            try:
                feed = CcxtFeed(source, settings.ccxt_config(source), stale_after=settings.stale_limit(source))
            except ValueError as exc:
                return fail(f"--prices-from: {exc}; use 'demo' or a ccxt exchange id such as 'binance'")
            from liqwatch.sources.funding import FundingFetcher

            funding = FundingFetcher(source, settings.ccxt_config(source), interval=settings.funding_interval)
            # one feed prices the whole book, as in the window
            request = all_on(price_request(portfolio, source), source)

    def status(message: str) -> None:
        print(f"liqwatch watch: {message}", file=sys.stderr, flush=True)

    dispatcher = None
    use_hooks = args.hooks if args.hooks is not None else replay is None
    if use_hooks and settings.alert_hooks:
        from liqwatch.sources.hooks import HookError, keyring_lookup
        from liqwatch.sources.hooks_dispatch import HookDispatcher

        try:
            dispatcher = HookDispatcher.from_settings(list(settings.alert_hooks), keyring_lookup, status)
        except HookError as exc:
            feed.close()
            return fail(*exc.problems)

    interval = settings.poll_interval(source)
    engine = AlertEngine(settings.alerts, settings.thresholds, poll_interval=interval)
    loop = WatchLoop(
        portfolio=portfolio, feed=feed, request=request, engine=engine, thresholds=settings.thresholds,
        stale_limit=settings.stale_limit(source), emit=printer(args.format),
        submit=dispatcher.submit if dispatcher is not None else None,
        alert_time=replay.clock if replay is not None else None,
        funding=funding, funding_max_age=3 * settings.funding_interval,
    )
    stop = StopFlag()
    restore = _install_stop_handlers(stop)
    try:
        if replay is not None:
            return run_replay(loop, replay, interval, stop, args.max_polls)
        return run_live(loop, interval, stop, args.max_polls)
    finally:
        restore()
        if dispatcher is not None:
            dispatcher.close(timeout=10.0)
        feed.close()
        sys.stdout.flush()


def _install_stop_handlers(stop: StopFlag) -> Callable[[], None]:
    """SIGINT/SIGTERM end the loop cleanly (the current poll finishes, output and hooks are flushed)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: object) -> None:
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore

