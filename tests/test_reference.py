"""Tests for dockercreds.reference: the distribution/reference grammar (v0.6).

The tables below are the project's own. Every row of the conformance vectors dumped from
the Go package's test tables (``tests/data/reference-vectors.jsonl``, see
``tests/data/README.md``) is also checked; a missing or empty vector file fails the run
(at collection), it never shrinks the suite.
"""

from __future__ import annotations

import copy
import json
import pickle
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from dockercreds import errors, reference
from dockercreds.reference import InvalidReference, Reference

SHA256 = "sha256:" + "ab" * 32
SHA384 = "sha384:" + "cd" * 48
SHA512 = "sha512:" + "ef" * 64
HEX64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"
KINDS = {
    "invalid_format",
    "name_empty",
    "name_too_long",
    "name_contains_uppercase",
    "hex_id",
    "digest_unsupported",
    "digest_invalid_length",
    "digest_invalid_format",
}


_FUNCTIONS = (
    reference.parse,
    reference.parse_normalized,
    reference.parse_docker_ref,
    reference.parse_any,
    reference.parse_named,
    reference.with_name,
)


def kind_of(fn: Any, *args: Any) -> str:
    with pytest.raises(InvalidReference) as info:
        fn(*args)
    assert info.value.kind in KINDS
    return str(info.value.kind)


# ----------------------------------------------------------------------------- parse

# input, domain, path, tag, digest
PARSE_OK: List[Tuple[str, str, str, Optional[str], Optional[str]]] = [
    ("ubuntu", "", "ubuntu", None, None),
    ("ubuntu:22.04", "", "ubuntu", "22.04", None),
    ("library/ubuntu", "library", "ubuntu", None, None),
    ("docker.io/library/ubuntu:latest", "docker.io", "library/ubuntu", "latest", None),
    ("quay.io/org/team/app:v1", "quay.io", "org/team/app", "v1", None),
    ("localhost/x", "localhost", "x", None, None),
    ("localhost:5000/x", "localhost:5000", "x", None, None),
    ("localhost:5000", "", "localhost", "5000", None),
    ("127.0.0.1:5000/x:1", "127.0.0.1:5000", "x", "1", None),
    ("[::1]:5000/x", "[::1]:5000", "x", None, None),
    ("[::1]/x", "[::1]", "x", None, None),
    ("[2001:DB8::1]:443/a/b", "[2001:DB8::1]:443", "a/b", None, None),
    ("Registry.Example.COM/x", "Registry.Example.COM", "x", None, None),
    ("UPPER/x", "UPPER", "x", None, None),
    ("xn--n3h.com:18080/my-app", "xn--n3h.com:18080", "my-app", None, None),
    ("a-b--c.d:1/e", "a-b--c.d:1", "e", None, None),
    ("test_com/foo", "", "test_com/foo", None, None),
    ("foo_bar.com:8080", "", "foo_bar.com", "8080", None),
    ("a.b_c__d-e---f/g", "", "a.b_c__d-e---f/g", None, None),  # "_": not a host
    ("x/a.b_c__d-e---f", "x", "a.b_c__d-e---f", None, None),
    ("x/0/9", "x", "0/9", None, None),
    ("app:Tag_1.0-rc", "", "app", "Tag_1.0-rc", None),
    ("app:_", "", "app", "_", None),
    ("app:" + "t" * 128, "", "app", "t" * 128, None),
    ("app@" + SHA256, "", "app", None, SHA256),
    ("app@" + SHA384, "", "app", None, SHA384),
    ("app@" + SHA512, "", "app", None, SHA512),
    ("h:1/app:v@" + SHA256, "h:1", "app", "v", SHA256),
    ("localhost:8080@" + SHA256, "", "localhost", "8080", SHA256),
    ("example.com/" + "a" * 255, "example.com", "a" * 255, None, None),
    ("a" * 300 + ".com/b", "a" * 300 + ".com", "b", None, None),
    ("a" + "/a" * 127 + ":t", "a", "/".join(["a"] * 127), "t", None),
]


@pytest.mark.parametrize(("text", "domain", "path", "tag", "digest"), PARSE_OK)
def test_parse(
    text: str, domain: str, path: str, tag: Optional[str], digest: Optional[str]
) -> None:
    ref = reference.parse(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)
    assert ref.name == (f"{domain}/{path}" if domain else path)
    assert str(ref) == text
    assert reference.is_reference(text)


