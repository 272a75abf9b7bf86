"""The stored book: round trips exactly, saves are all-or-nothing, the import cache is kept apart from manual items."""

from __future__ import annotations

import dataclasses
import math

import pytest

from liqwatch.domain.model import ExchangeFigures, FuturesAccount, MarginAccount, Portfolio
from liqwatch.store.db import open_database
from liqwatch.store.positions_repo import PositionsRepository
from tests.store.factories import example_portfolio


def _imported(portfolio: Portfolio) -> tuple[MarginAccount, FuturesAccount]:
    margin = dataclasses.replace(
        portfolio.margin_accounts[0], name="API cross", source="imported",
        exchange_figures=ExchangeFigures(margin_level=math.inf, liquidation_level=1.1),
    )
    futures_account = portfolio.futures_accounts[0]
    position = dataclasses.replace(futures_account.positions[0],
                                   exchange_figures=ExchangeFigures(liquidation_price=51234.5, mark_price=60001.25))
    futures = dataclasses.replace(futures_account, name="API USDⓈ-M", source="imported", positions=(position,))
    return margin, futures


@pytest.fixture
def repo():
    conn = open_database()
    yield PositionsRepository(conn)
    conn.close()


def test_empty_store_loads_none(repo: PositionsRepository) -> None:
    assert repo.load_portfolio() is None


def test_whole_book_round_trips_exactly(repo: PositionsRepository) -> None:
    base = example_portfolio()
    margin, futures = _imported(base)
    book = dataclasses.replace(base, margin_accounts=(*base.margin_accounts, margin),
                               futures_accounts=(*base.futures_accounts, futures))
    repo.save_portfolio(book)
    loaded = repo.load_portfolio()
    assert loaded == book  # every account, asset, position, bracket, exchange figure (inf included), price
    assert loaded.futures_accounts[-1].positions[0].exchange_figures.liquidation_price == 51234.5


def test_save_manual_keeps_the_import_cache(repo: PositionsRepository) -> None:
    base = example_portfolio()
    margin, futures = _imported(base)
    repo.save_portfolio(base)
    repo.save_imported([margin], [futures], now=100.0)
    edited = dataclasses.replace(base, margin_accounts=base.margin_accounts[:1])  # the trader deleted one
    repo.save_manual(edited)
    loaded = repo.load_portfolio()
    assert [a.name for a in loaded.margin_accounts] == ["Binance cross", "API cross"]
    assert [a.name for a in loaded.futures_accounts] == [a.name for a in base.futures_accounts] + ["API USDⓈ-M"]
    cache = repo.load_imported()
    assert cache.margin_accounts == (margin,) and cache.futures_accounts == (futures,)
    assert cache.saved_time == 100.0


def test_save_imported_replaces_only_that_exchange(repo: PositionsRepository) -> None:
    base = example_portfolio()
    margin, futures = _imported(base)
    other = dataclasses.replace(margin, name="OKX cross", exchange="okx")
    repo.save_imported([margin, other], [futures])
    repo.save_imported([], [], exchange="binance")
    cache = repo.load_imported()
    assert [a.name for a in cache.margin_accounts] == ["OKX cross"]
    assert cache.futures_accounts == ()


def test_a_failing_save_leaves_the_previous_book(repo: PositionsRepository) -> None:
    base = example_portfolio()
    repo.save_portfolio(base)
    bad_account = dataclasses.replace(base.futures_accounts[0], wallet_balance=math.nan)  # JSON refuses NaN
    broken = dataclasses.replace(base, margin_accounts=(), futures_accounts=(bad_account,))
    with pytest.raises(ValueError):
        repo.save_portfolio(broken)
    assert repo.load_portfolio() == base
    with pytest.raises(ValueError, match="source must be 'imported'"):
        repo.save_imported([base.margin_accounts[0]], [])  # a manual account is not an import
    assert repo.load_portfolio() == base


def test_book_survives_reopening(tmp_path) -> None:
    path = tmp_path / "book.sqlite3"
    conn = open_database(path)
    PositionsRepository(conn).save_portfolio(example_portfolio())
    conn.close()
    conn = open_database(path)
    assert PositionsRepository(conn).load_portfolio() == example_portfolio()
    conn.close()
