"""`make bench`: run every benchmark, print one JSON object as the last line of output and write it to a file.

Each figure is a median over repeated runs. `BENCH_SCALE` (default 1.0) scales the sizes down for a quick run,
e.g. `BENCH_SCALE=0.1 make bench`; `BENCH_OUTPUT` names the file (default `bench-results.json`).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

# (module, the keys it provides) in the order they run
BENCHES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("benchmarks.bench_engine", ("engine_ms", "engine_speedup")),
    ("benchmarks.bench_gui", ("gui_max_stall_ms", "gui_apply_median_ms")),
    ("benchmarks.bench_startup", ("startup_ratio",)),
    ("benchmarks.bench_memory", ("memory_mb",)),
    ("benchmarks.bench_export", ("export_rows_per_s",)),
    ("benchmarks.bench_alerts", ("alert_latency_ms",)),
)

TARGETS = {
    "engine_ms": ("<=", 5.0),
    "engine_speedup": (">=", 30.0),
    "gui_max_stall_ms": ("<=", 50.0),
    "gui_apply_median_ms": ("<=", 15.0),
    "startup_ratio": ("<=", 1.5),
    "memory_mb": ("<=", 400.0),
    "export_rows_per_s": (">=", 300_000.0),
    "alert_latency_ms": ("<=", 50.0),
}


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()
        info["memory_gb"] = round(int(mem[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        import numpy

        info["numpy"] = numpy.__version__
    except ImportError:
        pass
    return info


def main() -> int:
    scale = float(os.environ.get("BENCH_SCALE", "1.0"))
    output = Path(os.environ.get("BENCH_OUTPUT", "bench-results.json"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    results: dict[str, Any] = {}
    details: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for module_name, keys in BENCHES:
        start = time.perf_counter()
        try:
            module = importlib.import_module(module_name)
            figures = module.run(scale)
        except Exception as exc:  # a broken benchmark must not hide the others' figures
            errors[module_name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
            for key in keys:
                results.setdefault(key, None)
            continue
        for key, value in figures.items():
            (results if key in keys else details)[key] = value
        print(f"{module_name}: {figures} ({time.perf_counter() - start:.1f} s)", flush=True)
    verdicts = {}
    for key, (op, target) in TARGETS.items():
        value = results.get(key)
        if value is None:
            verdicts[key] = "missing"
        else:
            ok = value <= target if op == "<=" else value >= target
            verdicts[key] = f"{'met' if ok else 'MISSED'} ({op} {target:g})"
    report = {**results, "machine": machine(), "scale": scale, "targets": verdicts, "details": details}
    if errors:
        report["errors"] = errors
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, separators=(",", ":")))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
