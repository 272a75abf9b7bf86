"""A small TOML writer for the files LiqWatch writes itself (settings, exported portfolios).

tomllib only reads; the files we write hold tables, arrays of tables, strings, numbers, booleans and inline
lists/tables, which this module covers. Round-tripping through tomllib is tested.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def _key(name: str) -> str:
    return name if name and all(ch.isalnum() or ch in "-_" for ch in name) else json.dumps(name, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list | tuple) and bool(value) and all(isinstance(v, Mapping) for v in value)


def dumps(data: Mapping[str, Any]) -> str:
    """Serialise a mapping: scalars first, then sub-tables as `[a.b]`, arrays of tables as `[[a]]`."""
    lines: list[str] = []
    _emit(data, [], lines)
    return "\n".join(lines).strip() + "\n"


def _emit(table: Mapping[str, Any], path: list[str], lines: list[str]) -> None:
    for key, value in table.items():
        if value is None or isinstance(value, Mapping) or _is_table_array(value):
            continue
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in table.items():
        if isinstance(value, Mapping):
            sub = [*path, _key(key)]
            has_scalars = any(not isinstance(v, Mapping) and not _is_table_array(v) for v in value.values())
            if has_scalars or not value:
                lines.append("")
                lines.append(f"[{'.'.join(sub)}]")
            _emit(value, sub, lines)
        elif _is_table_array(value):
            sub = [*path, _key(key)]
            for item in value:
                lines.append("")
                lines.append(f"[[{'.'.join(sub)}]]")
                _emit(item, sub, lines)
