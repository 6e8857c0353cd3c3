# ruff: noqa: PTH110, PTH111, PTH118 -- os.path, not pathlib: this is the helper's hot path.
"""A lean Secret Service client: the fast path of the keyring store on Linux.

``import keyring`` costs about 100 ms (its dependencies pull in urllib, http and email;
backend discovery runs ``ldconfig`` and ``gcc``), more than a whole call of the Go
``docker-credential-secretservice``. This module talks to the Secret Service
(``org.freedesktop.secrets`` on the D-Bus session bus) through a minimal built-in D-Bus
client (unix socket, AUTH EXTERNAL; not ``jeepney``, whose imports cost ~6 ms) and reads
and writes items **identical** to those of keyring's ``SecretService`` backend:

* the default collection (``/org/freedesktop/secrets/aliases/default``);
* attributes ``{"service": S, "username": U, "application": "Python keyring library"}``;
* label ``Password for 'U' on 'S'``; secret ``text/plain`` UTF-8; replace on store.

So ``keyring.get_password(S, U)`` sees what this module wrote and the other way round.
Transfers use the ``plain`` session algorithm (the bus is the user's own session bus).

:func:`usable` decides when the fast path applies (Linux, a session bus, the keyring
library not pinned to another backend). Anything unusual (a locked collection, a
prompt, a D-Bus error) raises :class:`Unavailable` and the caller goes through the
keyring library, which handles prompts and reports errors.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Dict, List, Mapping, Optional, Tuple

__all__ = ["APPLICATION", "SecretServiceClient", "Unavailable", "usable"]

#: keyring.backends.SecretService.Keyring.appid
APPLICATION = "Python keyring library"
#: The keyring backend whose items this module reads and writes.
KEYRING_BACKEND = "keyring.backends.SecretService.Keyring"

_BUS_NAME = "org.freedesktop.secrets"
_SERVICE_PATH = "/org/freedesktop/secrets"
_DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
_PREFIX = "org.freedesktop.Secret."
_TIMEOUT = 15.0  # seconds per D-Bus call
_MAX_MESSAGE = 128 * 1024 * 1024  # the D-Bus specification's largest message


class Unavailable(Exception):
    """The fast path cannot serve this call; use the keyring library instead."""


def _keyring_config_file(environ: Mapping[str, str]) -> str:
    # keyring.util.platform_.config_root() on Linux
    root = environ.get("XDG_CONFIG_HOME") or os.path.join(
        os.path.expanduser("~"), ".config"
    )
    return os.path.join(root, "python_keyring", "keyringrc.cfg")


def usable(environ: Optional[Mapping[str, str]] = None) -> bool:
    """True when keyring would pick its SecretService backend and the fast path applies.

    Conditions: Linux; ``DBUS_SESSION_BUS_ADDRESS`` set; ``PYTHON_KEYRING_BACKEND`` unset
    or naming the SecretService backend; no keyring config file
    (``$XDG_CONFIG_HOME/python_keyring/keyringrc.cfg``); not a KDE session (keyring
    prefers KWallet there); ``DOCKERCREDS_KEYRING_LEAN`` not ``0``.
    """
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return False
    if env.get("DOCKERCREDS_KEYRING_LEAN", "1").strip() == "0":
        return False
    if not env.get("DBUS_SESSION_BUS_ADDRESS"):
        return False
    pinned = env.get("PYTHON_KEYRING_BACKEND", "").strip()
    if pinned and pinned != KEYRING_BACKEND:
        return False
    if "KDE" in env.get("XDG_CURRENT_DESKTOP", "").upper():
        return False
    return not os.path.exists(_keyring_config_file(env))


def label_for(service: str, username: str) -> str:
    """The item label keyring's SecretService backend writes."""
    return f"Password for '{username}' on '{service}'"


def attributes_for(service: str, username: str) -> Dict[str, str]:
    """The item attributes keyring's SecretService backend writes."""
    return {"username": username, "service": service, "application": APPLICATION}


# --------------------------------------------------------------------------- D-Bus wire
# A minimal D-Bus client (little-endian, AUTH EXTERNAL, unix sockets): only what the
# Secret Service calls below need. jeepney would cost ~6 ms of imports (typing, re).

_ALIGN = {"y": 1, "b": 4, "u": 4, "i": 4, "s": 4, "o": 4, "g": 1, "v": 1, "a": 4, "(": 8, "{": 8}


