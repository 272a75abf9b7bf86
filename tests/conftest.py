"""Shared fixtures: every test runs with its own LiqWatch home folder and must not leave a QThread running."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config, data, log and cache folders under a fresh temporary folder; never the developer's own."""
    home = tmp_path_factory.mktemp("liqwatch-home")
    monkeypatch.setenv("LIQWATCH_HOME", str(home))
    monkeypatch.setenv("LIQWATCH_NO_KEYRING_PROBE", "1")
    return home


@pytest.fixture(autouse=True)
def _no_dangling_threads() -> Iterator[None]:
    """Fail a test that leaves a Python thread (other than daemon helpers it documents) or a QThread running."""
    before = set(threading.enumerate())
    yield
    import sys

    if "PySide6.QtCore" in sys.modules:
        from PySide6.QtCore import QCoreApplication, QThread

        app = QCoreApplication.instance()
        if app is not None:
            running = [t for t in app.findChildren(QThread) if t.isRunning()]
            assert not running, f"test left QThreads running: {running}"
    leftover = [
        t for t in threading.enumerate()
        if t not in before and t.is_alive() and not t.daemon and t is not threading.current_thread()
    ]
    for thread in leftover:
        thread.join(timeout=2.0)
    leftover = [t for t in leftover if t.is_alive()]
    assert not leftover, f"test left threads running: {[t.name for t in leftover]}"
