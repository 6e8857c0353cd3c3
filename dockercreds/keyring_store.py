"""Registry credentials in the OS keyring, plus a secret-free index of servers.

Layout in the keyring (one item per server, so ``get`` needs only the server)::

    service  = "dockercreds:" + server        e.g. "dockercreds:quay.io"
    username = "dockercreds"                  fixed (the keyring's "account" field)
    password = {"ServerURL":server,"Username":user,"Secret":secret}   (helper-protocol JSON)

This needs only ``get_password(service, username)``, which every keyring backend has
(no ``get_credential(service, None)``, no enumeration). On the Secret Service the item
is exactly what keyring's own ``SecretService`` backend writes (label
``Password for 'dockercreds' on 'dockercreds:quay.io'``); on Linux with a D-Bus
session the store reads and writes it without importing ``keyring`` at all
(:mod:`dockercreds.secret_service`), which keeps the credential helper fast. That path is
skipped when ``PYTHON_KEYRING_BACKEND`` or keyring's config file pins another backend, in
a KDE session, or with ``DOCKERCREDS_KEYRING_LEAN=0``; a locked collection or any D-Bus
surprise falls back to the keyring library (which prompts or reports the error).
Windows Credential Manager limits a secret to 2560 bytes; larger tokens need another backend.

``list()`` reads the secret-free index of server -> username
(:mod:`dockercreds.keyring_index`: ``$DOCKERCREDS_KEYRING_INDEX``, default
``$XDG_DATA_HOME/dockercreds/keyring-index.json``). ``store`` and ``erase`` change the
keyring and the index together under the index's exclusive lock, all or nothing: every
input is checked and the index read before the keyring is touched, and when the keyring
or the index fails after the item was changed, the old item is put back.

Backends whose ``priority`` is below 1 (plaintext files such as ``keyrings.alt``) are
refused unless ``DOCKERCREDS_KEYRING_ALLOW_INSECURE=1`` (or ``allow_insecure=True``).
The backend is keyring's choice: ``PYTHON_KEYRING_BACKEND`` or keyring's config file pin it.
"""

from __future__ import annotations

import os
import sys
from contextlib import suppress

from . import secret_service
from .credentials import Credentials
from .errors import (
    InsecureKeyringError,
    InvalidCredentials,
    InvalidRegistry,
    KeyringError,
    KeyringLockedError,
    NoKeyringError,
)
from .keyring_index import (
    ACCOUNT,
    INDEX_ENV,
    SERVICE_PREFIX,
    KeyringIndex,
    default_index_path,
    service_name,
)
from .protocol import ProtocolError, decode_credentials, encode_credentials

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Dict, Optional

__all__ = [
    "ACCOUNT",
    "ALLOW_INSECURE_ENV",
    "INDEX_ENV",
    "SERVICE_PREFIX",
    "KeyringStore",
    "default_index_path",
    "service_name",
]

ALLOW_INSECURE_ENV = "DOCKERCREDS_KEYRING_ALLOW_INSECURE"

_HEADLESS = (
    "headless Linux: `dbus-run-session -- sh`, then "
    "`printf %s PASSWORD | gnome-keyring-daemon --unlock --components=secrets`"
)
MSG_NO_KEYRING = (
    "no usable keyring backend: run a Secret Service (gnome-keyring, KeePassXC) in a D-Bus "
    f"session ({_HEADLESS}), or choose a backend with PYTHON_KEYRING_BACKEND"
)
MSG_NO_DBUS = (
    "no D-Bus session bus for the Secret Service: start one with dbus-run-session or set "
    f"DBUS_SESSION_BUS_ADDRESS, and run gnome-keyring-daemon in it ({_HEADLESS})"
)
MSG_LOCKED = (
    "the keyring is locked: unlock it (desktop: log in or use Seahorse; headless Linux: "
    "`printf %s PASSWORD | gnome-keyring-daemon --unlock`) and retry"
)


def _allow_insecure_from_env() -> bool:
    return os.environ.get(ALLOW_INSECURE_ENV, "").strip().lower() in ("1", "true", "yes")


# --------------------------------------------------------------------------- errors


def _backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_dbus_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    if module.startswith(("jeepney", "secretstorage", "dbus")):
        return True
    text = str(exc).lower()
    return "d-bus" in text or "dbus" in text or "secret service" in text or "secretservice" in text