PARSE_ERRORS: List[Tuple[str, str]] = [
    ("", "name_empty"),
    (":tag", "invalid_format"),
    ("@" + SHA256, "invalid_format"),
    ("ubuntu:", "invalid_format"),
    ("ubuntu@", "invalid_format"),
    ("ubuntu:a:b", "invalid_format"),
    ("ubuntu@@" + SHA256, "invalid_format"),
    ("ubuntu:-tag", "invalid_format"),
    ("ubuntu:.tag", "invalid_format"),
    ("ubuntu:" + "t" * 129, "invalid_format"),
    ("ubuntu:t~", "invalid_format"),
    (" ubuntu", "invalid_format"),
    ("ubuntu\n", "invalid_format"),
    ("ubu ntu", "invalid_format"),
    ("-ubuntu", "invalid_format"),
    ("ubuntu-", "invalid_format"),
    ("_ubuntu", "invalid_format"),
    ("ubu..ntu", "invalid_format"),
    ("ubu___ntu", "invalid_format"),
    ("ubu._ntu", "invalid_format"),
    ("ubu-_ntu", "invalid_format"),
    ("ubu_-ntu", "invalid_format"),
    ("ubu-.ntu", "invalid_format"),
    ("a//b", "invalid_format"),
    ("/a", "invalid_format"),
    ("a/", "invalid_format"),
    ("x/a./b", "invalid_format"),
    ("x/a/.b", "invalid_format"),
    ("aa/asdf$$^/aa", "invalid_format"),
    ("https://quay.io/x", "invalid_format"),
    ("bad_host.com:80/x", "invalid_format"),
    ("host:http/x", "invalid_format"),
    ("host:/x", "invalid_format"),
    ("-host.com/x", "invalid_format"),
    ("host-.com/x", "invalid_format"),
    ("[::1]", "invalid_format"),
    ("[::1]:5000", "invalid_format"),
    ("[]:5000/x", "invalid_format"),
    ("[fe80::1%eth0]:5000/x", "invalid_format"),
    ("[::1]x/y", "invalid_format"),
    ("[::1]::5000/y", "invalid_format"),
    ("[::ffff:1.2.3.4]/x", "invalid_format"),
    ("ubuntu@sha256:abc", "invalid_format"),  # fewer than 32 hex digits
    ("ubuntu@256:" + "a" * 64, "invalid_format"),  # algorithm must start with a letter
    ("ubuntu@sha-256-:" + "a" * 64, "invalid_format"),
    ("ubuntu@sha256:" + "g" * 64, "invalid_format"),
    ("ubuntu@" + SHA256 + ":x", "invalid_format"),
    ("ubüntu", "invalid_format"),
    ("Uppercase", "name_contains_uppercase"),
    ("Uppercase:tag", "name_contains_uppercase"),
    ("host:5000/Upper/lower:tag", "name_contains_uppercase"),
    ("x/UPPER@" + SHA256, "name_contains_uppercase"),
    ("\u212aelvin", "name_contains_uppercase"),  # Go lowercases the Kelvin sign to "k"
    ("\u0130mage", "name_contains_uppercase"),  # and dotted capital I to "i"
    ("x/" + "a" * 256, "name_too_long"),
    ("a" * 256 + ":tag", "name_too_long"),
    ("a/" * 129 + "a", "name_too_long"),  # path 257: the domain "a" does not count
    ("x@sha256:" + "a" * 63, "digest_invalid_length"),
    ("x@sha256:" + "a" * 65, "digest_invalid_length"),
    ("x@sha384:" + "a" * 64, "digest_invalid_length"),
    ("x@sha512:" + "a" * 64, "digest_invalid_length"),
    ("x@sha256:" + "A" * 64, "digest_invalid_format"),
    ("x@SHA256:" + "a" * 64, "digest_invalid_format"),
    ("x@Sha512:" + "a" * 128, "digest_invalid_format"),
    ("x@md5:" + "a" * 32, "digest_unsupported"),
    ("x@sha1:" + "a" * 40, "digest_unsupported"),
    ("x@blake3:" + "a" * 64, "digest_unsupported"),
    ("x@sha256+b64:" + "a" * 64, "digest_unsupported"),
    ("x@multihash+base58:" + "a" * 64, "digest_unsupported"),
]


@pytest.mark.parametrize(("text", "kind"), PARSE_ERRORS)
def test_parse_errors(text: str, kind: str) -> None:
    with pytest.raises(InvalidReference) as info:
        reference.parse(text)
    assert info.value.kind == kind
    assert info.value.text == text
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, errors.DockerCredsError)


def test_invalid_reference_is_the_errors_class() -> None:
    assert reference.InvalidReference is errors.InvalidReference


# The rule that broke, with the bad piece quoted.
MESSAGES: List[Tuple[Any, str, str]] = [
    (
        reference.parse,
        "",
        "invalid reference format: '': the repository name must have at least one component",
    ),
    (
        reference.parse,
        "aa/asdf$$^/aa",
        "invalid reference format: 'aa/asdf$$^/aa': path component 'asdf$$^' contains '$';"
        " only lowercase letters, digits, '.', '_' and '-' are allowed",
    ),
    (
        reference.parse,
        "foo/bar-",
        "invalid reference format: 'foo/bar-': path component 'bar-' must start and end with"
        " a lowercase letter or digit, with only one '.', one or two '_', or '-'s between them",
    ),
    (
        reference.parse,
        "a//b",
        "invalid reference format: 'a//b': the repository name has an empty component"
        " (leading, trailing or double '/')",
    ),
    (reference.parse, "ubuntu:", "invalid reference format: 'ubuntu:': empty tag after ':'"),
    (
        reference.parse,
        "UPPER",
        "invalid reference format: 'UPPER': the repository name must be lowercase"
        " (only the registry host and the tag may have uppercase letters)",
    ),
    (
        reference.parse_normalized,
        "docker/Docker",
        "invalid reference format: 'docker/Docker': repository name 'docker/Docker'"
        " must be lowercase",
    ),
    (
        reference.parse_normalized,
        HEX64,
        f"invalid repository name: '{HEX64}': a 64-character hexadecimal string is an image"
        " ID, not a repository name (use parse_any() to accept IDs)",
    ),
    (
        reference.parse,
        "x@sha256:abc",
        "invalid reference format: 'x@sha256:abc': digest 'sha256:abc' is not"
        " 'algorithm:hex' with at least 32 hex digits",
    ),
    (
        reference.parse,
        "x@sha384:" + "a" * 64,
        f"invalid reference format: 'x@sha384:{'a' * 64}': a sha384 digest has 96 hex digits,"
        " not 64",
    ),
    (
        reference.parse,
        "x@md5:" + "a" * 32,
        f"invalid reference format: 'x@md5:{'a' * 32}': unsupported digest algorithm 'md5';"
        " use sha256, sha384 or sha512",
    ),
    (
        reference.parse,
        "x/" + "a" * 256,
        f"invalid reference format: 'x/{'a' * 58}...{'a' * 10}' (258 characters):"
        " the repository path is 256 characters long; at most 255 are allowed",
    ),
    (
        reference.parse_named,
        "ubuntu",
        "repository name is not canonical: 'ubuntu': write 'docker.io/library/ubuntu' instead",
    ),
]


@pytest.mark.parametrize(("fn", "text", "message"), MESSAGES)
def test_error_messages(fn: Any, text: str, message: str) -> None:
    with pytest.raises(InvalidReference) as info:
        fn(text)
    assert str(info.value) == message


# ------------------------------------------------------------ Docker Hub normalization

