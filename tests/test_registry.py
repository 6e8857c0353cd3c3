"""dockercreds.registry: config keys, hosts and Docker Hub aliases."""

from __future__ import annotations

import ipaddress
import socket
from typing import Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockercreds.errors import InvalidRegistry
from dockercreds.registry import (
    HUB_KEY,
    Key,
    api_host,
    helper_server,
    host_ip,
    inet_aton,
    is_hub,
    is_loopback,
    normalize_registry,
    parse_key,
    split_host_port,
    without_userinfo,
)

KEYS = [
    # raw key, host, path, scheme
    ("quay.io", "quay.io", "", ""),
    ("Quay.IO", "quay.io", "", ""),
    ("quay.io/", "quay.io", "", ""),
    ("https://quay.io/v2/", "quay.io", "", "https"),
    ("HTTP://quay.io", "quay.io", "", "http"),
    ("https://quay.io/org", "quay.io", "", "https"),  # URL path dropped
    ("https://quay.io?x=1", "quay.io", "", "https"),
    ("quay.io/org", "quay.io", "org", ""),
    ("quay.io/org/app/", "quay.io", "org/app", ""),
    ("localhost:5000", "localhost:5000", "", ""),
    ("localhost:5000/repo", "localhost:5000", "repo", ""),
    ("quay.io:443", "quay.io:443", "", ""),
    ("[::1]:5000", "[::1]:5000", "", ""),
    ("[::1]", "[::1]", "", ""),
    ("https://[fe80::1]:5000/v2/", "[fe80::1]:5000", "", "https"),
    (HUB_KEY, "docker.io", "", "https"),
    ("index.docker.io", "docker.io", "", ""),
    ("docker.io", "docker.io", "", ""),
    ("registry-1.docker.io", "docker.io", "", ""),
    ("http://registry-1.docker.io/v2/", "docker.io", "", "http"),
    ("docker.io/library", "docker.io", "library", ""),
    ("index.docker.io/vendor", "docker.io", "vendor", ""),
    ("docker.io:443", "docker.io:443", "", ""),  # a port makes it another place
    (" quay.io ", "quay.io", "", ""),
]


@pytest.mark.parametrize(("raw", "host", "path", "scheme"), KEYS)
def test_parse_key(raw: str, host: str, path: str, scheme: str) -> None:
    assert parse_key(raw) == Key(host, path, scheme)
    assert parse_key(raw).is_namespace == bool(path)


BAD_KEYS = [
    ("", "is not a host name"),
    ("https://", "is not a host name"),
    ("quay.io:abc", "bad port"),
    ("quay.io:123456", "bad port"),
    ("[::1", "unclosed"),
    ("[::1]x", "text after"),
    ("[zz]:1", "bad IPv6"),
    ("q.io/foo:tag", "namespace is host/path"),
    ("q.io/f@sha256:abc", "namespace is host/path"),
    ("q.io/a//b", "namespace is host/path"),
    ("bad host/x", "is not a host name"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_KEYS)
def test_parse_key_rejects(raw: str, message: str) -> None:
    with pytest.raises(InvalidRegistry, match=message) as info:
        parse_key(raw)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("registry", "helper", "api"),
    [
        ("docker.io", HUB_KEY, "registry-1.docker.io"),
        ("https://index.docker.io/v1/", HUB_KEY, "registry-1.docker.io"),
        ("registry-1.docker.io", HUB_KEY, "registry-1.docker.io"),
        ("quay.io", "quay.io", "quay.io"),
        ("https://Quay.io/v2/", "quay.io", "quay.io"),
        ("localhost:5000", "localhost:5000", "localhost:5000"),
        ("quay.io/org/app", "quay.io", "quay.io"),
    ],
)
def test_helper_server_and_api_host(registry: str, helper: str, api: str) -> None:
    assert helper_server(registry) == helper
    assert api_host(registry) == api


@pytest.mark.parametrize(
    ("registry", "hub"),
    [
        ("docker.io", True),
        ("index.docker.io", True),
        (HUB_KEY, True),
        ("quay.io", False),
        ("docker.io:5000", False),
        ("not a host", False),
    ],
)
def test_is_hub(registry: str, hub: bool) -> None:
    assert is_hub(registry) is hub


@pytest.mark.parametrize(
    ("registry", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("127.1.2.3", True),
        ("[::1]:5000", True),
        ("a.localhost", True),
        ("quay.io", False),
        ("10.0.0.1:5000", False),
        ("127.0.0.1.nip.io", False),
    ],
)
def test_is_loopback(registry: str, loopback: bool) -> None:
    assert is_loopback(registry) is loopback


def test_split_host_port() -> None:
    assert split_host_port("[::1]:5000") == ("[::1]", "5000")
    assert split_host_port("quay.io") == ("quay.io", None)
    assert split_host_port("quay.io:443") == ("quay.io", "443")


HOSTS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z0-9]{1,8}){0,3}", fullmatch=True)
PORTS = st.one_of(st.none(), st.integers(1, 65535).map(str))


@given(HOSTS, PORTS, st.sampled_from(["", "http://", "https://"]))
def test_normalize_is_idempotent(host: str, port: str | None, scheme: str) -> None:
    raw = scheme + host + (f":{port}" if port else "") + ("/v2/" if scheme else "")
    once = normalize_registry(raw)
    assert normalize_registry(once) == once
    assert normalize_registry(raw.upper() if not scheme else raw) == once


@given(st.text(max_size=40))
def test_parse_key_only_raises_invalid_registry(text: str) -> None:
    try:
        parse_key(text)
    except InvalidRegistry:
        pass


