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

A backend that refuses a secret for its size (Windows Credential Manager: 2,560 bytes, and
keyring writes text there as UTF-16, so 1,280 characters; detected by name and split at
once, or by CredWrite's error 1783) gets the entry split: the parts under
``dockercreds:<server>#<digest12>.<n>`` (n from 1, each at most 2,048 bytes of UTF-16),
written first, then the item ``dockercreds:<server>`` holding only the header
``dockercreds-parts/1 <count> <sha256 of the payload>``. A reader joins the parts and
checks the digest (a missing or changed part is an error, never a short secret); the
names depend on the payload, so replacing an entry never touches the parts the old header
names until the new header is in place, and then removes them. Other backends keep one
item per server.

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
    from typing import Any, Callable, Dict, List, Optional, Tuple

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


# --------------------------------------------------------------------------- split entries

#: keyring's Windows Credential Manager backend (keyring.backends.Windows).
WINDOWS_BACKEND = "WinVaultKeyring"
#: CRED_MAX_CREDENTIAL_BLOB_SIZE: what CredWrite takes; keyring stores text as UTF-16.
WINDOWS_MAX_SECRET_BYTES = 2560
#: The largest part of a split entry, in bytes of UTF-16 (under every known limit).
PART_UTF16_BYTES = 2048
#: The most parts an entry may have (a 1 MiB payload of ASCII text needs 1,024).
MAX_PARTS = 1024
#: The header item of a split entry: ``dockercreds-parts/1 <count> <sha256 of the payload>``.
PARTS_HEADER = "dockercreds-parts/1"
_RPC_X_BAD_STUB_DATA = 1783  # CredWrite's "The stub received bad data": blob too large


class _IncompleteEntry(KeyringError):
    """A split entry with a part missing or changed (store or erase replace it)."""


class _TooLarge(Exception):
    """The backend refused a secret for its size."""


def _refused_for_size(exc: BaseException) -> bool:
    """True for the error CredWrite gives for a too-large secret (pywintypes.error or
    OSError with winerror 1783, as keyring's Windows backend raises it)."""
    code = getattr(exc, "winerror", None)
    if code is None and exc.args and isinstance(exc.args[0], int):
        code = exc.args[0]
    return code == _RPC_X_BAD_STUB_DATA


def part_service(server: str, digest: str, number: int) -> str:
    """The keyring service of part ``number`` (from 1) of a split entry."""
    return f"{service_name(server)}#{digest[:12]}.{number}"


def _split_payload(server: str, payload: str) -> Tuple[str, List[Tuple[str, str]]]:
    """The header and the (service, text) parts of ``payload``, each part at most
    :data:`PART_UTF16_BYTES` bytes of UTF-16 (a character is never cut)."""
    import hashlib

    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    chunks: List[str] = []
    start, size = 0, 0
    for i, ch in enumerate(payload):
        width = 4 if ord(ch) > 0xFFFF else 2
        if size + width > PART_UTF16_BYTES:
            chunks.append(payload[start:i])
            start, size = i, 0
        size += width
    chunks.append(payload[start:])
    if len(chunks) > MAX_PARTS:
        raise InvalidCredentials(
            f"the entry for {server} would need {len(chunks)} keyring items (at most"
            f" {MAX_PARTS}); nothing was changed"
        )
    parts = [(part_service(server, digest, n), c) for n, c in enumerate(chunks, 1)]
    return f"{PARTS_HEADER} {len(parts)} {digest}", parts


def _parse_header(server: str, value: Optional[str]) -> Optional[Tuple[int, str]]:
    """(count, digest) when ``value`` is a split entry's header, else None."""
    if value is None or not value.startswith(PARTS_HEADER + " "):
        return None
    fields = value.split(" ")
    if (
        len(fields) == 3
        and fields[1].isdigit()
        and 1 <= int(fields[1]) <= MAX_PARTS
        and len(fields[2]) == 64
        and all(c in "0123456789abcdef" for c in fields[2])
    ):
        return int(fields[1]), fields[2]
    raise KeyringError(
        f"the keyring entry {service_name(server)!r} has a malformed parts header; remove"
        " it with `docker-credential-keyring erase` and store it again"
    )


def _parts_of(server: str, value: Optional[str]) -> List[str]:
    """The part services a header item names (none for a whole entry)."""
    try:
        header = _parse_header(server, value)
    except KeyringError:
        return []
    if header is None:
        return []
    count, digest = header
    return [part_service(server, digest, n) for n in range(1, count + 1)]


def _join(server: str, get: Callable[[str], Optional[str]]) -> Optional[str]:
    """The payload of ``server``'s entry read through ``get(service)``, parts joined.

    All or nothing: a missing part or a digest mismatch is an error, never a short
    payload. A header replaced while its parts were read is read again (once).
    """
    import hashlib

    for attempt in (1, 2):
        value = get(service_name(server))
        header = _parse_header(server, value)
        if header is None:
            return value
        count, digest = header
        chunks = [get(part_service(server, digest, n)) for n in range(1, count + 1)]
        payload = "".join(c for c in chunks if c is not None)
        if None not in chunks and hashlib.sha256(payload.encode("utf-8")).hexdigest() == digest:
            return payload
        if attempt == 2 or get(service_name(server)) == value:
            break
    raise _IncompleteEntry(
        f"the keyring entry for {server} is split into parts and some are missing or"
        " changed: store it again (or erase it with `docker-credential-keyring erase`)"
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
            old, _exists = self._read_old(server)
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
            old, exists = self._read_old(server)
            if not exists and server not in servers:
                return
            try:
                if exists:
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
    #
    # An entry is one item (service_name(server), ACCOUNT) whose secret is the payload,
    # or, on a backend that refuses a secret that large (Windows Credential Manager:
    # 2,560 bytes of UTF-16), a header item there naming the parts (see _split_payload).

    def _restore(self, server: str, old: Optional[str]) -> None:
        """Best effort after a failed change: put ``old`` back (or remove the new entry)."""
        with suppress(Exception):  # the original error is the one to report
            if old is None:
                self._delete(server)
            elif self._read(server) != old:
                self._write(server, old)

    def _read_old(self, server: str) -> Tuple[Optional[str], bool]:
        """The entry a change replaces, and whether any is there (a broken split entry
        is there but cannot be put back)."""
        try:
            old = self._read(server)
        except _IncompleteEntry:
            return None, True
        return old, old is not None

    def _lean(self) -> bool:
        return self._backend_arg is None and secret_service.usable()

    def _read(self, server: str) -> Optional[str]:
        """The whole payload of ``server``'s entry (parts joined), or None."""
        if self._lean():
            try:
                with secret_service.SecretServiceClient() as client:
                    return _join(server, lambda service: client.get(service, ACCOUNT))
            except secret_service.Unavailable:
                pass
        return _join(server, lambda service: self._get_item(server, service))

    def _write(self, server: str, payload: str) -> None:
        """Make ``payload`` the entry of ``server``; parts of the entry it replaces go.

        A split entry's parts are written first and the header last, under names derived
        from the payload's digest, so until the header is replaced a reader sees the old
        entry whole, and afterwards the new one.
        """
        service = service_name(server)
        stale = _parts_of(server, self._get_raw(server, service))
        limit = self._size_limit()
        if limit is None or len(payload.encode("utf-16-le")) <= limit:
            try:
                self._set_item(server, service, payload)
            except _TooLarge:
                pass
            else:
                self._drop(server, stale)
                return
        header, parts = _split_payload(server, payload)
        written: List[str] = []
        try:
            for item, part in parts:
                self._set_item(server, item, part)
                written.append(item)
            self._set_item(server, service, header)
        except BaseException:
            with suppress(Exception):  # the original error is the one to report
                self._drop(server, [s for s in written if s not in stale])
            if isinstance(sys.exc_info()[1], _TooLarge):
                raise KeyringError(
                    f"keyring backend {_backend_name(self._keyring())} refused even a"
                    f" {PART_UTF16_BYTES}-byte part of the entry for {server}: it cannot"
                    " hold this secret; choose another backend"
                ) from None
            raise
        new = {item for item, _part in parts}
        self._drop(server, [s for s in stale if s not in new])

    def _delete(self, server: str) -> None:
        """Remove ``server``'s entry: the item, then any parts it names."""
        service = service_name(server)
        stale = _parts_of(server, self._get_raw(server, service))
        self._del_item(server, service)
        self._drop(server, stale)

    def _drop(self, server: str, services: List[str]) -> None:
        for service in services:
            self._del_item(server, service)

    def _get_raw(self, server: str, service: str) -> Optional[str]:
        if self._lean():
            try:
                with secret_service.SecretServiceClient() as client:
                    return client.get(service, ACCOUNT)
            except secret_service.Unavailable:
                pass
        return self._get_item(server, service)

    def _size_limit(self) -> Optional[int]:
        """The largest secret (bytes of UTF-16) a known size-limited backend takes."""
        if self._lean():
            return None
        backend = self._keyring()
        if type(backend).__name__ == "ChainerBackend":
            backend = next(iter(getattr(backend, "backends", [])), backend)
        if type(backend).__name__ == WINDOWS_BACKEND:
            return WINDOWS_MAX_SECRET_BYTES
        return None

    # -- one item -------------------------------------------------------------------

    def _get_item(self, server: str, service: str) -> Optional[str]:
        backend = self._keyring()
        try:
            value = backend.get_password(service, ACCOUNT)
        except Exception as exc:
            raise _translate(exc, "read", server, backend) from None
        return None if value is None else str(value)

    def _set_item(self, server: str, service: str, value: str) -> None:
        if self._lean():
            try:
                with secret_service.SecretServiceClient() as client:
                    client.set(service, ACCOUNT, value)
                    return
            except secret_service.Unavailable:
                pass
        backend = self._keyring()
        try:
            backend.set_password(service, ACCOUNT, value)
        except Exception as exc:
            if _refused_for_size(exc):
                raise _TooLarge from None
            raise _translate(exc, "store", server, backend) from None

    def _del_item(self, server: str, service: str) -> None:
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
