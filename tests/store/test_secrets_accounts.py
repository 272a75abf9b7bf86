"""The accounts file holds records only; a secret field in it is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from liqwatch.store.accounts import AccountsError, ExchangeAccount, accounts_file, load_accounts, save_accounts


def test_round_trip_and_location(_isolated_home: Path) -> None:
    accounts = (ExchangeAccount("a1", "binance", "Main"),
                ExchangeAccount("b2", "okx", "Hedge", testnet=True, kinds=("futures",)))
    save_accounts(accounts)
    assert accounts_file().is_relative_to(_isolated_home)
    assert load_accounts() == accounts


def test_secret_in_the_file_is_refused_with_field_and_hint(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text('[[account]]\nid = "a1"\nexchange = "binance"\nlabel = "x"\nsecret = "s"\nkinds = ["moon"]\n')
    with pytest.raises(AccountsError) as caught:
        load_accounts(path)
    text = str(caught.value)
    assert "unknown field 'secret' (secrets belong in the OS keyring)" in text
    assert "unknown kind 'moon'" in text
