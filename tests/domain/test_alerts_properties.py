"""Properties of the alert policy on arbitrary margin-level paths (hypothesis), through the real risk engine."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from liqwatch.domain.alerts import AlertEngine
from liqwatch.domain.status import Status
from liqwatch.domain.thresholds import Thresholds
from liqwatch.store.settings import AlertSettings
from tests.domain.test_alerts_support import level_price, margin_book, run_margin_path, snapshot

LEVELS = st.lists(st.floats(min_value=0.9, max_value=2.0, allow_nan=False), min_size=1, max_size=60)
RANK = {"ok": 0, "warning": 1, "danger": 2, "liquidation": 3}


def _statuses(levels: list[float]) -> list[Status]:
    book = margin_book()
    return [next(iter(snapshot(book, {"BTC": level_price(x)}, 0.0).risk)).status for x in levels]


@settings(max_examples=150, deadline=None)
@given(LEVELS, st.floats(min_value=0.0, max_value=0.1), st.floats(min_value=0.01, max_value=0.1))
def test_alerts_are_bounded_by_state_entries_plus_refire_steps(levels: list[float], band: float,
                                                               step: float) -> None:
    settings_ = replace(AlertSettings(), hysteresis_margin_level=band, step_margin_level=step, repeat_minutes=0)
    alerts = [a for poll in run_margin_path(AlertEngine(settings_, Thresholds()), map(level_price, levels))
              for a in poll if a.kind == "risk"]
    statuses = _statuses(levels)
    ranks = [0] + [RANK[s.value] for s in statuses]
    entries = sum(1 for a, b in pairwise(ranks) if b > a)
    danger_entries = sum(1 for a, b in pairwise(ranks) if b == 2 and a < 2)
    # Within one danger episode each re-fire is at least `step` below the last, between 1.3 and 1.1.
    steps = danger_entries * math.floor((1.3 - 1.1) / step + 1e-9)
    assert len(alerts) <= entries + steps


@settings(max_examples=150, deadline=None)
@given(LEVELS)
def test_without_steps_or_repeats_alerts_never_exceed_worsening_transitions(levels: list[float]) -> None:
    settings_ = replace(AlertSettings(), step_margin_level=0.0, repeat_minutes=0)
    polls = run_margin_path(AlertEngine(settings_, Thresholds()), map(level_price, levels))
    statuses = _statuses(levels)
    previous = 0
    for poll, status in zip(polls, statuses, strict=True):
        rank = RANK[status.value]
        risk = [a for a in poll if a.kind == "risk"]
        if rank <= previous:
            assert risk == []  # nothing fires without entering a worse state than the last poll
        else:
            assert len(risk) <= 1
            assert all(a.status == status.value for a in risk)
        previous = rank


@settings(max_examples=150, deadline=None)
@given(LEVELS)
def test_a_path_straddling_the_warning_level_inside_the_band_fires_at_most_once(levels: list[float]) -> None:
    inside = [1.5 + (x - 0.9) / 1.1 * 0.039 - 0.019 for x in levels]  # within [1.481, 1.52]
    alerts = [a for poll in run_margin_path(AlertEngine(AlertSettings(), Thresholds()), map(level_price, inside))
              for a in poll]
    assert len(alerts) <= 1


@settings(max_examples=100, deadline=None)
@given(LEVELS)
def test_snooze_all_never_hides_a_liquidation(levels: list[float]) -> None:
    e = AlertEngine(AlertSettings(), Thresholds())
    e.snooze_all(math.inf)
    alerts = [a for poll in run_margin_path(e, map(level_price, levels)) for a in poll if a.kind == "risk"]
    statuses = _statuses(levels)
    assert all(a.severity == "critical" for a in alerts)
    if Status.LIQUIDATION in statuses:
        assert alerts and alerts[0].time == 2.0 * statuses.index(Status.LIQUIDATION)


@settings(max_examples=100, deadline=None)
@given(LEVELS)
def test_the_first_alert_for_a_path_is_at_its_first_non_ok_poll(levels: list[float]) -> None:
    polls = run_margin_path(AlertEngine(AlertSettings(), Thresholds()), map(level_price, levels))
    statuses = _statuses(levels)
    first_bad = next((i for i, s in enumerate(statuses) if s is not Status.OK), None)
    first_alert = next((i for i, poll in enumerate(polls) if poll), None)
    assert first_alert == first_bad
