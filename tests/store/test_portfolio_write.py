"""portfolio_to_dict is the inverse of parse_portfolio: export and re-import gives the same book."""

from __future__ import annotations

import tomllib

from liqwatch.resources import resource_path
from liqwatch.store.portfolio import load_portfolio, parse_portfolio
from liqwatch.store.portfolio_write import portfolio_to_dict, portfolio_to_toml


def test_round_trip_of_the_example_and_demo_portfolios(tmp_path) -> None:
    for path in (resource_path("examples", "portfolio.toml"), resource_path("demo", "portfolio.toml")):
        if not path.exists():
            continue
        portfolio = load_portfolio(path)
        assert parse_portfolio(portfolio_to_dict(portfolio)) == portfolio
        out = tmp_path / "out.toml"
        out.write_text(portfolio_to_toml(portfolio), encoding="utf-8")
        assert load_portfolio(out) == portfolio
        assert tomllib.loads(out.read_text(encoding="utf-8"))["version"] == 1
