"""The bundled default maintenance-bracket table (Binance, dated), in LiqWatch's own compact format.

`resources/brackets.json` holds, per ccxt symbol, rows of ``[floor, maint_margin_rate, maint_amount]``: floors are
quote notional for USDⓈ-M (linear) symbols and coin quantity for COIN-M (inverse) ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from liqwatch.domain.model import Bracket
from liqwatch.resources import resource_path


@dataclass(frozen=True)
class BracketTable:
    date: str
    linear: dict[str, tuple[Bracket, ...]]
    inverse: dict[str, tuple[Bracket, ...]]

    def lookup(self, symbol: str, inverse: bool) -> tuple[Bracket, ...] | None:
        return (self.inverse if inverse else self.linear).get(symbol)


@cache
def default_brackets() -> BracketTable:
    data = json.loads(resource_path("brackets.json").read_text(encoding="utf-8"))

    def rows(table: dict[str, list[list[float]]]) -> dict[str, tuple[Bracket, ...]]:
        return {sym: tuple(Bracket(float(f), float(r), float(c)) for f, r, c in v) for sym, v in table.items()}

    return BracketTable(date=data["date"], linear=rows(data["linear"]), inverse=rows(data["inverse"]))
