"""Start-up: no network or keyring access before the window has painted; the first-paint hook works."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.bench_startup import app_argv, audit_environment, launch


def test_no_network_or_keyring_before_the_first_paint(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.touch()
    env = audit_environment(str(tmp_path / "home"), tmp_path, log, linger_ms=2500)
    # an exchange feed: the poller would reach the network (refused by the audit hook) once it starts
    start, painted, output = launch([*app_argv(), "--prices-from", "binance"], env)
    events = [(float(line.split()[0]), line) for line in log.read_text().splitlines() if line.strip()]
    before = [line for t, line in events if t <= painted]
    after = [line for t, line in events if t > painted and " network " in line]
    assert start < painted
    assert before == [], before
    # the hook is live: once the window is up, the exchange feed does try the network (and is refused)
    assert after, f"no network attempt seen after the paint; the audit hook may be dead\n{output[-1500:]}"
    assert sys.executable