def _translate(exc: BaseException, action: str, server: str, backend: object) -> KeyringError:
    """One safe line for a failure of the keyring library (never a secret in it)."""
    if isinstance(exc, KeyringError):
        return exc
    from keyring import errors as kerrors

    locked_types: tuple[type[BaseException], ...] = (kerrors.KeyringLocked,)
    try:
        from secretstorage.exceptions import LockedException, PromptDismissedException

        locked_types += (LockedException, PromptDismissedException)
    except ImportError:  # pragma: no cover - secretstorage is optional off Linux
        pass
    if isinstance(exc, locked_types):
        return KeyringLockedError(MSG_LOCKED)
    if isinstance(exc, kerrors.NoKeyringError):
        return NoKeyringError(MSG_NO_KEYRING)
    bus = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    on_bus = backend is None or "SecretService" in _backend_name(backend)
    if (
        _is_dbus_error(exc)
        or isinstance(exc, kerrors.InitError)
        or (on_bus and isinstance(exc, OSError))
    ):
        if sys.platform.startswith("linux") and not bus:
            return NoKeyringError(MSG_NO_DBUS)
        if bus and isinstance(exc, OSError):
            return NoKeyringError(
                f"cannot reach the D-Bus session bus {bus} ({exc.strerror or type(exc).__name__}): "
                "start one with dbus-run-session or fix DBUS_SESSION_BUS_ADDRESS, and run "
                f"gnome-keyring-daemon in it ({_HEADLESS})"
            )
        return KeyringError(
            f"the Secret Service failed to {action} the entry for {server} "
            f"({type(exc).__name__}): check that gnome-keyring-daemon (or another Secret "
            f"Service) runs in this D-Bus session and is unlocked ({_HEADLESS})"
        )
    return KeyringError(
        f"keyring backend {_backend_name(backend)} failed to {action} the entry for "
        f"{server} ({type(exc).__name__}); check the keyring and retry"
    )


# --------------------------------------------------------------------------- input


def _surrogate(text: str) -> Optional[str]:
    """The first lone surrogate in ``text`` as ``U+XXXX``, or None."""
    if text.isascii():
        return None
    for ch in text:
        if "\ud800" <= ch <= "\udfff":
            return f"U+{ord(ch):04X}"
    return None


def _check_text(value: str, what: str) -> None:
    bad = _surrogate(value)
    if bad is not None:
        raise InvalidCredentials(
            f"{what} holds a lone surrogate ({bad}), which is not Unicode text and cannot"
            " be stored; nothing was changed"
        )


def _check_server(server: str) -> None:
    if not server:
        raise InvalidRegistry("cannot store credentials for an empty server name")
    bad = _surrogate(server) or ("U+0000" if "\x00" in server else None)
    if bad is not None:
        raise InvalidRegistry(
            f"the server name holds {bad}, which a keyring item name cannot hold;"
            " nothing was changed"
        )


# --------------------------------------------------------------------------- store


