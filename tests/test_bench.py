"""`make bench` runs end to end on a tiny size and its last line is one JSON object with every figure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("engine_ms", "engine_speedup", "gui_max_stall_ms", "gui_apply_median_ms", "startup_ratio", "memory_mb",
        "export_rows_per_s", "alert_latency_ms")


def test_bench_runs_end_to_end_on_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = dict(os.environ, BENCH_SCALE="0.02", BENCH_OUTPUT=str(out), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in KEYS:
        if (ROOT / "benchmarks" / f"bench_{_module(key)}.py").exists():
            assert isinstance(report[key], int | float) and report[key] > 0, (key, report.get(key))
    assert report["machine"]["cpus"] >= 1
    assert json.loads(out.read_text()) == report


def _module(key: str) -> str:
    return {"engine": "engine", "gui": "gui", "startup": "startup", "memory": "memory", "export": "export",
            "alert": "alerts"}[key.split("_")[0]]