# input, String(), familiar name, familiar string
NORMALIZED: List[Tuple[str, str, str, str]] = [
    ("ubuntu", "docker.io/library/ubuntu", "ubuntu", "ubuntu"),
    ("ubuntu:22.04", "docker.io/library/ubuntu:22.04", "ubuntu", "ubuntu:22.04"),
    ("library/ubuntu", "docker.io/library/ubuntu", "ubuntu", "ubuntu"),
    ("docker.io/ubuntu", "docker.io/library/ubuntu", "ubuntu", "ubuntu"),
    ("index.docker.io/ubuntu", "docker.io/library/ubuntu", "ubuntu", "ubuntu"),
    ("docker.io/library/ubuntu", "docker.io/library/ubuntu", "ubuntu", "ubuntu"),
    ("myorg/app", "docker.io/myorg/app", "myorg/app", "myorg/app"),
    ("index.docker.io/myorg/app:1", "docker.io/myorg/app:1", "myorg/app", "myorg/app:1"),
    ("library/a/b", "docker.io/library/a/b", "library/a/b", "library/a/b"),
    ("other/library", "docker.io/other/library", "other/library", "other/library"),
    ("localhost", "docker.io/library/localhost", "localhost", "localhost"),
    ("localhost/x", "localhost/x", "localhost/x", "localhost/x"),
    ("localhost:5000/x", "localhost:5000/x", "localhost:5000/x", "localhost:5000/x"),
    ("[::1]:5000/x", "[::1]:5000/x", "[::1]:5000/x", "[::1]:5000/x"),
    ("quay.io/org/app:v1", "quay.io/org/app:v1", "quay.io/org/app", "quay.io/org/app:v1"),
    (
        "registry-1.docker.io/x",
        "registry-1.docker.io/x",
        "registry-1.docker.io/x",
        "registry-1.docker.io/x",
    ),
    ("Foo/bar", "Foo/bar", "Foo/bar", "Foo/bar"),
    ("LOCALDOMAIN/x", "LOCALDOMAIN/x", "LOCALDOMAIN/x", "LOCALDOMAIN/x"),
    ("docker.io/" + HEX64, f"docker.io/library/{HEX64}", HEX64, HEX64),
    (HEX64[:63], f"docker.io/library/{HEX64[:63]}", HEX64[:63], HEX64[:63]),
    ("192.168.0.1:80", "docker.io/library/192.168.0.1:80", "192.168.0.1", "192.168.0.1:80"),
    # "foo_bar.com" is taken as the domain, which Parse then reads as a path: as in Go,
    # the result has no domain at all
    ("foo_bar.com/x", "foo_bar.com/x", "foo_bar.com/x", "foo_bar.com/x"),
    (
        "busybox:latest@" + SHA256,
        "docker.io/library/busybox:latest@" + SHA256,
        "busybox",
        "busybox:latest@" + SHA256,
    ),
    ("app@" + SHA512, "docker.io/library/app@" + SHA512, "app", "app@" + SHA512),
]


@pytest.mark.parametrize(("text", "normalized", "fam_name", "fam_string"), NORMALIZED)
def test_parse_normalized(text: str, normalized: str, fam_name: str, fam_string: str) -> None:
    ref = reference.parse_normalized(text)
    assert str(ref) == normalized
    assert ref == reference.parse(normalized)
    assert ref.familiar_name == reference.familiar_name(ref) == fam_name
    assert ref.familiar_string == reference.familiar_string(ref) == fam_string


NORMALIZED_ERRORS: List[Tuple[str, str]] = [
    (HEX64, "hex_id"),
    ("", "invalid_format"),
    ("-x", "invalid_format"),
    ("x/", "invalid_format"),
    ("docker///docker", "invalid_format"),
    ("https://github.com/docker/docker", "invalid_format"),
    ("[fc00::1]", "invalid_format"),
    ("fc00::1:5000/debian", "invalid_format"),
    ("Upper", "name_contains_uppercase"),
    ("docker/Docker", "name_contains_uppercase"),
    ("docker.io/docker/Docker", "name_contains_uppercase"),
    ("localhost:5000/Foo:tag", "name_contains_uppercase"),
    ("x@SHA256:" + "a" * 64, "name_contains_uppercase"),  # Go checks up to the first ':'
    ("x:tag@SHA256:" + "a" * 64, "digest_invalid_format"),
    ("a" * 250 + "/" + "b" * 10, "name_too_long"),
    ("a" * 250, "name_too_long"),  # 'library/' counts
    ("x@sha256:" + "a" * 32, "digest_invalid_length"),
    ("x@foo:" + "a" * 32, "digest_unsupported"),
    ("x@sha256:" + "A" * 64, "digest_invalid_format"),
]


@pytest.mark.parametrize(("text", "kind"), NORMALIZED_ERRORS)
def test_parse_normalized_errors(text: str, kind: str) -> None:
    assert kind_of(reference.parse_normalized, text) == kind
    assert kind_of(reference.parse_docker_ref, text) == kind


DOCKER_REFS: List[Tuple[str, str]] = [
    ("ubuntu", "docker.io/library/ubuntu:latest"),
    ("ubuntu:22.04", "docker.io/library/ubuntu:22.04"),
    ("docker.io/library/ubuntu", "docker.io/library/ubuntu:latest"),
    ("localhost:5000/x", "localhost:5000/x:latest"),
    ("[::1]:5000/x", "[::1]:5000/x:latest"),
    ("ubuntu@" + SHA256, "docker.io/library/ubuntu@" + SHA256),
    ("ubuntu:22.04@" + SHA256, "docker.io/library/ubuntu@" + SHA256),
    ("gcr.io/a/b:c@" + SHA512, "gcr.io/a/b@" + SHA512),
]


@pytest.mark.parametrize(("text", "expected"), DOCKER_REFS)
def test_parse_docker_ref(text: str, expected: str) -> None:
    ref = reference.parse_docker_ref(text)
    assert str(ref) == expected
    assert ref == reference.parse(expected)


