"""The portfolio file: the bundled example loads; every bad field is reported with file, account, field, value."""

from __future__ import annotations

from pathlib import Path

import pytest

from liqwatch.domain.model import Bracket
from liqwatch.resources import resource_path
from liqwatch.store.portfolio import PortfolioError, load_portfolio, parse_portfolio

GOOD_POSITION = {
    "symbol": "BTC/USDT:USDT", "side": "long", "contracts": 0.5, "entry_price": 60000,
    "margin_mode": "isolated", "isolated_wallet": 3000,
}


def futures_file(**position: object) -> dict:
    return {
        "version": 1,
        "futures_account": [{
            "name": "Binance USDⓈ-M", "settle": "USDT", "wallet_balance": 100,
            "positions": [GOOD_POSITION, {**GOOD_POSITION, **position}],
        }],
    }


def problems_of(data: dict) -> list[str]:
    with pytest.raises(PortfolioError) as info:
        parse_portfolio(data, "portfolio.toml")
    return info.value.problems


def test_bundled_example_loads_with_every_kind_of_item() -> None:
    portfolio = load_portfolio(resource_path("examples", "portfolio.toml"))
    assert [a.name for a in portfolio.margin_accounts] == ["Binance cross", "ETH isolated"]
    kinds = {(p.inverse, p.margin_mode) for a in portfolio.futures_accounts for p in a.positions}
    assert kinds == {(False, "isolated"), (False, "cross"), (True, "cross")}
    eth = portfolio.futures_accounts[0].positions[1]
    assert eth.brackets == (Bracket(0.0, 0.005, 50.0),)  # given rate + amount used as they are
    btc = portfolio.futures_accounts[0].positions[0]
    assert btc.brackets[1] == Bracket(50000.0, 0.005, 50.0)  # bundled default table


def test_message_names_file_account_position_field_and_value() -> None:
    assert problems_of(futures_file(contracts=-3)) == [
        'portfolio.toml: futures_account "Binance USDⓈ-M" position 2: contracts must be > 0, got -3'
    ]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"side": "up"}, "side must be one of 'long', 'short', got 'up'"),
        ({"entry_price": "60k"}, "entry_price must be a number, got '60k'"),
        ({"margin_mode": "isolated", "isolated_wallet": -1}, "isolated_wallet must be >= 0, got -1"),
        ({"symbol": "BTCUSDT"}, "symbol must be a ccxt perpetual symbol"),
        ({"symbol": "BTC/USD:BTC"}, "settles in BTC, not the account's 'USDT'"),
        ({"maint_margin_rate": 0.01}, "maint_margin_rate and maint_amount go together"),
        ({"symbol": "ZZZ/USDT:USDT"}, "no bundled maintenance brackets for 'ZZZ/USDT:USDT'"),
        ({"contrakts": 1}, "unknown field 'contrakts'"),
        ({"brackets": [{"floor": 10, "maint_margin_rate": 0.01}]}, "the first bracket's floor must be 0, got 10"),
    ],
)
def test_each_bad_position_field_is_named(change: dict, fragment: str) -> None:
    problems = problems_of(futures_file(**change))
    assert len(problems) == 1, problems
    assert problems[0].startswith('portfolio.toml: futures_account "Binance USDⓈ-M" position 2')
    assert fragment in problems[0]


def test_margin_account_problems_are_all_reported_at_once() -> None:
    data = {
        "version": 1,
        "margin_account": [{
            "name": "x", "mode": "isolated", "liquidation_level": 1.3, "margin_call_level": 1.2,
            "assets": [{"asset": "BTC", "total": -1}, {"asset": "USDT", "total": 1, "borowed": 5}],
        }],
    }
    problems = problems_of(data)
    assert 'portfolio.toml: margin_account "x": symbol is required' in problems
    assert any("margin_call_level must be > liquidation_level (1.3), got 1.2" in p for p in problems)
    assert any('margin_account "x" asset 1: total must be >= 0, got -1' in p for p in problems)
    assert any("unknown field 'borowed'" in p for p in problems)


def test_duplicate_names_and_wrong_version() -> None:
    data = {"version": 2, "margin_account": [
        {"name": "a", "assets": [{"asset": "USDT", "total": 1}]},
        {"name": "a", "assets": [{"asset": "USDT", "total": 1}]},
    ]}
    problems = problems_of(data)
    assert "portfolio.toml: version must be 1, got 2" in problems
    assert any("name must be unique in the file, got 'a' twice" in p for p in problems)


def test_unreadable_and_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(PortfolioError, match="cannot read the file"):
        load_portfolio(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("version = 1\n[[margin_account]\n", encoding="utf-8")
    with pytest.raises(PortfolioError, match="not valid TOML"):
        load_portfolio(bad)


def test_per_position_thresholds_are_read_and_checked() -> None:
    portfolio = parse_portfolio(futures_file(warning_distance=0.2, danger_distance=0.1), "portfolio.toml")
    position = portfolio.futures_accounts[0].positions[1]
    assert (position.warning_distance, position.danger_distance) == (0.2, 0.1)
    problems = problems_of(futures_file(warning_distance=0.1, danger_distance=0.2))
    assert problems == ['portfolio.toml: futures_account "Binance USDⓈ-M" position 2: danger_distance must be '
                        "<= warning_distance (0.1), got 0.2"]
    assert "warning_distance must be a fraction" in problems_of(futures_file(warning_distance=10))[0]
