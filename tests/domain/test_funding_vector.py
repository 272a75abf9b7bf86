"""The array funding path (`funded_book`, used by the poller) gives the records of the reference path
(`with_funding(risk, funding_figures(...))`) for any book, rates and time."""

from __future__ import annotations

import math

from benchmarks.book_factory import make_book
from hypothesis import given, settings
from hypothesis import strategies as st

from liqwatch.domain.funding import FundedFuturesRisk, FundingInfo, funding_figures, with_funding
from liqwatch.domain.funding_vector import funded_book
from liqwatch.domain.vectorised import CompiledBook
from tests.domain.test_properties import SYMBOLS, books

NOW = 1_700_000_000.0


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isinf(a) or math.isinf(b) or math.isnan(a) or math.isnan(b):
            return a == b or (math.isnan(a) and math.isnan(b))
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _same_records(reference: tuple, vector: tuple) -> None:
    assert len(reference) == len(vector)
    for s, v in zip(reference, vector, strict=True):
        assert isinstance(v, FundedFuturesRisk)
        for name in FundedFuturesRisk.__dataclass_fields__:
            assert _close(getattr(s, name), getattr(v, name)), (name, getattr(s, name), getattr(v, name), s.key)


infos = st.builds(
    FundingInfo,
    symbol=st.just(""),
    rate=st.one_of(st.none(), st.just(math.nan), st.just(0.0), st.floats(-0.01, 0.01)),
    interval_hours=st.one_of(st.sampled_from([8.0, 4.0, 1.0]), st.sampled_from([0.0, -1.0, math.nan])),
    next_time=st.one_of(st.none(), st.floats(NOW - 90_000, NOW + 90_000)),
    source=st.sampled_from(["binance", "sim", ""]),
    mark=st.none(),
    interval_assumed=st.booleans(),
    received_time=st.one_of(st.none(), st.floats(NOW - 200_000, NOW)),
)


@settings(max_examples=300, deadline=None)
@given(books(), st.dictionaries(st.sampled_from([s for s, _ in SYMBOLS]), infos),
       st.one_of(st.none(), st.floats(60, 100_000)))
def test_funded_book_matches_the_reference_path(case: tuple, funding: dict, max_age: float | None) -> None:
    portfolio, price_map, vols = case
    arrays = CompiledBook(portfolio).evaluate(price_map, volatilities=vols)
    risk = arrays.to_risk()
    reference = with_funding(risk, funding_figures(risk, funding, NOW, portfolio, max_age=max_age))
    vector = funded_book(arrays, risk, funding, NOW, max_age=max_age)
    assert vector.margin == risk.margin
    _same_records(reference.futures, vector.futures)


def test_a_big_mixed_book_with_every_symbol_paying() -> None:
    """The benchmark's book: isolated and cross, linear and inverse, positive and negative rates."""
    portfolio, prices = make_book(600)
    symbols = sorted({p.symbol for a in portfolio.futures_accounts for p in a.positions})
    funding = {s: FundingInfo(s, 0.0003 * (1 if i % 2 else -1) * (i + 1), 8.0, NOW + 3600, "sim",
                              received_time=NOW - 10) for i, s in enumerate(symbols)}
    arrays = CompiledBook(portfolio).evaluate(prices)
    risk = arrays.to_risk()
    reference = with_funding(risk, funding_figures(risk, funding, NOW, portfolio, max_age=300.0))
    vector = funded_book(arrays, risk, funding, NOW, max_age=300.0)
    _same_records(reference.futures, vector.futures)
    isolated = [r for r in vector.futures if r.margin_mode == "isolated"]
    assert any(r.liquidation_price_after_funding and r.liquidation_price_after_funding[9] is not None
               for r in isolated)
    assert any(r.account_funding_per_day is not None for r in vector.futures if r.margin_mode == "cross")