def _split_type(sig: str, i: int = 0) -> int:
    """Index just past the single complete type starting at sig[i]."""
    c = sig[i]
    if c == "a":
        return _split_type(sig, i + 1)
    if c in "({":
        close = ")" if c == "(" else "}"
        j = i + 1
        while sig[j] != close:
            j = _split_type(sig, j)
        return j + 1
    return i + 1


def _types(sig: str) -> List[str]:
    out, i = [], 0
    while i < len(sig):
        j = _split_type(sig, i)
        out.append(sig[i:j])
        i = j
    return out


class _Writer:
    def __init__(self) -> None:
        self.buf = bytearray()

    def pad(self, n: int) -> None:
        self.buf += b"\0" * (-len(self.buf) % n)

    def write(self, sig: str, value: Any) -> None:
        import struct

        c = sig[0]
        self.pad(_ALIGN[c])
        if c == "y":
            self.buf.append(value)
        elif c in "bu":
            self.buf += struct.pack("<I", int(value))
        elif c in "so":
            data = value.encode("utf-8")
            self.buf += struct.pack("<I", len(data)) + data + b"\0"
        elif c == "g":
            data = value.encode("ascii")
            self.buf += bytes((len(data),)) + data + b"\0"
        elif c == "v":
            vsig, inner = value
            self.write("g", vsig)
            self.write(vsig, inner)
        elif c == "a":
            elem = sig[1:]
            at = len(self.buf)
            self.buf += b"\0\0\0\0"
            self.pad(_ALIGN[elem[0]])
            start = len(self.buf)
            if elem == "y":
                self.buf += bytes(value)
            elif elem[0] == "{":
                for item in value.items():
                    self.write(elem, item)
            else:
                for item in value:
                    self.write(elem, item)
            self.buf[at : at + 4] = struct.pack("<I", len(self.buf) - start)
        elif c in "({":
            for t, item in zip(_types(sig[1:-1]), value):
                self.write(t, item)
        else:  # pragma: no cover - only the signatures used in this module
            raise Unavailable(f"cannot marshal D-Bus type {sig!r}")


class _Reader:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def align(self, n: int) -> None:
        self.pos += -self.pos % n

    def read(self, sig: str) -> Any:
        import struct

        c = sig[0]
        self.align(_ALIGN.get(c, 1))
        d = self.data
        if c == "y":
            self.pos += 1
            return d[self.pos - 1]
        if c in "bui":
            (v,) = struct.unpack_from("<i" if c == "i" else "<I", d, self.pos)
            self.pos += 4
            return bool(v) if c == "b" else v
        if c in "so":
            (n,) = struct.unpack_from("<I", d, self.pos)
            start = self.pos + 4
            self.pos = start + n + 1
            return d[start : start + n].decode("utf-8")
        if c == "g":
            n = d[self.pos]
            self.pos += n + 2
            return d[self.pos - n - 1 : self.pos - 1].decode("ascii")
        if c == "v":
            vsig = self.read("g")
            return self.read(vsig)
        if c == "a":
            (n,) = struct.unpack_from("<I", d, self.pos)
            self.pos += 4
            elem = sig[1:]
            self.align(_ALIGN.get(elem[0], 1))
            end = self.pos + n
            if elem == "y":
                self.pos = end
                return bytes(d[end - n : end])
            items = []
            while self.pos < end:
                items.append(self.read(elem))
            return dict(items) if elem[0] == "{" else items
        if c in "({":
            return tuple(self.read(t) for t in _types(sig[1:-1]))
        raise Unavailable(f"cannot read D-Bus type {sig!r}")  # pragma: no cover


def _unescape(value: str) -> str:
    if "%" not in value:
        return value
    from urllib.parse import unquote  # costs ~3 ms of imports: only for %-escapes (rare)

    return unquote(value)


def _bus_socket_address(address: str) -> Any:
    """The first unix socket address in a D-Bus address string."""
    for entry in address.split(";"):
        transport, _, params = entry.partition(":")
        if transport != "unix":
            continue
        kv = dict(p.partition("=")[::2] for p in params.split(",") if p)
        if "path" in kv:
            return _unescape(kv["path"])
        if "abstract" in kv:
            return "\0" + _unescape(kv["abstract"])
    raise Unavailable(f"unsupported D-Bus address {address!r}")


