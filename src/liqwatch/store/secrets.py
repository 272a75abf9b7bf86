"""Exchange API secrets: the OS keyring (service ``liqwatch``, one entry per account id) and nowhere else.

Why so strict: a read-only key still reveals the whole book, and a key with trading rights is money. So secrets
never go to the settings file, the database, a log line, an exception message or a CSV. When the keyring cannot
protect them (headless Linux with the `fail` backend, `NoKeyringError`, or only a plaintext/`keyrings.alt` file
backend) we say "secure storage unavailable: …" and refuse to persist; the caller may instead keep the secret in
memory for this session only. There is deliberately no plaintext fallback.

Every secret value that passes through here is registered for redaction (`known_secret_values`, and
`liqwatch.store.logs.register_secret` when the store's logging module offers it) so that error messages and log
lines can be scrubbed by value as well as by pattern.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import keyring.backend

SERVICE = "liqwatch"
Storage = Literal["keyring", "session"]

_lock = threading.Lock()
_session: dict[str, Credentials] = {}
_known: set[str] = set()


@dataclass(frozen=True)
class Credentials:
    """An API key pair (and passphrase, for OKX-style exchanges). `repr` never shows the values."""

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)

    def ccxt_config(self) -> dict[str, str]:
        config = {"apiKey": self.api_key, "secret": self.secret}
        if self.passphrase:
            config["password"] = self.passphrase
        return config

    def values(self) -> tuple[str, ...]:
        return tuple(v for v in (self.api_key, self.secret, self.passphrase) if v)

    def to_json(self) -> str:
        return json.dumps({"apiKey": self.api_key, "secret": self.secret, "passphrase": self.passphrase})

    @classmethod
    def from_json(cls, text: str) -> Credentials:
        data = json.loads(text)
        return cls(str(data.get("apiKey", "")), str(data.get("secret", "")), str(data.get("passphrase", "")))


@dataclass(frozen=True)
class BackendStatus:
    """Whether the keyring can hold secrets safely; `reason` says why not, in words a user can act on."""

    usable: bool
    backend: str
    reason: str = ""

    @property
    def message(self) -> str:
        if self.usable:
            return f"secrets are kept in the OS keyring ({self.backend})"
        return f"secure storage unavailable: {self.reason}"


class SecureStorageUnavailableError(RuntimeError):
    """Raised instead of writing a secret anywhere but a secure keyring."""

    def __init__(self, status: BackendStatus) -> None:
        super().__init__(status.message)
        self.status = status


def register_secret(value: str) -> None:
    """Remember a secret value for redaction, here and in the store's log redaction (if it exists)."""
    if not value:
        return
    with _lock:
        _known.add(value)
    try:
        logs = importlib.import_module("liqwatch.store.logs")
    except ImportError:
        return
    hook = getattr(logs, "register_secret", None)
    if callable(hook):
        hook(value)


def known_secret_values() -> frozenset[str]:
    with _lock:
        return frozenset(_known)


def _keyring_module() -> ModuleType:
    """`keyring`, imported at the first secret operation: importing it costs ~70 ms (its backends' dependencies),
    which the window's wiring would otherwise spend on the GUI thread even with no exchange account configured."""
    import keyring
    import keyring.errors

    return keyring


def _backend_name(backend: Any) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _unsafe_reason(backend: Any) -> str | None:
    """Why one (non-chainer) backend cannot hold secrets, or None when it can."""
    module = type(backend).__module__
    name = type(backend).__name__
    if module.startswith("keyring.backends.fail"):
        return "no keyring backend is available (keyring.backends.fail); install and unlock a Secret Service " \
               "such as GNOME Keyring or KWallet"
    if module.startswith("keyring.backends.null"):
        return "the keyring is disabled (keyring.backends.null)"
    if module.startswith("keyrings.alt") or "plaintext" in name.lower() or "plaintext" in module.lower():
        return f"the only keyring backend stores secrets in a file ({_backend_name(backend)}), which LiqWatch " \
               "refuses to use"
    try:
        priority = float(backend.priority)
    except Exception as exc:  # a backend that cannot say whether it works, does not
        return f"the keyring backend {_backend_name(backend)} is not usable: {type(exc).__name__}"
    if priority <= 0:
        return f"the keyring backend {_backend_name(backend)} reports it is not usable here"
    return None


