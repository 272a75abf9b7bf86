"""Memory: resident set of the real window with 2,000 positions and 24 h of 1-second history loaded.

Runs in a fresh subprocess (`python -m benchmarks.bench_memory --child N`): builds the `MainWindow` (offscreen),
applies a snapshot of the book, then bulk-loads 86,400 one-second samples per row into the window's history store
(`HistoryStore.extend`, the way history read back from the database would be loaded) and re-applies and paints.
The in-memory store keeps at most its sample budget (8 M samples: the newest 4,000 per row at 2,000 rows); the
full day lives in SQLite. Reports the resident set from /proc/self/statm (`memory_mb`) and the peak
(`ru_maxrss`), median over three processes.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAY = 86_400


def child(positions: int, seconds: int) -> dict[str, float]:
    import numpy as np
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from benchmarks.bench_gui import make_snapshots
    from liqwatch.domain.risk import MarginRisk
    from liqwatch.store.settings import Settings
    from liqwatch.ui.main_window import MainWindow

    app = QApplication([])  # noqa: F841  (must exist while the window lives)
    now = time.time()
    portfolio, snapshots = make_snapshots(positions, 2, now)
    window = MainWindow(Settings(), portfolio)
    window.show()
    rng = np.random.default_rng(7)
    times = now - seconds + np.arange(seconds, dtype=np.float64)
    keys = {r.key for r in snapshots[0].risk}
    for key in keys:  # create every row's buffer first so each gets its share of the budget before loading
        window.history.append(key, times[0] - 2, None)
    window.history.retain(keys)
    for risk in snapshots[0].risk:
        walk = np.exp(np.cumsum(rng.normal(0, 0.0005, seconds)))
        if isinstance(risk, MarginRisk):
            level = risk.margin_level if risk.margin_level and np.isfinite(risk.margin_level) else 2.0
            window.history.extend(risk.key, times - 1, level * walk)
        else:
            mark = risk.mark_price or 1.0
            window.history.extend(risk.key, times - 1, mark * walk, np.full(seconds, risk.liquidation_price or np.nan))
    window.history.retain(keys)
    window.apply_snapshot(snapshots[0])
    window.apply_snapshot(snapshots[1])
    loop = QEventLoop()
    QTimer.singleShot(300, loop.quit)
    loop.exec()
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    rss = pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    return {
        "rss_mb": rss,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "history_mb": window.history.nbytes / 2**20,
        "history_samples_per_row": window.history.capacity_per_key,
        "rows": window.model.rowCount(),
    }


def run(scale: float = 1.0) -> dict[str, float]:
    positions = max(40, int(2000 * scale))
    seconds = max(600, int(DAY * min(scale, 1.0)))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])))
    results = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_memory", "--child", str(positions),
                              str(seconds)], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if out.returncode != 0 or not lines:
            raise RuntimeError(f"memory child exited {out.returncode}: {out.stderr[-2000:]}")
        results.append(json.loads(lines[-1]))
    return {
        "memory_mb": round(statistics.median(r["rss_mb"] for r in results), 1),
        "memory_peak_mb": round(statistics.median(r["peak_mb"] for r in results), 1),
        "memory_history_mb": round(results[0]["history_mb"], 1),
        "memory_history_samples_per_row": results[0]["history_samples_per_row"],
        "memory_rows": results[0]["rows"],
        "memory_history_seconds": seconds,
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(child(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        print(run(float(os.environ.get("BENCH_SCALE", "1.0"))))
