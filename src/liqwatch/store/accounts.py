"""Exchange account records (no secrets): which exchange, a label, testnet or not, and what to import.

Kept in `accounts.toml` in the config folder, written whole-or-nothing. The API key and secret live only in the
OS keyring under the record's `id` (`liqwatch.store.secrets`); this file never holds them, so it can be backed up
or shared in a bug report.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liqwatch.store.paths import config_dir
from liqwatch.store.settings import SECRET_CCXT_KEYS, write_atomically
from liqwatch.store.toml_write import dumps

FORMAT_VERSION = 1
# What can be imported. Binance knows all four; other exchanges use "futures" (ccxt's unified positions).
KINDS = ("cross_margin", "isolated_margin", "usdm", "coinm", "futures")
BINANCE_KINDS = ("cross_margin", "isolated_margin", "usdm", "coinm")
GENERIC_KINDS = ("futures",)
_KEYS = {"id", "exchange", "label", "testnet", "kinds", "enabled"}
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class ExchangeAccount:
    id: str
    exchange: str
    label: str
    testnet: bool = False
    kinds: tuple[str, ...] = BINANCE_KINDS
    enabled: bool = True


def default_kinds(exchange: str) -> tuple[str, ...]:
    return BINANCE_KINDS if exchange == "binance" else GENERIC_KINDS


def new_account_id() -> str:
    return uuid.uuid4().hex[:16]


def accounts_file() -> Path:
    return config_dir() / "accounts.toml"


class AccountsError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def account_problems(account: ExchangeAccount, where: str = "account") -> list[str]:
    """Validation shared by the file loader and the dialog: one message per bad field, naming the value."""
    problems = []
    if not _ID.match(account.id):
        problems.append(f"{where}: id must be 1-64 letters, digits, '-' or '_', got {account.id!r}")
    if not account.exchange or not re.match(r"^[a-z0-9]+$", account.exchange):
        problems.append(f"{where}: exchange must be a ccxt exchange id, got {account.exchange!r}")
    if not account.label.strip():
        problems.append(f"{where}: label must not be empty, got {account.label!r}")
    for kind in account.kinds:
        if kind not in KINDS:
            problems.append(f"{where}: kinds: unknown kind {kind!r} (allowed: {', '.join(KINDS)})")
    if not account.kinds:
        problems.append(f"{where}: kinds must name at least one of {', '.join(KINDS)}")
    return problems


def load_accounts(path: str | Path | None = None) -> tuple[ExchangeAccount, ...]:
    """Read the accounts file; a missing file is no accounts. Raises `AccountsError` listing every problem."""
    path = Path(path) if path is not None else accounts_file()
    if not path.exists():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AccountsError([f"{path}: cannot read the file: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise AccountsError([f"{path}: not valid TOML: {exc}"]) from None
    problems: list[str] = []
    rows = data.get("account", [])
    if not isinstance(rows, list):
        raise AccountsError([f"{path}: account must be an array of tables, got {rows!r}"])
    accounts: list[ExchangeAccount] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, 1):
        where = f"{path}: account {i}"
        if not isinstance(row, dict):
            problems.append(f"{where}: must be a table, got {row!r}")
            continue
        for key in sorted(set(row) - _KEYS):
            hint = " (secrets belong in the OS keyring)" if key in SECRET_CCXT_KEYS else ""
            problems.append(f"{where}: unknown field {key!r}{hint}")
        kinds = row.get("kinds", list(default_kinds(str(row.get("exchange", "")))))
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            problems.append(f"{where}: kinds must be a list of strings, got {kinds!r}")
            kinds = []
        for key in ("testnet", "enabled"):
            if key in row and not isinstance(row[key], bool):
                problems.append(f"{where}: {key} must be true or false, got {row[key]!r}")
        account = ExchangeAccount(
            id=str(row.get("id", "")), exchange=str(row.get("exchange", "")), label=str(row.get("label", "")),
            testnet=row.get("testnet") is True, kinds=tuple(kinds), enabled=row.get("enabled", True) is not False,
        )
        problems.extend(account_problems(account, where))
        if account.id in seen:
            problems.append(f"{where}: duplicate id {account.id!r}")
        seen.add(account.id)
        accounts.append(account)
    if problems:
        raise AccountsError(problems)
    return tuple(accounts)


def save_accounts(accounts: tuple[ExchangeAccount, ...] | list[ExchangeAccount],
                  path: str | Path | None = None) -> None:
    path = Path(path) if path is not None else accounts_file()
    rows: list[dict[str, Any]] = [
        {"id": a.id, "exchange": a.exchange, "label": a.label, "testnet": a.testnet, "kinds": list(a.kinds),
         "enabled": a.enabled}
        for a in accounts
    ]
    data: dict[str, Any] = {"version": FORMAT_VERSION}
    if rows:
        data["account"] = rows
    write_atomically(path, dumps(data))