def backend_status(backend: Any = None) -> BackendStatus:
    """Inspect a backend (default: the active one) without reading or writing any secret."""
    if backend is None:
        if os.environ.get("LIQWATCH_NO_KEYRING_PROBE") and not _explicit_backend():
            return BackendStatus(False, "none", "keyring probing is disabled (LIQWATCH_NO_KEYRING_PROBE)")
        try:
            backend = _keyring_module().get_keyring()
        except Exception as exc:
            return BackendStatus(False, "none", f"the keyring could not be initialised ({type(exc).__name__})")
    name = _backend_name(backend)
    children = getattr(backend, "backends", None)
    if type(backend).__module__.startswith("keyring.backends.chainer") or isinstance(children, list | tuple):
        reasons = [(_unsafe_reason(child), child) for child in (children or ())]
        usable = [child for reason, child in reasons if reason is None]
        if usable:
            return BackendStatus(True, ", ".join(_backend_name(c) for c in usable))
        if not reasons:
            return BackendStatus(False, name, "no keyring backend is available")
        return BackendStatus(False, name, "; ".join(r for r, _ in reasons if r))
    reason = _unsafe_reason(backend)
    return BackendStatus(reason is None, name, reason or "")


def _explicit_backend() -> bool:
    """True when a backend was chosen with `keyring.set_keyring` (tests, or a configured app)."""
    core = importlib.import_module("keyring.core")
    return getattr(core, "_keyring_backend", None) is not None


class SecretStore:
    """Save, load and delete account credentials; session-only credentials live in process memory."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend

    def _keyring(self) -> Any:
        return self._backend if self._backend is not None else _keyring_module().get_keyring()

    def status(self) -> BackendStatus:
        return backend_status(self._backend)

    def save(self, account_id: str, credentials: Credentials, *, session_only: bool = False) -> Storage:
        """Persist in the keyring, or keep for this session only when asked. Never anywhere else."""
        for value in credentials.values():
            register_secret(value)
        if session_only:
            with _lock:
                _session[account_id] = credentials
            return "session"
        status = self.status()
        if not status.usable:
            raise SecureStorageUnavailableError(status)
        try:
            self._keyring().set_password(SERVICE, account_id, credentials.to_json())
        except _keyring_module().errors.KeyringError as exc:
            raise SecureStorageUnavailableError(
                BackendStatus(False, status.backend, f"the keyring refused to store the secret "
                              f"({type(exc).__name__})")
            ) from None
        with _lock:
            _session.pop(account_id, None)
        return "keyring"

    def load(self, account_id: str) -> Credentials | None:
        """Session credentials first, then the keyring; None when there are none or the keyring is unusable."""
        with _lock:
            found = _session.get(account_id)
        if found is not None:
            return found
        if not self.status().usable:
            return None
        try:
            text = self._keyring().get_password(SERVICE, account_id)
        except _keyring_module().errors.KeyringError:
            return None
        if not text:
            return None
        try:
            credentials = Credentials.from_json(text)
        except (ValueError, AttributeError):
            return None
        for value in credentials.values():
            register_secret(value)
        return credentials

    def storage(self, account_id: str) -> Storage | None:
        with _lock:
            if account_id in _session:
                return "session"
        return "keyring" if self.load(account_id) is not None else None

    def delete(self, account_id: str) -> None:
        with _lock:
            _session.pop(account_id, None)
        if not self.status().usable:
            return
        try:
            self._keyring().delete_password(SERVICE, account_id)
        except _keyring_module().errors.KeyringError:  # PasswordDeleteError (nothing stored) is one too
            pass


def forget_session() -> None:
    """Drop every session-only credential (tests; and on quit, the memory simply goes away)."""
    with _lock:
        _session.clear()
