"""dockercreds.challenge: WWW-Authenticate parsing (reference cases, hypothesis), scopes."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockercreds.challenge import (
    Challenge,
    Scope,
    format_challenge,
    merge_scopes,
    parse_scope,
    parse_www_authenticate,
    repository_of,
)
from dockercreds.errors import AuthError, ChallengeError

# --------------------------------------------------------------------------- parser

# The challenge cases of reference/token-auth-and-kubelet.md, as this library decides them.
PARSE_CASES: List[Tuple[str, List[Tuple[str, Dict[str, str]]]]] = [
    # 1 as given
    (
        'Bearer realm="https://a/token",service="reg.io",scope="repository:x/y:pull,push"',
        [
            (
                "bearer",
                {
                    "realm": "https://a/token",
                    "service": "reg.io",
                    "scope": "repository:x/y:pull,push",
                },
            )
        ],
    ),
    # 2 scheme and keys lowercased, values keep their case
    (
        'BEARER Realm="https://a/t",SERVICE="Svc"',
        [("bearer", {"realm": "https://a/t", "service": "Svc"})],
    ),
    # 3 backslash escapes
    ('Bearer realm="r",slashed="he\\"\\l\\lo"', [("bearer", {"realm": "r", "slashed": 'he"llo'})]),
    # 5 two scopes in one parameter
    (
        'Bearer realm="r",scope="repository:a:pull repository:b:pull"',
        [("bearer", {"realm": "r", "scope": "repository:a:pull repository:b:pull"})],
    ),
    # 7 two challenges on one line
    (
        'Bearer realm="r",service="s", Basic realm="b"',
        [("bearer", {"realm": "r", "service": "s"}), ("basic", {"realm": "b"})],
    ),
    # 8 error kept
    (
        'Bearer realm="r",error="insufficient_scope",scope="repository:a:pull,push"',
        [
            (
                "bearer",
                {"realm": "r", "error": "insufficient_scope", "scope": "repository:a:pull,push"},
            )
        ],
    ),
    # 9 comma inside quotes
    (
        'Bearer realm="https://a/t?x=1,2",service="s"',
        [("bearer", {"realm": "https://a/t?x=1,2", "service": "s"})],
    ),
    # 10 spaces around '=' are accepted; empty realm parses (the flow rejects it)
    ('Bearer realm = "r" , service= s', [("bearer", {"realm": "r", "service": "s"})]),
    ('Bearer realm=""', [("bearer", {"realm": ""})]),
    # 11 a scope whose name holds a port
    (
        'Bearer realm="r",scope="repository:reg:5000/team/app:pull"',
        [("bearer", {"realm": "r", "scope": "repository:reg:5000/team/app:pull"})],
    ),
    # htpasswd mode of distribution 2.8
    ('Basic realm="basic-realm"', [("basic", {"realm": "basic-realm"})]),
    # tokens as values, empty list elements, a bare scheme, tabs
    ("Bearer realm=r,,service=s", [("bearer", {"realm": "r", "service": "s"})]),
    ("Negotiate", [("negotiate", {})]),
    ("Basic, Bearer realm=r", [("basic", {}), ("bearer", {"realm": "r"})]),
    ('Bearer\trealm="r"', [("bearer", {"realm": "r"})]),
    ("", []),
    (" , ", []),
    # unicode (obs-text) inside quotes is kept
    ('Basic realm="caf\u00e9"', [("basic", {"realm": "caf\u00e9"})]),
]


@pytest.mark.parametrize(("header", "expected"), PARSE_CASES)
def test_parse(header: str, expected: List[Tuple[str, Dict[str, str]]]) -> None:
    got = parse_www_authenticate(header)
    assert [(c.scheme, c.params) for c in got] == expected


def test_parse_several_lines() -> None:
    """Case 6: two header lines, Bearer and Basic."""
    got = parse_www_authenticate(['Bearer realm="r",service="s"', 'Basic realm="b"'])
    assert [c.scheme for c in got] == ["bearer", "basic"]
    assert got[0].realm == "r"
    assert got[0].service == "s"
    assert got[1].realm == "b"


def test_token68() -> None:
    (c,) = parse_www_authenticate("Negotiate abc+/==")
    assert c.token68 == "abc+/=="
    assert c.items == ()
    assert format_challenge(c) == "negotiate abc+/=="


def test_challenge_accessors() -> None:
    (c,) = parse_www_authenticate(
        'Bearer realm="r",service="s",scope="repository:a:pull repository:b:push",error="e"'
    )
    assert c.scopes == ("repository:a:pull", "repository:b:push")
    assert c.error == "e"
    assert c.get("REALM") == "r"
    assert c.get("missing", "d") == "d"
    assert str(c).startswith('bearer realm="r", service="s"')


MALFORMED = [
    # 4 an unquoted URL stops at ':' (distribution keeps "https"; we reject)
    ("Bearer realm=https://a/t,service=svc", "expected ','"),
    # 10 unterminated quote
    ('Bearer realm="abc', "unterminated quoted string"),
    ('Bearer realm="abc\\', "unterminated quoted string"),
    ('Bearer realm="a", realm="b"', "given twice"),
    ('Bearer realm="a" service="b"', "expected ','"),
    ("=realm", "expected an authentication scheme"),
    ('"Bearer"', "expected an authentication scheme"),
    ('Bearer realm="a\x01"', "control character"),
    ('Bearer realm="a\\\x00"', "control character"),
    ("Bearer@x", "after the scheme"),
    ("Negotiate abc== x", "expected ','"),
    ('Bearer "r"', "unexpected"),
]


@pytest.mark.parametrize(("header", "reason"), MALFORMED)
def test_malformed(header: str, reason: str) -> None:
    with pytest.raises(ChallengeError) as info:
        parse_www_authenticate(header, source="from registry reg.io")
    message = str(info.value)
    assert reason in message
    assert "from registry reg.io" in message
    assert "at character" in message
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, AuthError)


def test_malformed_header_shown_truncated_and_escaped() -> None:
    header = 'Bearer realm="' + "x" * 500 + "\n"
    with pytest.raises(ChallengeError) as info:
        parse_www_authenticate(header)
    message = str(info.value)
    assert "\n" not in message
    assert "+" in message  # "(+N characters)"
    assert len(message) < 400


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ('Bearer realm="https://user:S3CR3T-xyz@auth.example/token" junk', "https://***@auth"),
        ('Bearer realm="https://auth.example/token?access_token=S3CR3T-xyz", @', "token?***"),
    ],
)
def test_malformed_header_hides_url_user_info_and_query(header: str, kept: str) -> None:
    with pytest.raises(ChallengeError) as info:
        parse_www_authenticate(header)
    assert "S3CR3T" not in str(info.value)
    assert kept in str(info.value)


def test_challenge_repr_hides_token68() -> None:
    (c,) = parse_www_authenticate("Negotiate S3CR3T-xyz")
    assert c.token68 == "S3CR3T-xyz"
    assert "S3CR3T" not in repr(c)


# hypothesis: any text either parses or raises ChallengeError, nothing else
@given(st.text(max_size=80))
def test_parser_never_raises_anything_else(text: str) -> None:
    try:
        parse_www_authenticate(text)
    except ChallengeError:
        pass


_token = st.text(
    alphabet="!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    min_size=1,
    max_size=12,
)
_value = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from(["\t", '"', "\\"]),
    max_size=20,
)


@st.composite
def _challenges(draw: Any) -> Challenge:
    scheme = draw(_token).lower()
    keys = draw(st.lists(_token.map(str.lower), unique=True, max_size=5))
    return Challenge(scheme, tuple((k, draw(_value)) for k in keys))


@given(st.lists(_challenges(), max_size=4), st.sampled_from([", ", ",", " , "]))
def test_round_trip(challenges: List[Challenge], sep: str) -> None:
    header = sep.join(format_challenge(c) for c in challenges)
    assert parse_www_authenticate(header) == challenges


@given(st.lists(_challenges(), min_size=1, max_size=3))
def test_round_trip_as_lines(challenges: List[Challenge]) -> None:
    lines = [format_challenge(c) for c in challenges]
    assert parse_www_authenticate(lines) == challenges


@given(st.text(max_size=40))
def test_header_text_with_arbitrary_case(text: str) -> None:
    header = f'BeArEr ReAlM="{text.replace(chr(92), "").replace(chr(34), "")}"'
    try:
        (c,) = parse_www_authenticate(header)
    except ChallengeError:
        return  # control characters
    assert c.scheme == "bearer"
    assert c.params.keys() == {"realm"}


# --------------------------------------------------------------------------- scopes

SCOPES = [
    ("repository:foo/bar:pull", Scope("repository", "foo/bar", ("pull",))),
    ("repository:foo/bar:pull,push", Scope("repository", "foo/bar", ("pull", "push"))),
    ("repository:reg:5000/team/app:pull", Scope("repository", "reg:5000/team/app", ("pull",))),
    ("repository(plugin):x/y:pull", Scope("repository", "x/y", ("pull",), "plugin")),
    ("registry:catalog:*", Scope("registry", "catalog", ("*",))),
    ("repository:foo:", Scope("repository", "foo", ())),
    ("repository:foo:pull,,pull", Scope("repository", "foo", ("pull",))),
]


@pytest.mark.parametrize(("text", "scope"), SCOPES)
def test_parse_scope(text: str, scope: Scope) -> None:
    assert parse_scope(text) == scope


@pytest.mark.parametrize(
    "text", ["repository", "repository:foo", ":foo:pull", "repo sitory:x:pull", "repository::pull"]
)
def test_parse_scope_invalid(text: str) -> None:
    with pytest.raises(ChallengeError, match="invalid scope"):
        parse_scope(text)


def test_scope_str_round_trip() -> None:
    for text, scope in SCOPES[:5]:
        assert str(scope) == text
        assert parse_scope(str(scope)) == scope


@pytest.mark.parametrize(
    ("groups", "merged"),
    [
        ((["repository:a:pull"], ["repository:a:push"]), ("repository:a:pull,push",)),
        ((["repository:a:push,pull"], []), ("repository:a:pull,push",)),
        (
            (["repository:a:pull"], ["repository:b:pull"]),
            ("repository:a:pull", "repository:b:pull"),
        ),
        (
            (["repository:a:pull"], ["repository(plugin):a:push"]),
            ("repository(plugin):a:push", "repository:a:pull"),
        ),
        ((["odd"], ["odd", "repository:a:pull"]), ("odd", "repository:a:pull")),
        (((), ()), ()),
    ],
)
def test_merge_scopes(groups: Tuple[List[str], List[str]], merged: Tuple[str, ...]) -> None:
    assert merge_scopes(*groups) == merged


@pytest.mark.parametrize(
    ("path", "repo"),
    [
        ("/v2/", ""),
        ("/v2/_catalog", ""),
        ("/v2/foo/manifests/latest", "foo"),
        ("/v2/team/app/blobs/sha256:abc", "team/app"),
        ("/v2/team/app/blobs/uploads/", "team/app"),
        ("/v2/team/app/blobs/uploads/uuid-1", "team/app"),
        ("/v2/a/blobs/b/manifests/latest", "a/blobs/b"),
        ("/v2/a/tags/list", "a"),
        ("/v2/a/referrers/sha256:abc", "a"),
        ("/other", ""),
    ],
)
def test_repository_of(path: str, repo: str) -> None:
    assert repository_of(path) == repo
