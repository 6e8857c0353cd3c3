"""The lean Secret Service client: when it applies, its D-Bus wire code, its items."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockercreds import secret_service
from dockercreds.secret_service import (
    SecretServiceClient,
    Unavailable,
    _bus_socket_address,
    _Reader,
    _types,
    _Writer,
    attributes_for,
    label_for,
    usable,
)
from tests.peers import SecretService

BUS = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/0/bus"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        (BUS, True),
        ({**BUS, "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"}, True),
        ({**BUS, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}, False),
        ({**BUS, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}, False),
        ({**BUS, "XDG_CURRENT_DESKTOP": "KDE"}, False),
        ({**BUS, "XDG_CURRENT_DESKTOP": "ubuntu:GNOME"}, True),
        ({**BUS, "DOCKERCREDS_KEYRING_LEAN": "0"}, False),
        ({**BUS, "DOCKERCREDS_KEYRING_LEAN": "1"}, True),
    ],
)
def test_usable(env: Dict[str, str], expected: bool, tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), **env}
    assert usable(env) is expected


def test_keyring_config_file_means_keyring_decides(tmp_path: Path) -> None:
    cfg = tmp_path / "python_keyring" / "keyringrc.cfg"
    cfg.parent.mkdir()
    cfg.write_text("[backend]\ndefault-keyring=keyring.backends.null.Keyring\n")
    assert not usable({**BUS, "XDG_CONFIG_HOME": str(tmp_path)})


def test_not_on_other_platforms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(secret_service.sys, "platform", "darwin")
    assert not usable({**BUS, "XDG_CONFIG_HOME": str(tmp_path)})


def test_items_match_keyrings_secretservice_backend() -> None:
    """Same attributes and label as keyring.backends.SecretService.Keyring.set_password."""
    import inspect

    from keyring.backends.SecretService import Keyring

    backend = Keyring()
    assert attributes_for("svc", "user") == backend._query("svc", "user", application=backend.appid)
    source = inspect.getsource(Keyring.set_password)
    assert "f\"Password for '{username}' on '{service}'\"" in source
    assert label_for("svc", "user") == "Password for 'user' on 'svc'"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("unix:path=/tmp/bus", "/tmp/bus"),
        ("unix:path=/tmp/bus,guid=abc", "/tmp/bus"),
        ("unix:abstract=/tmp/dbus-x,guid=1", "\0/tmp/dbus-x"),
        ("tcp:host=localhost,port=1;unix:path=/a%2cb", "/a,b"),
    ],
)
def test_bus_address(address: str, expected: str) -> None:
    assert _bus_socket_address(address) == expected


@pytest.mark.parametrize("address", ["", "tcp:host=localhost,port=5", "unix:tmpdir=/tmp"])
def test_unsupported_bus_address(address: str) -> None:
    with pytest.raises(Unavailable):
        _bus_socket_address(address)


def test_types_split() -> None:
    assert _types("a{sv}(oayays)b") == ["a{sv}", "(oayays)", "b"]
    assert _types("") == []


_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"), max_size=40)


@given(
    attrs=st.dictionaries(_text, _text, max_size=5),
    secret=st.binary(max_size=300),
    flag=st.booleans(),
    paths=st.lists(st.sampled_from(["/", "/a/b", "/org/x_1"]), max_size=4),
)
def test_marshal_round_trip(
    attrs: Dict[str, str], secret: bytes, flag: bool, paths: list[str]
) -> None:
    sig = "a{ss}(oayays)bvaoy"
    values: Any = [
        attrs, ("/s", b"", secret, "text/plain"), flag, ("a{ss}", attrs), paths, 7,
    ]
    writer = _Writer()
    writer.buf += b"x"  # an odd offset exercises alignment
    for t, v in zip(_types(sig), values):
        writer.write(t, v)
    reader = _Reader(bytes(writer.buf), 1)
    got = [reader.read(t) for t in _types(sig)]
    assert got == [attrs, ("/s", b"", secret, "text/plain"), flag, attrs, paths, 7]
    assert reader.pos == len(writer.buf)


def test_no_bus_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/none")
    with pytest.raises(Unavailable):
        SecretServiceClient()


@pytest.mark.peer
def test_client_against_gnome_keyring(use_secret_service: SecretService) -> None:
    with SecretServiceClient() as client:
        assert client.get("dcss-test", "u") is None
        client.set("dcss-test", "u", "first ✓")
        client.set("dcss-test", "u", "second " + "x" * 70_000)  # replaces
        assert client.get("dcss-test", "u") == "second " + "x" * 70_000
        assert client.delete("dcss-test", "u") is True
        assert client.delete("dcss-test", "u") is False
        assert client.get("dcss-test", "u") is None


@pytest.mark.peer
def test_dbus_error_is_unavailable(use_secret_service: SecretService) -> None:
    with SecretServiceClient() as client, pytest.raises(Unavailable) as info:
        client._call("/org/freedesktop/secrets/collection/nope", "Item", "GetSecret", "o", "/")
    assert "GetSecret" in str(info.value)


class _CountingSocket:
    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.sends = 0

    def sendall(self, data: bytes) -> None:
        self.sends += 1
        self.sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


@pytest.mark.peer
@pytest.mark.parametrize(("stored", "round_trips"), [(True, 2), (False, 1)])
def test_get_round_trips(
    use_secret_service: SecretService, stored: bool, round_trips: int
) -> None:
    """A get once the connection is greeted: OpenSession and SearchItems in one write,
    then GetSecret (a miss needs no GetSecret)."""
    with SecretServiceClient() as client:
        client.delete("dcss-rt", "u")
        if stored:
            client.set("dcss-rt", "u", "value")
    try:
        with SecretServiceClient() as client:
            counting = _CountingSocket(client._bus._sock)
            client._bus._sock = counting
            assert client.get("dcss-rt", "u") == ("value" if stored else None)
            assert counting.sends == round_trips
    finally:
        with SecretServiceClient() as client:
            client.delete("dcss-rt", "u")


# --------------------------------------------------------------------------- a fake bus


class FakeBus:
    """A unix-socket D-Bus peer that answers the lean client's calls and records them.

    ``calls`` lists ``(member, bytes the client had sent but the bus not yet read)``;
    ``answers`` maps a member to ``(signature, args)`` or to an error name.
    """

    def __init__(self, path: Path, answers: Dict[str, Any]) -> None:
        import socket
        import threading

        self.answers = answers
        self.calls: List[Tuple[str, str, int]] = []
        self.delay = 0.0
        self._srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._srv.bind(str(path))
        self._srv.listen(1)
        self.address = f"unix:path={path}"
        self.error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import select
        import struct
        import time

        try:
            conn, _ = self._srv.accept()
            conn.settimeout(10)
            buf = b""
            while b"\r\n" not in buf:
                buf += conn.recv(4096)
            conn.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")
            buf = buf.partition(b"\r\n")[2]
            while b"BEGIN\r\n" not in buf:
                buf += conn.recv(4096)
            buf = buf.partition(b"BEGIN\r\n")[2]
            while True:
                while len(buf) < 16:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                body_len, serial, fields_len = struct.unpack_from("<III", buf, 4)
                total = 16 + fields_len + (-(16 + fields_len) % 8) + body_len
                while len(buf) < total:
                    buf += conn.recv(65536)
                msg, buf = buf[:total], buf[total:]
                header = dict(_Reader(msg, 12).read("a(yv)"))
                member, path = header.get(3, ""), header.get(1, "")
                if self.delay:
                    time.sleep(self.delay)
                    while select.select([conn], [], [], 0)[0]:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        buf += chunk
                self.calls.append((member, path, len(buf)))
                conn.sendall(self._answer(serial, self.answers.get(member, "org.test.Error")))
        except BaseException as exc:  # reported by the test through .error
            self.error = exc

    @staticmethod
    def _answer(serial: int, answer: Any) -> bytes:
        import struct

        body = _Writer()
        if isinstance(answer, str):
            kind, fields = 3, [(4, ("s", answer)), (5, ("u", serial))]
        else:
            sig, args = answer
            kind, fields = 2, [(5, ("u", serial)), (8, ("g", sig))]
            for t, arg in zip(_types(sig), args):
                body.write(t, arg)
        head = _Writer()
        head.buf += bytes((ord("l"), kind, 0, 1)) + struct.pack("<II", len(body.buf), 1)
        head.write("a(yv)", fields)
        head.pad(8)
        return bytes(head.buf) + bytes(body.buf)

    def close(self) -> None:
        self._srv.close()


ANSWERS: Dict[str, Any] = {
    "Hello": ("s", [":1.7"]),
    "Get": ("v", [("ao", ["/org/freedesktop/secrets/collection/login"])]),
    "OpenSession": ("vo", [("s", ""), "/org/freedesktop/secrets/session/s1"]),
    "SearchItems": ("ao", [[]]),
    "CreateItem": ("oo", ["/org/freedesktop/secrets/collection/login/1", "/"]),
}


@pytest.fixture
def fake_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBus]:
    bus = FakeBus(tmp_path / "bus", dict(ANSWERS))
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    yield bus
    bus.close()
    assert bus.error is None, bus.error


@pytest.mark.parametrize("action", ["get", "set", "delete"])
def test_first_call_needs_no_client_record(fake_bus: FakeBus, action: str) -> None:
    """gnome-keyring aborts when a connection's first call needs the client record it
    creates from an idle callback (OpenSession, SearchItems): the lean client's first
    call is the Collections property, and nothing else goes out before its answer."""
    fake_bus.delay = 0.2  # time for anything pipelined behind the greeting to arrive
    with SecretServiceClient() as client:
        fake_bus.delay = 0.0
        if action == "get":
            assert client.get("s", "u") is None
        elif action == "set":
            client.set("s", "u", "secret")
        else:
            assert client.delete("s", "u") is False
    members = [member for member, _path, _pending in fake_bus.calls]
    assert members[:2] == ["Hello", "Get"]
    assert fake_bus.calls[1][1] == "/org/freedesktop/secrets"
    assert fake_bus.calls[1][2] == 0, "a call went out before the greeting was answered"
    assert members[2] in ("OpenSession", "SearchItems")


def test_greeting_refused_is_unavailable(fake_bus: FakeBus) -> None:
    fake_bus.answers["Get"] = "org.freedesktop.DBus.Error.ServiceUnknown"
    with pytest.raises(Unavailable, match=r"Properties\.Get"):
        SecretServiceClient()


def test_oversized_message_is_unavailable(fake_bus: FakeBus) -> None:
    """A bus claiming a body past the protocol's 128 MiB is refused before reading it."""
    import struct

    real = FakeBus._answer

    def huge(serial: int, answer: Any) -> bytes:
        data = bytearray(real(serial, answer))
        struct.pack_into("<I", data, 4, 200 * 1024 * 1024)
        return bytes(data)

    fake_bus._answer = huge  # type: ignore[method-assign]
    with pytest.raises(Unavailable, match="128 MiB"):
        SecretServiceClient()

