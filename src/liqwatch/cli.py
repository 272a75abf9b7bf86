"""Terminal commands: `liqwatch check` (and the commands later issues add). No Qt is imported on this path.

Exit status follows the monitoring-plugin convention so cron and Nagios-style checks can use it:
2 if anything is in danger or liquidation, else 3 if anything is unknown or the input is unusable, else 1 if
anything is in warning, else 0. Usage errors exit 3 too.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from liqwatch.domain.alert_text import price_text
from liqwatch.domain.engine import evaluate_book
from liqwatch.domain.risk import BookRisk, FuturesRisk, MarginRisk, Risk, sort_by_risk
from liqwatch.domain.snapshot import FeedHealth
from liqwatch.domain.status import Status
from liqwatch.subcommands import SUBCOMMANDS

EXIT_OK, EXIT_WARNING, EXIT_CRITICAL, EXIT_UNKNOWN = 0, 1, 2, 3
__all__ = ["SUBCOMMANDS", "main"]  # SUBCOMMANDS: re-exported; it lives apart so the window's start need not import this


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 3 (UNKNOWN), not argparse's 2, which would read as CRITICAL to a monitoring system."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_UNKNOWN, f"{self.prog}: error: {message}\n")


def exit_status(risk: BookRisk, unusable: bool = False) -> int:
    statuses = {r.status for r in risk}
    if statuses & {Status.DANGER, Status.LIQUIDATION}:
        return EXIT_CRITICAL
    if unusable or Status.UNKNOWN in statuses:
        return EXIT_UNKNOWN
    if Status.WARNING in statuses:
        return EXIT_WARNING
    return EXIT_OK


def _named_number(text: str, what: str, placeholder: str) -> tuple[str, str, float]:
    """NAME=NUMBER → (name, raw value, number); messages name the flag's meaning and the value given."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected {placeholder}, got {text!r}")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} of {name!r} must be a number, got {value!r}") from None
    return name.strip(), value, number


def _price_arg(text: str) -> tuple[str, float]:
    name, value, price = _named_number(text, "price", "NAME=VALUE")
    if not math.isfinite(price) or price <= 0:
        raise argparse.ArgumentTypeError(f"price of {name!r} must be > 0, got {value!r}")
    return name, price


def _funding_arg(text: str) -> tuple[str, float]:
    """SYMBOL=RATE: a funding rate per interval as a fraction (0.0001 = 0.01 %), may be negative or 0."""
    name, value, rate = _named_number(text, "funding rate", "SYMBOL=RATE")
    if not math.isfinite(rate) or abs(rate) >= 1:
        raise argparse.ArgumentTypeError(
            f"funding rate of {name!r} must be a fraction per interval between -1 and 1, got {value!r}")
    return name, rate


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="liqwatch", description="LiqWatch terminal commands.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = sub.add_parser("check", help="print the whole book's risk once and exit with a monitoring status")
    check.add_argument("portfolio", help="portfolio file (TOML, format version 1)")
    check.add_argument("--price", action="append", default=[], type=_price_arg, metavar="NAME=VALUE",
                       help="price of an asset or ccxt symbol in the quote currency (repeatable)")
    check.add_argument("--format", choices=("table", "json", "csv"), default="table")
    check.add_argument("--prices-from", metavar="SOURCE",
                       help="'demo' (simulated) or a ccxt exchange id to fetch live prices from")
    check.add_argument("--config", metavar="FILE", help="settings file (TOML)")
    check.add_argument("--funding-rate", action="append", default=[], type=_funding_arg, metavar="SYMBOL=RATE",
                       help="funding rate per interval of a perpetual (0.0001 = 0.01 %%; 8 h interval assumed); "
                            "overrides a fetched rate (repeatable)")
    check.set_defaults(func=run_check)
    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Any]:
    """Subcommands contributed by other modules (export, watch), each a `register(subparsers)` function."""
    registers = []
    for module_name in ("liqwatch.cli_export", "liqwatch.cli_watch"):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        registers.append(module.register)
    return registers


def load_settings_arg(path: str | None) -> Any:
    """Settings from --config (or defaults); an invalid file is a usage problem reported on stderr."""
    from liqwatch.store.settings import Settings, SettingsError, load_settings

    if path is None:
        return Settings()
    try:
        return load_settings(path)
    except SettingsError as exc:
        raise _InputError(exc.problems) from None


