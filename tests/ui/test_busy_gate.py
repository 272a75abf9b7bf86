"""`BusyGate`: workers defer to the GUI thread's busy spells, never longer than `max_hold_s`."""

from __future__ import annotations

import threading
import time

from liqwatch.ui.busy_gate import BusyGate


def _time_wait(gate: BusyGate) -> float:
    box: dict[str, float] = {}

    def worker() -> None:
        start = time.monotonic()
        gate.wait_idle()
        box["waited"] = time.monotonic() - start

    thread = threading.Thread(target=worker)
    thread.start()
    return thread, box  # type: ignore[return-value]


def test_idle_gate_does_not_wait() -> None:
    gate = BusyGate()
    start = time.monotonic()
    for _ in range(1000):
        gate.wait_idle()
    assert time.monotonic() - start < 0.5
    assert not gate.is_busy and gate.idle_for() >= 0.0


def test_a_worker_waits_until_the_busy_spell_ends() -> None:
    gate = BusyGate(max_hold_s=5.0)
    with gate.busy():
        thread, box = _time_wait(gate)
        time.sleep(0.15)
        assert thread.is_alive() and gate.is_busy  # still deferring
    thread.join(2)
    assert not thread.is_alive() and 0.1 <= box["waited"] < 2.0


def test_nested_spells_end_with_the_outer_one() -> None:
    gate = BusyGate()
    with gate.busy():
        with gate.busy():
            pass
        assert gate.is_busy and gate.idle_for() == 0.0
    assert not gate.is_busy
    gate.hold()
    gate.hold()
    gate.release()
    assert gate.is_busy
    gate.release()
    gate.release()  # an extra release is harmless
    assert not gate.is_busy


def test_a_long_busy_spell_cannot_starve_a_worker() -> None:
    gate = BusyGate(max_hold_s=0.1)
    with gate.busy():
        thread, box = _time_wait(gate)
        thread.join(2)
        assert not thread.is_alive()
        assert box["waited"] < 0.5
        start = time.monotonic()
        gate.wait_idle()  # the spell is already older than max_hold_s: no further waiting
        assert time.monotonic() - start < 0.05


def test_a_spell_left_open_stops_counting_as_busy_for_the_windows_steps() -> None:
    gate = BusyGate(max_hold_s=0.05)
    gate.hold()  # never released, e.g. by a bug
    assert gate.idle_for() == 0.0
    time.sleep(0.12)
    assert gate.idle_for() >= 0.05  # the window's step gap is measured from when the spell stopped counting