USERINFO_KEYS = [
    "https://user:S3CR3T-xyz@quay.io",
    "https://user:S3CR3T-xyz@quay.io/v1/",
    "http://S3CR3T-xyz@localhost:5000",  # a token as the bare user name
    "user:S3CR3T-xyz@quay.io",
    "user:S3CR3T-xyz@quay.io/org",
    "S3CR3T-xyz@quay.io",  # a bare token without a scheme
    "S3CR3T-xyz@localhost:5000",
]


@pytest.mark.parametrize("raw", USERINFO_KEYS)
def test_key_with_userinfo_is_refused_without_echoing_it(raw: str) -> None:
    with pytest.raises(InvalidRegistry, match="user info") as info:
        normalize_registry(raw)
    assert "S3CR3T" not in str(info.value)
    assert "quay.io" in str(info.value) or "localhost:5000" in str(info.value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://user:pw@quay.io/v1/", "https://***@quay.io/v1/"),
        ("user:pw@quay.io", "***@quay.io"),
        ("https://tok@quay.io", "https://***@quay.io"),
        ("quay.io", "quay.io"),
        ("ubuntu@sha256:abc", "ubuntu@sha256:abc"),  # a digest, not user info
        ("quay.io/org/app@sha256:abc", "quay.io/org/app@sha256:abc"),
        ("http://[::1]:5000", "http://[::1]:5000"),
        # other spellings of user info and secret parameters (issue 10 #11)
        ("S3CR3T@quay.io", "***@quay.io"),
        ("S3CR3T@quay.io/org/app:1", "***@quay.io/org/app:1"),
        ("S3CR3T@localhost:5000", "***@localhost:5000"),
        ("S3CR3T@127.0.0.1:5000/app", "***@127.0.0.1:5000/app"),
        ("https://quay.io/v2/?token=S3CR3T&n=1", "https://quay.io/v2/?token=***&n=1"),
        ("quay.io/app?access_token=S3CR3T", "quay.io/app?access_token=***"),
        ("https://u:S3CR3T@quay.io/?Password=S3CR3T", "https://***@quay.io/?Password=***"),
        ("https://quay.io/#id_token=S3CR3T", "https://quay.io/#id_token=***"),
        ("https://s3.io/b?X-Amz-Signature=S3CR3T;a=1", "https://s3.io/b?X-Amz-Signature=***;a=1"),
        ("quay.io/app?tag=1", "quay.io/app?tag=1"),
    ],
)
def test_without_userinfo(text: str, shown: str) -> None:
    assert without_userinfo(text) == shown


# --------------------------------------------------------------------------- IP literals

ATON = [
    # host, address C's inet_aton reads (None: not a numeric IPv4 host)
    ("127.0.0.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"),
    ("0X7F000001", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("127.0.1", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"),
    ("10.1", "10.0.0.1"),
    ("2852039166", "169.254.169.254"),
    ("0", "0.0.0.0"),  # noqa: S104 - an address read, nothing bound
    ("1.2.3.4", "1.2.3.4"),
    ("08", None),
    ("0x", None),
    ("1.2.3.4.5", None),
    ("256.1.1.1", None),
    ("1.2.65536", None),
    ("4294967296", None),
    ("1.2.3.", None),
    ("quay.io", None),
    ("", None),
    ("١٢٧.0.0.1", None),  # Arabic-Indic digits: str.isdigit, not C's isdigit
]


@pytest.mark.parametrize(("host", "address"), ATON)
def test_inet_aton(host: str, address: Optional[str]) -> None:
    number = inet_aton(host)
    assert (None if number is None else str(ipaddress.IPv4Address(number))) == address


def _c_inet_aton(text: str) -> Optional[int]:
    try:
        return int.from_bytes(socket.inet_aton(text), "big")
    except (OSError, ValueError):
        return None


_PART = st.one_of(
    st.integers(0, 2**33).map(str),
    st.integers(0, 2**33).map(lambda n: "0" + format(n, "o")),
    st.integers(0, 2**33).map(lambda n: "0x" + format(n, "x")),
    st.text("0123456789abcdefxX", max_size=6),
)


@given(st.lists(_PART, min_size=1, max_size=5).map(".".join))
def test_inet_aton_agrees_with_the_c_library(host: str) -> None:
    assert inet_aton(host) == _c_inet_aton(host)


@given(st.text("0123456789abcdefxX.", max_size=24))
def test_inet_aton_agrees_with_the_c_library_on_any_text(host: str) -> None:
    assert inet_aton(host) == _c_inet_aton(host)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("127.1.", "127.0.0.1"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]", "127.0.0.1"),
        ("[::ffff:7f00:1]", "127.0.0.1"),
        ("[2002:a9fe:a9fe::]", "169.254.169.254"),  # 6to4
        ("[64:ff9b::a9fe:a9fe]", "169.254.169.254"),  # NAT64
        ("[fe80::1%eth0]", "fe80::1"),
        ("quay.io", None),
        ("[::1", None),
        ("1.2.3.4.", "1.2.3.4"),
    ],
)
def test_host_ip(host: str, address: Optional[str]) -> None:
    addr = host_ip(host)
    assert (None if addr is None else str(addr)) == address


@pytest.mark.parametrize(
    "registry",
    ["2130706433:5000", "127.1:5000", "0x7f000001", "0177.0.0.1:5000", "[::ffff:127.0.0.1]:5000"],
)
def test_is_loopback_reads_ip_spellings_as_the_c_resolver(registry: str) -> None:
    assert is_loopback(registry)


@pytest.mark.parametrize("registry", ["10.1:5000", "2852039166", "127.example.com", "1270.0.0.1"])
def test_not_loopback(registry: str) -> None:
    assert not is_loopback(registry)
