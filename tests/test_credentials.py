"""dockercreds.credentials: the immutable Credentials value."""

from __future__ import annotations

import pytest

from dockercreds.credentials import TOKEN_USERNAME, Credentials

SECRET = "S3CR3T-value"


@pytest.mark.parametrize(
    ("username", "secret", "expected"),
    [
        ("alice", SECRET, ("alice", SECRET, None)),
        (TOKEN_USERNAME, SECRET, (None, None, SECRET)),
        ("", "", (None, None, None)),
    ],
)
def test_from_helper(username: str, secret: str, expected: tuple) -> None:
    creds = Credentials.from_helper("quay.io", username, secret, source="helper:pass")
    assert (creds.username or None, creds.password or None, creds.identity_token) == expected
    assert (creds.server, creds.source) == ("quay.io", "helper:pass")


@pytest.mark.parametrize(
    ("creds", "pair"),
    [
        (Credentials("q", username="u", password="p"), ("u", "p")),
        (Credentials("q", identity_token="t"), (TOKEN_USERNAME, "t")),
        (Credentials("q", username="uuid", identity_token="t"), (TOKEN_USERNAME, "t")),
        (Credentials("q", username="u", password="p", identity_token="t"), ("u", "p")),
        (Credentials("q"), ("", "")),
    ],
)
def test_helper_pair(creds: Credentials, pair: tuple) -> None:
    assert creds.helper_pair() == pair


@pytest.mark.parametrize(
    ("fields", "empty"),
    [
        ({}, True),
        ({"email": "e@x"}, True),
        ({"username": "u"}, False),
        ({"password": "p"}, False),
        ({"identity_token": "t"}, False),
        ({"registry_token": "r"}, False),
    ],
)
def test_is_empty(fields: dict, empty: bool) -> None:
    assert Credentials("q", **fields).is_empty is empty


def test_immutable_and_hashable() -> None:
    creds = Credentials("q", username="u", password=SECRET, source="keyring")
    with pytest.raises(AttributeError, match="immutable"):
        creds.password = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del creds.username
    same = Credentials("q", username="u", password=SECRET, source="keyring")
    assert creds == same and hash(creds) == hash(same)
    assert creds != creds.replace(source="file:/x")
    assert creds.__eq__("q") is NotImplemented
    assert {creds, same} == {creds}


def test_replace_keeps_other_fields() -> None:
    creds = Credentials("q", username="u", password=SECRET, email="e@x", source="s")
    moved = creds.replace(server="r", source="keyring")
    assert (moved.server, moved.username, moved.password, moved.email, moved.source) == (
        "r", "u", SECRET, "e@x", "keyring"
    )


def test_text_masks_a_secret_in_the_server_key() -> None:
    creds = Credentials(f"https://quay.io/v2/?token={SECRET}", username="alice", password="p")
    assert SECRET not in repr(creds)
    assert "server='https://quay.io/v2/?token=***'" in repr(creds)


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"password": SECRET}, "password"),
        ({"identity_token": SECRET}, "identity_token"),
        ({"registry_token": SECRET}, "registry_token"),
        ({"password": SECRET, "identity_token": SECRET + "2"}, "password+identity_token"),
        ({}, "none"),
    ],
)
def test_text_never_shows_a_secret(fields: dict, kind: str) -> None:
    creds = Credentials("quay.io", username="alice", source="file:/c.json", **fields)
    for text in (repr(creds), str(creds), f"{creds}", f"{creds!r}"):
        assert SECRET not in text
        assert f"secret={kind}(hidden)" in text
        assert "'alice'" in text and "'quay.io'" in text