class KeyringStore:
    """A credential store on the OS keyring (the ``credsStore: keyring`` of dockercreds).

    ``backend``: a ``keyring.backend.KeyringBackend`` to use instead of keyring's choice
    (the fast Secret Service path is then never used). ``index_path``: the server index
    (default :func:`default_index_path`). ``allow_insecure``: accept plaintext backends
    (default: ``DOCKERCREDS_KEYRING_ALLOW_INSECURE=1``).
    """

    source = "keyring"

    def __init__(
        self,
        *,
        backend: Any = None,
        index_path: Optional[str] = None,
        allow_insecure: Optional[bool] = None,
    ) -> None:
        self._backend_arg = backend
        self._backend: Any = None
        self._index = KeyringIndex(os.fspath(index_path) if index_path else None)
        self._allow_insecure = allow_insecure

    def __repr__(self) -> str:
        chosen = "auto" if self._backend_arg is None else _backend_name(self._backend_arg)
        return f"<KeyringStore backend={chosen} index={self._index.path!r}>"

    @property
    def index_path(self) -> str:
        return self._index.path

    # -- public API ---------------------------------------------------------------

    def get(self, server: str) -> Optional[Credentials]:
        """The credentials stored for ``server`` (exact key), or None."""
        if not server:
            return None
        payload = self._read(server)
        if payload is None:
            return None
        try:
            entry = decode_credentials(payload)
        except ProtocolError:
            raise KeyringError(
                f"the keyring entry {service_name(server)!r} is not a dockercreds entry; "
                f"remove it with `docker-credential-keyring erase` and store it again"
            ) from None
        return Credentials.from_helper(server, entry.username, entry.secret, source=self.source)

    def store(self, server: str, username: str, secret: str) -> None:
        """Save ``username`` and ``secret`` for ``server`` (replacing any entry).

        All or nothing: on any error the keyring item and the index are as they were.
        """
        _check_server(server)
        _check_text(username, f"the username for {server}")
        _check_text(secret, f"the secret for {server}")
        payload = encode_credentials(server, username, secret)
        with self._index.locked():
            servers = self._index.read()  # a bad index fails here, nothing touched yet
            old = self._read(server)
            try:
                self._write(server, payload)
                if servers.get(server) != username:
                    servers[server] = username
                    self._index.write(servers)
            except BaseException:
                self._restore(server, old)
                raise

    def erase(self, server: str) -> None:
        """Remove ``server``'s entry; a missing entry is not an error.

        All or nothing: on any error the keyring item and the index are as they were.
        """
        if not server:
            return
        _check_server(server)
        with self._index.locked():
            servers = self._index.read()
            old = self._read(server)
            if old is None and server not in servers:
                return
            try:
                if old is not None:
                    self._delete(server)
                if servers.pop(server, None) is not None:
                    self._index.write(servers)
            except BaseException:
                self._restore(server, old)
                raise

    def list(self) -> Dict[str, str]:
        """server -> username from the index (the keyring is not touched)."""
        return self._index.read()

    # -- keyring access -------------------------------------------------------------

    def _restore(self, server: str, old: Optional[str]) -> None:
        """Best effort after a failed change: put ``old`` back (or remove the new item)."""
        with suppress(Exception):  # the original error is the one to report
            if old is None:
                self._delete(server)
            elif self._read(server) != old:
                self._write(server, old)

    def _lean(self) -> bool:
        return self._backend_arg is None and secret_service.usable()

    def _read(self, server: str) -> Optional[str]:
        service = service_name(server)
        if self._lean():
            try:
                with secret_service.SecretServiceClient() as client:
                    return client.get(service, ACCOUNT)
            except secret_service.Unavailable:
                pass
        backend = self._keyring()
        try:
            value = backend.get_password(service, ACCOUNT)
        except Exception as exc:
            raise _translate(exc, "read", server, backend) from None
        return None if value is None else str(value)

    def _write(self, server: str, payload: str) -> None:
        service = service_name(server)
        if self._lean():
            try:
                with secret_service.SecretServiceClient() as client:
                    client.set(service, ACCOUNT, payload)
                    return
            except secret_service.Unavailable:
                pass
        backend = self._keyring()
        try:
            backend.set_password(service, ACCOUNT, payload)
        except Exception as exc:
            raise _translate(exc, "store", server, backend) from None

    def _delete(self, server: str) -> None:
        service = service_name(server)
        if self._lean():
            try:
                with secret_service.SecretServiceClient() as client:
                    client.delete(service, ACCOUNT)
                    return
            except secret_service.Unavailable:
                pass
        backend = self._keyring()
        from keyring.errors import PasswordDeleteError

        try:
            backend.delete_password(service, ACCOUNT)
        except PasswordDeleteError:
            return  # not there: fine
        except Exception as exc:
            raise _translate(exc, "erase", server, backend) from None

    def _keyring(self) -> Any:
        """The checked keyring backend (imports keyring on first use)."""
        if self._backend is not None:
            return self._backend
        backend = self._backend_arg
        if backend is None:
            try:
                import keyring

                backend = keyring.get_keyring()
            except Exception as exc:
                if _is_dbus_error(exc) or isinstance(exc, OSError):
                    raise _translate(exc, "open", "any server", None) from None
                pinned = os.environ.get("PYTHON_KEYRING_BACKEND")
                where = f"PYTHON_KEYRING_BACKEND={pinned}" if pinned else "keyring's config"
                raise NoKeyringError(
                    f"cannot load the keyring backend chosen by {where} "
                    f"({type(exc).__name__}): fix the setting or unset it"
                ) from None
        self._check(backend)
        self._backend = backend
        return backend

    def _check(self, backend: Any) -> None:
        from keyring.backends import fail, null

        effective = backend
        if type(backend).__name__ == "ChainerBackend":
            chained = list(getattr(backend, "backends", []))
            if not chained:
                raise NoKeyringError(MSG_NO_KEYRING)
            effective = chained[0]  # writes go to the first backend
        if isinstance(effective, fail.Keyring):
            if sys.platform.startswith("linux") and not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
                raise NoKeyringError(MSG_NO_DBUS)
            raise NoKeyringError(MSG_NO_KEYRING)
        if isinstance(effective, null.Keyring):
            raise NoKeyringError(
                "the keyring is disabled (backend keyring.backends.null.Keyring): unset "
                "PYTHON_KEYRING_BACKEND or keyring's config, or choose a real backend"
            )
        try:
            priority = float(effective.priority)
        except Exception as exc:
            raise _translate(exc, "open", "any server", effective) from None
        allowed = (
            _allow_insecure_from_env() if self._allow_insecure is None else self._allow_insecure
        )
        if priority < 1 and not allowed:
            raise InsecureKeyringError(
                f"keyring backend {_backend_name(effective)} (priority {priority:g}) does not "
                "protect secrets (plaintext or obfuscated file): refused; use a secure "
                f"backend, or set {ALLOW_INSECURE_ENV}=1 to accept it"
            )
