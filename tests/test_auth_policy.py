"""dockercreds.auth_policy: where credentials may go (realm and transport rules)."""

from __future__ import annotations

from typing import Tuple

import pytest

from dockercreds.auth_policy import RealmPolicy, is_internal, same_host, split_url
from dockercreds.errors import ChallengeError, UnsafeAuthError


@pytest.mark.parametrize(
    ("host", "internal"),
    [
        ("127.0.0.1", True),
        ("2130706433", True),
        ("0x7f000001", True),
        ("127.1", True),
        ("0177.0.0.1", True),
        ("10.1", True),
        ("2852039166", True),
        ("0", True),
        ("100.64.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("a.localhost", True),
        ("::1", True),
        ("fe80::1", True),
        ("::ffff:10.0.0.1", True),
        ("8.8.8.8", False),
        ("134744072", False),  # 8.8.8.8
        ("auth.docker.io", False),
        ("127.0.0.1.nip.io", False),  # a name: resolved by DNS, not a literal
        ("2001:4860:4860::8888", False),
    ],
)
def test_is_internal(host: str, internal: bool) -> None:
    assert is_internal(host) is internal


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("127.0.0.1", "2130706433", True),
        ("10.0.0.5", "10.5", True),
        ("Reg.Example", "reg.example", True),
        ("127.0.0.1", "127.0.0.2", False),
        ("reg.example", "auth.example", False),
    ],
)
def test_same_host(a: str, b: str, same: bool) -> None:
    assert same_host(a, b) is same


@pytest.mark.parametrize("url", ["http://[::1", "https://a:99999/", "https://a:x/", "http://[zz]/"])
def test_split_url_malformed_is_a_challenge_error(url: str) -> None:
    with pytest.raises(ChallengeError, match="malformed URL"):
        split_url(url)


@pytest.mark.parametrize(
    ("scheme", "hostport", "insecure", "ok"),
    [
        ("https", "quay.io", (), True),
        ("http", "quay.io", (), False),
        ("http", "quay.io", ("quay.io",), True),
        ("http", "quay.io:5000", ("https://quay.io:5000/",), True),
        ("http", "127.1:5000", (), True),
        ("http", "2130706433:5000", (), True),
        ("http", "10.1:5000", (), False),
    ],
)
def test_transport(scheme: str, hostport: str, insecure: Tuple[str, ...], ok: bool) -> None:
    policy = RealmPolicy(insecure)
    assert policy.transport_ok(scheme, hostport) is ok
    if not ok:
        with pytest.raises(UnsafeAuthError, match="plain http"):
            policy.check_registry(scheme, hostport, "a password")
