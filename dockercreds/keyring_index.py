# ruff: noqa: PTH111, PTH118 -- os.path, not pathlib:
# this module is on the hot path of docker-credential-keyring (pathlib costs ~3 ms).
"""The light half of the keyring store: item naming, and the index of servers.

Keyring items: service ``"dockercreds:" + server``, username ``"dockercreds"`` (see
:mod:`dockercreds.keyring_store`). The index maps server -> username, never a secret.

Keyrings cannot be enumerated portably, so ``list`` reads this file instead. Where it is:

* ``$DOCKERCREDS_KEYRING_INDEX`` when set;
* else ``$XDG_DATA_HOME/dockercreds/keyring-index.json`` (``~/.local/share/...``) on Linux,
  ``~/Library/Application Support/dockercreds/keyring-index.json`` on macOS,
  ``%LOCALAPPDATA%\\dockercreds\\keyring-index.json`` on Windows.

The content is exactly the helper protocol's ``list`` output (Go JSON, keys sorted) plus
a newline, so ``docker-credential-keyring list`` copies it without parsing JSON. Changes
happen under an exclusive lock on the sidecar file ``<index>.lock`` (``fcntl.flock``;
``msvcrt.locking`` on Windows; waiting at most ``$DOCKERCREDS_LOCK_TIMEOUT`` seconds,
default 30, as for the config lock); the file is replaced atomically (temp file in the same
directory, fsync, rename, directory fsync). New directories are 0700, files 0600. Both
come from :mod:`dockercreds.fileio`, imported only when writing.

This module imports only ``os`` and ``sys`` at load time: it is on the helper's hot path.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Dict, Mapping, Optional

__all__ = [
    "ACCOUNT",
    "INDEX_ENV",
    "SERVICE_PREFIX",
    "KeyringIndex",
    "default_index_path",
    "service_name",
]

INDEX_ENV = "DOCKERCREDS_KEYRING_INDEX"
#: Keyring service name prefix; the server follows it.
SERVICE_PREFIX = "dockercreds:"
#: The fixed keyring username (account) of every item.
ACCOUNT = "dockercreds"
_NAME = "keyring-index.json"
#: The largest index read (bytes); a server name and a username per entry.
MAX_INDEX_BYTES = 16 * 1024 * 1024


def service_name(server: str) -> str:
    """The keyring service name under which ``server``'s credentials are kept."""
    return SERVICE_PREFIX + server


def default_index_path(environ: Optional[Mapping[str, str]] = None) -> str:
    """Where the index lives by default (see the module docstring)."""
    env = os.environ if environ is None else environ
    explicit = env.get(INDEX_ENV)
    if explicit:
        return explicit
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
    elif sys.platform == "darwin":
        base = os.path.join(home, "Library", "Application Support")
    else:
        base = env.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(base, "dockercreds", _NAME)


def _error(message: str) -> Exception:
    from .errors import KeyringError

    return KeyringError(message)


