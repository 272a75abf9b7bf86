"""The ring buffer keeps order, bounds memory, and shows unknowns as gaps; number formatting by magnitude."""

from __future__ import annotations

import math

import numpy as np

from liqwatch.ui.format import DASH, fmt_age, fmt_amount, fmt_percent, fmt_price, fmt_probability
from liqwatch.ui.models.history import HistoryStore, RingBuffer


def test_ring_buffer_wraps_keeping_the_newest_in_order() -> None:
    buffer = RingBuffer(capacity=1000, epoch=1_700_000_000.0)
    for i in range(2500):
        buffer.append(1_700_000_000.0 + i, float(i))
    t, v, _ = buffer.arrays()
    assert len(buffer) == 1000
    assert v[0] == 1500 and v[-1] == 2499
    assert np.all(np.diff(t) == 1.0)


def test_day_of_one_second_samples_for_one_key_is_about_a_megabyte() -> None:
    store = HistoryStore(capacity=86_400)
    for i in range(86_400):
        store.append("k", 1_700_000_000.0 + i, 1.5)
    assert store.nbytes <= 86_400 * 12 * 1.6  # lazily doubled arrays: at most ~1.5x the samples
    t, _, _ = store.arrays("k")
    assert t[-1] - t[0] == 86_399


def test_many_keys_share_a_bounded_budget() -> None:
    store = HistoryStore(capacity=86_400, budget_samples=200_000)
    for i in range(150):
        for k in range(2000):
            store.append(f"k{k}", 1_700_000_000.0 + i, 1.0)
        store.retain({f"k{k}" for k in range(2000)})  # once per snapshot, as the window does
    assert store.capacity_per_key == 100
    assert store.nbytes <= 2000 * 128 * 12
    assert len(store.arrays("k0")[0]) == 100
    store.retain({"k0"})
    assert len(store) == 1 and store.capacity_per_key == 86_400


def test_unknown_value_is_a_gap_not_zero() -> None:
    store = HistoryStore()
    store.append("k", 1.0e9, None)
    assert math.isnan(store.arrays("k")[1][0])


def test_formatting_by_magnitude() -> None:
    assert fmt_price(60010.0) == "60,010.00"
    assert fmt_price(3.0125) == "3.0125"
    assert fmt_price(0.00012345) == "0.00012345"
    assert fmt_price(None) == DASH
    assert fmt_amount(-1234.5, plus=True) == "−1,234.50"
    assert fmt_amount(2_500_000) == "2.50 M"
    assert fmt_percent(0.0965) == "9.65 %"
    assert fmt_probability(1e-7) == "< 0.01 %" and fmt_probability(None) == DASH
    assert fmt_age(5) == "5 s" and fmt_age(7200) == "2 h 00 min"
