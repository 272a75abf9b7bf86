"""History: write a million snapshot rows through the store, then export them to CSV; rows per second for both.

The export is timed `EXPORT_RUNS` times over the same database and the median reported (each run is listed in
`export_rows_per_s_runs`; the first is usually the slowest, while SQLite's page cache fills).

The rows are real engine output (the example book, prices walking randomly), written with `HistoryStore` in
snapshot-writer-sized batches, so the export reads exactly what the app records.
"""

from __future__ import annotations

import dataclasses
import gc
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from liqwatch.domain.engine import evaluate_book, merged_prices
from liqwatch.domain.snapshot import BookSnapshot, Quote
from liqwatch.resources import resource_path
from liqwatch.store.db import open_database
from liqwatch.store.history import HistoryStore
from liqwatch.store.history_export import export_history
from liqwatch.store.portfolio import load_portfolio

T0 = 1_700_000_000.0
EXPORT_RUNS = 5


def _snapshots(count: int, seed: int = 3) -> list[BookSnapshot]:
    portfolio = load_portfolio(resource_path("examples", "portfolio.toml"))
    base = merged_prices(portfolio)
    rng = np.random.default_rng(seed)
    variants = []
    for i in range(50):  # 50 distinct evaluations, re-stamped: evaluation speed is not what we measure
        factor = float(np.exp(rng.normal(0, 0.02)))
        prices = {k: v * factor for k, v in base.items()}
        quotes = {k: Quote(k, v, "mark", "bench", T0) for k, v in prices.items()}
        risk = evaluate_book(portfolio, prices)
        variants.append(BookSnapshot(sequence=i, time=T0, portfolio=portfolio, risk=risk, quotes=quotes))
    return [dataclasses.replace(variants[i % 50], time=T0 + 2.0 * i, sequence=i) for i in range(count)]


def run(scale: float = 1.0) -> dict[str, float]:
    target_rows = max(10_000, int(1_000_000 * scale))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        conn = open_database(path)
        store = HistoryStore(conn)
        per_snapshot = len(_snapshots(1)[0].risk)
        snapshots = _snapshots(target_rows // per_snapshot)
        start = time.perf_counter()
        for i in range(0, len(snapshots), 500):
            store.write_snapshots(snapshots[i:i + 500])
        write_s = time.perf_counter() - start
        rows = store.count()
        # the export runs in its own process (`liqwatch export`) or worker, not beside this fixture's 100,000+
        # snapshot objects, whose presence makes every garbage collection during the export walk them all
        del snapshots
        gc.collect()
        export_s_runs = []
        for _ in range(EXPORT_RUNS):  # a median over repeated runs, like every figure of `make bench`
            start = time.perf_counter()
            with (Path(folder) / "export.csv").open("w", encoding="utf-8", newline="") as sink:  # as `--output`
                exported = export_history(conn, sink, progress=lambda done, total: None)
            export_s_runs.append(time.perf_counter() - start)
        export_s = statistics.median(export_s_runs)
        size = path.stat().st_size + (path.with_name(path.name + "-wal").stat().st_size
                                      if path.with_name(path.name + "-wal").exists() else 0)
        conn.close()
    assert exported == rows
    return {
        "export_rows": exported,
        "export_rows_per_s": round(exported / export_s),
        "export_rows_per_s_runs": [round(exported / t) for t in export_s_runs],  # type: ignore[dict-item]
        "history_write_rows_per_s": round(rows / write_s),
        "history_bytes_per_row": round(size / rows, 1),
    }


if __name__ == "__main__":
    print(run())
