"""The poller thread under pytest-qt: snapshots arrive, faults turn stale and recover, shutdown is prompt.

Receivers here are `@Slot` methods of a GUI-thread `QObject`, as the poller's contract asks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, Slot

from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.sources.base import FeedResult
from liqwatch.sources.ccxt_feed import CcxtFeed
from liqwatch.sources.simulated import SimulatedFeed
from liqwatch.store.settings import Settings
from liqwatch.ui.workers.poller import PollerController
from tests.fakes.fake_binance import FakeBinance, Fault
from tests.sources.helpers import demo_portfolio, example_portfolio, fake_config


class Sink(QObject):
    """Collects snapshots in the GUI thread."""

    def __init__(self) -> None:
        super().__init__()
        self.snapshots: list[BookSnapshot] = []

    @Slot(object)
    def take(self, snapshot: BookSnapshot) -> None:
        self.snapshots.append(snapshot)

    @property
    def last(self) -> BookSnapshot:
        return self.snapshots[-1]


@pytest.fixture
def fake_binance() -> Iterator[FakeBinance]:
    with FakeBinance() as server:
        yield server


@pytest.fixture
def make_poller(qtbot):
    controllers: list[PollerController] = []

    def make(feed, portfolio=None, interval=0.1, settings=None) -> tuple[PollerController, Sink]:
        controller = PollerController(portfolio or example_portfolio(), feed, settings or Settings(),
                                      interval=interval)
        sink = Sink()
        controller.snapshot_ready.connect(sink.take)
        controllers.append(controller)
        return controller, sink

    yield make
    for controller in controllers:
        assert controller.stop(2000)


def test_snapshots_arrive_from_the_simulation(qtbot, make_poller) -> None:
    portfolio = demo_portfolio()
    controller, sink = make_poller(SimulatedFeed(portfolio, 7), portfolio)
    controller.start()
    qtbot.waitUntil(lambda: len(sink.snapshots) >= 3, timeout=5000)
    snapshot = sink.last
    assert [s.sequence for s in sink.snapshots[:3]] == [1, 2, 3]
    assert snapshot.portfolio is portfolio
    assert len(snapshot.risk) == portfolio.position_count
    assert snapshot.arrays is not None
    assert {h.state for h in snapshot.health} == {"ok"}
    assert set(snapshot.quotes) >= {"BTC", "BTC/USDT:USDT", "BTC/USD:BTC"}
    usdm = next(r for r in snapshot.risk.futures if r.symbol == "BTC/USDT:USDT")
    assert usdm.mark_price == pytest.approx(snapshot.quotes["BTC/USDT:USDT"].price)
    assert snapshot.stale_keys == frozenset()
    with pytest.raises(TypeError):
        snapshot.quotes["BTC"] = snapshot.quotes["ETH"]  # type: ignore[index]
    assert controller.stop(2000) and not controller.running


def test_snapshots_carry_the_funding_figures_of_every_futures_row(qtbot, make_poller) -> None:
    """The poller adds funding through the array path (`domain.funding_vector`): each row's figures must be the
    reference formulas' for that row."""
    from liqwatch.domain.funding import FundedFuturesRisk, funding_payment

    portfolio = demo_portfolio()
    controller, sink = make_poller(SimulatedFeed(portfolio, 7), portfolio)
    controller.start()

    def funded() -> BookSnapshot | None:
        return next((s for s in sink.snapshots if any(getattr(r, "funding_rate", None) is not None
                                                      for r in s.risk.futures)), None)

    qtbot.waitUntil(lambda: funded() is not None, timeout=5000)
    snapshot = funded()
    assert snapshot is not None
    positions = {a.position_key(i): p for a in portfolio.futures_accounts for i, p in enumerate(a.positions)}
    checked = 0
    for row in snapshot.risk.futures:
        assert isinstance(row, FundedFuturesRisk)
        if row.funding_rate is None or row.mark_price is None:
            continue
        payment = funding_payment(positions[row.key], row.mark_price, row.funding_rate)
        assert row.next_funding_payment == pytest.approx(payment, rel=1e-12)
        assert row.funding_per_day == pytest.approx(payment * 24 / row.funding_interval_hours, rel=1e-12)
        if row.margin_mode == "isolated":
            assert set(row.liquidation_price_after_funding or {}) == {1, 3, 9}
        else:
            assert row.liquidation_price_after_funding is None and row.account_funding_per_day is not None
        checked += 1
    assert checked == len(snapshot.risk.futures) > 0