class _Bus:
    """A blocking connection to the session bus.

    Calls can be pipelined: :meth:`send` returns the serial, :meth:`reply` waits for
    that call's answer (answers to other calls are kept until asked for). ``Hello`` is
    sent with the first call, not waited for. ``_socket``, not ``socket``: the wrapper
    module imports ``selectors`` and ``enum`` (~3 ms).
    """

    def __init__(self, address: str) -> None:
        import _socket

        self._serial = 0
        self._buf = b""
        self._replies: Dict[int, Tuple[int, Dict[int, Any], bytes]] = {}
        target = _bus_socket_address(address)
        self._sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        self._sock.settimeout(_TIMEOUT)
        try:
            self._sock.connect(target)
            uid = str(os.getuid()).encode().hex().encode()
            self._sock.sendall(b"\0AUTH EXTERNAL " + uid + b"\r\n")
            line = self._line()
            if not line.startswith(b"OK "):
                raise Unavailable("the D-Bus session bus refused authentication")
            self._pending = b"BEGIN\r\n" + self._message(
                "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello"
            )
        except BaseException:
            self._sock.close()
            raise

    def close(self) -> None:
        self._sock.close()

    def _line(self) -> bytes:
        while b"\r\n" not in self._buf:
            chunk = self._sock.recv(4096)
            if not chunk:
                raise Unavailable("the D-Bus session bus closed the connection")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\r\n")
        return line

    def _recv_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self._sock.recv(max(65536, n - len(self._buf)))
            if not chunk:
                raise Unavailable("the D-Bus session bus closed the connection")
            self._buf += chunk
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def _message(
        self, dest: str, path: str, interface: str, method: str, sig: str = "", *args: Any
    ) -> bytes:
        import struct

        self._serial += 1
        body = _Writer()
        for t, arg in zip(_types(sig), args):
            body.write(t, arg)
        fields = [(1, ("o", path)), (2, ("s", interface)), (3, ("s", method)), (6, ("s", dest))]
        if sig:
            fields.append((8, ("g", sig)))
        head = _Writer()
        head.buf += b"l\x01\x00\x01" + struct.pack("<II", len(body.buf), self._serial)
        head.write("a(yv)", fields)
        head.pad(8)
        return bytes(head.buf) + bytes(body.buf)

    def send(
        self, dest: str, path: str, interface: str, method: str, sig: str = "", *args: Any
    ) -> int:
        """Queue a method call; returns its serial (sent by the next :meth:`reply`)."""
        self._pending += self._message(dest, path, interface, method, sig, *args)
        return self._serial

    def reply(self, serial: int, what: str = "call") -> Tuple[Any, ...]:
        """The answer to call ``serial`` (an error answer raises :class:`Unavailable`)."""
        import struct

        if self._pending:
            data, self._pending = self._pending, b""
            self._sock.sendall(data)
        while serial not in self._replies:
            fixed = self._recv_exact(16)
            if fixed[0:1] != b"l":
                raise Unavailable("big-endian D-Bus messages are not supported")
            kind = fixed[1]
            body_len, _serial, fields_len = struct.unpack_from("<III", fixed, 4)
            if body_len + fields_len > _MAX_MESSAGE:
                raise Unavailable("the D-Bus session bus sent a message over 128 MiB")
            rest = self._recv_exact(fields_len + (-(16 + fields_len) % 8) + body_len)
            msg = fixed + rest
            if kind not in (2, 3):
                continue  # a signal or a call to us
            header = dict(_Reader(msg, 12).read("a(yv)"))
            self._replies[header.get(5, 0)] = (kind, header, msg[len(msg) - body_len :])
        kind, header, body = self._replies.pop(serial)
        if kind == 3:
            raise Unavailable(f"{what}: {header.get(4, 'error')}")
        reader = _Reader(body)
        return tuple(reader.read(t) for t in _types(header.get(8, "")))

    def call(
        self, dest: str, path: str, interface: str, method: str, sig: str = "", *args: Any
    ) -> Tuple[Any, ...]:
        serial = self.send(dest, path, interface, method, sig, *args)
        return self.reply(serial, f"{interface}.{method}")


# --------------------------------------------------------------------------- client


