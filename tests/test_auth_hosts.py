"""dockercreds.auth_hosts: the challenges of one 401, and what each host taught the flow."""

from __future__ import annotations

import dataclasses
import threading
from typing import Dict, List, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockercreds.auth_hosts import Challenges, HostAuth, HostMemory, read_challenges
from dockercreds.challenge import Challenge, format_challenge
from dockercreds.errors import ChallengeError

HOST = "r.example.com"

# --------------------------------------------------------------------------- read_challenges


@pytest.mark.parametrize(
    ("headers", "bearer", "basic", "schemes"),
    [
        ((), None, None, ()),
        (('Bearer realm="https://a/t",service="reg"',), "https://a/t", None, ("bearer",)),
        (('Basic realm="Registry"',), None, "Registry", ("basic",)),
        (
            ('Basic realm="b"', 'Bearer realm="r1"', 'BEARER realm="r2"'),
            "r1",  # the first Bearer, over several header lines
            "b",
            ("basic", "bearer", "bearer"),
        ),
        (
            ('Negotiate, Basic realm="b1", Basic realm="b2"',),
            None,
            "b1",  # the first Basic
            ("negotiate", "basic", "basic"),
        ),
        (("Negotiate abc123==",), None, None, ("negotiate",)),
    ],
)
def test_read_challenges(
    headers: Tuple[str, ...],
    bearer: Optional[str],
    basic: Optional[str],
    schemes: Tuple[str, ...],
) -> None:
    found = read_challenges(headers, HOST)
    assert isinstance(found, Challenges)
    assert tuple(c.scheme for c in found.all) == schemes
    assert (found.bearer.realm if found.bearer else None) == bearer
    assert (found.basic.realm if found.basic else None) == basic
    if found.bearer is not None:
        assert found.bearer is found.all[schemes.index("bearer")]
    if found.basic is not None:
        assert found.basic is found.all[schemes.index("basic")]


@pytest.mark.parametrize(
    "header", ['Bearer realm="unterminated', "Bearer realm=a realm=b", 'Bearer realm="a",realm="b"']
)
def test_read_challenges_malformed_names_the_registry(header: str) -> None:
    with pytest.raises(ChallengeError, match=r"malformed WWW-Authenticate header from registry "
                                             r"r\.example\.com: "):
        read_challenges((header,), HOST)


_KEYS = st.sampled_from(["realm", "service", "scope", "error"])
_VALUES = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=20)
_CHALLENGES = st.builds(
    lambda scheme, items: Challenge(scheme, tuple(items.items())),
    st.sampled_from(["bearer", "basic", "negotiate"]),
    st.dictionaries(_KEYS, _VALUES, max_size=4),
)


@settings(max_examples=120, deadline=None)
@given(st.lists(_CHALLENGES, max_size=5), st.booleans())
def test_read_challenges_property(challenges: List[Challenge], one_line: bool) -> None:
    """What a server sends, in one line or one per challenge, reads back the same."""
    lines = [format_challenge(c) for c in challenges]
    headers = (", ".join(lines),) if one_line else tuple(lines)
    found = read_challenges(headers, HOST)
    assert found.all == tuple(challenges)
    assert found.bearer == next((c for c in challenges if c.scheme == "bearer"), None)
    assert found.basic == next((c for c in challenges if c.scheme == "basic"), None)
    if found.bearer is not None and found.bearer.realm:
        assert found.realm(HOST) == found.bearer.params["realm"]
    else:
        with pytest.raises(ChallengeError, match=r"^registry r\.example\.com sent a Bearer"):
            found.realm(HOST)


# --------------------------------------------------------------------------- Challenges.realm


@pytest.mark.parametrize(
    ("header", "shown"),
    [
        ('Basic realm="b"', "'bearer <token>'"),  # no Bearer challenge at all
        ("", "'bearer <token>'"),
        ('Bearer service="reg"', "'bearer service=\"reg\"'"),
        ('Bearer realm=""', "'bearer realm=\"\"'"),  # an empty realm is none
        ("Bearer", "'bearer'"),
        ("Bearer c2VjcmV0LXRva2Vu", "'bearer <token>'"),  # a bare token68 may be a credential
        (
            'Bearer service="https://u:pw@h.example/x?sig=abc"',
            "'bearer service=\"https://***@h.example/x?***\"'",
        ),
    ],
)
def test_realm_missing(header: str, shown: str) -> None:
    found = read_challenges((header,) if header else (), HOST)
    with pytest.raises(ChallengeError) as info:
        found.realm(HOST)
    assert str(info.value) == (
        f"registry {HOST} sent a Bearer challenge without a realm: {shown}"
    )
    for secret in ("c2VjcmV0LXRva2Vu", "pw@", "abc"):
        assert secret not in str(info.value)


