"""Table rows made ready off the GUI thread: `TableBatch` and `TablePreparer`.

Turning a 2,000-row snapshot into table rows, and ordering them by the sorted column, is plain Python work of about
ten milliseconds per poll. Done on the GUI thread it adds straight onto the repaint that follows, which is how the
window froze for 60–120 ms per poll in a crash (`benchmarks/bench_gui.py`). The poller thread therefore calls
`TablePreparer.prepare` right after building each snapshot and sends the batch along; the model then only swaps
rows and signals. Nothing here touches a Qt object, so it is safe in any thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from liqwatch.domain.risk import PAUSE_EVERY, BookRisk, FuturesRisk, Risk
from liqwatch.domain.snapshot import BookSnapshot
from liqwatch.domain.status import Status
from liqwatch.ui.models.columns import NOT_APPLICABLE, ColumnSpec, Row

SortSpec = tuple[int, bool]  # (column index, descending)


@dataclass(frozen=True, slots=True)
class TableBatch:
    """One snapshot's rows, their view order for the sort they were prepared for (None: not sorted), and which
    rows look different from the batch before (`since`: that batch's snapshot sequence; None: unknown)."""

    snapshot: BookSnapshot
    rows: tuple[Row, ...]
    sort: SortSpec | None = None
    order: tuple[int, ...] | None = None  # indices into `rows`, in view order for `sort`
    since: int | None = None  # `changed` is relative to the batch of this snapshot sequence, with the same keys
    changed: frozenset[str] = frozenset()
    positions: dict[str, int] | None = None  # key → view position, with `order`
    changed_runs: tuple[tuple[int, int], ...] = ()  # runs of view positions of `changed` rows, with `order`
    worst: Status = Status.OK  # the worst status of the rows (the status bar's figure)


class TablePreparer:
    """Prepares `TableBatch`es in the poller thread for the sort the table currently shows.

    `sort` is written by the GUI thread (the model, when the trader clicks a header) and read here; a batch
    prepared for a sort that has since changed is simply re-sorted by the model."""

    def __init__(self, columns: Sequence[ColumnSpec], clock: Callable[[], float],
                 pause: Callable[[], None] | None = None) -> None:
        self.columns = list(columns)
        self.clock = clock
        self.pause = pause  # called between chunks of rows (see `liqwatch.ui.busy_gate`)
        self.sort: SortSpec | None = None
        self._previous: tuple[int, dict[str, Row]] | None = None  # the last batch: sequence, rows by key

    def prepare(self, snapshot: BookSnapshot) -> TableBatch:
        rows = tuple(rows_from_snapshot(snapshot, pause=self.pause))
        since, changed = self._changes(snapshot.sequence, rows)
        worst = Status.worst(r.risk.status for r in rows)
        sort = self.sort
        if sort is None or not 0 <= sort[0] < len(self.columns) or self.columns[sort[0]].live:
            # clock-driven columns are ordered at apply time, on the GUI clock
            return TableBatch(snapshot, rows, since=since, changed=changed, worst=worst)
        if self.pause is not None:
            self.pause()
        order = tuple(sort_order(rows, self.columns[sort[0]], sort[1], self.clock))
        keys = [rows[i].risk.key for i in order]
        runs = blocks([n for n, key in enumerate(keys) if key in changed]) if changed else []
        return TableBatch(snapshot, rows, sort, order, since, changed, {k: n for n, k in enumerate(keys)},
                          tuple(runs), worst)

    def _changes(self, sequence: int, rows: tuple[Row, ...]) -> tuple[int | None, frozenset[str]]:
        """The keys of rows that look different from the previous batch (None: a different set of keys)."""
        previous, self._previous = self._previous, (sequence, {r.risk.key: r for r in rows})
        if previous is None or len(previous[1]) != len(rows):
            return None, frozenset()
        before = previous[1]
        changed = []
        for i, row in enumerate(rows):
            if self.pause is not None and i % PAUSE_EVERY == 0:
                self.pause()
            old = before.get(row.risk.key)
            if old is None:
                return None, frozenset()
            if row_changed(old, row):
                changed.append(row.risk.key)
        return previous[0], frozenset(changed)


def sort_order(rows: Sequence[Row], spec: ColumnSpec, descending: bool, clock: Callable[[], float]) -> list[int]:
    """Indices of `rows` ordered by `spec`'s raw value; unknown values last in either direction.

    Stable (also descending): equal values keep their order in `rows`."""
    known: list[tuple[Any, int]] = []
    unknown: list[int] = []
    value_of = spec.value
    live = spec.live
    now = clock() if live else 0.0
    for i, row in enumerate(rows):
        value = value_of(row)
        if value is None or value is NOT_APPLICABLE:
            unknown.append(i)
        elif live and isinstance(value, int | float):
            known.append((max(0.0, now - value), i))
        elif isinstance(value, str):
            known.append((value.casefold(), i))
        elif isinstance(value, int | float):
            known.append((value, i))
        else:
            known.append((str(value).casefold(), i))
    if any(isinstance(k, str) for k, _ in known) and not all(isinstance(k, str) for k, _ in known):
        known = [(str(k).casefold(), i) for k, i in known]
    known.sort(key=lambda item: item[0], reverse=descending)
    return [i for _, i in known] + unknown


def blocks(indices: list[int]) -> list[tuple[int, int]]:
    """Runs of consecutive sorted indices: [1, 2, 3, 7, 8] -> [(1, 3), (7, 8)]."""
    out: list[tuple[int, int]] = []
    for i in indices:
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def row_changed(old: Row, new: Row) -> bool:
    """Whether anything but the clock-driven data age can look different (the age has its own refresh)."""
    # cheap float comparisons first: in a moving market they settle almost every row without a full compare
    return (old.price != new.price or old.risk.distance != new.risk.distance or old.stale != new.stale
            or old.what_if != new.what_if or old.price_asset != new.price_asset or old.risk != new.risk)


def _price_for(risk: Risk, prices: dict[str, float]) -> tuple[float | None, str | None]:
    if isinstance(risk, FuturesRisk):
        return risk.mark_price, None
    asset = risk.symbol.split("/", 1)[0] if risk.symbol else None
    if asset is None and len(risk.liquidation_prices) == 1:
        asset = next(iter(risk.liquidation_prices))
    if asset is None:
        return None, None
    return prices.get(asset), asset


def _price_time(risk: Risk, snapshot: BookSnapshot, accounts: dict[str, Any]) -> float | None:
    """Stamp of the oldest quote the row depends on (None: no quote, e.g. fixed prices only)."""
    quotes = snapshot.quotes
    if isinstance(risk, FuturesRisk):
        quote = quotes.get(risk.symbol) or quotes.get(risk.symbol.split("/", 1)[0])
        return _stamp(quote) if quote else None
    stamps = []
    account = accounts.get(risk.key)
    if account is not None:
        for balance in account.assets:
            if snapshot.portfolio.is_pegged(balance.asset):
                continue
            quote = quotes.get(balance.asset)
            if quote is not None:
                stamps.append(_stamp(quote))
    return min(stamps) if stamps else None


def _stamp(quote: Any) -> float:
    return quote.exchange_time if quote.exchange_time is not None else quote.received_time


def rows_from_snapshot(snapshot: BookSnapshot, risk: BookRisk | None = None, what_if: bool = False,
                       prices: dict[str, float] | None = None, pause: Callable[[], None] | None = None) -> list[Row]:
    """Build the rows of a snapshot (or of `risk` and `prices`: shocked figures for the same book, as what-if).

    `pause`: called every `PAUSE_EVERY` rows (a worker thread lets the GUI thread have the interpreter)."""
    if prices is None:
        prices = {k: q.price for k, q in snapshot.quotes.items()}
        for key, value in snapshot.portfolio.prices.items():
            prices.setdefault(key, value)
    shown = risk if risk is not None else snapshot.risk
    accounts = {a.key: a for a in snapshot.portfolio.margin_accounts}
    stale = snapshot.stale_keys
    checks = snapshot.reconciled if not what_if else {}
    out = []
    for i, r in enumerate(shown):
        if pause is not None and i % PAUSE_EVERY == 0:
            pause()
        price, asset = _price_for(r, prices)
        out.append(Row(risk=r, stale=r.key in stale, price_time=_price_time(r, snapshot, accounts), price=price,
                       price_asset=asset, what_if=what_if, checks=checks.get(r.key, ())))
    return out
