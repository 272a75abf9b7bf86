"""`fast_frozen_init` keeps every behaviour of the dataclass `__init__` it replaces."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from liqwatch.domain.fast_init import fast_frozen_init
from liqwatch.domain.risk import FuturesRisk, MarginRisk
from liqwatch.domain.status import Status


@dataclass(frozen=True, slots=True)
class Plain:
    a: int
    b: str
    c: float | None = None
    d: dict[str, float] = field(default_factory=dict)
    e: tuple[str, ...] = ()


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class Fast:
    a: int
    b: str
    c: float | None = None
    d: dict[str, float] = field(default_factory=dict)
    e: tuple[str, ...] = ()


def _fields(obj: object) -> dict[str, object]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


@pytest.mark.parametrize(("args", "kwargs"), [
    ((1, "x"), {}),
    ((1,), {"b": "y", "c": 2.5}),
    ((), {"a": 3, "b": "z", "d": {"BTC": 1.0}, "e": ("ETH",)}),
    ((4, "w", None, {"X": 2.0}, ("a", "b")), {}),
])
def test_same_fields_as_the_generated_init(args: tuple, kwargs: dict) -> None:
    assert _fields(Fast(*args, **kwargs)) == _fields(Plain(*args, **kwargs))


def test_default_factory_gives_each_instance_its_own_value() -> None:
    one, two = Fast(1, "x"), Fast(2, "y")
    assert one.d == {} and one.d is not two.d


def test_still_frozen_and_comparable() -> None:
    obj = Fast(1, "x", e=("a",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        obj.a = 2  # type: ignore[misc]
    assert obj == Fast(1, "x", e=("a",)) and obj != Fast(1, "y", e=("a",))


def test_bad_calls_fail_like_the_generated_init() -> None:
    with pytest.raises(TypeError):
        Fast(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Fast(1, "x", nope=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Fast(1, "x", a=2)  # type: ignore[misc]


def test_rejects_classes_it_cannot_speed_up() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    with pytest.raises(TypeError):
        fast_frozen_init(NoSlots)


def test_risk_records_use_it() -> None:
    risk = MarginRisk(key="k", name="n", exchange=None, mode="cross", symbol=None, liquidation_level=1.1,
                      margin_call_level=1.5, status=Status.OK, asset_value=10.0, liability_value=1.0,
                      margin_level=10.0, shock_to_liquidation=-0.89)
    assert risk.liquidation_prices == {} and risk.missing_prices == () and risk.distance == pytest.approx(0.89)
    assert MarginRisk.__init__.__qualname__ == "MarginRisk.__init__"
    assert FuturesRisk.__init__.__qualname__ == "FuturesRisk.__init__"
    assert any(n.startswith("_set_") for n in FuturesRisk.__init__.__code__.co_names)


def test_a_subclass_sets_inherited_and_own_slots() -> None:
    @fast_frozen_init
    @dataclass(frozen=True, slots=True)
    class More(Fast):
        f: float | None = None

    obj = More(1, "x", f=2.0)
    assert (obj.a, obj.b, obj.d, obj.f) == (1, "x", {}, 2.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        obj.f = 3.0  # type: ignore[misc]