PARSE_ANY: List[Tuple[str, str]] = [
    (HEX64, "sha256:" + HEX64),
    ("sha256:" + HEX64, "sha256:" + HEX64),
    (SHA384, SHA384),
    (SHA512, SHA512),
    ("redis", "docker.io/library/redis"),
    ("redis:7@" + SHA256, "docker.io/library/redis:7@" + SHA256),
    (HEX64[:63], "docker.io/library/" + HEX64[:63]),
    ("sha256:abc", "docker.io/library/sha256:abc"),  # not a digest: a name and a tag
    ("md5:" + "a" * 32, "docker.io/library/md5:" + "a" * 32),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_ANY)
def test_parse_any(text: str, expected: str) -> None:
    ref = reference.parse_any(text)
    assert str(ref) == expected
    if ref.name:
        assert ref == reference.parse(expected)
    else:
        assert (ref.domain, ref.path, ref.tag, ref.digest) == ("", "", None, expected)
        assert ref.familiar_name == ""
        assert ref.familiar_string == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [("", "invalid_format"), (HEX64.upper(), "name_contains_uppercase"), ("a b", "invalid_format")],
)
def test_parse_any_errors(text: str, kind: str) -> None:
    assert kind_of(reference.parse_any, text) == kind


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("docker.io/library/foo", True),
        ("docker.io/foo/bar:1", True),
        ("quay.io/x@" + SHA256, True),
        ("foo", False),
        ("library/foo", False),
        ("docker.io/foo", False),
        ("index.docker.io/library/foo", False),
    ],
)
def test_parse_named(text: str, ok: bool) -> None:
    if ok:
        assert str(reference.parse_named(text)) == text
    else:
        assert kind_of(reference.parse_named, text) == "invalid_format"


# ---------------------------------------------------------------- Go API helpers


@pytest.mark.parametrize(
    ("text", "domain", "path"),
    [
        ("test.com/foo", "test.com", "foo"),
        ("test_com/foo", "", "test_com/foo"),
        ("test:8080/foo", "test:8080", "foo"),
        ("[::1]/foo/bar", "[::1]", "foo/bar"),
        ("foo", "", "foo"),
    ],
)
def test_with_name(text: str, domain: str, path: str) -> None:
    ref = reference.with_name(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, None, None)
    assert reference.split_name(text) == (domain, path)


@pytest.mark.parametrize(
    ("text", "kind", "why"),
    [
        ("", "invalid_format", "the name is empty"),
        ("foo:tag", "invalid_format", "a name cannot have a tag"),
        ("foo@" + SHA256, "invalid_format", "a name cannot have a digest"),
        ("Foo", "invalid_format", "must be lowercase"),
        ("x/" + "a" * 256, "name_too_long", "at most 255"),
    ],
)
def test_with_name_errors(text: str, kind: str, why: str) -> None:
    with pytest.raises(InvalidReference) as info:
        reference.with_name(text)
    assert info.value.kind == kind
    assert why in str(info.value)


def test_with_tag_and_digest() -> None:
    named = reference.with_name("test.com:8000/foo")
    tagged = reference.with_tag(named, "TAG5")
    assert str(tagged) == "test.com:8000/foo:TAG5"
    both = reference.with_digest(tagged, SHA256)
    assert str(both) == f"test.com:8000/foo:TAG5@{SHA256}"
    assert str(reference.with_tag(both, "v2")) == f"test.com:8000/foo:v2@{SHA256}"
    # like Go's WithDigest, only the form is checked, not the registered length
    short = "sha256:" + "1" * 37
    assert str(reference.with_digest(named, short)) == f"test.com:8000/foo@{short}"


@pytest.mark.parametrize("tag", ["", "-foo", ".x", "a b", "t" * 129, "ü"])
def test_with_tag_errors(tag: str) -> None:
    named = reference.parse_normalized("busybox")
    assert kind_of(reference.with_tag, named, tag) == "invalid_format"


@pytest.mark.parametrize(
    "digest", ["", "foo", "sha256:abc", "1sha:" + "a" * 32, "sha256:" + "g" * 64]
)
def test_with_digest_errors(digest: str) -> None:
    named = reference.parse_normalized("busybox")
    assert kind_of(reference.with_digest, named, digest) == "digest_invalid_format"


def test_digest_only_reference_takes_no_tag_or_digest() -> None:
    only = reference.parse_any(SHA256)
    assert kind_of(reference.with_tag, only, "x") == "invalid_format"
    assert kind_of(reference.with_digest, only, SHA512) == "invalid_format"


MATCHES: List[Tuple[str, str, bool]] = [
    ("foo", "foo/**/ba[rz]", False),
    ("foo/a/bar", "foo/**/ba[rz]", True),
    ("foo/b/baz", "foo/*/ba[rz]", True),
    ("foo/any/bat", "foo/*/ba[rz]", False),
    ("foo/c/baz:tag", "foo/*/baz:tag", True),
    ("foo/c/baz:tag", "foo/*/baz", True),  # matches the familiar name
    ("example.com/foo/c/baz:tag", "*/foo/c/baz", True),
    ("ubuntu", "ubuntu", True),
    ("docker.io/library/ubuntu:22.04", "ubuntu:*", True),
    ("docker.io/library/ubuntu:22.04", "ubun?u:22.0[0-9]", True),
    ("docker.io/library/ubuntu:22.04", "ubuntu:[^2]*", False),
    ("ubuntu", "*", True),
    ("a/b", "*", False),
    ("a/b", "a*", False),
    ("a/b", "?/b", True),
    ("a/b", "a?b", False),
    ("a/b", "a[/]b", True),
    ("ubuntu", "ub\\untu", True),
    ("ubuntu", "", False),
    ("quay.io/x/y", "quay.io/*/*", True),
    ("quay.io/x/y", "quay.io/*", False),
    ("aaa/b", "*a/b", True),
    ("abab", "*ab", True),
    (SHA256, "sha256:*", True),
]


@pytest.mark.parametrize(("text", "pattern", "matched"), MATCHES)
def test_familiar_match(text: str, pattern: str, matched: bool) -> None:
    assert reference.familiar_match(pattern, reference.parse_any(text)) is matched


