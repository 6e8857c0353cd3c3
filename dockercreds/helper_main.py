"""The ``docker-credential-keyring`` program: a docker credential helper on the OS keyring.

Byte-compatible with the Go helpers (docker-credential-helpers ``credentials.Serve``)::

    docker-credential-keyring store     stdin {"ServerURL":..,"Username":..,"Secret":..}
    docker-credential-keyring get       stdin the server URL; prints the JSON + newline
    docker-credential-keyring erase     stdin the server URL (a missing entry is fine)
    docker-credential-keyring list      prints {"<server>":"<username>",...} + newline
    docker-credential-keyring version   prints "<Name> (<Package>) <Version>"

Errors are one line on stdout with exit status 1, never a traceback. ``list`` reads only
the secret-free index; ``get`` on Linux talks to the Secret Service directly (see
:mod:`dockercreds.keyring_store`), so a call costs a few tens of milliseconds.
"""

from __future__ import annotations

import io
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import IO, Any, Optional, Sequence

__all__ = ["NAME", "PACKAGE", "main", "run"]

NAME = "docker-credential-keyring"
#: Mirrors the Go helpers' ``credentials.Package`` (their module path).
PACKAGE = "github.com/dockercreds/dockercreds"
USAGE = f"Usage: {NAME} <store|get|erase|list|version>"
#: The most read from stdin (bytes): a server URL, or one credentials message.
MAX_INPUT = 1024 * 1024


def _read_all(stdin: Optional[IO[Any]]) -> str:
    if stdin is None:
        return ""
    stream = getattr(stdin, "buffer", None) if isinstance(stdin, io.TextIOBase) else stdin
    data = (stream or stdin).read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        mib = MAX_INPUT // (1024 * 1024)
        raise _Fail(f"{NAME}: input larger than {mib} MiB: not a helper message")
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return str(data)


def _write(stdout: IO[Any], text: str) -> None:
    _write_bytes(stdout, text.encode("utf-8"))


def _write_bytes(stdout: IO[Any], data: bytes) -> None:
    if isinstance(stdout, io.TextIOBase):
        binary = getattr(stdout, "buffer", None)
        if binary is None:
            stdout.write(data.decode("utf-8"))
            return
        stdout.flush()
        binary.write(data)
        binary.flush()
        return
    stdout.write(data)


def _version() -> str:
    from . import __version__

    return f"{NAME} ({PACKAGE}) {__version__}"


def _handle(action: str, stdin: IO[Any], stdout: IO[Any]) -> None:
    if action == "list":  # the index only: neither keyring nor JSON parsing is needed
        from .keyring_index import KeyringIndex

        _write_bytes(stdout, KeyringIndex().list_output())
        return

    data = _read_all(stdin)
    if action == "get":
        fast = _fast_get(data.strip())
        if fast == b"":
            from .protocol import ERR_NOT_FOUND

            raise _Fail(ERR_NOT_FOUND)
        if fast is not None:
            _write_bytes(stdout, fast)
            return

    from .keyring_store import KeyringStore
    from .protocol import (
        ERR_MISSING_SERVER_URL,
        ERR_MISSING_USERNAME,
        ERR_NOT_FOUND,
        ProtocolError,
        decode_credentials,
        encode_credentials,
    )

    if action == "store":
        try:
            entry = decode_credentials(data)
        except ProtocolError as exc:
            raise _Fail(str(exc)) from None
        if not entry.server_url:
            raise _Fail(ERR_MISSING_SERVER_URL)
        if not entry.username:
            raise _Fail(ERR_MISSING_USERNAME)
        KeyringStore().store(entry.server_url, entry.username, entry.secret)
        return
    server = data.strip()
    if not server:
        raise _Fail(ERR_MISSING_SERVER_URL)
    store = KeyringStore()
    if action == "erase":
        store.erase(server)
        return
    creds = store.get(server)
    if creds is None:
        raise _Fail(ERR_NOT_FOUND)
    username, secret = creds.helper_pair()
    _write(stdout, encode_credentials(server, username, secret) + "\n")


def _fast_get(server: str) -> Optional[bytes]:
    """``get`` straight from the Secret Service: the stored item is already the answer.

    The keyring item's secret is the Go-JSON ``{"ServerURL":..,"Username":..,"Secret":..}``
    written by ``store``; for a plain server name it is byte for byte what ``get`` prints,
    so no JSON is parsed. ``b""``: not found. None: take the general path.
    """
    if not server or not server.isascii() or not server.isprintable():
        return None
    if any(ch in server for ch in '"\\<>&'):
        return None
    from . import secret_service

    if not secret_service.usable():
        return None
    from .keyring_index import ACCOUNT, service_name

    try:
        with secret_service.SecretServiceClient() as client:
            payload = client.get(service_name(server), ACCOUNT)
    except secret_service.Unavailable:
        return None
    if payload is None:
        return b""
    if payload.startswith('{"ServerURL":"' + server + '","Username":"') and payload.endswith(
        '"}'
    ):
        return (payload + "\n").encode("utf-8")
    return None


class _Fail(Exception):
    """A protocol error: its text is printed as is."""


def run(args: Sequence[str], stdin: IO[Any], stdout: IO[Any]) -> int:
    """Run the helper with ``args`` (without the program name); returns the exit status."""
    args = list(args)
    if len(args) != 1:
        _write(stdout, USAGE + "\n")
        return 1
    action = args[0]
    if action in ("-v", "--version", "version"):
        _write(stdout, _version() + "\n")
        return 0
    if action in ("-h", "--help"):
        _write(stdout, USAGE + "\n")
        return 0
    if action not in ("store", "get", "erase", "list"):
        shown = action.encode("utf-8", "backslashreplace").decode("utf-8")  # argv may be bytes
        _write(stdout, f"{NAME}: unknown action: {shown}\n")
        return 1
    try:
        _handle(action, stdin, stdout)
    except _Fail as exc:
        _write(stdout, f"{exc}\n")
        return 1
    except Exception as exc:
        _write(stdout, _one_line(exc) + "\n")
        return 1
    return 0


def _one_line(exc: BaseException) -> str:
    from .errors import DockerCredsError

    if isinstance(exc, DockerCredsError):
        from .errors import one_line

        text = one_line(str(exc))
        return text or type(exc).__name__
    # Unexpected: do not print the text (it could carry input), only the kind.
    return f"{NAME}: internal error ({type(exc).__name__}); please report it"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    try:
        return run(args, sys.stdin, sys.stdout)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the last resort, outside run()'s own guard: never a traceback
        try:
            _write(sys.stdout, _one_line(exc) + "\n")
        except Exception:  # noqa: S110 - stdout itself is gone; the status still says it
            pass
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
