"""End to end: the real app (`python -m liqwatch`, demo portfolio, simulated feed) in Xvfb; screenshots saved under
test-artifacts/ and checked not blank."""

from __future__ import annotations

import sys
import time

import pytest

from tests.e2e.desktop import ARTIFACTS, Desktop, xvfb_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not xvfb_available(), reason="Xvfb is not installed")]


def _start(desk: Desktop, home, *extra: str):
    env = {"LIQWATCH_HOME": str(home), "LIQWATCH_NO_KEYRING_PROBE": "1"}
    return desk.spawn([sys.executable, "-m", "liqwatch", *extra], env=env)


def _close(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except Exception:
        proc.kill()
        proc.wait()


def test_main_window_what_if_and_dialog_screenshots(tmp_path) -> None:
    with Desktop() as desk:
        proc = _start(desk, tmp_path / "home")
        try:
            wid = desk.wait_window("LiqWatch")
            desk.xdotool("windowmove", wid, "0", "0")
            desk.xdotool("windowsize", wid, "1366", "850")
            time.sleep(5)  # a few polls of the simulated feed, so the history plot has a line
            assert proc.poll() is None, "the app exited"
            main = desk.screenshot(ARTIFACTS / "main_window.png")
            assert desk.distinct_colours(main) > 50, "screenshot looks blank"
            # a dialog, opened through its keyboard shortcut
            desk.xdotool("mousemove", "300", "300", "click", "1")  # no window manager: click to focus
            desk.xdotool("windowfocus", "--sync", wid, check=False)
            desk.xdotool("key", "ctrl+n")
            desk.wait_window("Add futures position", timeout=10)
            time.sleep(0.8)
            dialog = desk.screenshot(ARTIFACTS / "futures_dialog.png")
            assert desk.distinct_colours(dialog) > 50
            desk.xdotool("key", "Escape")
        finally:
            _close(proc)
        proc = _start(desk, tmp_path / "home2", "--what-if", "-15")
        try:
            wid = desk.wait_window("LiqWatch")
            desk.xdotool("windowmove", wid, "0", "0")
            desk.xdotool("windowsize", wid, "1366", "850")
            time.sleep(4)
            shot = desk.screenshot(ARTIFACTS / "what_if.png")
            assert desk.distinct_colours(shot) > 50
        finally:
            _close(proc)
