"""Alert rules: which poll fires which alert, once, early, without chatter (pure: time and prices come in).

The reason LiqWatch exists is an alert that arrives before liquidation and does not drown the trader in
repeats. Each account/position runs a small state machine over ok → warning → danger → liquidation:

- an alert fires on *entering a worse state* (a poll that jumps straight from ok to danger fires danger
  only);
- while in danger it re-fires only when the figure worsens by a further step (`step_distance`,
  `step_margin_level`) or after `repeat_minutes`;
- the state drops back (re-arms) only once the figure has recovered past the threshold *plus* the hysteresis
  band, so a price straddling a threshold fires once, not on every poll;
- an unknown status (a missing price) is a blind spot, never a recovery: it raises a "feed" alert and leaves
  the state machine where it was;
- a snoozed (or paused) position stays silent below liquidation; what it would have said is kept and said
  once when the snooze ends, if the position is still in that zone. Liquidation always fires.

"Monitor blind" alerts (feed stale/down, an exchange failing its requests, the clock jumping) are separate
from risk alerts, as are "position vanished" alerts for imported positions that disappear or shrink without
the trader editing them (likely liquidated or auto-deleveraged).

Every alert id is a hash of the key, kind, status, time and the per-key firing sequence: replaying the same
path gives the same ids, and two sessions never reuse one.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from liqwatch.domain.alert_text import risk_label, risk_text, status_title
from liqwatch.domain.model import Portfolio
from liqwatch.domain.risk import FuturesRisk, MarginRisk, Risk
from liqwatch.domain.snapshot import BookSnapshot, FeedHealth
from liqwatch.domain.status import Status
from liqwatch.domain.thresholds import Thresholds

if TYPE_CHECKING:
    from liqwatch.store.settings import AlertSettings

Severity = Literal["info", "warning", "danger", "critical"]  # critical = liquidation
AlertKind = Literal["risk", "feed", "position-vanished", "funding", "clock"]

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "danger": 2, "critical": 3}
SEVERITY_BY_STATUS: dict[Status, Severity] = {
    Status.WARNING: "warning",
    Status.DANGER: "danger",
    Status.LIQUIDATION: "critical",
    Status.UNKNOWN: "warning",
}
# Levels of the risk state machine; UNKNOWN has none (it is a blind spot, not a level).
_LEVEL = {Status.OK: 0, Status.WARNING: 1, Status.DANGER: 2, Status.LIQUIDATION: 3}
_STATUS_AT = (Status.OK, Status.WARNING, Status.DANGER, Status.LIQUIDATION)

FAILING_AFTER = 3  # consecutive failed requests before "retrying" becomes a monitor-blind alert
CLOCK_BACKWARDS_TOLERANCE = 1.0  # seconds: NTP slews smaller than this are not a jump
CLOCK_JUMP_FACTOR = 5.0  # a gap this many expected poll intervals long (and ≥ CLOCK_JUMP_MIN) is a jump
CLOCK_JUMP_MIN = 30.0
FUNDING_WINDOW = 8 * 3600.0  # one funding alert per window when the record carries no funding time
LEVERAGE_REARM = 0.95  # leverage re-arms below this fraction of `leverage_warn_above`
NOTE_LIFETIME = 10  # polls a `note_user_edit` waits for its change to show up
LOG_LIMIT = 10_000  # in-memory log entries; the store persists the full history


@dataclass(frozen=True, slots=True)
class Alert:
    """One fired alert. `text` is one line carrying the figure and the threshold it crossed."""

    id: str
    time: float
    severity: Severity
    kind: AlertKind
    key: str
    account: str
    symbol: str | None
    title: str
    text: str
    figure: float | None
    threshold: float | None
    status: str


def worst_first(alerts: list[Alert]) -> list[Alert]:
    """Stable sort, most severe first (equal severities keep the order they fired in)."""
    return sorted(alerts, key=lambda a: -SEVERITY_RANK[a.severity])


@dataclass(slots=True)
class _RiskState:
    level: int = 0  # the level last alerted (or silently entered while snoozed)
    unknown: bool = False
    last_figure: float | None = None  # figure at the last danger fire (for the step rule)
    last_fire: float = -math.inf
    pending: bool = False  # a fire was swallowed by a snooze: say it when the snooze ends
    leverage_fired: bool = False
    leverage_pending: bool = False
    funding_window: object = None


@dataclass(frozen=True, slots=True)
class _Held:
    """What the previous snapshot held of an imported item, to notice it vanish or shrink."""

    key: str
    label: str
    account: str
    symbol: str | None
    size: float
    quantities: tuple[tuple[str, float], ...]
    status: Status


@dataclass(slots=True)
class _Clock:
    last: float | None = None
    gaps: deque[float] = field(default_factory=lambda: deque(maxlen=8))


class AlertEngine:
    """Turns successive `BookSnapshot`s into alerts. Not thread-safe: call it from one thread (the poll
    thread or the GUI thread), which is where snapshots arrive in order anyway."""

    def __init__(
        self, settings: AlertSettings, thresholds: Thresholds, *, poll_interval: float | None = None
    ) -> None:
        self._settings = settings
        self._thresholds = thresholds
        self._poll_interval = poll_interval
        self._log: deque[Alert] = deque(maxlen=LOG_LIMIT)
        self._paused = False
        self._snoozed: dict[str, float] = {}
        self._snooze_all_until = -math.inf
        self._states: dict[str, _RiskState] = {}
        self._feeds: dict[str, int] = {}
        self._stale_alerted: frozenset[str] = frozenset()
        self._held: dict[tuple[str, ...], _Held] | None = None
        self._notes: dict[str, int] = {}
        self._sequence: dict[str, int] = {}
        self._clock = _Clock()

    # ---- controls --------------------------------------------------------------------------------

    def snooze(self, key: str, until: float) -> None:
        self._snoozed[key] = until

    def snooze_all(self, until: float = math.inf) -> None:
        """`until=math.inf` means until restart."""
        self._snooze_all_until = until

    def unsnooze(self, key: str | None = None) -> None:
        """Lift one snooze, or (no key) every snooze and snooze-all. Swallowed alerts are said next poll."""
        if key is None:
            self._snoozed.clear()
            self._snooze_all_until = -math.inf
        else:
            self._snoozed.pop(key, None)

    def set_paused(self, paused: bool) -> None:
        """Paused: no risk alerts except liquidation; monitor-blind and vanished alerts still fire."""
        self._paused = paused

    @property
    def paused(self) -> bool:
        return self._paused

    def note_user_edit(self, key: str) -> None:
        """The trader edited or removed this item (a row key, or an account key prefix such as
        "futures:Main"): its disappearance or shrink is not a "position vanished"."""
        self._notes[key] = NOTE_LIFETIME

    @property
    def log(self) -> tuple[Alert, ...]:
        return tuple(self._log)

    def replace_settings(self, settings: AlertSettings, thresholds: Thresholds) -> None:
        """New policy from the settings dialog; the state machines keep their state."""
        self._settings = settings
        self._thresholds = thresholds

    def is_snoozed(self, key: str, now: float) -> bool:
        return self._paused or self._snooze_all_until > now or self._snoozed.get(key, -math.inf) > now

    # ---- the poll --------------------------------------------------------------------------------

    def process(self, snapshot: BookSnapshot, now: float) -> list[Alert]:
        """All alerts this poll fires, worst first; each is also appended to `log`."""
        fired: list[Alert] = []
        fired += self._check_clock(now)
        fired += self._check_feeds(snapshot.health, now)
        fired += self._check_stale(snapshot, now)
        fired += self._check_vanished(snapshot.portfolio, snapshot, now)
        present: set[str] = set()
        for risk in snapshot.risk:
            present.add(risk.key)
            state = self._states.setdefault(risk.key, _RiskState())
            stale = snapshot.is_stale(risk)
            fired += self._check_risk(risk, state, now, stale)
            fired += self._check_leverage(risk, state, now)
            fired += self._check_funding(risk, state, now)
        for key in [k for k in self._states if k not in present]:
            del self._states[key]
        for key, until in list(self._snoozed.items()):
            if until <= now:
                del self._snoozed[key]
        fired = worst_first(fired)
        self._log.extend(fired)
        return fired

    # ---- risk state machine ----------------------------------------------------------------------

    def _band_level(self, risk: Risk) -> int | None:
        """The level of the figure with every threshold widened by the hysteresis band: the state may only
        drop to this level, so a figure hovering just past a threshold does not re-arm."""
        s, t = self._settings, self._thresholds
        if isinstance(risk, MarginRisk):
            level = risk.margin_level
            if level is None:
                return None
            h = s.hysteresis_margin_level
            if level <= risk.liquidation_level + h:
                return 3
            if level <= risk.margin_call_level + h:
                return 2
            warning = risk.warning_level if risk.warning_level is not None else t.margin_warning_level
            return 1 if level <= warning + h else 0
        if risk.status is Status.LIQUIDATION:
            return 3
        distance = risk.distance
        if distance is None:
            return 0
        h = s.hysteresis_distance
        if distance <= h:
            return 3
        danger = risk.danger_distance if risk.danger_distance is not None else t.futures_danger_distance
        warning = risk.warning_distance if risk.warning_distance is not None else t.futures_warning_distance
        if distance <= danger + h:
            return 2
        return 1 if distance <= warning + h else 0

    def _worsened_by_step(self, risk: Risk, last: float | None) -> bool:
        if last is None:
            return False
        if isinstance(risk, MarginRisk):
            level = risk.margin_level
            step = self._settings.step_margin_level
            return level is not None and step > 0 and level <= last - step
        distance = risk.distance
        step = self._settings.step_distance
        return distance is not None and step > 0 and distance <= last - step

    def _check_risk(self, risk: Risk, state: _RiskState, now: float, stale: bool) -> list[Alert]:
        status = risk.status
        if status is Status.UNKNOWN:
            if state.unknown:
                return []
            state.unknown = True
            missing = ", ".join(risk.missing_prices) or "a price"
            return [
                self._make(
                    now,
                    "warning",
                    "feed",
                    risk.key,
                    risk,
                    f"Unknown: {risk_label(risk)}",
                    f"{risk_label(risk)} risk unknown — no price for {missing}",
                    None,
                    None,
                    Status.UNKNOWN.value,
                )
            ]
        state.unknown = False
        raw = _LEVEL[status]
        fire = False
        if raw > state.level:
            fire = True
        elif raw < state.level:
            band = self._band_level(risk)
            state.level = max(raw, min(state.level, band if band is not None else state.level))
            if state.level == 0:
                state.pending = False
        elif raw == 2 and (
            self._worsened_by_step(risk, state.last_figure)
            or (
                self._settings.repeat_minutes > 0
                and now - state.last_fire >= self._settings.repeat_minutes * 60.0
            )
        ):
            fire = True
        snoozed = raw < 3 and self.is_snoozed(risk.key, now)
        if not fire and state.pending and not snoozed and raw >= 1:
            fire = True  # the snooze ended with the position still in the zone: say what was swallowed
        if not fire:
            return []
        state.level = max(state.level, raw)
        state.last_figure = risk.margin_level if isinstance(risk, MarginRisk) else risk.distance
        state.last_fire = now
        if snoozed:
            state.pending = True
            return []
        state.pending = False
        text, figure, threshold = risk_text(risk, status, self._thresholds)
        if stale:
            text += " (price stale)"
        return [
            self._make(
                now,
                SEVERITY_BY_STATUS[status],
                "risk",
                risk.key,
                risk,
                status_title(status, risk),
                text,
                figure,
                threshold,
                status.value,
            )
        ]

    def _check_leverage(self, risk: Risk, state: _RiskState, now: float) -> list[Alert]:
        limit = self._settings.leverage_warn_above
        leverage = risk.effective_leverage
        if limit is None or leverage is None:
            return []
        if state.leverage_fired and leverage <= limit * LEVERAGE_REARM:
            state.leverage_fired = state.leverage_pending = False
        fire = (leverage > limit and not state.leverage_fired) or state.leverage_pending
        if not fire:
            return []
        state.leverage_fired = True
        if self.is_snoozed(risk.key, now):
            state.leverage_pending = True
            return []
        state.leverage_pending = False
        text = f"{risk_label(risk)} effective leverage {leverage:.1f}× — warning above {limit:.1f}×"
        return [
            self._make(
                now,
                "warning",
                "risk",
                risk.key,
                risk,
                f"High leverage: {risk_label(risk)}",
                text,
                leverage,
                limit,
                Status.WARNING.value,
                sequence_key=f"{risk.key}|leverage",
            )
        ]

    def _check_funding(self, risk: Risk, state: _RiskState, now: float) -> list[Alert]:
        """Hook point: once per funding interval when the record carries a `funding_rate` (feeds add it)."""
        limit = self._settings.funding_rate_threshold
        rate = getattr(risk, "funding_rate", None)
        if limit is None or rate is None or abs(rate) < limit:
            return []
        window = getattr(risk, "next_funding_time", None)
        if window is None:
            hours = getattr(risk, "funding_interval_hours", None)
            span = hours * 3600.0 if isinstance(hours, int | float) and hours > 0 else FUNDING_WINDOW
            window = math.floor(now / span)
        if state.funding_window == window:
            return []
        state.funding_window = window
        if self.is_snoozed(risk.key, now):
            return []
        payer = ""
        if isinstance(risk, FuturesRisk):
            pays = (rate > 0) == (risk.side == "long")
            payer = " (this position pays)" if pays else " (this position receives)"
        text = f"{risk_label(risk)} funding rate {rate * 100:+.4f}%{payer} — alert at ±{limit * 100:.4f}%"
        return [
            self._make(
                now,
                "info",
                "funding",
                risk.key,
                risk,
                f"Funding: {risk_label(risk)}",
                text,
                rate,
                limit,
                risk.status.value,
            )
        ]

    # ---- monitor blind ---------------------------------------------------------------------------

    def _check_clock(self, now: float) -> list[Alert]:
        clock = self._clock
        last, clock.last = clock.last, now
        if last is None:
            return []
        gap = now - last
        if gap < -CLOCK_BACKWARDS_TOLERANCE:
            text = f"wall clock jumped back {-gap:.0f} s between polls — times and ages may be wrong"
            return [self._blind(now, "warning", "clock", "Clock jumped backwards", text, gap, None, "clock")]
        expected = self._poll_interval
        if expected is None and len(clock.gaps) >= 3:
            expected = statistics.median(clock.gaps)
        jump = expected is not None and gap > max(CLOCK_JUMP_FACTOR * expected, CLOCK_JUMP_MIN)
        if gap > 0 and not jump:
            clock.gaps.append(gap)
        if not jump:
            return []
        assert expected is not None
        text = (
            f"{gap:.0f} s passed between polls, expected about {expected:.0f} s (sleep or clock change) — "
            "prices may have moved unseen"
        )
        return [self._blind(now, "warning", "clock", "Clock jumped forward", text, gap, expected, "clock")]

    def _check_feeds(self, health: tuple[FeedHealth, ...], now: float) -> list[Alert]:
        fired: list[Alert] = []
        for feed in health:
            if feed.state == "down":
                level, severity, what = 2, "danger", "down"
            elif feed.state == "stale":
                level, severity, what = 1, "warning", "stale"
            elif feed.state == "retrying" and feed.failures >= FAILING_AFTER:
                level, severity, what = 1, "warning", f"failing its requests ({feed.failures} in a row)"
            else:
                level, severity, what = 0, "info", ""
            before = self._feeds.get(feed.source, 0)
            if feed.state == "ok":
                self._feeds[feed.source] = 0
                continue
            if level <= before:
                continue
            self._feeds[feed.source] = level
            age = None if feed.last_success is None else max(0.0, now - feed.last_success)
            since = "never succeeded" if age is None else f"last success {age:.0f} s ago"
            message = f": {feed.message}" if feed.message else ""
            text = f"price feed {feed.source} {what}{message} — {since}; risk figures may be out of date"
            fired.append(
                self._blind(
                    now,
                    severity,
                    feed.source,
                    f"Monitor blind: {feed.source} {feed.state}",
                    text,
                    age,
                    None,
                    feed.state,
                )
            )  # type: ignore[arg-type]
        return fired

    def _check_stale(self, snapshot: BookSnapshot, now: float) -> list[Alert]:
        stale = frozenset(snapshot.stale_keys)
        new = stale - self._stale_alerted
        self._stale_alerted = stale
        if not new:
            return []
        labels = [risk_label(r) for r in snapshot.risk if r.key in new] or sorted(new)
        shown = ", ".join(labels[:5]) + (f" and {len(labels) - 5} more" if len(labels) > 5 else "")
        text = f"prices stale for {len(labels)} position(s): {shown} — figures are from the last good price"
        return [
            self._blind(
                now,
                "warning",
                "stale-prices",
                "Monitor blind: stale prices",
                text,
                float(len(labels)),
                None,
                "stale",
            )
        ]

    def _blind(
        self,
        now: float,
        severity: str,
        key: str,
        title: str,
        text: str,
        figure: float | None,
        threshold: float | None,
        status: str,
    ) -> Alert:
        kind: AlertKind = "clock" if key == "clock" else "feed"
        return self._alert(
            now,
            severity,
            kind,
            key,
            "",
            None,
            title,
            text,
            figure,
            threshold,  # type: ignore[arg-type]
            status,
            key,
        )

    # ---- vanished --------------------------------------------------------------------------------

    def _check_vanished(self, portfolio: Portfolio, snapshot: BookSnapshot, now: float) -> list[Alert]:
        statuses = {r.key: r.status for r in snapshot.risk}
        current = _imported_items(portfolio, statuses)
        previous, self._held = self._held, current
        fired: list[Alert] = []
        if previous is not None:
            for identity, was in previous.items():
                now_held = current.get(identity)
                vanished = now_held is None
                shrunk = not vanished and _shrunk(was, now_held, identity[0] == "margin")  # type: ignore[arg-type]
                if not (vanished or shrunk) or self._consume_note(was.key):
                    continue
                severe = was.status in (Status.DANGER, Status.LIQUIDATION)
                severity: Severity = "danger" if severe else "warning"
                if vanished:
                    text = (
                        f"{was.label} is gone from the exchange without an edit here (was {was.status.value})"
                        " — likely liquidated or closed; check the exchange"
                    )
                    figure, threshold = 0.0, was.size
                else:
                    assert now_held is not None
                    text = (
                        f"{was.label} shrank ({_shrink_text(was, now_held)}) without an edit here — likely "
                        "liquidated in part or auto-deleveraged; check the exchange"
                    )
                    figure, threshold = now_held.size, was.size
                title = f"Position {'vanished' if vanished else 'shrank'}: {was.label}"
                fired.append(
                    self._alert(
                        now,
                        severity,
                        "position-vanished",
                        was.key,
                        was.account,
                        was.symbol,
                        title,
                        text,
                        figure,
                        threshold,
                        "vanished" if vanished else "shrunk",
                        was.key,
                    )
                )
        for key in list(self._notes):
            self._notes[key] -= 1
            if self._notes[key] <= 0:
                del self._notes[key]
        return fired

    def _consume_note(self, key: str) -> bool:
        for noted in self._notes:
            if key == noted or key.startswith(noted + ":"):
                del self._notes[noted]
                return True
        return False

    # ---- construction ----------------------------------------------------------------------------

    def _make(
        self,
        now: float,
        severity: Severity,
        kind: AlertKind,
        key: str,
        risk: Risk,
        title: str,
        text: str,
        figure: float | None,
        threshold: float | None,
        status: str,
        sequence_key: str | None = None,
    ) -> Alert:
        symbol = risk.symbol
        return self._alert(
            now,
            severity,
            kind,
            key,
            risk.account,
            symbol,
            title,
            text,
            figure,
            threshold,
            status,
            sequence_key or key,
        )

    def _alert(
        self,
        now: float,
        severity: Severity,
        kind: AlertKind,
        key: str,
        account: str,
        symbol: str | None,
        title: str,
        text: str,
        figure: float | None,
        threshold: float | None,
        status: str,
        sequence_key: str,
    ) -> Alert:
        sequence = self._sequence.get(sequence_key, 0) + 1
        self._sequence[sequence_key] = sequence
        digest = hashlib.sha256(f"{sequence_key}|{kind}|{status}|{now!r}|{sequence}".encode()).hexdigest()[
            :16
        ]
        return Alert(
            id=digest,
            time=now,
            severity=severity,
            kind=kind,
            key=key,
            account=account,
            symbol=symbol,
            title=title,
            text=text,
            figure=_finite(figure),
            threshold=_finite(threshold),
            status=status,
        )


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else value


def _imported_items(portfolio: Portfolio, statuses: dict[str, Status]) -> dict[tuple[str, ...], _Held]:
    """Imported accounts and positions by an identity that survives re-ordering (a position key carries its
    index, which shifts when an earlier position closes)."""
    held: dict[tuple[str, ...], _Held] = {}
    for account in portfolio.margin_accounts:
        if account.source != "imported":
            continue
        quantities = tuple(sorted((b.asset, abs(b.total) + b.liability) for b in account.assets))
        held[("margin", account.key)] = _Held(
            key=account.key,
            label=f"{account.name} {account.mode} margin",
            account=account.name,
            symbol=account.symbol,
            size=sum(b.liability for b in account.assets),
            quantities=quantities,
            status=statuses.get(account.key, Status.OK),
        )
    for futures in portfolio.futures_accounts:
        if futures.source != "imported":
            continue
        for index, position in enumerate(futures.positions):
            identity = ("futures", futures.name, position.symbol, position.side)
            key = futures.position_key(index)
            size = abs(position.contracts)
            if identity in held:  # two legs on one side: watch their sum
                size += held[identity].size
            held[identity] = _Held(
                key=key,
                label=f"{futures.name} {position.symbol} {position.side}",
                account=futures.name,
                symbol=position.symbol,
                size=size,
                quantities=(),
                status=statuses.get(key, Status.OK),
            )
    return held


def _shrink_text(was: _Held, now: _Held) -> str:
    if not was.quantities:
        return f"{_amount(was.size)} → {_amount(now.size)} contracts"
    after = dict(now.quantities)
    return ", ".join(
        f"{asset} {_amount(qty)} → {_amount(after.get(asset, 0.0))}"
        for asset, qty in was.quantities
        if after.get(asset, 0.0) < qty
    )


def _amount(value: float) -> str:
    return f"{value:,.8g}"


def _shrunk(was: _Held, now: _Held, margin: bool) -> bool:
    """Futures: fewer contracts. Margin: less of any asset, but only after the account stood in danger or
    liquidation: a healthy margin account shrinks whenever the trader repays or sells, which is not news."""
    tolerance = 1e-9
    if not margin:
        return now.size < was.size * (1 - tolerance)
    if was.status not in (Status.DANGER, Status.LIQUIDATION):
        return False
    after = dict(now.quantities)
    return any(after.get(asset, 0.0) < qty * (1 - tolerance) for asset, qty in was.quantities if qty > 0)