class KeyringIndex:
    """server -> username in one file; see the module docstring."""

    def __init__(self, path: Optional[str] = None) -> None:
        self.path = os.fspath(path) if path else default_index_path()
        self.lock_path = self.path + ".lock"

    def __repr__(self) -> str:
        return f"<KeyringIndex {self.path!r}>"

    def read_raw(self) -> bytes:
        """The file's bytes (``b""`` when it does not exist).

        Anything but a regular file (a FIFO never blocks) or a file over
        :data:`MAX_INDEX_BYTES` is an error naming it.
        """
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.path, flags | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise _error(f"cannot read the keyring index {self.path}: {exc.strerror}") from None
        try:
            mode = os.fstat(fd).st_mode
            if mode & 0o170000 != 0o100000:  # stat.S_ISREG without importing stat
                from .fileio import file_kind

                raise _error(
                    f"the keyring index {self.path} is {file_kind(mode)}, not a regular file:"
                    " remove it (it holds no secrets) or set DOCKERCREDS_KEYRING_INDEX"
                )
            with open(fd, "rb", closefd=False) as fh:
                data = fh.read(MAX_INDEX_BYTES + 1)
        except OSError as exc:
            raise _error(f"cannot read the keyring index {self.path}: {exc.strerror}") from None
        finally:
            os.close(fd)
        if len(data) > MAX_INDEX_BYTES:
            raise _error(
                f"the keyring index {self.path} is larger than"
                f" {MAX_INDEX_BYTES // (1024 * 1024)} MiB: it is not ours; remove it or set"
                " DOCKERCREDS_KEYRING_INDEX"
            )
        return data

    def read(self) -> Dict[str, str]:
        """The index as a dict; an invalid file is an error naming it."""
        import json

        data = self.read_raw()
        if not data.strip():
            return {}
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError):  # not JSON, a JSON limit, not UTF-8
            obj = None
        if not isinstance(obj, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in obj.items()
        ):
            raise _error(
                f"the keyring index {self.path} is not a JSON object of server -> username: "
                "fix or remove it (it holds no secrets; a server missing from it is listed "
                "again once stored again)"
            )
        return dict(obj)

    def list_output(self) -> bytes:
        """The helper's ``list`` output: the file as is when it looks right, else parsed."""
        data = self.read_raw().strip()
        if not data:
            return b"{}\n"
        if data.startswith(b"{") and data.endswith(b"}") and b"\n" not in data:
            return data + b"\n"
        from .protocol import encode_list

        return (encode_list(self.read()) + "\n").encode("utf-8")

    def locked(self, timeout: Optional[float] = None) -> _Lock:
        """The exclusive lock, as a context manager.

        Waits at most ``timeout`` seconds (default: ``$DOCKERCREDS_LOCK_TIMEOUT``, else 30),
        then raises :class:`dockercreds.errors.KeyringError`.
        """
        return _Lock(self.lock_path, timeout)

    def write(self, servers: Mapping[str, str]) -> None:
        """Replace the file atomically; call only while holding :meth:`locked`."""
        from .fileio import NotRegularFile, atomic_write
        from .protocol import encode_list

        body = (encode_list(servers) + "\n").encode("utf-8")
        try:
            atomic_write(self.path, body, mode=0o600, temp_prefix=".keyring-index.")
        except NotRegularFile as exc:
            raise _error(
                f"refusing to replace the keyring index {self.path}: it {exc.strerror}, not a"
                " regular file; remove it or set DOCKERCREDS_KEYRING_INDEX"
            ) from None
        except OSError as exc:
            raise _error(
                f"cannot write the keyring index {self.path}: {exc.strerror}; "
                "check the directory's permissions and free space"
            ) from None

    def update(self, server: str, username: Optional[str]) -> None:
        """Set (or with ``None`` remove) one entry; call only while holding :meth:`locked`."""
        servers = self.read()
        if username is None:
            if server not in servers:
                return
            del servers[server]
        else:
            if servers.get(server) == username:
                return
            servers[server] = username
        self.write(servers)


class _Lock:
    """:func:`dockercreds.fileio.exclusive_lock` (bounded wait) with this module's errors."""

    def __init__(self, path: str, timeout: Optional[float] = None) -> None:
        self.path = path
        self.timeout = timeout
        self._lock: Any = None

    def __enter__(self) -> _Lock:
        from .fileio import (
            LOCK_TIMEOUT_ENV,
            LockFailed,
            LockTimeout,
            NotRegularFile,
            exclusive_lock,
            lock_timeout,
        )

        limit = self.timeout
        if limit is None:
            try:
                limit = lock_timeout()
            except ValueError as exc:
                raise _error(str(exc)) from None
        lock = exclusive_lock(self.path, timeout=limit)
        try:
            lock.__enter__()
        except LockTimeout:
            raise _error(
                f"timed out after {limit:g}s waiting for the keyring index lock {self.path}"
                " (another process is storing or erasing credentials; retry, or raise"
                f" {LOCK_TIMEOUT_ENV})"
            ) from None
        except NotRegularFile as exc:
            raise _error(
                f"refusing to use the keyring index lock {self.path}: it {exc.strerror}, not"
                " a regular file (symbolic links are not followed there); remove it and retry"
            ) from None
        except LockFailed as exc:
            raise _error(f"cannot lock the keyring index {self.path}: {exc.strerror}") from None
        except OSError as exc:
            raise _error(
                f"cannot create the keyring index lock {self.path}: {exc.strerror}"
            ) from None
        self._lock = lock
        return self

    def __exit__(self, *exc: object) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.__exit__(*exc)
