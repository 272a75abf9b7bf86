"""Source tests talk to the fake Binance on 127.0.0.1 (tests/fakes/fake_binance.py)."""

from tests.fakes.fake_binance import fake_binance  # noqa: F401  (fixture)