class _InputError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def run_check(args: argparse.Namespace) -> int:
    from liqwatch.store.portfolio import PortfolioError, load_portfolio

    now = time.time()
    try:
        settings = load_settings_arg(args.config)
        portfolio = load_portfolio(args.portfolio)
    except (PortfolioError, _InputError) as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_UNKNOWN

    prices: dict[str, float] = dict(portfolio.prices)
    kinds: dict[str, str] = {key: "fixed" for key in prices}
    health: list[FeedHealth] = []
    if args.prices_from:
        from liqwatch.sources.oneshot import PriceFetchError, fetch_prices

        try:
            quotes, health = fetch_prices(portfolio, args.prices_from, settings)
        except PriceFetchError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_UNKNOWN
        for key, quote in quotes.items():
            prices[key] = quote.price
            kinds[key] = quote.kind
    for name, price in args.price:
        prices[name] = price
        kinds[name] = "fixed"

    from liqwatch.domain.carry import apply_leverage_warnings, borrow_costs
    from liqwatch.domain.funding import funding_figures, with_funding
    from liqwatch.sources.funding import check_funding

    funding, funding_health = check_funding(portfolio, args.prices_from, settings, args.funding_rate, now)
    health = [*health, *funding_health]
    risk = evaluate_book(portfolio, prices, settings.thresholds, portfolio.volatility or None)
    risk = with_funding(risk, funding_figures(risk, funding, now, portfolio))
    risk = apply_leverage_warnings(risk, settings.alerts.leverage_warn_above)
    if args.format == "json":
        print(json.dumps(check_json(risk, portfolio.quote, now, health, borrow_costs(portfolio, prices)),
                         ensure_ascii=False, indent=2))
    elif args.format == "csv":
        from liqwatch.store.csv_export import iter_rows, write_rows

        write_rows(sys.stdout, (
            row | {"price_kind": _price_kind(r, kinds)}
            for r, row in zip(risk, iter_rows(risk, now), strict=True)
        ))
    else:
        print(check_table(risk, portfolio.quote))
        for h in health:
            if h.state != "ok":
                print(f"feed {h.source}: {h.state} {h.message}", file=sys.stderr)
    return exit_status(risk)


def _price_kind(risk: Risk, kinds: dict[str, str]) -> str:
    if isinstance(risk, FuturesRisk):
        return kinds.get(risk.symbol) or kinds.get(risk.symbol.split("/", 1)[0], "")
    return ""


