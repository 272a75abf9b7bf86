"""The portfolio file (TOML, format version 1): loading with full validation, and writing.

Every field is checked; a bad file yields one message per problem naming the file, the account, the field and the
value, e.g. ``portfolio.toml: futures_account "Binance USDⓈ-M" position 2: contracts must be > 0, got -3``.
Unknown keys are errors too: a misspelt ``borowed`` silently ignored would understate the risk.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from liqwatch.domain.model import (
    AssetBalance,
    Bracket,
    FuturesAccount,
    FuturesPosition,
    MarginAccount,
    Portfolio,
)
from liqwatch.store.brackets import BracketTable, default_brackets

FORMAT_VERSION = 1
_DEFAULT_STABLECOINS = ("USDT", "USDC", "FDUSD")

_TOP_KEYS = {"version", "quote", "stablecoins", "prices", "volatility", "margin_account", "futures_account"}
_MARGIN_KEYS = {"name", "exchange", "mode", "symbol", "liquidation_level", "margin_call_level", "warning_level",
                "assets"}
_ASSET_KEYS = {"asset", "total", "borrowed", "interest", "daily_rate"}
_FUTURES_ACCOUNT_KEYS = {"name", "exchange", "settle", "wallet_balance", "positions"}
_POSITION_KEYS = {
    "symbol", "side", "contracts", "entry_price", "margin_mode", "isolated_wallet", "leverage",
    "contract_size", "maint_margin_rate", "maint_amount", "brackets", "warning_distance", "danger_distance",
}
_BRACKET_KEYS = {"floor", "maint_margin_rate", "maint_amount"}


class PortfolioError(ValueError):
    """A portfolio file that cannot be used; `problems` holds one message per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Checker:
    def __init__(self, label: str) -> None:
        self.label = label
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        prefix = f"{self.label}: {where}: " if where else f"{self.label}: "
        self.problems.append(prefix + message)

    def unknown(self, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
        for key in sorted(set(table) - allowed):
            self.fail(where, f"unknown field {key!r} (allowed: {', '.join(sorted(allowed))})")

    def number(
        self,
        where: str,
        table: Mapping[str, Any],
        key: str,
        *,
        default: float | None = None,
        required: bool = False,
        check: Callable[[float], bool] | None = None,
        rule: str = "",
    ) -> float | None:
        if key not in table:
            if required:
                self.fail(where, f"{key} is required")
            return default
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, f"{key} must be a number, got {value!r}")
            return default
        value = float(value)
        if not math.isfinite(value):
            self.fail(where, f"{key} must be a finite number, got {value!r}")
            return default
        if check is not None and not check(value):
            self.fail(where, f"{key} must be {rule}, got {_fmt(value)}")
            return default
        return value

    def text(
        self,
        where: str,
        table: Mapping[str, Any],
        key: str,
        *,
        default: str | None = None,
        required: bool = False,
        choices: tuple[str, ...] = (),
    ) -> str | None:
        if key not in table:
            if required:
                self.fail(where, f"{key} is required")
            return default
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"{key} must be a non-empty string, got {value!r}")
            return default
        if choices and value not in choices:
            self.fail(where, f"{key} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
            return default
        return value

    def table_list(self, where: str, table: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(where, f"{key} must be a list of tables, got {value!r}")
            return []
        return value


def _fmt(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def load_portfolio(path: str | Path, brackets: BracketTable | None = None) -> Portfolio:
    """Read and validate a portfolio file; raises `PortfolioError` listing every problem."""
    path = Path(path)
    label = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PortfolioError([f"{label}: cannot read the file: {exc.strerror or exc}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PortfolioError([f"{label}: not UTF-8 text (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise PortfolioError([f"{label}: not valid TOML: {exc}"]) from None
    return parse_portfolio(data, label, brackets)


def parse_portfolio(
    data: Mapping[str, Any], label: str = "portfolio", brackets: BracketTable | None = None
) -> Portfolio:
    table = brackets or default_brackets()
    c = _Checker(label)
    c.unknown("", data, _TOP_KEYS)
    version = data.get("version")
    if version != FORMAT_VERSION:
        c.fail("", f"version must be {FORMAT_VERSION}, got {version!r}")
    quote = c.text("", data, "quote", default="USDT") or "USDT"
    stable_raw = data.get("stablecoins", list(_DEFAULT_STABLECOINS))
    if not isinstance(stable_raw, list) or not all(isinstance(s, str) and s for s in stable_raw):
        c.fail("", f"stablecoins must be a list of asset names, got {stable_raw!r}")
        stable_raw = list(_DEFAULT_STABLECOINS)
    prices = _price_table(c, data, "prices")
    volatility = _price_table(c, data, "volatility")

    names: set[str] = set()

    def unique(where: str, name: str | None) -> None:
        if name is None:
            return
        if name in names:
            c.fail(where, f"name must be unique in the file, got {name!r} twice")
        names.add(name)

    margin_accounts = []
    for i, account in enumerate(c.table_list("", data, "margin_account"), start=1):
        parsed = _margin_account(c, i, account)
        unique(f"margin_account {i}", parsed.name if parsed else None)
        if parsed:
            margin_accounts.append(parsed)
    futures_accounts = []
    for i, account in enumerate(c.table_list("", data, "futures_account"), start=1):
        parsed = _futures_account(c, i, account, table)
        unique(f"futures_account {i}", parsed.name if parsed else None)
        if parsed:
            futures_accounts.append(parsed)
    if c.problems:
        raise PortfolioError(c.problems)
    return Portfolio(
        quote=quote,
        stablecoins=frozenset(stable_raw),
        prices=prices,
        volatility=volatility,
        margin_accounts=tuple(margin_accounts),
        futures_accounts=tuple(futures_accounts),
    )


def _price_table(c: _Checker, data: Mapping[str, Any], key: str) -> dict[str, float]:
    raw = data.get(key, {})
    if not isinstance(raw, dict):
        c.fail("", f"[{key}] must be a table of name = number, got {raw!r}")
        return {}
    out: dict[str, float] = {}
    for name in raw:
        number = c.number(f"[{key}]", raw, name, check=lambda v: v > 0, rule="> 0")
        if number is not None:
            out[name] = number
    return out


def _margin_account(c: _Checker, index: int, t: Mapping[str, Any]) -> MarginAccount | None:
    name = c.text(f"margin_account {index}", t, "name", required=True)
    where = f'margin_account "{name}"' if name else f"margin_account {index}"
    before = len(c.problems)
    c.unknown(where, t, _MARGIN_KEYS)
    exchange = c.text(where, t, "exchange")
    mode = c.text(where, t, "mode", default="cross", choices=("cross", "isolated")) or "cross"
    symbol = c.text(where, t, "symbol", required=mode == "isolated")
    if symbol is not None and (symbol.count("/") != 1 or ":" in symbol):
        c.fail(where, f"symbol must be a spot pair like 'BTC/USDT', got {symbol!r}")
    liq = c.number(where, t, "liquidation_level", default=1.1, check=lambda v: v > 0, rule="> 0")
    call = c.number(where, t, "margin_call_level", default=1.3, check=lambda v: v > 0, rule="> 0")
    if liq is not None and call is not None and call <= liq:
        c.fail(where, f"margin_call_level must be > liquidation_level ({_fmt(liq)}), got {_fmt(call)}")
    warning = c.number(where, t, "warning_level", check=lambda v: v > 0, rule="> 0")
    if warning is not None and call is not None and warning <= call:
        c.fail(where, f"warning_level must be > margin_call_level ({_fmt(call)}), got {_fmt(warning)}")
    assets = []
    seen: set[str] = set()
    for j, a in enumerate(c.table_list(where, t, "assets"), start=1):
        aw = f"{where} asset {j}"
        c.unknown(aw, a, _ASSET_KEYS)
        asset = c.text(aw, a, "asset", required=True)
        if asset in seen:
            c.fail(aw, f"asset {asset!r} is listed twice")
        if asset:
            seen.add(asset)
        nonneg = {"check": lambda v: v >= 0, "rule": ">= 0"}
        total = c.number(aw, a, "total", required=True, **nonneg)
        borrowed = c.number(aw, a, "borrowed", default=0.0, **nonneg)
        interest = c.number(aw, a, "interest", default=0.0, **nonneg)
        rate = c.number(aw, a, "daily_rate", check=lambda v: 0 <= v < 1, rule="between 0 and 1")
        if asset and total is not None and borrowed is not None and interest is not None:
            assets.append(AssetBalance(asset, total, borrowed, interest, rate))
    if not t.get("assets"):
        c.fail(where, "assets must list at least one asset")
    if len(c.problems) > before or name is None:
        return None
    return MarginAccount(
        name=name,
        assets=tuple(assets),
        mode=mode,  # type: ignore[arg-type]
        exchange=exchange,
        symbol=symbol,
        liquidation_level=liq or 1.1,
        margin_call_level=call or 1.3,
        warning_level=warning,
    )


def _futures_account(
    c: _Checker, index: int, t: Mapping[str, Any], table: BracketTable
) -> FuturesAccount | None:
    name = c.text(f"futures_account {index}", t, "name", required=True)
    where = f'futures_account "{name}"' if name else f"futures_account {index}"
    before = len(c.problems)
    c.unknown(where, t, _FUTURES_ACCOUNT_KEYS)
    exchange = c.text(where, t, "exchange")
    settle = c.text(where, t, "settle", required=True)
    wallet = c.number(where, t, "wallet_balance", default=0.0, check=lambda v: v >= 0, rule=">= 0")
    positions = []
    for j, p in enumerate(c.table_list(where, t, "positions"), start=1):
        position = _position(c, f"{where} position {j}", p, settle, table)
        if position is not None:
            positions.append(position)
    if len(c.problems) > before or name is None or settle is None:
        return None
    return FuturesAccount(
        name=name, settle=settle, wallet_balance=wallet or 0.0, positions=tuple(positions), exchange=exchange
    )


def _position(
    c: _Checker, where: str, p: Mapping[str, Any], settle: str | None, table: BracketTable
) -> FuturesPosition | None:
    before = len(c.problems)
    c.unknown(where, p, _POSITION_KEYS)
    symbol = c.text(where, p, "symbol", required=True)
    if symbol is not None:
        if symbol.count("/") != 1 or symbol.count(":") != 1 or symbol.index("/") > symbol.index(":"):
            c.fail(where, f"symbol must be a ccxt perpetual symbol like 'BTC/USDT:USDT', got {symbol!r}")
            symbol = None
        elif settle is not None and symbol.split(":")[1] != settle:
            c.fail(where, f"symbol {symbol!r} settles in {symbol.split(':')[1]}, not the account's {settle!r}")
    side = c.text(where, p, "side", required=True, choices=("long", "short"))
    contracts = c.number(where, p, "contracts", required=True, check=lambda v: v > 0, rule="> 0")
    entry = c.number(where, p, "entry_price", required=True, check=lambda v: v > 0, rule="> 0")
    mode = c.text(where, p, "margin_mode", default="cross", choices=("isolated", "cross")) or "cross"
    iso = c.number(where, p, "isolated_wallet", required=mode == "isolated", check=lambda v: v >= 0, rule=">= 0")
    if mode == "cross" and "isolated_wallet" in p:
        c.fail(where, "isolated_wallet is only for margin_mode = 'isolated'")
    leverage = c.number(where, p, "leverage", check=lambda v: v >= 1, rule=">= 1")
    contract_size = c.number(where, p, "contract_size", default=1.0, check=lambda v: v > 0, rule="> 0")
    fraction = {"check": lambda v: 0 < v < 1, "rule": "a fraction between 0 and 1 (0.1 = 10 %)"}
    own_warning = c.number(where, p, "warning_distance", **fraction)
    own_danger = c.number(where, p, "danger_distance", **fraction)
    if own_warning is not None and own_danger is not None and own_danger > own_warning:
        c.fail(where, f"danger_distance must be <= warning_distance ({_fmt(own_warning)}), got {_fmt(own_danger)}")
    mmr = c.number(where, p, "maint_margin_rate", check=lambda v: 0 <= v < 1, rule="between 0 and 1")
    amount = c.number(where, p, "maint_amount", check=lambda v: v >= 0, rule=">= 0")
    brackets: tuple[Bracket, ...] | None = None
    if ("maint_margin_rate" in p) != ("maint_amount" in p):
        c.fail(where, "maint_margin_rate and maint_amount go together: give both or neither")
    elif "maint_margin_rate" in p and "brackets" in p:
        c.fail(where, "give either maint_margin_rate + maint_amount or brackets, not both")
    elif mmr is not None and amount is not None:
        brackets = (Bracket(0.0, mmr, amount),)
    elif "brackets" in p:
        brackets = _brackets(c, where, p)
    elif symbol is not None:
        inverse = symbol.split(":")[1] == symbol.split("/")[0]
        brackets = table.lookup(symbol, inverse)
        if brackets is None:
            c.fail(
                where,
                f"no bundled maintenance brackets for {symbol!r} (table of {table.date}): "
                "give maint_margin_rate and maint_amount, or brackets",
            )
    if len(c.problems) > before or None in (symbol, side, contracts, entry) or not brackets:
        return None
    return FuturesPosition(
        symbol=symbol,  # type: ignore[arg-type]
        side=side,  # type: ignore[arg-type]
        contracts=contracts,  # type: ignore[arg-type]
        entry_price=entry,  # type: ignore[arg-type]
        margin_mode=mode,  # type: ignore[arg-type]
        brackets=brackets,
        contract_size=contract_size or 1.0,
        isolated_wallet=iso,
        leverage=leverage,
        warning_distance=own_warning,
        danger_distance=own_danger,
    )


def _brackets(c: _Checker, where: str, p: Mapping[str, Any]) -> tuple[Bracket, ...] | None:
    rows = c.table_list(where, p, "brackets")
    out = []
    for k, b in enumerate(rows, start=1):
        bw = f"{where} bracket {k}"
        c.unknown(bw, b, _BRACKET_KEYS)
        floor = c.number(bw, b, "floor", required=True, check=lambda v: v >= 0, rule=">= 0")
        rate = c.number(bw, b, "maint_margin_rate", required=True, check=lambda v: 0 <= v < 1, rule="between 0 and 1")
        amount = c.number(bw, b, "maint_amount", default=0.0, check=lambda v: v >= 0, rule=">= 0")
        if floor is not None and rate is not None and amount is not None:
            out.append(Bracket(floor, rate, amount))
    if not out:
        c.fail(where, "brackets must list at least one bracket")
        return None
    if out[0].floor != 0:
        c.fail(where, f"the first bracket's floor must be 0, got {_fmt(out[0].floor)}")
    for k in range(1, len(out)):
        if out[k].floor <= out[k - 1].floor:
            c.fail(where, f"bracket {k + 1}: floor must be above bracket {k}'s ({_fmt(out[k - 1].floor)}), "
                          f"got {_fmt(out[k].floor)}")
    return tuple(out)
