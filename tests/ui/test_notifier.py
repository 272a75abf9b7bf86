"""Batched notification text, the channel choice, and the single-instance protocol (in-process, two objects)."""

from __future__ import annotations

from pathlib import Path

import pytest

from liqwatch.domain.alerts import Alert
from liqwatch.ui.notifier import (
    CompositeNotifier,
    Notification,
    NullNotifier,
    batch_notification,
    desktop_notifier,
)
from liqwatch.ui.notifier_dbus import notify_arguments
from liqwatch.ui.single_instance import SingleInstance, server_name


def alert(i: int, severity: str, text: str | None = None) -> Alert:
    return Alert(id=f"a{i}", time=100.0 + i, severity=severity, kind="risk", key=f"k{i}", account="acc",
                 symbol=None, title=f"{severity.title()}: position {i}", text=text or f"position {i} is {severity}",
                 figure=1.2, threshold=1.3, status=severity)


def test_single_alert_titles_itself() -> None:
    note = batch_notification([alert(1, "warning")])
    assert note is not None
    assert note.title == "LiqWatch: Warning: position 1"
    assert note.body == "position 1 is warning" and note.urgency == 1 and note.count == 1


def test_batch_orders_worst_first_and_caps_lines() -> None:
    alerts = [alert(i, "warning") for i in range(10)] + [alert(99, "critical")]
    note = batch_notification(alerts, max_lines=4)
    assert note is not None
    assert note.title == "LiqWatch Liquidation: 11 alerts"
    lines = note.body.splitlines()
    assert lines[0] == "position 99 is critical"
    assert lines[1:4] == ["position 0 is warning", "position 1 is warning", "position 2 is warning"]
    assert lines[4] == "… and 7 more (see the alert log)"
    assert note.alert_ids[0] == "a99" and len(note.alert_ids) == 11
    assert batch_notification([]) is None


def test_dbus_arguments_carry_the_byte_urgency_and_exact_fields() -> None:
    note = batch_notification([alert(1, "danger"), alert(2, "warning")])
    assert note is not None
    app, replaces, icon, title, body, actions, hints, timeout = notify_arguments(note, "/icon.png")
    assert (app, replaces, icon, actions, timeout) == ("LiqWatch", 0, "/icon.png", [], -1)
    assert title == note.title and body == "position 1 is danger\nposition 2 is warning"
    assert hints["urgency"] == ("y", 2)


def test_composite_survives_a_broken_channel() -> None:
    shown: list[str] = []

    class Broken:
        name = "broken"

        def notify(self, n: Notification) -> bool:
            raise OSError("bus gone")

    class Good:
        name = "good"

        def notify(self, n: Notification) -> bool:
            shown.append(n.title)
            return True

    note = batch_notification([alert(1, "danger")])
    assert note is not None
    assert CompositeNotifier([Broken(), Good()]).notify(note) is True
    assert shown == [note.title]
    assert CompositeNotifier([NullNotifier()]).notify(note) is False


def test_no_tray_and_no_server_means_no_desktop_channel(monkeypatch) -> None:
    monkeypatch.setattr("liqwatch.ui.notifier_dbus.notification_service_available", lambda: False)
    assert isinstance(desktop_notifier(None), NullNotifier)
    assert isinstance(desktop_notifier(None, enabled=False), NullNotifier)


def test_second_instance_raises_the_first(qtbot, tmp_path: Path) -> None:
    first = SingleInstance(tmp_path)
    second = SingleInstance(tmp_path)
    try:
        assert first.acquire() is True
        with qtbot.waitSignal(first.raise_requested, timeout=3000):
            assert second.acquire() is False  # lock held: it knocks instead
    finally:
        second.release()
        first.release()
    third = SingleInstance(tmp_path)  # released: the next start becomes the instance
    try:
        assert third.acquire() is True
    finally:
        third.release()


def test_a_start_while_the_first_is_still_starting_knocks_until_it_listens(qtbot, tmp_path: Path) -> None:
    """`run_gui` takes the lock before its window and listens only once the window is up: a second start in
    between must keep knocking until then, not give up or start a second monitor."""
    import threading

    from PySide6.QtCore import QTimer

    first = SingleInstance(tmp_path)
    assert first.acquire(listen=False) is True
    outcome: list[bool] = []

    def second_start() -> None:  # another process, in effect: its own lock and socket, blocking calls only
        second = SingleInstance(tmp_path)
        outcome.append(second.acquire())
        second.release()

    thread = threading.Thread(target=second_start)
    try:
        with qtbot.waitSignal(first.raise_requested, timeout=8000):
            thread.start()
            QTimer.singleShot(400, first.listen)  # the window is up
        thread.join(8)
        assert outcome == [False]
    finally:
        first.release()


def test_server_name_is_per_config_folder(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert server_name(a) != server_name(b)
    assert server_name(a) == server_name(a)


@pytest.mark.parametrize("severity,urgency", [("info", 0), ("warning", 1), ("danger", 2), ("critical", 2)])
def test_urgency_by_severity(severity: str, urgency: int) -> None:
    note = batch_notification([alert(1, severity)])
    assert note is not None and note.urgency == urgency
