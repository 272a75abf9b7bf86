"""Replay a recorded (or synthetic) price history from a CSV of `timestamp,symbol,price` rows.

For testing alert behaviour on a crash day without waiting for one. Replay time runs `speed` times faster than
the caller's clock and starts at the first fetch (or `start(now)`); the caller passes `now`, so tests and
`liqwatch watch --replay` can drive it at 1000× without sleeping. Each quote carries the wall-clock time its row
maps to as its exchange time, so gaps in the data age quotes (and make figures stale) as a live gap would.
Rows with a price of 0, a negative or NaN are kept as data but never quoted: the previous price ages instead.
"""

from __future__ import annotations

import bisect
import csv
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from liqwatch.domain.snapshot import FeedHealth, Quote
from liqwatch.sources.base import FeedResult, PriceRequest, usable_price


class ReplayError(ValueError):
    """The CSV cannot be replayed; `problems` name the line, the field and the value."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_timestamp(text: str) -> float:
    """Epoch seconds from ISO 8601 ("2024-08-05T00:00:00Z", naive means UTC) or epoch seconds/milliseconds."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return stamp.timestamp()
    if not math.isfinite(value):
        raise ValueError(text)
    return value / 1000.0 if value > 1e11 else value  # milliseconds


@dataclass(frozen=True)
class _Series:
    times: list[float]
    prices: list[float | None]


def load_replay(path: str | Path) -> dict[str, _Series]:
    path = Path(path)
    problems: list[str] = []
    rows: dict[str, list[tuple[float, float | None]]] = {}
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ReplayError([f"{path}: cannot read the file: {exc}"]) from None
    with handle:
        lines = (line for line in handle if not line.lstrip().startswith("#"))
        reader = csv.DictReader(lines)
        missing = {"timestamp", "symbol", "price"} - set(reader.fieldnames or ())
        if missing:
            raise ReplayError([f"{path}: the header must name timestamp,symbol,price; missing {sorted(missing)}"])
        for row in reader:
            where = f"{path}: line {reader.line_num}"
            symbol = (row.get("symbol") or "").strip()
            if not symbol:
                problems.append(f"{where}: symbol is empty")
                continue
            try:
                stamp = parse_timestamp(row.get("timestamp") or "")
            except ValueError:
                problems.append(f"{where}: timestamp must be ISO 8601 or epoch seconds, got {row.get('timestamp')!r}")
                continue
            text = (row.get("price") or "").strip()
            try:
                float(text)
            except ValueError:
                problems.append(f"{where}: price must be a number, got {text!r}")
                continue
            rows.setdefault(symbol, []).append((stamp, usable_price(text)))
    if problems:
        raise ReplayError(problems[:20] + ([f"… and {len(problems) - 20} more"] if len(problems) > 20 else []))
    if not rows:
        raise ReplayError([f"{path}: no price rows"])
    out = {}
    for symbol, points in rows.items():
        points.sort(key=lambda p: p[0])
        out[symbol] = _Series([p[0] for p in points], [p[1] for p in points])
    return out


class ReplayFeed:
    """Quotes from a CSV history, `speed`× faster than the caller's clock."""

    def __init__(self, csv_path: str | Path, speed: float = 1.0) -> None:
        if not (isinstance(speed, int | float) and math.isfinite(speed) and speed > 0):
            raise ReplayError([f"speed must be a number > 0, got {speed!r}"])
        self.path = Path(csv_path)
        self.name = f"replay:{self.path.name}"
        self.speed = float(speed)
        self._series = load_replay(self.path)
        self.first_time = min(s.times[0] for s in self._series.values())
        self.last_time = max(s.times[-1] for s in self._series.values())
        self._wall_start: float | None = None

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset(self._series)

    def start(self, now: float) -> None:
        """Replay time `first_time` happens at wall time `now`."""
        self._wall_start = now

    def clock(self, now: float) -> float:
        """Replay time (epoch seconds of the recorded day) at wall time `now`."""
        if self._wall_start is None:
            self._wall_start = now
        return self.first_time + (now - self._wall_start) * self.speed

    def wall_time(self, replay_time: float) -> float:
        assert self._wall_start is not None
        return self._wall_start + (replay_time - self.first_time) / self.speed

    def finished(self, now: float) -> bool:
        return self.clock(now) >= self.last_time

    def fetch(self, request: PriceRequest, now: float) -> FeedResult:
        """Every series' latest usable row at replay time. A replay prices what it recorded, whatever the request
        asks; the engine falls back from a futures symbol to its base asset as usual."""
        t = self.clock(now)
        quotes: dict[str, Quote] = {}
        for symbol, series in self._series.items():
            i = bisect.bisect_right(series.times, t) - 1
            while i >= 0 and series.prices[i] is None:
                i -= 1  # a refused row: keep the previous price, which ages
            if i < 0:
                continue
            price = series.prices[i]
            assert price is not None
            kind = "mark" if "/" in symbol else "last"
            quotes[symbol] = Quote(symbol, price, kind, self.name, now,  # type: ignore[arg-type]
                                   min(now, self.wall_time(series.times[i])))
        stamp = datetime.fromtimestamp(min(t, self.last_time), UTC).isoformat(timespec="seconds")
        message = (f"replay finished at {stamp}" if t >= self.last_time
                   else f"replaying {self.path.name} at {stamp} (×{self.speed:g})")
        return FeedResult(quotes, (FeedHealth(self.name, "ok", message, now, 0),))

    def close(self) -> None:
        """Nothing to release."""
