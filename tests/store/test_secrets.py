"""Secrets go to the keyring under service "liqwatch", keyed by account id, and nowhere else."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import keyring.backends.chainer
import keyring.backends.fail
import pytest

from liqwatch.sources.import_errors import sanitise
from liqwatch.store.secrets import (
    SERVICE,
    Credentials,
    SecretStore,
    SecureStorageUnavailableError,
    backend_status,
    forget_session,
)
from tests.fakes.memory_keyring import MemoryKeyring, PlaintextKeyring, use_keyring


@pytest.fixture(autouse=True)
def _fresh_session():
    forget_session()
    yield
    forget_session()


def _files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_saved_secret_lives_in_the_keyring_under_the_account_id(_isolated_home: Path) -> None:
    backend = MemoryKeyring()
    with use_keyring(backend):
        store = SecretStore()
        assert store.save("acct1", Credentials("KEY-abc", "SECRET-xyz")) == "keyring"
        assert backend.writes == [(SERVICE, "acct1")]
        loaded = store.load("acct1")
        assert loaded == Credentials("KEY-abc", "SECRET-xyz")
        assert store.storage("acct1") == "keyring"
        store.delete("acct1")
        assert store.load("acct1") is None
    assert _files_containing(_isolated_home, "SECRET-xyz") == []


def test_fail_backend_refuses_to_persist_but_allows_session_only() -> None:
    with use_keyring(keyring.backends.fail.Keyring()):
        store = SecretStore()
        status = store.status()
        assert not status.usable
        assert status.message.startswith("secure storage unavailable:")
        with pytest.raises(SecureStorageUnavailableError, match="secure storage unavailable"):
            store.save("a", Credentials("k1234", "s1234"))
        assert store.load("a") is None
        assert store.save("a", Credentials("k1234", "s1234"), session_only=True) == "session"
        assert store.load("a") == Credentials("k1234", "s1234")
        assert store.storage("a") == "session"


def test_plaintext_backend_and_chainer_of_unusable_backends_are_refused() -> None:
    plain = PlaintextKeyring()
    assert not backend_status(plain).usable
    assert "file" in backend_status(plain).reason
    with use_keyring(plain), pytest.raises(SecureStorageUnavailableError):
        SecretStore().save("a", Credentials("k1234", "s1234"))
    assert plain.writes == []

    assert not backend_status(_Chainer([keyring.backends.fail.Keyring(), PlaintextKeyring()])).usable
    assert backend_status(_Chainer([PlaintextKeyring(), MemoryKeyring()])).usable


class _Chainer(keyring.backends.chainer.ChainerBackend):
    """A chainer over chosen backends (the real one discovers the machine's)."""

    def __init__(self, children: list) -> None:
        self._children = children

    @property
    def backends(self) -> list:  # type: ignore[override]
        return self._children


def test_no_probe_without_an_explicit_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    status = backend_status()
    assert not status.usable and "LIQWATCH_NO_KEYRING_PROBE" in status.reason


def test_credentials_repr_hides_values() -> None:
    shown = repr(Credentials("KEY-abc", "SECRET-xyz", "PASS-123"))
    assert "KEY-abc" not in shown and "SECRET-xyz" not in shown and "PASS-123" not in shown


def test_sanitise_strips_signature_api_key_and_known_values() -> None:
    with use_keyring(MemoryKeyring()):
        SecretStore().save("s", Credentials("AKIAKEY999", "TOPSECRET777"))
    raw = ("binance GET http://h/sapi/v1/margin/account?timestamp=1&recvWindow=5000&signature=deadbeef01 "
           "401 {'X-MBX-APIKEY': 'AKIAKEY999'} apiKey=AKIAKEY999 secret: TOPSECRET777 "
           '{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}')
    clean = sanitise(raw)
    for value in ("deadbeef01", "AKIAKEY999", "TOPSECRET777"):
        assert value not in clean
    assert "signature=***" in clean
    assert "Invalid API-key, IP, or permissions for action." in clean  # the useful part survives


SECRET_SERVICE_CHILD = textwrap.dedent("""
    import json, keyring
    from keyring.backends import SecretService
    from liqwatch.store.secrets import Credentials, SecretStore, SERVICE
    backend = SecretService.Keyring()
    store = SecretStore(backend)
    status = store.status()
    out = {"usable": status.usable, "backend": status.backend}
    if status.usable:
        store.save("ci-account", Credentials("ss-key-1", "ss-secret-1", "pp"))
        raw = backend.get_password(SERVICE, "ci-account")
        out["raw_has_secret"] = "ss-secret-1" in (raw or "")
        out["roundtrip"] = store.load("ci-account") == Credentials("ss-key-1", "ss-secret-1", "pp")
        store.delete("ci-account")
        out["deleted"] = store.load("ci-account") is None
    print(json.dumps(out))
""")


def test_real_secret_service_in_a_private_dbus_session(tmp_path: Path) -> None:
    missing = [tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"real Secret Service test needs {', '.join(missing)} (Debian: dbus, gnome-keyring)")
    for sub in ("home", "run", "data"):
        (tmp_path / sub).mkdir(mode=0o700)
    (tmp_path / "child.py").write_text(SECRET_SERVICE_CHILD)
    inner = tmp_path / "inner.sh"
    inner.write_text('#!/bin/sh\nprintf %s "$KEYRING_UNLOCK" | gnome-keyring-daemon --unlock '
                     '--components=secrets >/dev/null\nexec "$@"\n')
    inner.chmod(0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "GNOME_KEYRING"))}
    env.update(HOME=str(tmp_path / "home"), XDG_RUNTIME_DIR=str(tmp_path / "run"),
               XDG_DATA_HOME=str(tmp_path / "data"), KEYRING_UNLOCK="ci-unlock-password")
    done = subprocess.run(["dbus-run-session", "--", str(inner), sys.executable, str(tmp_path / "child.py")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"usable": True, "backend": result["backend"], "raw_has_secret": True, "roundtrip": True,
                      "deleted": True}
    assert "SecretService" in result["backend"]