class SecretServiceClient:
    """One connection to the Secret Service on the session bus (use as a context manager)."""

    def __init__(self) -> None:
        address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        try:
            self._bus = _Bus(address)
        except Unavailable:
            raise
        except Exception as exc:
            raise Unavailable(f"cannot connect to the D-Bus session bus: {exc}") from None
        self._session: Optional[str] = None
        try:
            self._greet()
        except BaseException:
            self.close()
            raise

    def _greet(self) -> None:
        """Make the service know this connection before any call that needs it to.

        gnome-keyring-daemon (42 to 50 at least) records a new caller from an idle
        callback that the caller's first method call can overtake; when that call needs
        the record (``OpenSession``), the daemon aborts, and the desktop starts a new one
        with the login keyring **locked**. Short-lived callers racing each other (parallel
        ``docker pull`` calling the helper) hit it. So the first call on a connection is
        one that needs no record (the service's ``Collections`` property), and nothing
        else is sent until it is answered.
        """
        try:
            self._bus.call(
                _BUS_NAME,
                _SERVICE_PATH,
                "org.freedesktop.DBus.Properties",
                "Get",
                "ss",
                _PREFIX + "Service",
                "Collections",
            )
        except Unavailable:
            raise
        except Exception as exc:
            raise Unavailable(f"Properties.Get: {type(exc).__name__}") from None

    def __enter__(self) -> SecretServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:  # not contextlib.suppress: contextlib is not imported on the hot path
            self._bus.close()
        except Exception:  # noqa: S110 - closing a socket: nothing to report
            pass

    def _call(
        self, path: str, interface: str, method: str, signature: str = "", *body: Any
    ) -> Tuple[Any, ...]:
        try:
            return self._bus.call(_BUS_NAME, path, _PREFIX + interface, method, signature, *body)
        except Unavailable:
            raise
        except Exception as exc:
            raise Unavailable(f"{interface}.{method}: {type(exc).__name__}") from None

    def _send(self, path: str, interface: str, method: str, signature: str = "", *body: Any) -> int:
        try:
            return self._bus.send(_BUS_NAME, path, _PREFIX + interface, method, signature, *body)
        except Exception as exc:
            raise Unavailable(f"{interface}.{method}: {type(exc).__name__}") from None

    def _reply(self, serial: int, interface: str, method: str) -> Tuple[Any, ...]:
        try:
            return self._bus.reply(serial, f"{interface}.{method}")
        except Unavailable:
            raise
        except Exception as exc:
            raise Unavailable(f"{interface}.{method}: {type(exc).__name__}") from None

    def _open_session(self) -> str:
        if self._session is None:
            _output, path = self._call(
                _SERVICE_PATH, "Service", "OpenSession", "sv", "plain", ("s", "")
            )
            self._session = str(path)
        return self._session

    def _search(self, service: str, username: str) -> List[str]:
        query = {"username": username, "service": service}
        (paths,) = self._call(_DEFAULT_COLLECTION, "Collection", "SearchItems", "a{ss}", query)
        return [str(p) for p in paths]

    def get(self, service: str, username: str) -> Optional[str]:
        """The secret of the first matching item, or None.

        Two round trips after the greeting (:meth:`_greet`, sent with the bus's Hello):
        OpenSession and SearchItems go out together, then GetSecret.
        """
        opening = None
        if self._session is None:
            opening = self._send(_SERVICE_PATH, "Service", "OpenSession", "sv", "plain", ("s", ""))
        query = {"username": username, "service": service}
        searching = self._send(_DEFAULT_COLLECTION, "Collection", "SearchItems", "a{ss}", query)
        if opening is not None:
            _output, path = self._reply(opening, "Service", "OpenSession")
            self._session = str(path)
        (paths,) = self._reply(searching, "Collection", "SearchItems")
        if not paths:
            return None
        ((_session, _params, value, _ctype),) = self._call(
            str(paths[0]), "Item", "GetSecret", "o", self._session
        )
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise Unavailable("the item's secret is not UTF-8") from None

    def set(self, service: str, username: str, secret: str) -> None:
        """Create or replace the item, as keyring's set_password does."""
        session = self._open_session()
        properties = {
            _PREFIX + "Item.Label": ("s", label_for(service, username)),
            _PREFIX + "Item.Attributes": ("a{ss}", attributes_for(service, username)),
        }
        item, prompt = self._call(
            _DEFAULT_COLLECTION,
            "Collection",
            "CreateItem",
            "a{sv}(oayays)b",
            properties,
            (session, b"", secret.encode("utf-8"), "text/plain"),
            True,
        )
        if len(str(item)) <= 1 or str(prompt) != "/":
            # A prompt is needed (locked collection): leave it to the keyring library.
            raise Unavailable("creating the item needs a prompt")

    def delete(self, service: str, username: str) -> bool:
        """Delete every matching item; False when there was none."""
        paths = self._search(service, username)
        for path in paths:
            (prompt,) = self._call(path, "Item", "Delete")
            if str(prompt) != "/":
                raise Unavailable("deleting the item needs a prompt")
        return bool(paths)
