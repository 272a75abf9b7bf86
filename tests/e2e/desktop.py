"""A real X desktop for end-to-end tests: Xvfb (+ optional session D-Bus, trayer, dunst), xdotool, screenshots.

Usage::

    with Desktop(dbus=True, tray=True, notifications=True) as desk:
        proc = desk.spawn([sys.executable, "-m", "liqwatch"], env=...)
        wid = desk.wait_window("LiqWatch")
        desk.screenshot(path)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def xvfb_available() -> bool:
    return shutil.which("Xvfb") is not None


class Desktop:
    def __init__(self, size: str = "1366x850x24", dbus: bool = False, tray: bool = False,
                 notifications: bool = False) -> None:
        self.size, self.dbus, self.tray, self.notifications = size, dbus, tray, notifications
        self.display = ""
        self.env: dict[str, str] = {}
        self._procs: list[subprocess.Popen[Any]] = []

    def __enter__(self) -> Desktop:
        self._start_x()
        env = {**os.environ, "DISPLAY": self.display}
        env.pop("QT_QPA_PLATFORM", None)
        env.pop("WAYLAND_DISPLAY", None)
        if self.dbus:
            out = subprocess.run(["dbus-launch", "--sh-syntax"], env=env, capture_output=True, text=True,
                                 check=True).stdout
            for line in out.splitlines():
                if "=" in line and line.startswith("DBUS_SESSION_BUS"):
                    key, _, value = line.partition("=")
                    env[key] = value.strip().rstrip(";").strip("'")
        self.env = env
        if self.tray:
            self._procs.append(subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype",
                                                 "pixel", "--width", "120"], env=env,
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if self.notifications:
            self._procs.append(subprocess.Popen(["dunst"], env=env, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL))
        return self

    def _start_x(self) -> None:
        read, write = os.pipe()
        proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", self.size, "-nolisten", "tcp"],
                                pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        self._procs.append(proc)
        number = b""
        deadline = time.monotonic() + 15
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(read, 16)
            if not chunk:
                break
            number += chunk
        os.close(read)
        if not number.strip():
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number.decode().strip()}"

    def spawn(self, argv: Sequence[str], env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen[Any]:
        proc = subprocess.Popen(list(argv), env={**self.env, **(env or {})}, **kwargs)
        self._procs.append(proc)
        return proc

    def xdotool(self, *args: str, check: bool = True) -> str:
        return subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True,
                              check=check, timeout=20).stdout.strip()

    def wait_window(self, name: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.xdotool("search", "--onlyvisible", "--name", name, check=False)
            if out:
                return out.splitlines()[0]
            time.sleep(0.2)
        raise TimeoutError(f"no window named {name!r} within {timeout} s")

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["import", "-window", "root", str(path)], env=self.env, check=True, timeout=30)
        return path

    def distinct_colours(self, path: Path) -> int:
        out = subprocess.run(["identify", "-format", "%k", str(path)], capture_output=True, text=True,
                             check=True, timeout=30).stdout
        return int(out.strip() or 0)

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        pid = self.env.get("DBUS_SESSION_BUS_PID")
        if pid:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGTERM)