@pytest.mark.parametrize("pattern", ["[-x]", "[", "[]", "[a-]", "[a", "\\", "x*[z", "[^]"])
def test_familiar_match_bad_pattern(pattern: str) -> None:
    ref = reference.parse_any("foo")
    with pytest.raises(InvalidReference, match="invalid match pattern"):
        reference.familiar_match(pattern, ref)


# ------------------------------------------------------------- regexp equivalents

DOMAINS: List[Tuple[str, bool]] = [
    ("a", True),
    ("a.b", True),
    ("A-b.C0m", True),
    ("0101.com", True),
    ("xn--n3h.com", True),
    ("a.b:0", True),
    ("1.2.3.4:750050", True),
    ("[::1]", True),
    ("[fd00123123123]:75050", True),
    ("[ABCDEF:0]:1", True),
    ("", False),
    ("-a.com", False),
    ("a-.com", False),
    ("a.-com", False),
    ("a..com", False),
    (".a", False),
    ("a.", False),
    ("a_b", False),
    ("a:", False),
    ("a:b", False),
    ("a:1:2", False),
    ("[]", False),
    ("[::1", False),
    ("[::1]1", False),
    ("[::1]::1", False),
    ("[fe80::1%eth0]", False),
    ("[::g]", False),
    ("a/b", False),
]


@pytest.mark.parametrize(("text", "ok"), DOMAINS)
def test_is_domain(text: str, ok: bool) -> None:
    assert reference.is_domain(text) is ok


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a" * 64, True),
        (HEX64, True),
        (HEX64.upper(), False),
        (HEX64[:63], False),
        (HEX64 + "0", False),
        ("sha256:" + HEX64, False),
        ("g" * 64, False),
    ],
)
def test_is_identifier(text: str, ok: bool) -> None:
    assert reference.is_identifier(text) is ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a", ("", "a")),
        ("a/b/c", ("a", "b/c")),
        ("A.com/b", ("A.com", "b")),
        ("a_b/c", ("", "a_b/c")),
        ("a/" * 200 + "a", ("a", "a/" * 199 + "a")),  # the regexp has no length limit
        ("a:1", None),
        ("A/B", None),
        ("", None),
    ],
)
def test_split_name(text: str, expected: Optional[Tuple[str, str]]) -> None:
    assert reference.split_name(text) == expected
    assert reference.is_name(text) is (expected is not None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("r.com:8080/app:tag", ("r.com:8080/app", "tag", "")),
        ("localhost:8080@" + SHA256, ("localhost", "8080", SHA256)),
        ("app@sha256:" + "F" * 32, ("app", "", "sha256:" + "F" * 32)),  # syntax only
        ("app@sha256:badbad", None),
        ("app@2bad:" + "a" * 32, None),
        ("app:bad~tag", None),
    ],
)
def test_split_reference(text: str, expected: Optional[Tuple[str, str, str]]) -> None:
    assert reference.split_reference(text) == expected
    assert reference.is_reference(text) is (expected is not None)


@pytest.mark.parametrize(
    ("text", "ok"), [("_", True), ("a" * 128, True), ("a" * 129, False), ("-a", False)]
)
def test_is_tag(text: str, ok: bool) -> None:
    assert reference.is_tag(text) is ok


# ------------------------------------------------------------------ the value object


def test_reference_value_object() -> None:
    a = reference.parse_docker_ref("ubuntu")
    b = reference.parse("docker.io/library/ubuntu:latest")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != reference.parse("docker.io/library/ubuntu:other")
    assert repr(a) == "<Reference('docker.io/library/ubuntu:latest')>"
    assert str(a) == "docker.io/library/ubuntu:latest"
    assert a.__eq__("docker.io/library/ubuntu:latest") is NotImplemented
    assert a != "docker.io/library/ubuntu:latest"
    with pytest.raises(AttributeError):
        a.tag = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del a.domain
    with pytest.raises(AttributeError):
        a.extra = 1  # type: ignore[attr-defined]
    assert not hasattr(a, "__dict__")
    assert pickle.loads(pickle.dumps(a)) == a  # noqa: S301 - our own bytes
    assert copy.copy(a) is a
    assert copy.deepcopy(a) is a


def test_reference_constructor_validates() -> None:
    ref = Reference("quay.io", "org/app", "v1", SHA256)
    assert ref == reference.parse(f"quay.io/org/app:v1@{SHA256}")
    assert Reference("", "app") == reference.parse("app")
    assert str(Reference(digest=SHA256)) == SHA256
    cases: List[Tuple[Dict[str, Any], str]] = [
        ({}, "name_empty"),
        ({"domain": "", "path": "a/b"}, "invalid_format"),  # would read back as domain "a"
        ({"domain": "bad_host", "path": "x"}, "invalid_format"),
        ({"domain": "h.com", "path": ""}, "invalid_format"),
        ({"domain": "h.com", "path": "X"}, "invalid_format"),
        ({"path": "x" * 256}, "name_too_long"),
        ({"path": "x", "tag": "-t"}, "invalid_format"),
        ({"path": "x", "digest": "sha256:1"}, "digest_invalid_format"),
        ({"tag": "t"}, "invalid_format"),
    ]
    for kwargs, kind in cases:
        assert kind_of(lambda kw=kwargs: Reference(**kw)) == kind, kwargs


def test_module_surface() -> None:
    for name in reference.__all__:
        assert hasattr(reference, name), name
    assert sorted(reference.__all__) == sorted(dir(reference))


# ---------------------------------------------------------------- hostile inputs

