"""Start-up: `liqwatch` on the demo portfolio to its first painted window, against a bare PySide6 + pyqtgraph window.

Each launch is a fresh subprocess, offscreen, with `LIQWATCH_BENCH_FIRST_PAINT=1`: the process prints
`liqwatch-first-paint <time.monotonic()>` on the first paint of its main window and quits (`liqwatch.ui.first_paint`).
The time is from just before `Popen` to that stamp (the same system-wide monotonic clock), so interpreter start and
imports count for both. One untimed launch of each warms the file cache and creates the app's database; then the
two alternate, and each figure is a median. `startup_ratio` = liqwatch / bare. Launch times on this kind of
machine spread by ±30 % from one launch to the next (other tenants), so 11 pairs are timed, and the median of the
per-pair ratios (each app launch against the bare launch just before it) is reported beside it as a check.

`audit_environment()` builds the environment the start-up test uses to prove no network or keyring access happens
before the window shows: a `sitecustomize` that installs a `sys.addaudithook` logging socket and keyring activity
with timestamps to a file (and refusing any non-loopback connection, so nothing leaves the machine).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MARKER = "liqwatch-first-paint"
ROOT = Path(__file__).resolve().parent.parent

AUDIT_SITECUSTOMIZE = '''
import os, sys, time
_log = open(os.environ["LIQWATCH_AUDIT_LOG"], "a", buffering=1)
_NETWORK = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
            "socket.sendto", "http.client.connect"}
def _local(args):
    host = args[1][0] if len(args) > 1 and isinstance(args[1], tuple) and args[1] else (args[0] if args else "")
    return isinstance(host, str) and host in ("127.0.0.1", "localhost", "::1")
def _hook(event, args):
    if event in _NETWORK:
        _log.write(f"{time.monotonic():.6f} network {event} {args!r:.120}\\n")
        if not (event == "socket.connect" and _local(args)) and event != "socket.sendto":
            raise OSError(f"benchmark audit: network access refused ({event})")
    elif event == "import" and args and isinstance(args[0], str) and args[0].split(".")[0] == "keyring":
        _log.write(f"{time.monotonic():.6f} keyring import {args[0]}\\n")
    elif event == "subprocess.Popen" or event == "os.exec":
        _log.write(f"{time.monotonic():.6f} process {event} {args!r:.120}\\n")
sys.addaudithook(_hook)
'''


def _env(home: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", LIQWATCH_BENCH_FIRST_PAINT="1", LIQWATCH_HOME=home,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])))
    env.pop("LIQWATCH_BENCH_LINGER_MS", None)
    # Both start as an installed program does: with bytecode caches. pip compiles a wheel's modules when it
    # installs it; a source checkout writes `__pycache__` on its first start (the untimed warm-up launch here).
    # With PYTHONDONTWRITEBYTECODE set (as on the benchmark machine), every launch would instead recompile
    # LiqWatch's ~50 modules from source while pyqtgraph and numpy load compiled: ~100 ms the user never pays.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def audit_environment(home: str, folder: Path, log: Path, linger_ms: int = 0) -> dict[str, str]:
    """Environment for a launch that logs network/keyring activity to `log` (see module docstring)."""
    (folder / "sitecustomize.py").write_text(AUDIT_SITECUSTOMIZE, encoding="utf-8")
    env = _env(home)
    env["PYTHONPATH"] = os.pathsep.join([str(folder), env["PYTHONPATH"]])
    env["LIQWATCH_AUDIT_LOG"] = str(log)
    env["LIQWATCH_BENCH_LINGER_MS"] = str(linger_ms)
    return env


def launch(argv: list[str], env: dict[str, str], timeout: float = 60.0) -> tuple[float, float, str]:
    """(start, first-paint stamp, stdout+stderr) of one launch; raises if no first paint was reported."""
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    output = proc.stdout + proc.stderr
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return start, float(line.split()[1]), output
    raise RuntimeError(f"{argv[1:]} exited {proc.returncode} without a first paint:\n{output[-2000:]}")


def app_argv() -> list[str]:
    return [sys.executable, "-m", "liqwatch"]


def bare_argv() -> list[str]:
    return [sys.executable, "-m", "benchmarks.bare_window"]


def run(scale: float = 1.0) -> dict[str, float]:
    repeats = 11 if scale >= 0.5 else 3
    with tempfile.TemporaryDirectory(prefix="liqwatch-bench-home-") as home:
        env = _env(home)
        launch(app_argv(), env)  # warm-up: file cache, database creation
        launch(bare_argv(), env)
        app_ms, bare_ms = [], []
        for _ in range(repeats):
            start, stamp, _ = launch(bare_argv(), env)
            bare_ms.append((stamp - start) * 1000)
            start, stamp, _ = launch(app_argv(), env)
            app_ms.append((stamp - start) * 1000)
    app, bare = statistics.median(app_ms), statistics.median(bare_ms)
    return {
        "startup_ratio": round(app / bare, 2),
        "startup_paired_ratio": round(statistics.median(a / b for a, b in zip(app_ms, bare_ms, strict=True)), 2),
        "startup_app_ms": round(app, 1),
        "startup_bare_ms": round(bare, 1),
        "startup_runs": repeats,
    }


if __name__ == "__main__":
    print(run(float(os.environ.get("BENCH_SCALE", "1.0"))))
