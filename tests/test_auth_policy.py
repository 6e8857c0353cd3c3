"""dockercreds.auth_policy: where credentials may go (realm and transport rules)."""

from __future__ import annotations

from typing import Tuple

import pytest

from dockercreds.auth_policy import RealmPolicy, is_internal, odd_host, same_host, split_url
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


# --- realm hosts the HTTP libraries would rewrite or refuse (issue 10 finding 3) -------

ODD_REALM_HOSTS = [
    "127\u30020\u30020\u30021",  # ideographic full stops: IDNA makes 127.0.0.1
    "127\u30021",
    "0x7f\u30021",
    "127\uff0e0\uff0e0\uff0e1",  # fullwidth full stops
    "169\u3002254\u3002169\u3002254",
    "10\u30020\u30020\u30021",
    "localhost\u3002",
    "\uff41\uff55\uff54\uff48.example",  # fullwidth letters
    "\u200b.com",  # zero-width space
    "xn--zz-zzzz.com",  # punycode that does not decode
    "xn--.example",
]


@pytest.mark.parametrize("host", ODD_REALM_HOSTS)
def test_realm_host_must_be_what_goes_on_the_wire(host: str) -> None:
    policy = RealmPolicy(insecure=["192.0.2.2:5000"])
    with pytest.raises(UnsafeAuthError, match="realm host"):
        policy.check_realm(f"http://{host}:9/token", "http", "192.0.2.2:5000", ("r:a:pull",))


@pytest.mark.parametrize(
    "host", ["auth.docker.io", "xn--bcher-kva.example", "token_server.internal.example", "ex."]
)
def test_plain_realm_hosts_pass(host: str) -> None:
    RealmPolicy().check_realm(f"https://{host}/token", "https", "reg.example", ())
    assert odd_host(host) == ""


@pytest.mark.parametrize("host", ["a b", "...", "-a.com", "a_-", "a" * 64 + ".com", "a..b"])
def test_malformed_hosts_are_odd(host: str) -> None:
    assert odd_host(host).startswith("is not a valid host name")
