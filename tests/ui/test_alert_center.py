"""AlertCenter + tray menu + banner fallback + alert log, offscreen, with the real alert engine and a fake notifier."""

from __future__ import annotations

import math

import pytest
from PySide6.QtWidgets import QLabel, QMainWindow, QStatusBar, QVBoxLayout, QWidget

from liqwatch.domain.alerts import AlertEngine
from liqwatch.domain.snapshot import BookSnapshot, FeedHealth
from liqwatch.store.settings import Settings
from liqwatch.ui.alert_center import AlertCenter
from liqwatch.ui.notifier import UNAVAILABLE_NOTE, Notification
from liqwatch.ui.tray import TrayController, tooltip_text, tray_state
from liqwatch.ui.widgets.alert_log import AlertLogDock, Column
from tests.ui.snapshots import T0, example_portfolio, make_snapshot

# The example book: ETH isolated starts in warning (level 1.18), the BTC USDⓈ-M long 9.65 % from liquidation.
CRASH = {"BTC": 51000, "BTC/USDT:USDT": 54400, "BTC/USD:BTC": 54400, "ETH": 2700}  # both into danger
WIPEOUT = {"BTC": 45000, "BTC/USDT:USDT": 45000, "BTC/USD:BTC": 45000, "ETH": 2400}  # both past liquidation
SLIDE = {"BTC": 54000, "BTC/USDT:USDT": 54600, "BTC/USD:BTC": 54600, "ETH": 2720}  # danger, not liquidation


class FakeNotifier:
    name = "fake"

    def __init__(self) -> None:
        self.calls: list[Notification] = []

    def notify(self, notification: Notification) -> bool:
        self.calls.append(notification)
        return True


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def center(qtbot) -> tuple[AlertCenter, FakeNotifier, Clock, TrayController]:
    settings = Settings()
    clock = Clock()
    notifier = FakeNotifier()
    tray = TrayController(tray_available=False)
    engine = AlertEngine(settings.alerts, settings.thresholds)
    return AlertCenter(engine, notifier, tray=tray, clock=clock), notifier, clock, tray


def poll(center: AlertCenter, clock: Clock, prices: dict[str, float] | None, sequence: int) -> BookSnapshot:
    clock.now = T0 + 2.0 * sequence
    snapshot = make_snapshot(example_portfolio(), prices, sequence=sequence, time=clock.now)
    center.on_snapshot(snapshot)
    return snapshot


def test_several_crossings_in_one_poll_make_one_notification_listing_them(center) -> None:
    alert_center, notifier, clock, _tray = center
    poll(alert_center, clock, None, 1)  # start-up: the book's warnings, once
    assert len(notifier.calls) == 1
    poll(alert_center, clock, CRASH, 2)
    assert len(notifier.calls) == 2
    note = notifier.calls[-1]
    assert note.title == "LiqWatch Danger: 2 alerts"
    assert note.severity == "danger" and note.urgency == 2 and note.count == 2
    lines = note.body.splitlines()
    assert len(lines) == 2
    assert any(line.startswith("ETH isolated") and "margin level 1.06" in line for line in lines)
    assert any("BTC/USDT:USDT long" in line and "54,216.87" in line for line in lines)
    assert alert_center.last_latency_ms is not None and alert_center.last_latency_ms >= 0
    assert alert_center.last_latency_from_poll_ms == 0.0  # the fake clock does not move during the call


def test_liquidation_in_the_batch_makes_it_critical(center) -> None:
    alert_center, notifier, clock, _tray = center
    poll(alert_center, clock, None, 1)
    poll(alert_center, clock, WIPEOUT, 2)
    note = notifier.calls[-1]
    assert note.severity == "critical" and note.urgency == 2
    assert note.title.startswith("LiqWatch Liquidation:")
    assert "crossed the liquidation price" in note.body


def test_quiet_poll_sends_nothing(center) -> None:
    alert_center, notifier, clock, _tray = center
    poll(alert_center, clock, None, 1)
    poll(alert_center, clock, None, 2)
    assert len(notifier.calls) == 1


def test_snooze_all_from_the_tray_menu_silences_danger_but_not_liquidation(center) -> None:
    alert_center, notifier, clock, tray = center
    tray.snooze_all_requested.connect(alert_center.snooze_all)
    poll(alert_center, clock, None, 1)
    one_hour = next(a for a in tray.snooze_actions if a.text() == "1 hour")
    one_hour.trigger()
    assert alert_center.snoozed_until == pytest.approx(clock.now + 3600.0)
    assert "until" in tray.snooze_menu.title()
    poll(alert_center, clock, SLIDE, 2)
    assert len(notifier.calls) == 1, "danger fired while snoozed"
    poll(alert_center, clock, WIPEOUT, 3)
    assert len(notifier.calls) == 2
    assert notifier.calls[-1].severity == "critical"


def test_until_restart_and_resume(center) -> None:
    alert_center, notifier, clock, tray = center
    tray.snooze_all_requested.connect(alert_center.snooze_all)
    tray.unsnooze_requested.connect(alert_center.unsnooze_all)
    next(a for a in tray.snooze_actions if a.text() == "Until restart").trigger()
    assert alert_center.snoozed_until == math.inf
    poll(alert_center, clock, None, 1)
    assert notifier.calls == []
    tray.unsnooze_action.trigger()
    assert alert_center.snoozed_until is None
    poll(alert_center, clock, CRASH, 2)
    assert len(notifier.calls) == 1 and notifier.calls[0].severity == "danger"


