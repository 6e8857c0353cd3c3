"""One contract for every credential store (keyring's testing/backend.py idea).

A test class subclasses :class:`StoreContract` and provides a ``store`` fixture that
yields an object with::

    get(server: str) -> Credentials | None
    store(server: str, username: str, secret: str) -> None
    erase(server: str) -> None
    list() -> dict[str, str]          # server -> username, no secrets

Class attributes tune what a real backend cannot do:
``erase_missing_ok`` (docker-credential-pass fails erasing a missing entry),
``store_replaces_username`` (docker-credential-pass keeps one entry per username, so
storing a server again under another username leaves the old one answering ``get``),
``big_secret`` (how large a secret the backend must carry).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest

from dockercreds.credentials import TOKEN_USERNAME
from dockercreds.errors import DockerCredsError


def _server(prefix: str = "contract") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}.example.test:5000"


class StoreContract:
    erase_missing_ok = True
    store_replaces_username = True
    big_secret = 60 * 1024

    @pytest.fixture
    def server(self, store: Any) -> Any:
        name = _server()
        yield name
        with contextlib.suppress(Exception):  # cleanup only
            store.erase(name)

    def test_get_missing_is_none(self, store: Any, server: str) -> None:
        assert store.get(server) is None

    def test_store_then_get(self, store: Any, server: str) -> None:
        store.store(server, "alice", "s3cret")
        creds = store.get(server)
        assert creds is not None
        assert (creds.username, creds.password, creds.identity_token) == ("alice", "s3cret", None)
        assert creds.server == server

    def test_store_overwrites_same_username(self, store: Any, server: str) -> None:
        store.store(server, "alice", "one")
        store.store(server, "alice", "two")
        creds = store.get(server)
        assert creds is not None
        assert (creds.username, creds.password) == ("alice", "two")
        assert store.list().get(server) == "alice"

    def test_store_overwrites(self, store: Any, server: str) -> None:
        store.store(server, "alice", "one")
        store.store(server, "bob", "two")
        creds = store.get(server)
        assert creds is not None
        if self.store_replaces_username:
            assert (creds.username, creds.password) == ("bob", "two")
            assert store.list().get(server) == "bob"
        else:
            # The Go helpers keep one entry per username: either one may answer, but a
            # username is never paired with another entry's secret.
            assert (creds.username, creds.password) in (("alice", "one"), ("bob", "two"))
            assert store.list().get(server) in ("alice", "bob")

    def test_erase(self, store: Any, server: str) -> None:
        store.store(server, "alice", "s3cret")
        store.erase(server)
        assert store.get(server) is None
        assert server not in store.list()

    def test_erase_missing(self, store: Any, server: str) -> None:
        if self.erase_missing_ok:
            store.erase(server)
        else:
            with pytest.raises(DockerCredsError):
                store.erase(server)
        assert store.get(server) is None

    def test_list_has_usernames_not_secrets(self, store: Any) -> None:
        a, b = _server("list-a"), _server("list-b")
        try:
            store.store(a, "user-a", "secret-a")
            store.store(b, "user-b", "secret-b")
            listed = store.list()
            assert listed[a] == "user-a"
            assert listed[b] == "user-b"
            assert "secret-a" not in repr(listed)
        finally:
            store.erase(a)
            store.erase(b)

    def test_identity_token_round_trips(self, store: Any, server: str) -> None:
        store.store(server, TOKEN_USERNAME, "refresh-token-value")
        creds = store.get(server)
        assert creds is not None
        assert creds.identity_token == "refresh-token-value"
        assert creds.username is None
        assert creds.password is None

    def test_unicode_and_specials(self, store: Any, server: str) -> None:
        secret = 'pä:ss "wörd" <&> \\ ✓'
        store.store(server, "ünï:cödé", secret)
        creds = store.get(server)
        assert creds is not None
        assert (creds.username, creds.password) == ("ünï:cödé", secret)

    def test_big_secret(self, store: Any, server: str) -> None:
        secret = ("x" * 63 + "\u00e9") * (self.big_secret // 64)
        store.store(server, "big", secret)
        creds = store.get(server)
        assert creds is not None
        assert creds.password == secret

    def test_hub_url_key(self, store: Any) -> None:
        # Docker Hub is stored under its URL key; other servers must not see it.
        key = f"https://index.docker.io/v1/{uuid.uuid4().hex[:6]}/"
        try:
            store.store(key, "hubuser", "hubpass")
            creds = store.get(key)
            assert creds is not None
            assert creds.username == "hubuser"
            assert store.get(key.rstrip("/") + "x/") is None
        finally:
            store.erase(key)