def test_exchange_fault_goes_stale_then_recovers(qtbot, make_poller, fake_binance: FakeBinance) -> None:
    feed = CcxtFeed("binance", fake_config(fake_binance, 500), base_backoff=0.1, max_backoff=0.3, seed=1)
    portfolio = example_portfolio()
    usdm = portfolio.futures_accounts[0]
    btc_key, eth_key = usdm.position_key(0), usdm.position_key(1)
    controller, sink = make_poller(feed, portfolio, settings=Settings(stale_after=0.6))
    fake_binance.set_price("BTC/USDT:USDT", "61000")
    controller.start()
    qtbot.waitUntil(lambda: bool(sink.snapshots) and "BTC/USDT:USDT" in sink.last.quotes, timeout=5000)
    assert sink.last.stale_keys == frozenset()

    fake_binance.inject("/fapi/v1/premiumIndex", Fault(status=503))
    fake_binance.set_price("BTC/USDT:USDT", "40000")  # never shown: the endpoint fails from now on
    qtbot.waitUntil(lambda: btc_key in sink.last.stale_keys, timeout=5000)
    snapshot = sink.last
    assert eth_key in snapshot.stale_keys  # ETH's linear mark is as old
    assert portfolio.futures_accounts[1].position_key(0) not in snapshot.stale_keys  # COIN-M still fresh
    linear = next(h for h in snapshot.health if h.source == "binance:linear")
    assert linear.state in ("retrying", "stale", "down") and "HTTP 503" in linear.message
    assert snapshot.feed_stale or linear.state == "retrying"
    row = next(r for r in snapshot.risk.futures if r.key == btc_key)
    assert row.mark_price == 61000.0  # the last good price, flagged stale, never the unseen 40000

    fake_binance.clear_faults()
    qtbot.waitUntil(lambda: sink.last.stale_keys == frozenset()
                    and all(h.state == "ok" for h in sink.last.health), timeout=5000)
    assert next(r for r in sink.last.risk.futures if r.key == btc_key).mark_price == 40000.0


def test_stop_is_prompt_while_a_request_hangs(qtbot, make_poller, fake_binance: FakeBinance) -> None:
    fake_binance.inject("/fapi/v1/premiumIndex", Fault(hang=True))
    feed = CcxtFeed("binance", fake_config(fake_binance, 10_000))
    controller, _sink = make_poller(feed, interval=5.0)
    controller.start()
    qtbot.waitUntil(lambda: bool(fake_binance.requests("/fapi/v1/premiumIndex")), timeout=5000)
    started = time.monotonic()
    assert controller.stop(2000)
    assert time.monotonic() - started < 2.0
    assert not controller.running


def test_rate_limiting_stretches_the_interval_and_recovery_restores_it(qtbot, make_poller,
                                                                       fake_binance: FakeBinance) -> None:
    feed = CcxtFeed("binance", fake_config(fake_binance, 500), base_backoff=0.05, max_backoff=0.2, seed=1)
    controller, sink = make_poller(feed, interval=0.1)
    fake_binance.inject("/fapi/v1/premiumIndex", Fault(status=429, retry_after=0.3))
    controller.start()
    qtbot.waitUntil(lambda: controller._worker is not None and controller._worker._current_interval > 0.1,
                    timeout=5000)
    assert controller._worker._current_interval <= 0.8  # bounded by 8 × the configured interval
    fake_binance.clear_faults()
    qtbot.waitUntil(lambda: controller._worker._current_interval == 0.1, timeout=8000)
    assert any(h.state == "ok" for h in sink.last.health)


