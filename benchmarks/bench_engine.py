"""Engine: re-evaluate a mixed 10,000-position book from a new price batch; vectorised vs the scalar reference."""

from __future__ import annotations

import statistics
import time

import numpy as np

from benchmarks.book_factory import make_book, moved
from liqwatch.domain.engine import evaluate_book
from liqwatch.domain.vectorised import CompiledBook


def run(scale: float = 1.0) -> dict[str, float]:
    n = max(100, int(10_000 * scale))
    portfolio, prices = make_book(n)
    rng = np.random.default_rng(2)
    book = CompiledBook(portfolio)
    book.evaluate(prices)  # warm-up
    vector_ms = []
    for _ in range(30):
        batch = moved(prices, rng)
        start = time.perf_counter()
        book.evaluate(batch)
        vector_ms.append((time.perf_counter() - start) * 1000)
    scalar_ms = []
    for _ in range(5):
        batch = moved(prices, rng)
        start = time.perf_counter()
        evaluate_book(portfolio, batch)
        scalar_ms.append((time.perf_counter() - start) * 1000)
    engine_ms = statistics.median(vector_ms)
    return {
        "engine_ms": round(engine_ms, 3),
        "engine_scalar_ms": round(statistics.median(scalar_ms), 3),
        "engine_speedup": round(statistics.median(scalar_ms) / engine_ms, 1),
        "engine_positions": portfolio.position_count,
    }
