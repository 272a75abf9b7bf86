"""The alert engine on recorded price paths through the real risk engine: fires once, in order, early."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import pytest

from liqwatch.domain.alerts import AlertEngine
from liqwatch.domain.model import Portfolio
from liqwatch.domain.risk import BookRisk, FuturesRisk
from liqwatch.domain.snapshot import BookSnapshot, FeedHealth
from liqwatch.domain.thresholds import Thresholds
from liqwatch.store.settings import AlertSettings
from tests.domain.test_alerts_support import (
    MAIN_KEY,
    btc_long,
    futures_account,
    level_price,
    margin_book,
    run_margin_path,
    snapshot,
)


def engine(**overrides: object) -> AlertEngine:
    return AlertEngine(replace(AlertSettings(), **overrides), Thresholds())


def flat(polls: list[list]) -> list:
    return [a for poll in polls for a in poll]


def test_fast_crash_fires_warning_danger_liquidation_in_order_with_figures() -> None:
    prices = [level_price(x) for x in (1.80, 1.45, 1.27, 1.05)]
    alerts = flat(run_margin_path(engine(), prices))
    assert [a.status for a in alerts] == ["warning", "danger", "liquidation"]
    assert [a.severity for a in alerts] == ["warning", "danger", "critical"]
    assert [a.figure for a in alerts] == pytest.approx([1.45, 1.27, 1.05])
    assert [a.threshold for a in alerts] == [1.5, 1.3, 1.1]
    assert [a.time for a in alerts] == [2.0, 4.0, 6.0]
    assert alerts[1].text == "Main cross margin level 1.27 — margin call at 1.30, liquidation at 1.10"
    assert alerts[0].text.startswith("Main cross margin level 1.45 — warning at 1.50")
    assert {a.kind for a in alerts} == {"risk"} and {a.key for a in alerts} == {MAIN_KEY}
    assert all(a.account == "Main" for a in alerts)


def test_one_poll_jump_from_ok_to_danger_fires_danger_only() -> None:
    alerts = flat(run_margin_path(engine(), [level_price(2.0), level_price(1.2)]))
    assert [a.status for a in alerts] == ["danger"]


def test_straddling_the_warning_threshold_does_not_chatter() -> None:
    # 1.49 / 1.51 alternate for 60 polls: inside the 0.02 hysteresis band of the 1.5 warning level.
    path = [level_price(1.49 if i % 2 else 1.51) for i in range(60)]
    alerts = flat(run_margin_path(engine(), path))
    assert len(alerts) == 1 and alerts[0].status == "warning"


def test_straddling_the_margin_call_does_not_chatter() -> None:
    path = [level_price(x) for x in [1.4] + [1.29, 1.31] * 30]
    alerts = flat(run_margin_path(engine(repeat_minutes=0), path))
    assert [a.status for a in alerts] == ["warning", "danger"]


def test_recovery_past_the_band_rearms_once() -> None:
    # warning, recovers to 1.55 (past 1.5 + 0.02), warns again; then only to 1.51 (inside the band): no re-fire.
    path = [level_price(x) for x in (1.45, 1.55, 1.45, 1.51, 1.45, 1.51, 1.46)]
    alerts = flat(run_margin_path(engine(), path))
    assert [a.time for a in alerts] == [0.0, 4.0]
    assert alerts[0].id != alerts[1].id


def test_recovery_from_danger_to_warning_zone_rearms_danger_only() -> None:
    path = [level_price(x) for x in (1.25, 1.4, 1.25)]
    alerts = flat(run_margin_path(engine(), path))
    assert [a.status for a in alerts] == ["danger", "danger"]


def test_danger_refires_on_each_further_step_and_after_the_repeat_interval() -> None:
    e = engine(step_margin_level=0.05, repeat_minutes=30)
    levels = (1.28, 1.26, 1.24, 1.22, 1.21, 1.17)
    alerts = flat(run_margin_path(e, [level_price(x) for x in levels]))
    assert [a.figure for a in alerts] == pytest.approx([1.28, 1.22, 1.17])
    # 30 minutes later, no further worsening: one repeat, then quiet again.
    book = margin_book()
    later = 6 * 2.0 + 30 * 60
    repeat = e.process(snapshot(book, {"BTC": level_price(1.17)}, later), later)
    assert [a.kind for a in repeat if a.kind == "risk"] == ["risk"]  # (the 30-min gap is also a clock jump)
    assert e.process(snapshot(book, {"BTC": level_price(1.17)}, later + 2), later + 2) == []


def test_startup_alerts_once_for_positions_already_in_the_zone() -> None:
    book = Portfolio(
        margin_accounts=margin_book().margin_accounts,
        futures_accounts=(futures_account([btc_long()]),),
    )
    e = engine()
    prices = {"BTC": level_price(1.4), "BTC/USDT:USDT": 56_000.0}  # margin warning, futures danger
    first = e.process(snapshot(book, prices, 100.0), 100.0)
    assert [(a.key, a.status) for a in first] == [
        ("futures:Perps:BTC/USDT:USDT:long:0", "danger"),  # worst first
        (MAIN_KEY, "warning"),
    ]
    assert "is 3.18% from liquidation at 54,216.87 — danger within 5.00%" in first[0].text
    assert first[0].threshold == 0.05 and first[0].figure == pytest.approx(0.031841, abs=1e-6)
    assert e.process(snapshot(book, prices, 102.0), 102.0) == []
    assert e.log == tuple(first)


def test_snooze_swallows_then_says_it_once_when_it_expires() -> None:
    e = engine()
    e.snooze(MAIN_KEY, until=10.0)
    polls = run_margin_path(e, [level_price(x) for x in (1.8, 1.45, 1.27, 1.27, 1.27, 1.27, 1.27, 1.27)])
    fired = [(i, a.status) for i, poll in enumerate(polls) for a in poll]
    assert fired == [(5, "danger")]  # t=10 is the first poll not snoozed


def test_snooze_expiry_after_recovery_says_nothing() -> None:
    e = engine()
    e.snooze(MAIN_KEY, until=5.0)
    polls = run_margin_path(e, [level_price(x) for x in (1.45, 1.8, 1.8, 1.8)])
    assert flat(polls) == []


def test_snooze_all_still_fires_liquidation_and_unsnooze_brings_back_the_rest() -> None:
    e = engine()
    e.snooze_all(math.inf)
    polls = run_margin_path(e, [level_price(x) for x in (1.45, 1.27, 1.05)])
    assert [a.severity for a in flat(polls)] == ["critical"]
    e2 = engine()
    e2.snooze_all(math.inf)
    run_margin_path(e2, [level_price(1.27)])
    e2.unsnooze()
    assert [a.status for a in e2.process(snapshot(margin_book(), {"BTC": level_price(1.27)}, 2), 2)] == ["danger"]


def test_paused_keeps_feed_alerts_and_liquidation_only() -> None:
    e = engine()
    e.set_paused(True)
    book = margin_book()
    down = FeedHealth("binance", "down", "timeout", last_success=0.0, failures=9)
    out = e.process(snapshot(book, {"BTC": level_price(1.27)}, 10.0, health=[down]), 10.0)
    assert [a.kind for a in out] == ["feed"] and out[0].severity == "danger"
    out = e.process(snapshot(book, {"BTC": level_price(1.05)}, 12.0), 12.0)
    assert [a.severity for a in out] == ["critical"]


def test_unknown_price_is_a_feed_alert_and_not_a_recovery() -> None:
    e = engine(repeat_minutes=0)
    book = margin_book()
    seen = []
    for i, prices in enumerate([{"BTC": level_price(1.27)}, {}, {}, {"BTC": level_price(1.27)}]):
        seen += e.process(snapshot(book, prices, float(i)), float(i))
    assert [(a.kind, a.status, a.severity) for a in seen] == [
        ("risk", "danger", "danger"),
        ("feed", "unknown", "warning"),
    ]
    assert "no price for BTC" in seen[1].text


def test_stale_feed_alerts_once_escalates_when_down_and_rearms_after_ok() -> None:
    e = engine()
    book = margin_book()
    price = {"BTC": level_price(2.0)}

    def poll(t: float, state: str, failures: int = 0) -> list:
        h = FeedHealth("binance", state, "no answer", last_success=0.0, failures=failures)  # type: ignore[arg-type]
        stale = [MAIN_KEY] if state in ("stale", "down") else []
        return e.process(snapshot(book, price, t, health=[h], stale_keys=stale), t)

    assert poll(0, "ok") == []
    assert poll(2, "retrying", 1) == []
    failing = poll(4, "retrying", 3)
    assert [a.title for a in failing] == ["Monitor blind: binance retrying"]
    stale = poll(20, "stale", 5)
    assert [a.kind for a in stale] == ["feed"] and [a.key for a in stale] == ["stale-prices"]
    down = poll(40, "down", 9)
    assert [(a.severity, a.status) for a in down] == [("danger", "down")]
    assert "last success 40 s ago" in down[0].text
    assert poll(42, "down", 10) == []
    assert poll(44, "ok") == []
    again = poll(46, "stale", 1)
    assert {a.key for a in again} == {"binance", "stale-prices"}


def test_risk_alert_on_a_stale_price_says_so() -> None:
    e = engine()
    out = e.process(snapshot(margin_book(), {"BTC": level_price(1.27)}, 0.0, stale_keys=[MAIN_KEY]), 0.0)
    risk = [a for a in out if a.kind == "risk"]
    assert risk[0].text.endswith("(price stale)")


def test_clock_jumps_backwards_and_forwards_are_reported() -> None:
    e = engine()
    book = margin_book()
    times = [0.0, 2.0, 4.0, 6.0, 8.0, 3.0, 5.0, 7.0, 3_607.0, 3_609.0]
    kinds = []
    for t in times:
        kinds.append([a.title for a in e.process(snapshot(book, {"BTC": level_price(2.0)}, t), t)])
    assert kinds[5] == ["Clock jumped backwards"]
    assert kinds[8] == ["Clock jumped forward"]
    assert sum(len(k) for k in kinds) == 2


def test_clock_jump_uses_the_given_poll_interval() -> None:
    e = AlertEngine(AlertSettings(), Thresholds(), poll_interval=5.0)
    book = margin_book()
    assert e.process(snapshot(book, {"BTC": 1e5}, 0.0), 0.0) == []
    assert e.process(snapshot(book, {"BTC": 1e5}, 20.0), 20.0) == []  # 4 intervals, below 30 s: not a jump
    out = e.process(snapshot(book, {"BTC": 1e5}, 120.0), 120.0)
    assert [a.kind for a in out] == ["clock"] and out[0].threshold == 5.0


def _futures_book(*positions, source: str = "imported") -> Portfolio:
    return Portfolio(futures_accounts=(futures_account(positions, source=source),))


def test_vanished_imported_position_is_reported_once_and_reindexing_is_not() -> None:
    e = engine()
    eth = btc_long(symbol="ETH/USDT:USDT")
    prices = {"BTC/USDT:USDT": 70_000.0, "ETH/USDT:USDT": 70_000.0}
    e.process(snapshot(_futures_book(btc_long(), eth), prices, 0.0), 0.0)
    out = e.process(snapshot(_futures_book(eth), prices, 2.0), 2.0)  # ETH moves from index 1 to 0
    assert [(a.kind, a.key, a.status) for a in out] == [
        ("position-vanished", "futures:Perps:BTC/USDT:USDT:long:0", "vanished")
    ]
    assert out[0].severity == "warning"  # it was ok: maybe closed on the exchange
    assert e.process(snapshot(_futures_book(eth), prices, 4.0), 4.0) == []


def test_shrunk_imported_position_and_vanished_in_danger_are_reported() -> None:
    e = engine()
    prices = {"BTC/USDT:USDT": 56_000.0}
    e.process(snapshot(_futures_book(btc_long(0.5)), prices, 0.0), 0.0)
    out = [a for a in e.process(snapshot(_futures_book(btc_long(0.3)), prices, 2.0), 2.0)
           if a.kind == "position-vanished"]
    assert [a.status for a in out] == ["shrunk"] and out[0].severity == "danger"
    assert "0.5 → 0.3 contracts" in out[0].text
    assert (out[0].figure, out[0].threshold) == (0.3, 0.5)


def test_user_edits_and_manual_positions_never_count_as_vanished() -> None:
    e = engine()
    prices = {"BTC/USDT:USDT": 70_000.0}
    e.process(snapshot(_futures_book(btc_long()), prices, 0.0), 0.0)
    e.note_user_edit("futures:Perps:BTC/USDT:USDT:long:0")
    e.process(snapshot(_futures_book(btc_long()), prices, 1.0), 1.0)  # the edit lands a poll later
    assert e.process(snapshot(_futures_book(), prices, 2.0), 2.0) == []
    manual = engine()
    manual.process(snapshot(_futures_book(btc_long(), source="manual"), prices, 0.0), 0.0)
    assert manual.process(snapshot(_futures_book(source="manual"), prices, 2.0), 2.0) == []


def test_imported_margin_account_vanishing_is_reported() -> None:
    e = engine()
    e.process(snapshot(margin_book("imported"), {"BTC": level_price(1.27)}, 0.0), 0.0)
    out = e.process(snapshot(Portfolio(), {"BTC": level_price(1.27)}, 2.0), 2.0)
    assert [(a.kind, a.severity) for a in out] == [("position-vanished", "danger")]


def test_leverage_above_the_limit_warns_once_and_rearms_below() -> None:
    e = engine(leverage_warn_above=10.0)
    book = _futures_book(btc_long())
    fired = []
    for t, price in enumerate([70_000.0, 61_000.0, 60_500.0, 70_000.0, 61_000.0]):  # leverage 4.4, 8.7, ...
        fired += [a for a in e.process(snapshot(book, {"BTC/USDT:USDT": price}, float(t)), float(t))]
    assert fired == []
    for t, price in enumerate([59_000.0, 58_900.0, 80_000.0, 59_000.0], start=10):  # 11.8×, ..., 3.6×, 11.8×
        fired += [a for a in e.process(snapshot(book, {"BTC/USDT:USDT": price}, float(t)), float(t))
                  if "leverage" in a.text]
    assert [a.time for a in fired] == [10.0, 13.0]
    assert fired[0].threshold == 10.0 and fired[0].figure == pytest.approx(11.8, rel=1e-3)


@dataclass(frozen=True, slots=True)
class _Funded(FuturesRisk):
    funding_rate: float | None = None


def _with_funding(snap: BookSnapshot, rate: float) -> BookSnapshot:
    funded = tuple(_Funded(**{f.name: getattr(r, f.name) for f in fields(r)}, funding_rate=rate)
                   for r in snap.risk.futures)
    return replace(snap, risk=BookRisk(margin=snap.risk.margin, futures=funded))


def test_funding_rate_alert_fires_once_per_funding_window() -> None:
    e = engine(funding_rate_threshold=0.001)
    book = _futures_book(btc_long())
    times = [0.0, 60.0, 3_600.0, 8 * 3600.0 + 1]
    out = [e.process(_with_funding(snapshot(book, {"BTC/USDT:USDT": 70_000.0}, t), 0.0015), t) for t in times]
    assert [len(o) for o in out] == [1, 0, 0, 1]
    assert out[0][0].kind == "funding" and "(this position pays)" in out[0][0].text
    small = engine(funding_rate_threshold=0.001)
    assert small.process(_with_funding(snapshot(book, {"BTC/USDT:USDT": 70_000.0}, 0), 0.0004), 0) == []


def test_ids_are_stable_for_the_same_path_and_unique_within_it() -> None:
    path = [level_price(x) for x in (1.45, 1.55, 1.45, 1.27, 1.2, 1.05)]
    first = [a.id for a in flat(run_margin_path(engine(), path))]
    second = [a.id for a in flat(run_margin_path(engine(), path))]
    assert first == second and len(set(first)) == len(first)
    shifted = [a.id for a in flat(run_margin_path(engine(), path, start=1000.0))]
    assert not set(shifted) & set(first)


def test_replace_settings_keeps_state_and_applies_the_new_band() -> None:
    e = engine(hysteresis_margin_level=0.02)
    run_margin_path(e, [level_price(1.45)])
    e.replace_settings(replace(AlertSettings(), hysteresis_margin_level=0.2), Thresholds())
    book = margin_book()
    # 1.6 would re-arm with the old 0.02 band, not with the new 0.2 one.
    assert e.process(snapshot(book, {"BTC": level_price(1.6)}, 2.0), 2.0) == []
    assert e.process(snapshot(book, {"BTC": level_price(1.45)}, 4.0), 4.0) == []


def test_a_position_own_threshold_is_the_one_the_alert_quotes() -> None:
    """The alert text and its threshold come from the position's own band, carried on the risk record."""
    from dataclasses import replace

    from liqwatch.domain.alerts import AlertEngine
    from liqwatch.domain.engine import evaluate_book
    from liqwatch.domain.snapshot import BookSnapshot
    from liqwatch.store.settings import AlertSettings
    from tests.domain.books import futures_book, position

    careful = replace(position("BTC/USDT:USDT", contracts=1, entry=100, wallet=10), warning_distance=0.2,
                      danger_distance=0.16)
    lp = 90 / 0.995
    book = futures_book(careful, prices={"BTC/USDT:USDT": lp / (1 - 0.18)})  # distance 18 %: own warning band
    risk = evaluate_book(book, book.prices)
    engine = AlertEngine(AlertSettings(), Thresholds())
    (alert,) = engine.process(BookSnapshot(1, 1000.0, book, risk), 1000.0)
    assert alert.status == "warning"
    assert alert.threshold == 0.2
    assert "warning within 20.00%" in alert.text