# Every check is a str method or a single character-class search, so the work is linear
# in the input by construction; these inputs made backtracking parsers take seconds.
# They must finish and give the right kind (no wall-clock asserts here; see benchmarks).
HOSTILE: List[Tuple[str, str]] = [
    ("a" * 24 + "!", "invalid_format"),
    ("a" * 5000 + "!", "invalid_format"),
    ("a" + "._-" * 5000, "invalid_format"),
    ("a" + "-" * 100_000 + "a", "name_too_long"),
    ("a" + "-" * 100_000, "invalid_format"),
    ("a" + "__" * 50_000, "invalid_format"),
    ("[" * 100_000, "invalid_format"),
    ("]" * 100_000, "invalid_format"),
    (":" * 100_000, "invalid_format"),
    ("@" * 100_000, "invalid_format"),
    ("/" * 100_000, "invalid_format"),
    (":/" * 50_000, "invalid_format"),
    ("a@b:" * 25_000, "invalid_format"),
    ("a" * 100_000, "name_too_long"),
    ("A" * 100_000, "name_contains_uppercase"),
    ("\u212a" * 100_000, "name_contains_uppercase"),
    ("é" * 100_000, "invalid_format"),
    ("a/" * 50_000 + "a", "name_too_long"),
    ("a/" * 50_000 + "!", "invalid_format"),
    ("a.a_a-a/" * 12_500 + "a-_b", "invalid_format"),
    ("a." * 50_000 + "com/" + "b" * 300, "name_too_long"),
    ("[" + ":" * 100_000 + "]:5000/" + "a" * 300, "name_too_long"),
    ("[" + "a:" * 50_000 + "/x", "invalid_format"),
    ("x:" + "t" * 100_000, "invalid_format"),
    ("x@sha256:" + "f" * 100_000, "digest_invalid_length"),
    ("x@" + "a-" * 50_000 + ":" + "f" * 64, "invalid_format"),
    ("x@" + "a" * 100_000 + ":" + "f" * 64, "digest_unsupported"),
    (("a" * 24 + "!") * 4000, "invalid_format"),
    ("0" * 100_000, "name_too_long"),
]


@pytest.mark.parametrize(("text", "kind"), HOSTILE, ids=lambda v: str(v)[:12])
def test_hostile_inputs(text: str, kind: str) -> None:
    with pytest.raises(InvalidReference) as info:
        reference.parse(text)
    assert info.value.kind == kind
    assert len(str(info.value)) < 600  # long inputs are shortened in messages
    syntax_ok = kind in ("name_too_long", "digest_invalid_length", "digest_unsupported")
    assert reference.is_reference(text) is syntax_ok
    for fn in _FUNCTIONS:
        try:
            fn(text)
        except InvalidReference as exc:
            assert exc.kind in KINDS


def test_long_domain_has_no_length_limit() -> None:
    text = "a." * 50_000 + "com/x"  # as in Go, only the path is limited
    assert reference.parse(text).path == "x"
    assert reference.parse_normalized(text).domain == text[:-2]


# ----------------------------------------------------------------- properties

_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_alnum_run = st.text(alphabet=_LOWER_ALNUM, min_size=1, max_size=6)
_separator = st.sampled_from([".", "_", "__", "-", "--", "---"])
_component = st.builds(
    lambda first, rest: first + "".join(s + a for s, a in rest),
    _alnum_run,
    st.lists(st.tuples(_separator, _alnum_run), max_size=3),
)
_path = st.lists(_component, min_size=1, max_size=4).map("/".join)
_domain_component = st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,5}[a-zA-Z0-9])?", fullmatch=True)
_host = st.one_of(
    st.lists(_domain_component, min_size=1, max_size=3).map(".".join),
    st.from_regex(r"\[[a-fA-F0-9:]{1,12}\]", fullmatch=True),
    st.just("localhost"),
)
_domain = st.builds(
    lambda host, port: host + (f":{port}" if port is not None else ""),
    _host,
    st.none() | st.integers(0, 99_999),
)
_tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True) | st.just("t" * 128)
_digest = st.sampled_from(sorted(reference.REGISTERED_ALGORITHMS.items())).flatmap(
    lambda alg: st.text(alphabet="0123456789abcdef", min_size=alg[1], max_size=alg[1]).map(
        lambda hexits: f"{alg[0]}:{hexits}"
    )
)


@st.composite
def valid_references(draw: Any) -> Tuple[str, Optional[str], str, Optional[str], Optional[str]]:
    domain = draw(st.none() | _domain)
    path = draw(_path)
    tag = draw(st.none() | _tag)
    digest = draw(st.none() | _digest)
    text = (f"{domain}/" if domain else "") + path
    text += f":{tag}" if tag is not None else ""
    text += f"@{digest}" if digest is not None else ""
    return text, domain, path, tag, digest


@given(valid_references())
@example(("a/b", None, "a/b", None, None))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_property_round_trip(
    case: Tuple[str, Optional[str], str, Optional[str], Optional[str]],
) -> None:
    text, domain, path, tag, digest = case
    ref = reference.parse(text)
    assert str(ref) == text
    assert ref.name == (f"{domain}/{path}" if domain else path)
    assert (ref.tag, ref.digest) == (tag, digest)
    if domain:
        assert (ref.domain, ref.path) == (domain, path)
    assert reference.parse(str(ref)) == ref
    assert reference.split_reference(text) == (ref.name, tag or "", digest or "")


@given(valid_references())
def test_property_normalized_is_stable(
    case: Tuple[str, Optional[str], str, Optional[str], Optional[str]],
) -> None:
    text = case[0]
    try:
        ref = reference.parse_normalized(text)
    except InvalidReference as exc:  # e.g. 'library/' pushed the path over 255
        assert exc.kind in KINDS
        return
    assert reference.parse(str(ref)) == ref
    assert reference.parse_normalized(str(ref)) == ref
    assert reference.parse_named(str(ref)) == ref
    docker_ref = reference.parse_docker_ref(text)
    assert docker_ref.tag is not None or docker_ref.digest is not None
    assert reference.parse_docker_ref(str(docker_ref)) == docker_ref


@given(valid_references())
def test_property_familiar_round_trip(
    case: Tuple[str, Optional[str], str, Optional[str], Optional[str]],
) -> None:
    try:
        ref = reference.parse_normalized(case[0])
    except InvalidReference:
        return
    familiar_first = ref.familiar_name.split("/", 1)[0]
    # A Hub path whose first component looks like a host does not survive the familiar
    # form in Go either ("docker.io/foo.com/x" -> "foo.com/x"); see the test below.
    assume(
        ref.domain != reference.DEFAULT_DOMAIN
        or not ("." in familiar_first or ":" in familiar_first or familiar_first == "localhost")
        or "/" not in ref.familiar_name
    )
    assert reference.parse_normalized(ref.familiar_string) == ref
    assert reference.parse_normalized(ref.familiar_name).name == ref.name


