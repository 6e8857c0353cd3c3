"""The lean Secret Service client: when it applies, its D-Bus wire code, its items."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

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
    """A get on a fresh connection: Hello, OpenSession and SearchItems in one write, then
    GetSecret (a miss needs no GetSecret)."""
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