@pytest.mark.parametrize(
    ("header", "realm"),
    [
        ('Basic realm="b", Bearer realm="https://auth.example/t"', "https://auth.example/t"),
        ('Bearer realm="https://auth.example/token/",service="s"', "https://auth.example/token/"),
        ("Bearer realm=Token-Realm", "Token-Realm"),  # a token, not quoted
        ('Bearer realm=" spaced "', " spaced "),
    ],
)
def test_realm_present(header: str, realm: str) -> None:
    assert read_challenges((header,), HOST).realm(HOST) == realm


# --------------------------------------------------------------------------- HostMemory


def test_host_auth_value() -> None:
    assert HostAuth("basic") == HostAuth("basic", "", "")
    assert HostAuth("bearer", "https://a/t", "reg") != HostAuth("bearer", "https://a/t", "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        HostAuth("basic").scheme = "bearer"  # type: ignore[misc]


def test_recall_unknown() -> None:
    assert HostMemory().recall(HOST, "team/app") == (None, None)
    assert HostMemory().hosts() == []


def test_learn_per_host() -> None:
    memory = HostMemory()
    bearer = HostAuth("bearer", "https://auth.example/t", "reg")
    memory.learn("b.example.com", bearer)
    memory.learn("a.example.com:5000", HostAuth("basic"))
    assert memory.hosts() == ["a.example.com:5000", "b.example.com"]  # sorted
    assert memory.recall("b.example.com", "x") == (bearer, None)
    assert memory.recall("a.example.com:5000", "x") == (HostAuth("basic"), None)
    assert memory.recall("a.example.com", "x") == (None, None)  # another port, another host
    memory.learn("b.example.com", HostAuth("basic"))  # the host changed its mind
    assert memory.recall("b.example.com", "x") == (HostAuth("basic"), None)


def test_scopes_per_host_and_repository() -> None:
    memory = HostMemory()
    memory.remember_scopes(HOST, "team/app", ("repository:team/app:pull",))
    memory.remember_scopes("other.example.com", "team/app", ("repository:team/app:push",))
    assert memory.recall(HOST, "team/app") == (None, ("repository:team/app:pull",))
    assert memory.recall(HOST, "team/other") == (None, None)
    assert memory.recall("other.example.com", "team/app") == (
        None,
        ("repository:team/app:push",),
    )
    memory.remember_scopes(HOST, "team/app", ("repository:team/app:pull,push",))
    assert memory.recall(HOST, "team/app")[1] == ("repository:team/app:pull,push",)
    assert memory.hosts() == []  # scopes teach nothing about the host's scheme


@pytest.mark.parametrize(
    ("known", "scope", "expected"),
    [
        (None, None, ()),
        (None, "repository:a:pull", ("repository:a:pull",)),
        ((), "repository:a:pull", ("repository:a:pull",)),
        (("repository:a:pull",), None, ("repository:a:pull",)),
        (("repository:a:pull",), "repository:a:push", ("repository:a:pull,push",)),
        (("repository:a:push",), "repository:a:pull", ("repository:a:pull,push",)),
        (("repository:a:pull",), "repository:b:pull", ("repository:a:pull", "repository:b:pull")),
        (
            ("repository:a:pull",),
            "repository:a:pull repository:b:push",
            ("repository:a:pull", "repository:b:push"),
        ),
        (("registry:catalog:*",), "repository:a:pull", ("registry:catalog:*", "repository:a:pull")),
    ],
)
def test_needed(
    known: Optional[Tuple[str, ...]], scope: Optional[str], expected: Tuple[str, ...]
) -> None:
    items: Dict[str, str] = {"realm": "https://auth.example/t"}
    if scope is not None:
        items["scope"] = scope
    challenge = Challenge("bearer", tuple(items.items()))
    assert HostMemory().needed(known, challenge) == expected


def test_clear() -> None:
    memory = HostMemory()
    memory.learn(HOST, HostAuth("basic"))
    memory.remember_scopes(HOST, "a", ("repository:a:pull",))
    memory.clear()
    assert memory.hosts() == []
    assert memory.recall(HOST, "a") == (None, None)


def test_concurrent_learning() -> None:
    memory = HostMemory()

    def work(n: int) -> None:
        for i in range(200):
            memory.learn(f"h{n}-{i}.example.com", HostAuth("basic"))
            memory.remember_scopes(f"h{n}-{i}.example.com", "r", (f"repository:r{i}:pull",))
            memory.hosts()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(memory.hosts()) == 800
    assert memory.recall("h3-199.example.com", "r") == (
        HostAuth("basic"),
        ("repository:r199:pull",),
    )