def test_familiar_form_of_hub_path_that_looks_like_a_host() -> None:
    ref = reference.parse_normalized("docker.io/foo.com/x")
    assert ref.familiar_name == "foo.com/x"
    assert reference.parse_normalized(ref.familiar_name).domain == "foo.com"  # as in Go


@given(st.text(max_size=80) | st.text(alphabet="aZ09:/@._-[]+%=Kİ\u212a ", max_size=40))
@example("a" * 24 + "!")
def test_property_arbitrary_text(text: str) -> None:
    for fn in _FUNCTIONS:
        try:
            ref = fn(text)
        except InvalidReference as exc:
            assert exc.kind in KINDS
            assert exc.text == text
            continue
        assert isinstance(ref, Reference)
        if fn is reference.parse:
            assert str(ref) == text
    for check in (reference.is_domain, reference.is_name, reference.is_reference):
        assert check(text) in (True, False)


# An oracle: the grammar as backtracking regexps, fine for short inputs only. Written from
# the grammar in the module docstring; the scanner must agree with it, captures included.
_ORACLE_DOMAIN = (
    r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
    r"(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
    r"|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_ORACLE_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
_ORACLE_NAME = re.compile(rf"(?:({_ORACLE_DOMAIN})/)?({_ORACLE_PATH})")
_ORACLE_REFERENCE = re.compile(
    rf"((?:{_ORACLE_DOMAIN}/)?{_ORACLE_PATH})(?::([A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}))?"
    r"(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)


@given(st.text(alphabet="aB0f:/@._-[]+", max_size=24) | valid_references().map(lambda c: c[0]))
@example("localhost:8080@sha256:" + "f" * 32)
@example("a/b.c:1/d:e")
@example("[a:b]:1/x_y__z---w:T.1")
def test_property_scanner_agrees_with_regexp_oracle(text: str) -> None:
    name = _ORACLE_NAME.fullmatch(text)
    assert reference.split_name(text) == ((name.group(1) or "", name.group(2)) if name else None)
    ref = _ORACLE_REFERENCE.fullmatch(text)
    assert reference.split_reference(text) == (
        (ref.group(1), ref.group(2) or "", ref.group(3) or "") if ref else None
    )
    assert reference.is_domain(text) is bool(re.fullmatch(_ORACLE_DOMAIN, text))


# ------------------------------------------------------------- conformance vectors


VECTORS_PATH = Path(__file__).resolve().parent / "data" / "reference-vectors.jsonl"
# At least this many rows: a truncated file must not pass quietly.
MIN_VECTORS = 350


def _load_vectors(path: Path = VECTORS_PATH) -> List[Dict[str, Any]]:
    """The vectors; a missing, unreadable or short file raises (the run fails)."""
    try:
        with path.open(encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
    except OSError as exc:
        raise RuntimeError(
            f"conformance vectors missing: {path} ({exc.strerror}); they ship with the"
            " tests (tests/data/), restore the file"
        ) from None
    if len(rows) < MIN_VECTORS:
        raise RuntimeError(f"conformance vectors truncated: {path} has {len(rows)} rows")
    return rows


VECTORS = _load_vectors()

# Go error in a vector -> our kind. ErrNameNotCanonical, ErrTagInvalidFormat and
# path.ErrBadPattern have no kind of their own here: they are invalid_format.
GO_ERROR_KINDS = {
    "ErrReferenceInvalidFormat": "invalid_format",
    "ErrNameEmpty": "name_empty",
    "ErrNameTooLong": "name_too_long",
    "ErrNameContainsUppercase": "name_contains_uppercase",
    "ErrNameNotCanonical": "invalid_format",
    "ErrTagInvalidFormat": "invalid_format",
    "ErrDigestInvalidFormat": "digest_invalid_format",
    "digest.ErrDigestUnsupported": "digest_unsupported",
    "digest.ErrDigestInvalidLength": "digest_invalid_length",
    "digest.ErrDigestInvalidFormat": "digest_invalid_format",
    "path.ErrBadPattern": "invalid_format",
}


def _expected_kind(row: Dict[str, Any]) -> str:
    if row.get("error"):
        return GO_ERROR_KINDS[row["error"]]
    observed = row["observed_error"]
    if "must be lowercase" in observed:
        return "name_contains_uppercase"
    if "64-byte hexadecimal" in observed:
        return "hex_id"
    return GO_ERROR_KINDS[observed.split(":", 1)[0]]


def _only_unregistered_upstream(row: Dict[str, Any]) -> bool:
    """The upstream tables register only sha256; a well-formed sha384/sha512 digest that
    failed there with ErrDigestUnsupported is valid here (as in real Docker binaries)."""
    if row.get("error") != "digest.ErrDigestUnsupported" or "@" not in row["input"]:
        return False
    algorithm, _, encoded = row["input"].rsplit("@", 1)[1].partition(":")
    size = reference.REGISTERED_ALGORITHMS.get(algorithm)
    return size is not None and len(encoded) == size and encoded == encoded.lower()


def _run(row: Dict[str, Any]) -> Any:
    fn, text, args = row["fn"], row["input"], row.get("args", {})
    if fn == "Parse":
        return reference.parse(text)
    if fn == "ParseNormalizedNamed":
        return reference.parse_normalized(text)
    if fn == "ParseDockerRef":
        return reference.parse_docker_ref(text)
    if fn == "ParseAnyReference":
        return reference.parse_any(text)
    if fn == "ParseNamed":
        return reference.parse_named(text)
    if fn == "FamiliarName":
        return reference.familiar_name(reference.parse_normalized(text))
    if fn == "FamiliarString":
        return reference.familiar_string(reference.parse_normalized(text))
    if fn == "WithName":
        return reference.with_name(text)
    if fn in ("WithTag", "WithDigest"):
        from_normalized = "ParseNormalizedNamed" in row.get("note", "")
        ref = reference.parse_normalized(text) if from_normalized else reference.with_name(text)
        # the Go tests apply the other component first, then the one under test
        if fn == "WithTag":
            if "digest" in args:
                ref = reference.with_digest(ref, args["digest"])
            return reference.with_tag(ref, args["tag"])
        if "tag" in args:
            ref = reference.with_tag(ref, args["tag"])
        return reference.with_digest(ref, args["digest"])
    if fn == "FamiliarMatch":
        return reference.familiar_match(args["pattern"], reference.parse_any(text))
    if fn == "DomainRegexp":
        return reference.is_domain(text)
    if fn == "NameRegexp":
        return reference.split_name(text)
    if fn == "ReferenceRegexp":
        return reference.split_reference(text)
    if fn == "IdentifierRegexp":
        return reference.is_identifier(text)
    raise AssertionError(f"unknown fn {fn!r} in the vectors")


_REFERENCE_KINDS = {
    (False, False): "repository",
    (True, False): "taggedReference",
    (False, True): "canonicalReference",
    (True, True): "reference",
}


def _check_regexp_row(row: Dict[str, Any], out: Any) -> None:
    assert bool(out) is row["ok"]
    if not row["ok"]:
        return
    if row["fn"] == "NameRegexp" and "domain" in row:
        assert out == (row["domain"], row["path"])
    if row["fn"] == "ReferenceRegexp":
        assert out == (row["name"], row["tag"], row["digest"])


def _check_reference_row(row: Dict[str, Any], out: Reference) -> None:
    for field in ("domain", "path", "name", "tag", "digest"):
        if field in row:
            assert getattr(out, field) == row[field], field
    if "normalized" in row:
        assert str(out) == row["normalized"]
    if row["fn"] == "ParseAnyReference":
        if out.name:
            assert out == reference.parse(row["normalized"])
            kind = _REFERENCE_KINDS[(out.tag is not None, out.digest is not None)]
        else:
            kind = "digestReference"
        assert kind == row["kind"]


@pytest.mark.parametrize(
    "row", VECTORS, ids=[f"{i}-{r['fn']}-{r['input'][:30]}" for i, r in enumerate(VECTORS)]
)
def test_conformance_vector(row: Dict[str, Any]) -> None:
    fn = row["fn"]
    if fn.endswith("Regexp"):
        _check_regexp_row(row, _run(row))
        return
    if not row["ok"] and not _only_unregistered_upstream(row):
        with pytest.raises(InvalidReference) as info:
            _run(row)
        assert info.value.kind == _expected_kind(row)
        return
    out = _run(row)
    if _only_unregistered_upstream(row):
        assert str(out) == row["input"]
    elif fn in ("FamiliarName", "FamiliarString"):
        assert out == row["familiar"]
    elif fn == "FamiliarMatch":
        assert out is row["match"]
    else:
        _check_reference_row(row, out)


def test_missing_vector_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="conformance vectors missing"):
        _load_vectors(tmp_path / "absent.jsonl")
    short = tmp_path / "short.jsonl"
    short.write_text('{"fn": "Parse", "input": "a", "ok": true}\n')
    with pytest.raises(RuntimeError, match="truncated"):
        _load_vectors(short)


def test_conformance_vectors_cover_every_function() -> None:
    functions = {row["fn"] for row in VECTORS}
    assert functions == {
        "Parse",
        "ParseNormalizedNamed",
        "ParseDockerRef",
        "FamiliarString",
        "FamiliarName",
        "ParseNamed",
        "ParseAnyReference",
        "WithName",
        "WithTag",
        "WithDigest",
        "FamiliarMatch",
        "DomainRegexp",
        "NameRegexp",
        "ReferenceRegexp",
        "IdentifierRegexp",
    }


# ------------------------------------------------- registry_not_image (get_credentials)

_HUB_AND_QUAY = {
    "auths": {
        "https://index.docker.io/v1/": {"auth": "aHViOmh1Yi1wYXNzd29yZA=="},  # hub:hub-password
        "quay.io": {"auth": "cXVheTpxdWF5LXBhc3N3b3Jk"},  # quay:quay-password
        "localhost:5000": {"auth": "bG9jYWw6bG9jYWwtcGFzc3dvcmQ="},
    }
}


@pytest.mark.parametrize(
    "image", ["quay.io", "localhost:5000", "localhost", " quay.io ", "127.0.0.1:5000", "[::1]:5000"]
)
def test_registry_given_as_image_is_refused(tmp_path: Path, image: str) -> None:
    """The grammar reads docker.io/library/quay.io: that returned the Docker Hub secret."""
    from dockercreds import get_credentials

    config = tmp_path / "config.json"
    config.write_text(json.dumps(_HUB_AND_QUAY))
    with pytest.raises(InvalidReference) as info:
        get_credentials(image, config=str(config))
    assert info.value.kind == "registry_not_image"
    assert "get_registry_credentials" in str(info.value)
    assert "password" not in str(info.value)


@pytest.mark.parametrize(
    ("image", "username"),
    [
        ("docker.io/library/quay.io", "hub"),
        ("ubuntu:22.04", "hub"),
        ("ubuntu@sha256:" + "a" * 64, "hub"),
        ("quay.io/org/app", "quay"),
        ("localhost:5000/app", "local"),
    ],
)
def test_images_that_look_like_registries_still_work(
    tmp_path: Path, image: str, username: str
) -> None:
    from dockercreds import get_credentials

    config = tmp_path / "config.json"
    config.write_text(json.dumps(_HUB_AND_QUAY))
    creds = get_credentials(image, config=str(config))
    assert creds is not None and creds.username == username


def test_registry_with_a_token_as_image_never_quotes_it() -> None:
    from dockercreds import get_credentials

    with pytest.raises(InvalidReference) as info:
        get_credentials("S3CRETTOKEN@quay.io", config="/nonexistent/config.json")
    assert "S3CRETTOKEN" not in str(info.value)
