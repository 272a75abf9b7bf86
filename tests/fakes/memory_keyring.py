"""In-memory keyring backends for tests: a usable one, and stand-ins for the unusable kinds.

`use_keyring(backend)` installs a backend with `keyring.set_keyring` and restores the previous one afterwards, so
no test ever touches the developer's (or CI's) real keyring unless it means to.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
import keyring.backend
import keyring.core
import keyring.errors


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A usable backend holding passwords in a dict; `writes` records every (service, user) written."""

    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}
        self.writes: list[tuple[str, str]] = []

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.writes.append((service, username))
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.store:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.store[(service, username)]


class PlaintextKeyring(MemoryKeyring):
    """Looks like keyrings.alt's plaintext file backend: usable technically, refused by LiqWatch."""


@contextmanager
def use_keyring(backend: keyring.backend.KeyringBackend) -> Iterator[keyring.backend.KeyringBackend]:
    previous = keyring.core._keyring_backend
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.core._keyring_backend = previous
