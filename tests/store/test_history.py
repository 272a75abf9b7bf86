"""History rows: what is written, what the plot reads, and retention/downsampling on synthetic series."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from liqwatch.domain.status import CODE_BY_STATUS, Status
from liqwatch.store.csv_export import iso_utc, iter_rows, write_rows
from liqwatch.store.db import open_database
from liqwatch.store.history import DAY_MS, HistoryStore, RetentionPolicy, epoch_ms
from liqwatch.store.history_export import export_history
from liqwatch.store.scheduled_export import snapshot_csv
from tests.store.factories import T0, at, make_snapshot


@pytest.fixture
def conn():
    c = open_database()
    yield c
    c.close()


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_epoch_ms_is_the_millisecond_iso_utc_prints(t: float) -> None:
    ms = epoch_ms(t)
    assert iso_utc(t)[-4:-1] == f"{ms % 1000:03d}"
    assert iso_utc(t) == iso_utc(ms / 1000)


def test_exported_history_equals_the_live_csv_rows(conn) -> None:
    first = make_snapshot(stale=frozenset({"margin:Binance cross"}))
    second = make_snapshot(prices={"BTC": 41000.0, "BTC/USDT:USDT": 41010.0}, time=T0 + 2.0005)
    HistoryStore(conn).write_snapshots([first, second])
    out = io.StringIO()
    assert export_history(conn, out) == len(first.risk) + len(second.risk)
    expected = snapshot_csv(first, header=True) + snapshot_csv(second, header=False)
    assert out.getvalue() == expected
    # and the live rows are those of `liqwatch check --format csv` (same writer, same contract)
    live = io.StringIO()
    write_rows(live, iter_rows(first.risk, first.time, first.stale_keys))
    assert live.getvalue().split("\r\n")[1].startswith(expected.split("\r\n")[1].split(",mark,")[0][:40])


def test_history_arrays_for_the_plot(conn) -> None:
    store = HistoryStore(conn)
    snaps = [make_snapshot(prices={"BTC/USDT:USDT": 60000.0 - 1000 * i}, time=T0 + 5 * i) for i in range(4)]
    store.write_snapshots(snaps)
    key = snaps[0].risk.futures[0].key
    t, price, liq, distance, status = store.history(key)
    assert list(t) == [T0 + 5 * i for i in range(4)]
    assert list(price) == [60000.0 - 1000 * i for i in range(4)]
    assert list(liq) == [s.risk.futures[0].liquidation_price for s in snaps]
    assert list(distance) == pytest.approx([s.risk.futures[0].distance for s in snaps])
    assert list(status) == [CODE_BY_STATUS[s.risk.futures[0].status] for s in snaps]
    margin = store.history("margin:Binance cross", since=T0 + 5, until=T0 + 10)
    assert len(margin) == 2 and np.isnan(margin.price).all()
    assert list(margin.level_or_liq) == [s.risk.margin[0].margin_level for s in snaps[1:3]]
    assert len(store.history("no such key")) == 0


def _synthetic(conn, start_ms: int, step_ms: int, count: int, seed: int = 5) -> np.ndarray:
    """One series, a row every `step_ms`, random distances and statuses; returns the rows (time, dist, status)."""
    rng = np.random.default_rng(seed)
    times = start_ms + step_ms * np.arange(count, dtype=np.int64)
    distance = rng.uniform(0.01, 0.5, count)
    distance[rng.random(count) < 0.05] = np.nan
    status = rng.choice([0, 0, 0, 1, 3], count)
    conn.execute("INSERT INTO series (id, key, account, exchange, kind, symbol, side) "
                 "VALUES (7, 'k', 'a', '', 'futures', 'S', 'long')")
    conn.executemany(
        "INSERT INTO snapshots (time_ms, series_id, distance, status, stale, csv_tail) VALUES (?, 7, ?, ?, 0, '')",
        [(int(t), None if math.isnan(d) else float(d), int(s)) for t, d, s in zip(times, distance, status,
                                                                                  strict=True)],
    )
    return np.rec.fromarrays([times, distance, status], names="t,d,s")


def _riskiest(rows: np.ndarray) -> tuple[int, float]:
    rank = {c: s.rank for s, c in CODE_BY_STATUS.items()}
    best = max(rows, key=lambda r: (rank[int(r.s)], -(r.d if not math.isnan(r.d) else math.inf)))
    return int(best.s), float(best.d)


def test_compaction_keeps_the_riskiest_row_per_minute_then_per_hour(conn) -> None:
    policy = RetentionPolicy(full_days=0.05, minute_days=0.25, hour_days=0.75)  # 72 min, 6 h, 18 h
    now_ms = 1_700_006_400_000  # a whole hour
    start = now_ms - DAY_MS  # one day of rows every 7 s
    rows = _synthetic(conn, start, 7_000, DAY_MS // 7_000)
    store = HistoryStore(conn)
    removed = store.compact(now_ms / 1000, policy)
    kept = conn.execute("SELECT time_ms, distance, status FROM snapshots ORDER BY time_ms").fetchall()
    kept_t = np.array([k[0] for k in kept])
    full_cut = now_ms - int(0.05 * DAY_MS)
    minute_cut = (now_ms - int(0.25 * DAY_MS)) // 3_600_000 * 3_600_000
    expire_cut = now_ms - int(0.75 * DAY_MS)
    # younger than full_days: untouched
    assert np.array_equal(kept_t[kept_t >= full_cut], rows.t[rows.t >= full_cut])
    assert kept_t.min() >= expire_cut  # older than hour_days: gone
    by_time = {k[0]: k for k in kept}
    for lo, hi, bucket in ((minute_cut, full_cut // 60_000 * 60_000, 60_000), (expire_cut, minute_cut, 3_600_000)):
        for b in range(lo, hi, bucket):
            in_bucket = rows[(rows.t >= b) & (rows.t < b + bucket)]
            survivors = [t for t in by_time if b <= t < b + bucket]
            assert len(survivors) == 1, (b, survivors)
            status, distance = _riskiest(in_bucket)
            got = by_time[survivors[0]]
            assert got[2] == status
            assert (got[1] is None and math.isnan(distance)) or got[1] == distance
    assert removed["expired"] > 0 and removed["minute"] > 0 and removed["hour"] > 0
    # running again changes nothing (idempotent), and a later run only touches the newly aged rows
    assert store.compact(now_ms / 1000, policy) == {"minute": 0, "hour": 0, "expired": 0}
    assert store.count() == len(kept)


def test_history_max_points_never_hides_the_worst_moment(conn) -> None:
    store = HistoryStore(conn)
    base = make_snapshot()
    snaps = [at(base, T0 + i) for i in range(200)]
    danger = make_snapshot(prices={"BTC/USDT:USDT": 55000.0}, time=T0 + 137)
    assert danger.risk.futures[0].status in (Status.DANGER, Status.LIQUIDATION)
    snaps[137] = danger
    store.write_snapshots(snaps)
    key = base.risk.futures[0].key
    series = store.history(key, max_points=10)
    assert len(series) == 10
    assert T0 + 137 in list(series.time)
    assert int(series.status.max()) == CODE_BY_STATUS[danger.risk.futures[0].status]


def test_retention_policy_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="full_days <= minute_days <= hour_days"):
        RetentionPolicy(full_days=2, minute_days=1, hour_days=365)
