"""The poller: fetches prices off the GUI thread, evaluates the whole book, emits one immutable snapshot per poll.

Threading (see docs/conventions: Mu's wiring, Electrum's `update_safe`):

- `PollWorker` is a `QObject` moved to a `QThread`. It creates its `QTimer` inside that thread (in `start`) and
  stops it there, through a queued signal; the GUI thread never touches the timer.
- The network call itself runs on a short-lived daemon thread that the worker waits on in 50 ms slices, checking
  an abandon flag. ccxt's timeout bounds the request; the flag bounds shutdown: `stop()` returns within its
  timeout even while a request hangs, leaving no `QThread` running. The abandoned request finishes on its own
  (it holds its exchange's in-flight lock until then, so requests never pile up).
- Receivers of `PollerController.snapshot_ready` must be `@Slot` methods on GUI-thread objects, never lambdas
  (a lambda runs in the emitting thread). The controller re-emits the worker's signal from the GUI thread.

Each poll: fetch → merge with the portfolio's fixed prices (feed quotes win) → `CompiledBook.evaluate` (compiled
once per portfolio) → `to_risk()` → funding figures (rates fetched on the slower `Settings.funding_interval`
schedule: `FundingFetcher` for an exchange feed, `SimulatedFunding` for the demo) → staleness → EWMA volatilities
from the poller's own history → `BookSnapshot`.
A quote that stops arriving keeps its last price, and the rows that depend on it are listed in `stale_keys` once
it is older than the stale limit. No exception escapes a poll: feed faults are health; anything else is logged
with its traceback and the poll still emits what it knows, with the feed marked down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from types import MappingProxyType

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from liqwatch.domain.funding import FundingInfo
from liqwatch.domain.funding_vector import funded_book
from liqwatch.domain.model import Portfolio
from liqwatch.domain.reconcile import reconcile_book
from liqwatch.domain.snapshot import BookSnapshot, FeedHealth, Quote
from liqwatch.domain.staleness import stale_keys
from liqwatch.domain.vectorised import CompiledBook
from liqwatch.domain.volatility import ewma_volatility
from liqwatch.sources.base import Feed, FeedResult, all_on, price_request
from liqwatch.store.settings import Settings
from liqwatch.ui.busy_gate import GUI_BUSY

log = logging.getLogger(__name__)

HISTORY_LENGTH = 720  # price observations kept per quote key for the volatility estimate
MAX_BACKOFF_FACTOR = 8.0  # the adaptive interval never exceeds 8 × the configured one …
MAX_INTERVAL = 120.0  # … nor two minutes


def _is_simulation(feed: Feed) -> bool:
    from liqwatch.sources.replay import ReplayFeed
    from liqwatch.sources.simulated import SimulatedFeed

    return isinstance(feed, SimulatedFeed | ReplayFeed)


class _AbandonedError(Exception):
    pass


class PollWorker(QObject):
    """Lives in the poller thread. Only the controller talks to it, through queued signals."""

    snapshot_ready = Signal(object)
    table_ready = Signal(object)

    def __init__(self, portfolio: Portfolio, feed: Feed, settings: Settings, interval: float,
                 abandon: threading.Event, clock: Callable[[], float],
                 prepare: Callable[[BookSnapshot], object] | None = None,
                 pause: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._prepare = prepare
        self._pause = pause
        self._portfolio = portfolio
        self._feed = feed
        self._settings = settings
        self._interval = interval
        self._current_interval = interval
        self._abandon = abandon
        self._clock = clock
        self._timer: QTimer | None = None
        self._book: CompiledBook | None = None
        self._book_portfolio: Portfolio | None = None
        self._quotes: dict[str, Quote] = {}
        self._history: dict[str, deque[tuple[float, float]]] = {}
        self._sequence = 0
        self._busy = False
        self._funding_source: object | None = None  # made lazily for the current feed
        self._funding_feed: Feed | None = None
        self._funding: dict[str, FundingInfo] = {}
        self._funding_health: tuple[FeedHealth, ...] = ()

    # --- lifecycle (all run in the worker thread) ---------------------------------------------------------
    @Slot()
    def start(self) -> None:
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.poll)
        self._timer.start(0)

    @Slot()
    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        try:
            self._feed.close()
        except Exception:
            log.exception("closing the feed %r failed", getattr(self._feed, "name", self._feed))
        self._drop_funding()
        thread = self.thread()
        if thread is not None:
            thread.quit()

    @Slot(object)
    def set_portfolio(self, portfolio: Portfolio) -> None:
        self._portfolio = portfolio

    @Slot(object)
    def set_feed(self, feed: Feed) -> None:
        old, self._feed = self._feed, feed
        self._quotes.clear()  # another source's prices are not this one's
        self._history.clear()
        self._drop_funding()
        if old is not feed:
            try:
                old.close()
            except Exception:
                log.exception("closing the feed %r failed", getattr(old, "name", old))

    @Slot(float)
    def set_interval(self, seconds: float) -> None:
        self._interval = self._current_interval = max(0.05, float(seconds))
        self._schedule()

    @Slot()
    def poll_now(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.poll()

    def _schedule(self) -> None:
        if self._timer is not None and not self._abandon.is_set():
            self._timer.start(int(self._current_interval * 1000))

    # --- one poll ------------------------------------------------------------------------------------------
    @Slot()
    def poll(self) -> None:
        if self._busy or self._abandon.is_set():
            return
        self._busy = True
        try:
            snapshot = self._poll_once()
            if snapshot is not None and not self._abandon.is_set():
                self.snapshot_ready.emit(snapshot)
                self._emit_table(snapshot)
        except _AbandonedError:
            pass
        except Exception:  # a bug: log it with its traceback, keep polling
            log.exception("poll failed")
        finally:
            self._busy = False
            self._schedule()

    def _emit_table(self, snapshot: BookSnapshot) -> None:
        """The window's rows for this snapshot, built here rather than on the GUI thread (see `table_batch`).
        If preparing fails, the bare snapshot goes instead: the window then builds its rows itself."""
        if self._prepare is None:
            return
        try:
            prepared = self._prepare(snapshot)
        except Exception:
            log.exception("preparing the table rows failed; the window builds them")
            prepared = snapshot
        self.table_ready.emit(prepared)

    def _poll_once(self) -> BookSnapshot | None:
        portfolio = self._portfolio
        feed = self._feed
        now = self._clock()
        # one feed prices the whole book: an item filed under another exchange is still better priced by this
        # feed than not at all (the app runs one feed; its health names the exchange the prices come from)
        exchange = getattr(feed, "exchange_id", None) or getattr(feed, "name", "demo")
        request = all_on(price_request(portfolio, exchange), exchange)
        result = self._fetch(feed, request, now)
        self._poll_funding(feed, request, now)
        now = self._clock()
        self._adapt(result)
        for key, quote in result.quotes.items():
            previous = self._quotes.get(key)
            self._quotes[key] = quote
            if previous is None or quote.received_time != previous.received_time:
                history = self._history.setdefault(key, deque(maxlen=HISTORY_LENGTH))
                stamp = quote.exchange_time if quote.exchange_time is not None else quote.received_time
                if not history or stamp > history[-1][0]:
                    history.append((stamp, quote.price))
        return self._evaluate(portfolio, result.health, now)

    def _abandonable(self, name: str, call: Callable[[], object]) -> dict[str, object]:
        """Run a network call on a daemon thread; give up (without waiting for it) when the poller stops."""
        box: dict[str, object] = {}
        done = threading.Event()

        def run() -> None:
            try:
                box["result"] = call()
            except BaseException as exc:  # reported in the poller thread
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=run, name=f"liqwatch-fetch-{name}", daemon=True).start()
        while not done.wait(0.05):
            if self._abandon.is_set():
                raise _AbandonedError
        return box

    def _fetch(self, feed: Feed, request: object, now: float) -> FeedResult:
        """Run `feed.fetch` off the poller thread (see `_abandonable`)."""
        box = self._abandonable(getattr(feed, "name", "feed"), lambda: feed.fetch(request, now))  # type: ignore[arg-type]
        if "error" in box:
            error = box["error"]
            log.error("feed %r raised instead of reporting health", getattr(feed, "name", feed),
                      exc_info=error)  # type: ignore[arg-type]
            name = getattr(feed, "name", "feed")
            health = FeedHealth(name, "down", f"{name}: internal error ({type(error).__name__}); see the log",
                                None, 1)
            return FeedResult({}, (health,))
        return box["result"]  # type: ignore[return-value]

    # --- funding rates (slower schedule) -------------------------------------------------------------------
    def _funding_source_for(self, feed: Feed) -> object | None:
        """Funding comes from the same place as the prices: the exchange, or the simulation; a replay has none."""
        if self._funding_feed is feed:
            return self._funding_source
        self._drop_funding()
        from liqwatch.sources.ccxt_feed import CcxtFeed
        from liqwatch.sources.funding import FundingFetcher, SimulatedFunding
        from liqwatch.sources.simulated import SimulatedFeed

        source: object | None = None
        if isinstance(feed, CcxtFeed):
            source = FundingFetcher(feed.exchange_id, feed.ccxt_config, interval=self._settings.funding_interval,
                                    timeout_ms=feed.timeout_ms, base_backoff=feed.base_backoff,
                                    max_backoff=feed.max_backoff)
        elif isinstance(feed, SimulatedFeed):
            source = SimulatedFunding(self._settings.simulation_seed)
        self._funding_source, self._funding_feed = source, feed
        return source

    def _poll_funding(self, feed: Feed, request: object, now: float) -> None:
        source = self._funding_source_for(feed)
        if source is None:  # polling a funding source is cheap when nothing is due: it keeps its own schedule
            return
        box = self._abandonable("funding", lambda: source.poll(request, now))  # type: ignore[attr-defined]
        if "error" in box:
            log.error("funding source raised instead of reporting health", exc_info=box["error"])  # type: ignore[arg-type]
            return
        infos, health = box["result"]  # type: ignore[misc]
        self._funding = dict(infos)
        self._funding_health = tuple(health)

    def _drop_funding(self) -> None:
        source, self._funding_source, self._funding_feed = self._funding_source, None, None
        self._funding, self._funding_health = {}, ()
        close = getattr(source, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                log.exception("closing the funding source failed")

    def _adapt(self, result: FeedResult) -> None:
        """Slow down while the exchange pushes back; come back to the configured pace as it recovers."""
        ceiling = min(MAX_INTERVAL, self._interval * MAX_BACKOFF_FACTOR)
        if result.rate_limited:
            wanted = max(self._current_interval * 2.0, result.retry_after or 0.0)
            self._current_interval = max(self._interval, min(ceiling, wanted))
        else:
            self._current_interval = max(self._interval, self._current_interval / 2.0)

    def _evaluate(self, portfolio: Portfolio, health: tuple[FeedHealth, ...], now: float) -> BookSnapshot:
        if self._book is None or self._book_portfolio is not portfolio:
            self._book = CompiledBook(portfolio)
            self._book_portfolio = portfolio
        prices: dict[str, float] = dict(portfolio.prices)
        prices.update({key: quote.price for key, quote in self._quotes.items()})
        volatilities = dict(portfolio.volatility)
        volatilities.update(self._volatilities())
        arrays = self._book.evaluate(prices, self._settings.thresholds, volatilities)
        limit = self._stale_limit()
        self._sequence += 1
        risk = arrays.to_risk(self._pause)  # defers to the GUI thread while it paints (see `busy_gate`)
        if self._funding:  # the array path of `funding_figures` + `with_funding` (see `domain.funding_vector`)
            risk = funded_book(arrays, risk, self._funding, now, max_age=3 * self._settings.funding_interval,
                               pause=self._pause)
        imported = any(a.source == "imported" for a in (*portfolio.margin_accounts, *portfolio.futures_accounts))
        return BookSnapshot(
            sequence=self._sequence,
            time=now,
            portfolio=portfolio,
            risk=risk,
            quotes=MappingProxyType(dict(self._quotes)),
            stale_keys=stale_keys(portfolio, self._quotes, now, limit),
            health=tuple(health) + self._funding_health,
            volatilities=MappingProxyType(volatilities),
            arrays=arrays,
            reconciled=MappingProxyType(reconcile_book(portfolio, risk) if imported else {}),
        )

    def _stale_limit(self) -> float:
        if self._settings.stale_after is not None:
            return self._settings.stale_after
        return max(3.0 * self._interval, 15.0)

    def _volatilities(self) -> dict[str, float]:
        """Asset → annualised EWMA volatility; a spot series wins over a futures series of the same base."""
        out: dict[str, float] = {}
        for key in sorted(self._history, key=lambda k: "/" in k, reverse=True):  # futures first, spot overwrites
            history = self._history[key]
            vol = ewma_volatility([t for t, _ in history], [p for _, p in history])
            if vol is not None and vol > 0:
                out[key.split("/", 1)[0]] = vol
        return out


class PollerController(QObject):
    """GUI-side handle on the poller thread. Connect `snapshot_ready` to `@Slot` methods of GUI objects."""

    snapshot_ready = Signal(object)  # BookSnapshot, one per poll, emitted in the GUI thread
    table_ready = Signal(object)  # what `prepare` made of that snapshot (emitted only when `prepare` is given)

    _request_stop = Signal()
    _request_portfolio = Signal(object)
    _request_feed = Signal(object)
    _request_interval = Signal(float)
    _request_poll = Signal()

    def __init__(self, portfolio: Portfolio, feed: Feed, settings: Settings | None = None, *,
                 interval: float | None = None, clock: Callable[[], float] = time.time,
                 prepare: Callable[[BookSnapshot], object] | None = None,
                 pause: Callable[[], None] | None = GUI_BUSY.wait_idle, parent: QObject | None = None) -> None:
        """`prepare`: called in the poller thread on every snapshot; its result is emitted as `table_ready`.
        `pause`: called between chunks of the poller's per-row work (by default: defer to the GUI thread while it
        is busy, see `liqwatch.ui.busy_gate`)."""
        super().__init__(parent)
        self._prepare = prepare
        self._pause = pause
        self._portfolio = portfolio
        self._feed = feed
        self._settings = settings or Settings()
        self._interval = interval if interval is not None else self._default_interval(feed)
        self._clock = clock
        self._thread: QThread | None = None
        self._worker: PollWorker | None = None
        self._abandon = threading.Event()

    def _default_interval(self, feed: Feed) -> float:
        if _is_simulation(feed):
            return self._settings.poll_interval_demo
        return self._settings.poll_interval_exchange

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    @property
    def interval(self) -> float:
        """The configured poll interval in seconds (the adaptive one may be longer while rate limited)."""
        return self._interval

    @property
    def portfolio(self) -> Portfolio:
        """The book being polled (the last one given to `set_portfolio`)."""
        return self._portfolio

    @property
    def feed(self) -> Feed:
        return self._feed

    def start(self) -> None:
        if self.running:
            return
        self._abandon = threading.Event()
        thread = QThread()
        thread.setObjectName("liqwatch-poller")
        worker = PollWorker(self._portfolio, self._feed, self._settings, self._interval, self._abandon,
                            self._clock, self._prepare, self._pause)
        worker.moveToThread(thread)
        thread.started.connect(worker.start)
        thread.finished.connect(worker.deleteLater)
        worker.snapshot_ready.connect(self.snapshot_ready)  # queued: re-emitted in the GUI thread
        worker.table_ready.connect(self.table_ready)
        self._request_stop.connect(worker.stop)
        self._request_portfolio.connect(worker.set_portfolio)
        self._request_feed.connect(worker.set_feed)
        self._request_interval.connect(worker.set_interval)
        self._request_poll.connect(worker.poll_now)
        self._thread, self._worker = thread, worker
        thread.start()

    def stop(self, timeout_ms: int = 2000) -> bool:
        """Stop polling and end the thread; True when it ended within `timeout_ms` (even if a request hangs)."""
        thread, worker = self._thread, self._worker
        if thread is None or worker is None:
            return True
        self._abandon.set()
        self._request_stop.emit()  # queued: the worker stops its own timer, closes the feed, quits its loop
        finished = thread.wait(max(1, timeout_ms))
        if not finished:
            log.warning("poller thread did not stop within %d ms", timeout_ms)
            return False
        # the worker's connections die with it (deleteLater on `finished`); a new start() makes new ones
        self._thread = self._worker = None
        thread.deleteLater()
        return True

    def set_portfolio(self, portfolio: Portfolio) -> None:
        self._portfolio = portfolio
        if self.running:
            self._request_portfolio.emit(portfolio)
            self._request_poll.emit()

    def set_feed(self, feed: Feed) -> None:
        old, self._feed = self._feed, feed
        if self.running:
            self._request_feed.emit(feed)
            self._request_poll.emit()
        elif old is not feed:
            old.close()

    def poll_now(self) -> None:
        if self.running:
            self._request_poll.emit()

    def set_interval(self, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError(f"poll interval must be > 0 seconds, got {seconds!r}")
        self._interval = float(seconds)
        if self.running:
            self._request_interval.emit(float(seconds))
