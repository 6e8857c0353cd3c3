"""An in-memory keyring backend for tests that run dockercreds in this process.

Like the macOS backend it can neither look a credential up by service alone
(``get_credential`` fails the test) nor enumerate its items, and deleting a missing
item raises ``PasswordDeleteError`` as real backends do. Pass an instance as
``KeyringStore(backend=...)``; the items are in :attr:`MemoryKeyring.items`.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Dict-backed; like macOS it cannot look up by service alone nor enumerate."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: Dict[Tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> Optional[str]:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.items:
            raise PasswordDeleteError("no such item")
        del self.items[(service, username)]

    def get_credential(self, service: str, username: Optional[str]) -> Any:
        raise AssertionError("the store must not need get_credential")


class error(Exception):
    """Like ``win32ctypes.pywin32.pywintypes.error``: args (winerror, funcname, strerror)."""

    def __init__(self, winerror: int, funcname: str, strerror: str) -> None:
        super().__init__(winerror, funcname, strerror)
        self.winerror = winerror
        self.funcname = funcname
        self.strerror = strerror


class SizeLimitedKeyring(MemoryKeyring):
    """Windows Credential Manager's limit: a secret of at most 2,560 bytes of UTF-16.

    A larger one is refused as keyring's Windows backend refuses it (CredWrite fails with
    ``pywintypes.error(1783, 'CredWrite', 'The stub received bad data.')``).
    :attr:`refused` counts the refusals.
    """

    limit = 2560

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password.encode("utf-16-le")) > self.limit:
            self.refused += 1
            raise error(1783, "CredWrite", "The stub received bad data.")
        super().set_password(service, username, password)


class WinVaultKeyring(SizeLimitedKeyring):
    """Named as keyring.backends.Windows.WinVaultKeyring: the store splits up front."""


def forget_backends(*classes: type) -> None:
    """Keep test backends out of keyring's discovery (defining a subclass registers it)."""
    for cls in classes:
        KeyringBackend._classes.discard(cls)  # type: ignore[attr-defined]


forget_backends(MemoryKeyring, SizeLimitedKeyring, WinVaultKeyring)
