"""dockercreds.entry: the ``auth`` field codec (Go's StdEncoding) and AuthEntry."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Dict, List, Optional, Tuple

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dockercreds.entry import AuthEntry, b64decode, decode_auth, encode_auth
from dockercreds.errors import ConfigFormatError

WHERE = "config file /home/u/.docker/config.json"
PATH = "/home/u/.docker/config.json"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def decode(value: str, key: str = "quay.io") -> Tuple[str, str]:
    return decode_auth(value, where=WHERE, key=key, path=PATH)


# --------------------------------------------------------------------------- encode_auth


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        ("user", "pass", "dXNlcjpwYXNz"),
        ("", "", "Og=="),
        ("a", "b", "YTpi"),
        ("user", "pa:ss", "dXNlcjpwYTpzcw=="),
        ("jürgen", "pässwörd", b64("jürgen:pässwörd".encode())),  # UTF-8
        ("<token>", "eyJhbGciOi", "PHRva2VuPjpleUpoYkdjaU9p"),
    ],
)
def test_encode_auth(username: str, password: str, expected: str) -> None:
    assert encode_auth(username, password) == expected


# --------------------------------------------------------------------------- decode_auth


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("dXNlcjpwYXNz", ("user", "pass")),
        (b64(b"user:pa:ss"), ("user", "pa:ss")),  # split at the first ':'
        (b64(b"user:"), ("user", "")),
        (b64(b"user::"), ("user", ":")),
        (b64("jürgen:pässwörd".encode()), ("jürgen", "pässwörd")),
        (b64(b"us\xe9r:p\xe9"), ("usér", "pé")),  # not UTF-8: Latin-1
        (b64(b"user:pass\x00"), ("user", "pass")),  # NULs around the password dropped
        (b64(b"user:\x00pass\x00\x00"), ("user", "pass")),
        (b64(b"user:pa\x00ss"), ("user", "pa\x00ss")),  # ... not inside it
        (b64(b"\x00user:pass"), ("\x00user", "pass")),
        ("dXNl\ncjpw\r\nYXNz", ("user", "pass")),  # line breaks ignored
        ("dXNlcjpwYXNz\n", ("user", "pass")),
        (b64(b"u:p w"), ("u", "p w")),
    ],
)
def test_decode_auth(value: str, expected: Tuple[str, str]) -> None:
    assert decode(value) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("not base64!", "is not valid base64"),
        ("dXNlcjpwYXNz=", "is not valid base64"),  # length not a multiple of 4
        ("dXNlcjpwYXN", "is not valid base64"),  # padding missing
        ("dXNl cjpwYXNz", "is not valid base64"),  # a space is not a line break
        ("dXNl\tcjpwYXNz", "is not valid base64"),
        ("dXNlcjpw-_Nz", "is not valid base64"),  # URL-safe alphabet
        ("YQ==YQ==", "is not valid base64"),  # data after padding
        ("====", "is not valid base64"),
        ("dXNlcg==", "has no ':' after decoding"),
        ("", "has no ':' after decoding"),
        (b64(b":pass"), "has an empty username after decoding"),
        (b64(b":"), "has an empty username after decoding"),
    ],
)
def test_decode_auth_errors(value: str, problem: str) -> None:
    key = "https://user:hunter2@quay.io/v1/"
    with pytest.raises(ConfigFormatError) as info:
        decode(value, key=key)
    message = str(info.value)
    assert message.startswith(f"{WHERE}: auths['https://***@quay.io/v1/'].auth {problem}")
    assert "hunter2" not in message
    assert "expected base64 of 'username:password'" in message
    assert info.value.path == PATH
    assert info.value.key == key


_NO_SURROGATES = st.characters(codec="utf-8")


@settings(max_examples=200, deadline=None)
@given(
    st.text(st.characters(codec="utf-8", exclude_characters=":"), min_size=1),
    st.text(_NO_SURROGATES),
)
@example("user", "pass")
@example("u", "\x00p:w\x00")
def test_round_trip(username: str, password: str) -> None:
    assert decode(encode_auth(username, password)) == (username, password.strip("\x00"))


@settings(max_examples=100, deadline=None)
@given(
    st.text(st.characters(codec="utf-8", exclude_characters=":"), min_size=1),
    st.text(_NO_SURROGATES),
    st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(["\n", "\r\n", "\r"]))),
)
def test_line_breaks_anywhere_are_ignored(
    username: str, password: str, breaks: List[Tuple[int, str]]
) -> None:
    value = encode_auth(username, password)
    for position, newline in breaks:
        at = position % (len(value) + 1)
        value = value[:at] + newline + value[at:]
    assert decode(value) == (username, password.strip("\x00"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_decode_auth_only_raises_config_format_error(value: str) -> None:
    try:
        username, _ = decode(value)
    except ConfigFormatError as exc:
        assert str(exc).startswith(f"{WHERE}: auths['quay.io'].auth ")
    else:
        assert username
        assert ":" not in username


# --------------------------------------------------------------------------- b64decode

#: Go's StdEncoding without line breaks: groups of 4, padding only at the end.
_STD = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_B64ISH = st.text(alphabet="AQYWZab09+/=-_ \n*\u00e9", max_size=16)


@settings(max_examples=250, deadline=None)
@given(st.one_of(_B64ISH, st.binary(max_size=24).map(b64)))
@example("YR==")  # non-zero padding bits: accepted, as Go's StdEncoding does
@example("")
def test_b64decode_is_std_encoding(value: str) -> None:
    got = b64decode(value)
    if _STD.fullmatch(value) is None:
        assert got is None
    else:
        assert got == base64.b64decode(value, validate=True)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_b64decode_round_trip(raw: bytes) -> None:
    assert b64decode(b64(raw)) == raw


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", b""),
        ("YQ==", b"a"),
        ("YR==", b"a"),
        ("YWE=", b"aa"),
        ("YWJj", b"abc"),
        ("YQ=", None),
        ("YQ", None),
        ("A===", None),
        ("AB=A", None),
        ("YWJj\n", None),  # b64decode itself takes no line break
        ("YW Jj", None),
        ("-_-_", None),
    ],
)
def test_b64decode(value: str, expected: Optional[bytes]) -> None:
    assert b64decode(value) == expected
    if expected is not None:
        assert binascii.a2b_base64(value) == expected


# --------------------------------------------------------------------------- AuthEntry


def test_auth_entry_defaults() -> None:
    entry = AuthEntry("quay.io")
    assert tuple(entry) == ("quay.io", None, None, None, None, None)
    assert entry.is_empty


@pytest.mark.parametrize(
    ("fields", "empty"),
    [
        ({}, True),
        ({"email": "a@example.com"}, True),  # an email alone is no secret
        ({"username": ""}, True),
        ({"username": "alice"}, False),
        ({"password": "pw"}, False),
        ({"identity_token": "idt"}, False),
        ({"registry_token": "rt"}, False),
    ],
)
def test_auth_entry_is_empty(fields: Dict[str, str], empty: bool) -> None:
    assert AuthEntry("quay.io", **fields).is_empty is empty


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (AuthEntry("quay.io"), "<AuthEntry 'quay.io' username=None empty>"),
        (
            AuthEntry("quay.io", "alice", "Pw-31337", email="alice@example.com"),
            "<AuthEntry 'quay.io' username='alice' with secret>",
        ),
        (
            AuthEntry("https://bob:Pw-31337@quay.io/v1/", identity_token="IdT-424242"),
            "<AuthEntry 'https://***@quay.io/v1/' username=None with secret>",
        ),
        (
            AuthEntry("r.example.com?token=Rt-909090", registry_token="Rt-909090"),
            "<AuthEntry 'r.example.com?token=***' username=None with secret>",
        ),
    ],
)
def test_auth_entry_repr_hides_secrets(entry: AuthEntry, expected: str) -> None:
    assert repr(entry) == expected
    assert str(entry) == expected
    assert f"{entry}" == expected
    for secret in ("Pw-31337", "IdT-424242", "Rt-909090"):
        assert secret not in repr(entry)