def test_portfolio_feed_and_interval_changes_apply(qtbot, make_poller) -> None:
    example, demo = example_portfolio(), demo_portfolio()
    controller, sink = make_poller(SimulatedFeed(example, 1), example)
    controller.start()
    qtbot.waitUntil(lambda: bool(sink.snapshots), timeout=5000)
    controller.set_portfolio(demo)
    qtbot.waitUntil(lambda: sink.last.portfolio is demo, timeout=5000)
    assert len(sink.last.risk) == demo.position_count
    controller.set_feed(SimulatedFeed(demo, 2))
    controller.set_interval(0.05)
    count = len(sink.snapshots)
    qtbot.waitUntil(lambda: len(sink.snapshots) >= count + 3, timeout=5000)
    with pytest.raises(ValueError):
        controller.set_interval(0)


class BrokenFeed:
    name = "broken"

    def __init__(self) -> None:
        self.calls = 0

    def fetch(self, request, now) -> FeedResult:
        self.calls += 1
        raise RuntimeError("a bug in a feed")

    def close(self) -> None:
        pass


def test_a_feed_bug_is_logged_and_shown_never_raised(qtbot, make_poller, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="liqwatch.ui.workers.poller")
    feed = BrokenFeed()
    controller, sink = make_poller(feed)
    controller.start()
    qtbot.waitUntil(lambda: len(sink.snapshots) >= 2, timeout=5000)
    health = sink.last.health
    assert [(h.source, h.state) for h in health] == [("broken", "down")]
    assert "internal error (RuntimeError)" in health[0].message
    # no feed quote: only the file's fixed prices are used, and nothing is flagged as a fresh feed price
    assert dict(sink.last.quotes) == {}
    assert next(r for r in sink.last.risk.futures if r.symbol == "BTC/USDT:USDT").mark_price == 60010.0
    records = [r for r in caplog.records if "raised instead of reporting health" in r.getMessage()]
    assert records and records[0].exc_info is not None


def test_stop_before_start_and_twice_is_harmless(make_poller) -> None:
    controller, _ = make_poller(SimulatedFeed(example_portfolio(), 1))
    assert controller.stop() and controller.stop()


def test_the_window_gets_table_ready_batches_built_in_the_poller_thread(qtbot) -> None:
    """With `prepare`, each snapshot is followed by what `prepare` made of it, built in the poller thread and
    interrupted by `pause` between chunks of rows (the GUI thread goes first while it paints)."""
    import threading

    from liqwatch.ui.models.table_batch import TableBatch
    from liqwatch.ui.models.table_model import PositionsModel

    portfolio = demo_portfolio()
    model = PositionsModel()
    threads, pauses = set(), []

    def prepare(snapshot):  # type: ignore[no-untyped-def]
        threads.add(threading.current_thread().name)
        return model.preparer.prepare(snapshot)

    controller = PollerController(portfolio, SimulatedFeed(portfolio, 7), Settings(), interval=0.1,
                                  prepare=prepare, pause=lambda: pauses.append(1))
    snapshots, batches = Sink(), Sink()
    controller.snapshot_ready.connect(snapshots.take)
    controller.table_ready.connect(batches.take)
    controller.start()
    try:
        qtbot.waitUntil(lambda: len(batches.snapshots) >= 2, timeout=5000)
    finally:
        assert controller.stop(2000)
    batch = batches.snapshots[0]
    assert isinstance(batch, TableBatch)
    assert batch.snapshot is snapshots.snapshots[0]
    assert [r.risk.key for r in batch.rows] == [r.key for r in batch.snapshot.risk]
    assert threading.current_thread().name not in threads and threads
    assert pauses  # to_risk and the funding loops offered the GUI thread its turn
