"""Add or edit a futures position together with its account (name, settle asset, wallet balance)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from liqwatch.domain.model import FuturesAccount, Portfolio
from liqwatch.store.portfolio_write import futures_account_to_dict, portfolio_to_dict, position_to_dict
from liqwatch.ui.dialogs.entry_dialog import EntryDialog
from liqwatch.ui.dialogs.margin_dialog import _num

_NUMBERS = ("contracts", "entry_price", "isolated_wallet", "leverage", "contract_size", "maint_margin_rate",
            "maint_amount", "warning_distance", "danger_distance")


class FuturesPositionDialog(EntryDialog):
    """`where` = (account index, position index) to edit, or None to add."""

    def __init__(self, portfolio: Portfolio, where: tuple[int, int] | None = None,
                 parent: QWidget | None = None) -> None:
        self.where = where
        account = portfolio.futures_accounts[where[0]] if where else (
            portfolio.futures_accounts[0] if portfolio.futures_accounts else None)
        position = account.positions[where[1]] if where and account else None
        super().__init__("Edit futures position" if position else "Add futures position", portfolio, parent)
        self.original_position = position
        a = futures_account_to_dict(account) if account else {"settle": "USDT", "wallet_balance": 0.0}
        p = position_to_dict(position) if position else {"side": "long", "margin_mode": "cross"}
        self.add_line("name", "Account", a.get("name", ""), "futures account name (new or existing)")
        self.add_line("exchange", "Exchange", a.get("exchange", ""), "ccxt id, e.g. binance (optional)")
        self.add_line("settle", "Settle asset", a.get("settle", "USDT"), "USDT, USDC, or a coin for COIN-M")
        self.add_line("wallet_balance", "Wallet balance", _num(a.get("wallet_balance", 0.0)))
        self.add_line("symbol", "Symbol", p.get("symbol", ""), "ccxt perpetual, e.g. BTC/USDT:USDT")
        self.add_choice("side", "Side", ["long", "short"], p.get("side", "long"))
        self.add_line("contracts", "Contracts", _num(p.get("contracts", "")))
        self.add_line("entry_price", "Entry price", _num(p.get("entry_price", "")))
        self.add_choice("margin_mode", "Margin mode", ["cross", "isolated"], p.get("margin_mode", "cross"))
        self.add_line("isolated_wallet", "Isolated margin", _num(p.get("isolated_wallet", "")), "isolated only")
        self.add_line("leverage", "Leverage", _num(p.get("leverage", "")), "optional, >= 1")
        self.add_line("contract_size", "Contract size", _num(p.get("contract_size", "")),
                      "1 (linear); 100 or 10 USD (COIN-M)")
        brackets = p.get("brackets", [])
        single = len(brackets) == 1 and brackets[0]["floor"] == 0
        self._kept_brackets = brackets if len(brackets) > 1 else []
        self.add_line("maint_margin_rate", "Maint. margin rate",
                      _num(brackets[0]["maint_margin_rate"]) if single else "", "empty: bundled brackets")
        self.add_line("maint_amount", "Maint. amount", _num(brackets[0]["maint_amount"]) if single else "",
                      "empty: bundled brackets")
        self.add_line("warning_distance", "Warn within", _num(p.get("warning_distance", "")),
                      "this position only: fraction of the mark, e.g. 0.15; empty: global")
        self.add_line("danger_distance", "Danger within", _num(p.get("danger_distance", "")),
                      "this position only, e.g. 0.08; empty: global")
        if self._kept_brackets:
            self.form.addRow("", QLabel(f"Keeps its {len(self._kept_brackets)} maintenance brackets unless the "
                                        "symbol or the rate fields change."))
        self.resize(480, 520)
        self.finish_layout()

    def _account_index(self, data: dict[str, Any], name: str) -> int | None:
        for i, account in enumerate(data.get("futures_account", [])):
            if account.get("name") == name:
                return i
        return None

    def position_entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {"side": self.text("side"), "margin_mode": self.text("margin_mode")}
        self.put_optional(out, "symbol", numeric=False)
        for key in _NUMBERS:
            self.put_optional(out, key)
        if out["margin_mode"] == "cross":
            out.pop("isolated_wallet", None)
        same_symbol = self.original_position is not None and out.get("symbol") == self.original_position.symbol
        if self._kept_brackets and same_symbol and "maint_margin_rate" not in out and "maint_amount" not in out:
            out["brackets"] = self._kept_brackets
        return out

    def build(self) -> dict[str, Any]:
        data = portfolio_to_dict(self.portfolio)
        accounts = [dict(a, positions=list(a["positions"])) for a in data.get("futures_account", [])]
        data["futures_account"] = accounts
        slot = None
        if self.where is not None:
            source = accounts[self.where[0]]
            del source["positions"][self.where[1]]
            slot = (self.where[0], self.where[1])
        name = self.text("name").strip()
        i = self._account_index(data, name) if name else None
        account_fields: dict[str, Any] = {}
        self.put_optional(account_fields, "name", numeric=False)
        self.put_optional(account_fields, "exchange", numeric=False)
        self.put_optional(account_fields, "settle", numeric=False)
        self.put_optional(account_fields, "wallet_balance")
        if i is None:
            accounts.append({**account_fields, "positions": [self.position_entry()]})
        else:
            target = accounts[i]
            target.pop("exchange", None)
            target.update(account_fields)
            at = slot[1] if slot and slot[0] == i else len(target["positions"])
            target["positions"].insert(at, self.position_entry())
        return data

    def new_portfolio(self) -> Portfolio:
        """The original portfolio with the touched futures account(s) replaced by their validated versions."""
        assert self.result_portfolio is not None
        parsed = {a.name: a for a in self.result_portfolio.futures_accounts}
        touched = {self.text("name").strip()}
        if self.where is not None:
            touched.add(self.portfolio.futures_accounts[self.where[0]].name)
        accounts: list[FuturesAccount] = []
        for account in self.portfolio.futures_accounts:
            if account.name in touched:
                new = parsed.get(account.name)
                if new is not None:
                    accounts.append(replace(new, source=account.source))
            else:
                accounts.append(account)
        names = {a.name for a in accounts}
        accounts.extend(a for a in self.result_portfolio.futures_accounts if a.name in touched and a.name not in names)
        return replace(self.portfolio, futures_accounts=tuple(accounts))
