"""dockercreds.protocol: the helper wire format; secrets never shown, bad input typed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockercreds.protocol import (
    HelperCredentials,
    ProtocolError,
    decode_credentials,
    decode_list,
    encode_credentials,
)

SECRET = "S3CR3T-xyz"


@pytest.mark.parametrize("show", [repr, str, "{}".format, lambda v: f"{v!r}"])
def test_helper_credentials_text_hides_secret(show: object) -> None:
    entry = decode_credentials(encode_credentials("quay.io", "alice", SECRET))
    text = show(entry)  # type: ignore[operator]
    assert SECRET not in text
    assert "quay.io" in text
    assert "alice" in text
    assert entry.secret == SECRET  # the value itself is untouched
    assert tuple(entry) == ("quay.io", "alice", SECRET)


def test_helper_credentials_repr_says_when_empty() -> None:
    assert "empty" in repr(HelperCredentials("quay.io", "", ""))
    assert "hidden" in repr(HelperCredentials("quay.io", "alice", SECRET))


# --------------------------------------------------------------------------- hostile messages

HOSTILE = [
    ("[" * 100_000, "nested too deeply"),
    ('{"a":' * 100_000, "nested too deeply"),
    ('{"Username": ' + "1" * 5000 + "}", "'Username' is a number"),
    ('{"Secret": 1e400}', "'Secret' is a number"),
    ('{"Secret": NaN}', "holds NaN, which is not JSON"),
    ('{"Secret": -Infinity}', "holds -Infinity, which is not JSON"),
    ('{"Username": "\\udc80"}', "'Username' holds a lone surrogate (U+DC80"),
    ('{"serverurl": "a\\ud800"}', "'ServerURL' holds a lone surrogate (U+D800"),
    ('{"Secret": ["x"]}', "'Secret' is an array"),
    ('{"Secret": true}', "'Secret' is a boolean"),
    ("[]", "not a JSON object"),
]


@pytest.mark.parametrize(("data", "needle"), HOSTILE)
def test_hostile_credentials_are_protocol_errors(data: str, needle: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_credentials(data)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ("[" * 100_000, "nested too deeply"),
        ('{"a": ' + "1" * 5000 + "}", "not a JSON object of strings"),
        ('{"a": NaN}', "NaN"),
        ('{"a\\udc80": "u"}', "lone surrogate"),
        ('{"a": "\\udc80"}', "lone surrogate"),
    ],
)
def test_hostile_lists_are_protocol_errors(data: str, needle: str) -> None:
    with pytest.raises(ProtocolError, match=needle):
        decode_list(data)


def test_valid_messages_still_decode() -> None:
    assert decode_credentials('{"ServerURL":"é.example","Username":null,"Secret":"😀"}') == (
        "é.example",
        "",
        "😀",
    )
    assert decode_list('{"b":"\\ud83d\\ude00","a":"x"}') == {"b": "😀", "a": "x"}


json_text = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=9), kids),
    max_leaves=10,
).map(json.dumps)


@settings(max_examples=300)
@given(data=json_text | st.text(max_size=40))
def test_any_input_is_a_result_or_a_protocol_error(data: str) -> None:
    for decode in (decode_credentials, decode_list):
        try:
            decode(data)
        except ProtocolError as exc:
            assert "\n" not in str(exc)