def test_engine_failure_is_reported_not_swallowed(center, qtbot) -> None:
    alert_center, notifier, clock, _tray = center

    def broken(snapshot: BookSnapshot, now: float) -> list:
        raise RuntimeError("boom")

    alert_center.engine.process = broken  # type: ignore[method-assign]
    with qtbot.waitSignal(alert_center.message) as blocker:
        poll(alert_center, clock, CRASH, 1)
    assert "Alert engine error" in blocker.args[0]
    assert notifier.calls == []


def test_tray_state_and_tooltip() -> None:
    portfolio = example_portfolio()
    calm = make_snapshot(portfolio, {"ETH": 4500, "BTC/USDT:USDT": 70000, "ETH/USDT:USDT": 2500})
    assert tray_state(calm) == "ok"
    assert tray_state(make_snapshot(portfolio)) == "warning"
    assert tray_state(make_snapshot(portfolio, stale=frozenset({"x"}))) == "stale"
    blind = make_snapshot(portfolio)
    blind = BookSnapshot(blind.sequence, blind.time, blind.portfolio, blind.risk, blind.quotes,
                         health=(FeedHealth("binance", "down"),))
    assert tray_state(blind) == "stale"
    crash = make_snapshot(portfolio, CRASH, stale=frozenset({"x"}))
    assert tray_state(crash) == "danger"  # danger outranks stale
    tip = tooltip_text(crash).splitlines()
    assert tip[0] == "LiqWatch — DANGER"
    assert tip[1].startswith("Prices stale")
    assert len(tip) == 5  # header, stale line, worst three
    assert "ETH isolated" in tip[2] or "ETH isolated" in tip[3]
    assert any("to liquidation" in line for line in tip[2:])


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen plugin, when the dock is added
def test_no_tray_means_banner_and_visible_note(qtbot, monkeypatch) -> None:
    """With the tray reported unavailable and no notification server, alerts go to the in-window banner and the
    status bar says desktop notifications are unavailable."""
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QSystemTrayIcon

    import liqwatch.ui.alerts_wiring as wiring_module

    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    monkeypatch.setattr("liqwatch.ui.notifier_dbus.notification_service_available", lambda: False)
    import liqwatch.ui.single_instance as single_instance

    monkeypatch.setattr(single_instance, "_claimed", None)
    alerts: list = []
    monkeypatch.setattr("liqwatch.ui.notifier_banner.QApplication.alert", lambda w, ms=0: alerts.append(w))

    class Window(QMainWindow):
        def __init__(self) -> None:
            super().__init__()
            central = QWidget()
            self.banner_container = QVBoxLayout(central)
            self.setCentralWidget(central)
            self.setStatusBar(QStatusBar())
            self.close_to_tray = False

    class Poller(QObject):
        snapshot_ready = Signal(object)

    window, poller = Window(), Poller()
    qtbot.addWidget(window)
    window.show()
    wiring = wiring_module.install_alerts(wiring_module.QApplication.instance(), window, poller, Settings())
    try:
        assert wiring.tray is not None and wiring.tray.icon is None
        assert window.close_to_tray is False
        note = window.statusBar().findChild(QLabel, "notificationsUnavailable")
        assert note is not None and note.isVisible() and note.text() == UNAVAILABLE_NOTE
        assert wiring.banner is not None and not wiring.banner.isVisible()
        poller.snapshot_ready.emit(make_snapshot(example_portfolio(), sequence=1))
        poller.snapshot_ready.emit(make_snapshot(example_portfolio(), CRASH, sequence=2, time=T0 + 2))
        assert wiring.banner.isVisible()
        assert wiring.banner.title_label.text() == "LiqWatch Danger: 2 alerts"
        assert len(wiring.banner.body_label.text().splitlines()) == 2
        assert alerts == [window, window]
        assert wiring.dock is not None and wiring.dock.model.rowCount() == 4
        wiring.banner.dismiss_button.click()
        assert not wiring.banner.isVisible()
        # the alerts reached the database through the writer thread, not the GUI thread
        from liqwatch.store.alert_log import AlertLog
        from liqwatch.store.db import open_database

        assert wiring.store is not None and wiring.store.flush(5.0)
        conn = open_database()
        try:
            assert AlertLog(conn).count() == wiring.dock.model.rowCount() == 4
        finally:
            conn.close()
    finally:
        if wiring.store is not None:
            wiring.store.close()
        single_instance.release_single_instance()


def test_alert_log_acknowledge_one_and_all(qtbot) -> None:
    settings = Settings()
    engine = AlertEngine(settings.alerts, settings.thresholds)
    portfolio = example_portfolio()
    engine.process(make_snapshot(portfolio), T0)
    engine.process(make_snapshot(portfolio, CRASH, sequence=2, time=T0 + 2), T0 + 2)
    dock = AlertLogDock()
    qtbot.addWidget(dock)
    assert dock.add_alerts(engine.log) == 4
    assert dock.add_alerts(engine.log) == 0  # re-delivery does not duplicate
    model = dock.model
    assert model.row(0).time == T0 + 2  # newest first
    assert dock.windowTitle() == "Alert log (4 new)"
    seen: list[list[str]] = []
    dock.acknowledged.connect(seen.append)
    dock.view.selectRow(1)
    ids = dock.acknowledge_selected()
    assert ids == [model.row(1).id] and seen == [ids]
    assert model.data(model.index(1, Column.ACKNOWLEDGED)) == "yes"
    assert model.data(model.index(0, Column.ACKNOWLEDGED)) == "no"
    assert dock.windowTitle() == "Alert log (3 new)"
    rest = dock.acknowledge_all()
    assert len(rest) == 3 and model.unacknowledged == 0
    assert dock.acknowledge_all() == []  # nothing left: no signal
    assert len(seen) == 2
    assert dock.windowTitle() == "Alert log"
