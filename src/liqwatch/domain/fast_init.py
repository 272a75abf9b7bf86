"""A faster `__init__` for the frozen, slotted dataclasses built once per row per poll (`MarginRisk`, `FuturesRisk`).

A frozen dataclass's generated `__init__` stores each field through `object.__setattr__`, about 0.3 µs a field: a
30-field `FuturesRisk` cost 9 µs, and 2,000 of them per poll were most of the poller thread's Python time, which the
GUI thread then waits for on the GIL. The replacement stores each field through its slot descriptor's `__set__`
(the same thing `object.__setattr__` ends up doing, without the generic lookup), with the same signature, defaults
and default factories. Instances stay frozen: only `__init__` is replaced, never `__setattr__`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def fast_frozen_init(cls: type[T]) -> type[T]:
    """Replace the dataclass `cls`'s `__init__` by one with the same parameters that sets slots directly."""
    if not dataclasses.is_dataclass(cls) or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} must be a slotted dataclass")
    namespace: dict[str, Any] = {"_new_missing": dataclasses.MISSING}
    params: list[str] = []
    body: list[str] = []
    for f in dataclasses.fields(cls):
        if not f.init:
            raise TypeError(f"{cls.__name__}.{f.name}: init=False fields are not supported")
        namespace[f"_set_{f.name}"] = _slot(cls, f.name).__set__
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
            body.append(f"    _set_{f.name}(self, {f.name})")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_new_missing")
            body.append(f"    _set_{f.name}(self, _factory_{f.name}() if {f.name} is _new_missing else {f.name})")
        else:
            if any("=" in p for p in params):
                raise TypeError(f"{cls.__name__}.{f.name}: a field without a default after one with a default")
            params.append(f.name)
            body.append(f"    _set_{f.name}(self, {f.name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(source, namespace)  # the code is generated from the dataclass's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[misc]
    return cls


def _slot(cls: type, name: str) -> Any:
    """The slot descriptor of `name`: the class's own, or an inherited one (a subclass adds only its new slots)."""
    for klass in cls.__mro__:
        descriptor = klass.__dict__.get(name)
        if descriptor is not None and hasattr(descriptor, "__set__"):
            return descriptor
    raise TypeError(f"{cls.__name__}.{name} is not a slot")