def _num(value: float | None) -> float | None:
    """JSON has no infinity or NaN: a figure that does not exist is null."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return value


def margin_json(r: MarginRisk, borrow: Sequence[Any] = ()) -> dict[str, Any]:
    return {
        "name": r.name,
        "exchange": r.exchange,
        "mode": r.mode,
        "symbol": r.symbol,
        "margin_level": _num(r.margin_level),
        "liquidation_level": r.liquidation_level,
        "margin_call_level": r.margin_call_level,
        "status": r.status.value,
        "shock_to_liquidation": _num(r.shock_to_liquidation),
        "liquidation_prices": {k: _num(v) for k, v in r.liquidation_prices.items()},
        "hours_to_liquidation": _num(r.hours_to_liquidation),
        "hours_to_margin_call": _num(r.hours_to_margin_call),
        "interest_per_day": _num(r.interest_per_day),
        "effective_leverage": _num(r.effective_leverage),
        "asset_value": _num(r.asset_value),
        "liability_value": _num(r.liability_value),
        "touch_probability_24h": _num(r.touch_probability),
        "missing_prices": list(r.missing_prices),
        "interest_per_hour": _num(r.interest_per_day / 24.0) if r.interest_per_day is not None else None,
        "borrow_costs": [
            {"asset": b.asset, "borrowed": b.borrowed, "daily_rate": b.daily_rate, "hourly_rate": b.hourly_rate,
             "rate_source": b.rate_source, "interest_per_hour": b.interest_per_hour,
             "interest_per_hour_quote": b.interest_per_hour_quote, "interest_per_day_quote": b.interest_per_day_quote}
            for b in borrow
        ],
    }


def futures_json(r: FuturesRisk) -> dict[str, Any]:
    return {
        "account": r.account,
        "exchange": r.exchange,
        "symbol": r.symbol,
        "side": r.side,
        "margin_mode": r.margin_mode,
        "mark_price": _num(r.mark_price),
        "liquidation_price": _num(r.liquidation_price),
        "distance": _num(r.distance),
        "margin_ratio": _num(r.margin_ratio),
        "maint_margin": _num(r.maint_margin),
        "unrealized_pnl": _num(r.unrealized_pnl),
        "status": r.status.value,
        "settle": r.settle,
        "inverse": r.inverse,
        "contracts": r.contracts,
        "size": r.size,
        "entry_price": r.entry_price,
        "leverage": r.leverage,
        "effective_leverage": _num(r.effective_leverage),
        "unrealized_pnl_quote": _num(r.unrealized_pnl_quote),
        "maint_margin_rate": _num(r.maint_margin_rate),
        "maint_amount": _num(r.maint_amount),
        "touch_probability_24h": _num(r.touch_probability),
        "missing_prices": list(r.missing_prices),
        **funding_json(r),
    }


def funding_json(r: FuturesRisk) -> dict[str, Any]:
    """Funding fields (`liqwatch.domain.funding.FundedFuturesRisk`); null when unknown, never a stand-in 0."""
    from liqwatch.store.csv_export import iso_utc

    def get(name: str) -> Any:
        return getattr(r, name, None)

    after = get("liquidation_price_after_funding")
    next_time = get("next_funding_time")
    return {
        "funding_rate": _num(get("funding_rate")),
        "funding_interval_hours": _num(get("funding_interval_hours")),
        "funding_interval_assumed": bool(get("funding_interval_assumed")),
        "next_funding_time": iso_utc(next_time) if next_time is not None else None,
        "next_funding_payment": _num(get("next_funding_payment")),
        "next_funding_payment_quote": _num(get("next_funding_payment_quote")),
        "funding_per_day": _num(get("funding_per_day")),
        "funding_per_day_quote": _num(get("funding_per_day_quote")),
        "account_funding_per_day": _num(get("account_funding_per_day")),
        "liquidation_price_after_funding": (
            {str(k): _num(v) for k, v in after.items()} if after is not None else None
        ),
        "hours_to_liquidation_by_funding": _num(get("hours_to_liquidation_by_funding")),
        "payments_to_liquidation_by_funding": get("payments_to_liquidation_by_funding"),
        "funding_source": get("funding_source") or None,
        "funding_stale": bool(get("funding_stale")),
    }


def check_json(risk: BookRisk, quote: str, now: float, health: Sequence[FeedHealth] = (),
               borrow: Mapping[str, Sequence[Any]] | None = None) -> dict[str, Any]:
    from liqwatch.store.csv_export import iso_utc

    return {
        "quote": quote,
        "time": iso_utc(now),
        "worst_status": risk.worst_status.value,
        "margin_accounts": [margin_json(r, (borrow or {}).get(r.key, ())) for r in risk.margin],
        "futures_positions": [futures_json(r) for r in risk.futures],
        "feeds": [
            {"source": h.source, "state": h.state, "message": h.message} for h in health
        ],
    }


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.2f}%" if signed else f"{value * 100:.2f}%"


def _level(value: float | None) -> str:
    if value is None:
        return "—"
    return "∞" if math.isinf(value) else f"{value:.4f}"


def _money(value: float | None) -> str:
    """An amount in the quote currency: cents, thousands separators."""
    return "—" if value is None else f"{value:,.2f}"


def _lev(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.2f}×"


def _funding_rate(r: FuturesRisk) -> str:
    rate, hours = getattr(r, "funding_rate", None), getattr(r, "funding_interval_hours", None)
    if rate is None:
        return "—"
    return f"{rate * 100:+.4f}%/{hours:g}h" if hours else f"{rate * 100:+.4f}%"


def check_table(risk: BookRisk, quote: str) -> str:
    """A readable table sorted by risk (riskiest first), percentages in percent."""
    header = ("STATUS", "KIND", "ACCOUNT", "SYMBOL", "SIDE", "PRICE", "LIQ PRICE", "DISTANCE", "LEVEL/RATIO",
              f"uPnL ({quote})", "EFF LEV", "FUNDING", f"CARRY/DAY ({quote})")
    rows: list[tuple[str, ...]] = []
    for r in sort_by_risk(risk):
        if isinstance(r, MarginRisk):
            liq = ", ".join(f"{a} {price_text(p)}" for a, p in r.liquidation_prices.items()) or "—"
            rows.append((r.status.value.upper(), f"margin/{r.mode}", r.name, r.symbol or "", "",
                         "", liq, _pct(r.shock_to_liquidation, signed=True), f"ML {_level(r.margin_level)}", "",
                         _lev(r.effective_leverage), "", price_text(r.interest_per_day)))
        else:
            rows.append((r.status.value.upper(), f"futures/{r.margin_mode}", r.account, r.symbol, r.side,
                         price_text(r.mark_price), price_text(r.liquidation_price), _pct(r.distance),
                         f"MR {_pct(r.margin_ratio)}", _money(r.unrealized_pnl_quote), _lev(r.effective_leverage),
                         _funding_rate(r), price_text(getattr(r, "funding_per_day_quote", None))))
    right = {5, 6, 7, 8, 9, 10, 11, 12}
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append(f"Worst: {risk.worst_status.value}. DISTANCE: futures |mark − liq| / mark; margin accounts: the "
                 "move of every non-pegged asset that reaches the liquidation level.")
    lines.append("EFF LEV: notional / margin balance (futures), assets / equity (margin). FUNDING: rate per interval. "
                 "CARRY/DAY: funding (+ = paid) or borrow interest per day at current rates; — = unknown.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return EXIT_UNKNOWN
    except BrokenPipeError:
        return EXIT_UNKNOWN


if __name__ == "__main__":
    sys.exit(main())
