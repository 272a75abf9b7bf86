"""End to end in a real desktop: Xvfb, a session D-Bus, trayer (XEmbed tray host), dunst (notification server), and
the real `python -m liqwatch` on a portfolio already in danger, driven by the simulated feed.

Run 1 (with trayer): the tray icon must be embedded in trayer's panel and the notification must reach the server.
Run 2 (no tray host): the in-window banner must show. Screenshots go to `test-artifacts/`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

TOOLS = ("Xvfb", "dbus-launch", "dbus-monitor", "trayer", "dunst", "dunstctl", "xwininfo", "import")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PORTFOLIO = """\
version = 1
quote = "USDT"
stablecoins = ["USDT"]

[prices]
BTC = 60000
"BTC/USDT:USDT" = 60000

[[futures_account]]
name = "Near liquidation"
exchange = "binance"
settle = "USDT"
wallet_balance = 5000

[[futures_account.positions]]
symbol = "BTC/USDT:USDT"
side = "long"
contracts = 1
entry_price = 60000
margin_mode = "isolated"
isolated_wallet = 2000
leverage = 30          # liquidation about 2.9 % below the mark: danger at the first poll
"""
DUNSTRC = """\
[global]
    font = DejaVu Sans 10
    origin = top-right
    offset = 10x60
    width = 420
[urgency_critical]
    timeout = 0
"""

missing = [tool for tool in TOOLS if shutil.which(tool) is None]
if missing:
    pytest.skip(f"desktop tools not installed: {', '.join(missing)}", allow_module_level=True)


def _wait_for(predicate, timeout: float, interval: float = 0.2) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class Desktop:
    """An X server with a session bus and a notification server; the tray host is started on demand."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []
        display = next(n for n in range(140, 240) if not Path(f"/tmp/.X11-unix/X{n}").exists()
                       and not Path(f"/tmp/.X{n}-lock").exists())
        self.display = f":{display}"
        self._spawn(["Xvfb", self.display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        if not _wait_for(lambda: Path(f"/tmp/.X11-unix/X{display}").exists(), 10):
            raise RuntimeError("Xvfb did not start")
        out = subprocess.run(["dbus-launch", "--sh-syntax"], capture_output=True, text=True, check=True,
                             env={**os.environ, "DISPLAY": self.display}).stdout
        self.bus = re.search(r"DBUS_SESSION_BUS_ADDRESS='([^']+)'", out).group(1)  # type: ignore[union-attr]
        self.bus_pid = int(re.search(r"DBUS_SESSION_BUS_PID=(\d+)", out).group(1))  # type: ignore[union-attr]
        self.env = {**os.environ, "DISPLAY": self.display, "DBUS_SESSION_BUS_ADDRESS": self.bus}
        self.env.pop("QT_QPA_PLATFORM", None)
        self.env.pop("WAYLAND_DISPLAY", None)
        (tmp / "dunstrc").write_text(DUNSTRC)
        self._spawn(["dunst", "-config", str(tmp / "dunstrc")])
        if not _wait_for(lambda: self.run(["dunstctl", "count", "displayed"]).returncode == 0, 10):
            raise RuntimeError("dunst did not start")
        self.monitor_file = tmp / "notify-monitor.txt"
        self._spawn(["dbus-monitor", "--session", "interface='org.freedesktop.Notifications',member='Notify'"],
                    stdout=self.monitor_file)
        time.sleep(0.3)

    def _spawn(self, args: list[str], stdout: Path | None = None) -> subprocess.Popen[bytes]:
        out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.DEVNULL,
                                env=getattr(self, "env", {**os.environ, "DISPLAY": getattr(self, "display", "")}))
        self.procs.append(proc)
        return proc

    def run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, capture_output=True, text=True, env=self.env, timeout=20)

    def start_tray(self) -> subprocess.Popen[bytes]:
        proc = self._spawn(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                            "--height", "32", "--SetDockType", "true", "--transparent", "false",
                            "--tint", "0x333333", "--expand", "false"])
        if not _wait_for(lambda: '"panel": ("panel" "trayer")' in self.tree(), 10):
            raise RuntimeError("trayer did not map its panel")
        return proc

    def tree(self) -> str:
        return self.run(["xwininfo", "-root", "-tree"]).stdout

    def screenshot(self, name: str, window: str = "root") -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.run(["import", "-window", window, str(path)])
        return path

    def notify_calls(self) -> str:
        return self.monitor_file.read_text(errors="replace") if self.monitor_file.exists() else ""

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.bus_pid, 15)


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[Desktop]:
    desk = Desktop(tmp_path)
    try:
        yield desk
    finally:
        desk.close()


def start_app(desktop: Desktop, home: Path) -> subprocess.Popen[bytes]:
    portfolio = desktop.tmp / "near.toml"
    portfolio.write_text(PORTFOLIO)
    env = {**desktop.env, "LIQWATCH_HOME": str(home), "LIQWATCH_NO_KEYRING_PROBE": "1"}
    log = open(home.parent / f"{home.name}-app.log", "wb")  # noqa: SIM115 - closed when the app ends
    return subprocess.Popen([sys.executable, "-m", "liqwatch", str(portfolio), "--prices-from", "demo",
                             "--verbose"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def stop_app(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def test_tray_icon_embeds_and_notification_reaches_the_daemon(desktop: Desktop, tmp_path: Path) -> None:
    desktop.start_tray()
    app = start_app(desktop, tmp_path / "home-tray")
    try:
        # The Qt tray window is reparented into trayer's panel: "panel" → socket window → "LiqWatch".
        def embedded() -> bool:
            tree = desktop.tree()
            panel = tree.split('"panel": ("panel" "trayer")', 1)
            return len(panel) == 2 and '"LiqWatch"' in panel[1].split("\n     0x", 1)[0]

        assert _wait_for(embedded, 30), f"tray icon not embedded in trayer:\n{desktop.tree()}"
        assert _wait_for(lambda: "LiqWatch" in desktop.notify_calls(), 30), "no Notify call reached the bus"
        calls = desktop.notify_calls()
        assert "member=Notify" in calls
        assert 'string "LiqWatch"' in calls  # app name
        assert re.search(r'string "urgency"\s+variant\s+byte 2', calls), calls  # danger → critical urgency
        assert "Near liquidation BTC/USDT:USDT long" in calls
        assert _wait_for(lambda: int(desktop.run(["dunstctl", "count", "displayed"]).stdout.strip() or 0) > 0, 10)
        # No window manager: the app window covers the panel, so raise the panel and also capture it alone.
        panel = re.search(r'(0x[0-9a-f]+) "panel": \("panel" "trayer"\)', desktop.tree()).group(1)  # type: ignore[union-attr]
        if shutil.which("xdotool"):
            desktop.run(["xdotool", "windowraise", panel])
        time.sleep(1.0)
        desktop.screenshot("e2e-tray-and-notification.png")
        desktop.screenshot("e2e-tray-panel.png", window=panel)
        assert app.poll() is None, "the app exited"
    finally:
        stop_app(app)


def test_without_a_tray_host_the_banner_shows(desktop: Desktop, tmp_path: Path) -> None:
    home = tmp_path / "home-banner"
    app = start_app(desktop, home)
    log_file = home.parent / "home-banner-app.log"
    try:
        assert _wait_for(lambda: "alert banner shown" in log_file.read_text(errors="replace"), 40), \
            log_file.read_text(errors="replace")[-3000:]
        assert "LiqWatch" in desktop.notify_calls()  # the D-Bus server still gets it
        time.sleep(1.0)
        desktop.screenshot("e2e-banner.png")
        assert app.poll() is None
    finally:
        stop_app(app)
