"""RegistryAuth against a real docker-registry 2.8 on 127.0.0.1.

htpasswd mode (the ``registry`` fixture) and token mode, with the small token server of
tests/token_server.py: ES256 JWTs with an ``x5c`` header, refresh tokens
(``offline_token=true`` and the OAuth2 POST), and counters so the tests can assert the
caching.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from pathlib import Path
from typing import Iterator, List

import pytest
import requests

from dockercreds.auth_httpx import RegistryHTTPXAuth
from dockercreds.auth_requests import RegistryAuth
from dockercreds.cli import main
from dockercreds.credentials import Credentials
from dockercreds.errors import TokenError
from tests.peers import MANIFEST_V2, REGISTRY_BIN, Registry, require
from tests.token_server import (
    PASSWORD,
    SERVICE,
    USER,
    TokenRegistry,
    TokenServer,
    new_session,
    pull_image,
    push_blob,
    sha256_digest,
    start_token_registry,
    user_credentials,
)

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenRegistry]:
    require(REGISTRY_BIN if Path(REGISTRY_BIN).exists() else "docker-registry")
    pytest.importorskip("cryptography")
    tr = start_token_registry(tmp_path_factory.mktemp("token-registry"))
    try:
        tr.push("test/hello")
        tr.push("public/hello")
        yield tr
    finally:
        tr.stop()


@pytest.fixture
def token_server(token_registry: TokenRegistry) -> TokenServer:
    token_registry.server.reset()
    return token_registry.server


# --------------------------------------------------------------------------- htpasswd mode


def test_htpasswd_pull(registry: Registry) -> None:
    auth = RegistryAuth(
        credentials=lambda r: Credentials(r, username=registry.user, password=registry.password)
    )
    s = new_session(auth)
    assert pull_image(s, registry.url, "test/hello") == 3
    r = s.get(f"{registry.url}/v2/test/hello/manifests/v1", headers={"Accept": MANIFEST_V2})
    assert r.headers["Docker-Content-Digest"] == registry.digest


def test_htpasswd_from_config_file(registry: Registry, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {registry.addr: {"auth": registry.auth_b64}}}))
    s = new_session(RegistryAuth(config=str(config)))
    r = s.get(f"{registry.url}/v2/test/hello/manifests/v1", headers={"Accept": MANIFEST_V2})
    assert r.status_code == 200


def test_htpasswd_wrong_password(registry: Registry) -> None:
    auth = RegistryAuth(
        credentials=lambda r: Credentials(r, username=registry.user, password="wrong")
    )
    r = new_session(auth).get(f"{registry.url}/v2/test/hello/manifests/v1")
    assert r.status_code == 401
    assert len(r.history) == 1


def test_cli_token_on_htpasswd_registry(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {registry.addr: {"auth": registry.auth_b64}}}))
    assert main(["token", f"{registry.addr}/test/hello", "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "Basic authentication" in err
    assert "no token" in err
    assert registry.password not in err


# --------------------------------------------------------------------------- token mode


def test_token_pull_caches(token_registry: TokenRegistry, token_server: TokenServer) -> None:
    s = new_session(RegistryAuth(credentials=user_credentials))
    requests_made = pull_image(s, token_registry.url, "test/hello") + pull_image(
        s, token_registry.url, "test/hello"
    )
    assert requests_made == 6
    gets = token_server.gets()
    assert len(gets) == 1
    assert gets[0].query["scope"] == ["repository:test/hello:pull"]
    assert gets[0].query["account"] == [USER]
    assert gets[0].query["service"] == [SERVICE]


def test_token_push_upgrades_scope(
    token_registry: TokenRegistry, token_server: TokenServer
) -> None:
    s = new_session(RegistryAuth(credentials=user_credentials))
    repo = "test/pushed"
    assert s.get(f"{token_registry.url}/v2/{repo}/manifests/v1").status_code == 404  # pull token
    layer = b"pushed-" + secrets.token_bytes(32)
    push_blob(s, token_registry.url, repo, layer)
    assert s.head(f"{token_registry.url}/v2/{repo}/blobs/{sha256_digest(layer)}").status_code == 200
    scopes = [g.query["scope"] for g in token_server.gets()]
    assert scopes == [[f"repository:{repo}:pull"], [f"repository:{repo}:pull,push"]]


def test_token_anonymous_public_pull(
    token_registry: TokenRegistry, token_server: TokenServer
) -> None:
    s = new_session(RegistryAuth(credentials=lambda r: None))
    pull_image(s, token_registry.url, "public/hello")
    gets = token_server.gets()
    assert len(gets) == 1
    assert gets[0].authorization is None
    # a private repository stays closed to anonymous tokens
    assert s.get(f"{token_registry.url}/v2/test/hello/manifests/v1").status_code == 401


def test_token_wrong_password(token_registry: TokenRegistry, token_server: TokenServer) -> None:
    auth = RegistryAuth(
        credentials=lambda r: Credentials(r, username=USER, password="wrong-pw-123")
    )
    with pytest.raises(TokenError) as info:
        new_session(auth).get(f"{token_registry.url}/v2/test/hello/manifests/v1")
    message = str(info.value)
    assert token_registry.addr in message
    assert token_server.realm in message
    assert "repository:test/hello:pull" in message
    assert "invalid username or password" in message
    assert "wrong-pw-123" not in message


def test_token_expiry_by_clock(token_registry: TokenRegistry, token_server: TokenServer) -> None:
    now = [time.time()]
    s = new_session(RegistryAuth(credentials=user_credentials, clock=lambda: now[0]))
    url = f"{token_registry.url}/v2/test/hello/manifests/v1"
    assert s.get(url, headers={"Accept": MANIFEST_V2}).status_code == 200
    assert s.get(url, headers={"Accept": MANIFEST_V2}).status_code == 200
    assert len(token_server.gets()) == 1
    now[0] += 400  # past expires_in=300
    assert s.get(url, headers={"Accept": MANIFEST_V2}).status_code == 200
    assert len(token_server.gets()) == 2


def test_token_rejected_by_registry_is_refetched(
    token_registry: TokenRegistry, token_server: TokenServer
) -> None:
    """The server hands out an already-expired token: the registry refuses it."""
    token_server.expired_next = 1
    s = new_session(RegistryAuth(credentials=user_credentials))
    url = f"{token_registry.url}/v2/test/hello/manifests/v1"
    accept = {"Accept": MANIFEST_V2}
    first = s.get(url, headers=accept)
    assert first.status_code == 401  # fetched once, retried once: the caller sees the 401
    assert 'error="invalid_token"' in first.headers["WWW-Authenticate"]
    assert s.get(url, headers=accept).status_code == 200  # refused token dropped, refetched
    assert len(token_server.gets()) == 2


def test_identity_token_login_and_use(
    token_registry: TokenRegistry, token_server: TokenServer
) -> None:
    login = RegistryAuth(credentials=user_credentials, offline_token=True)
    assert new_session(login).get(f"{token_registry.url}/v2/").status_code == 200
    refresh = login.identity_token(token_registry.addr)
    assert refresh
    (get,) = token_server.gets()
    assert get.query["offline_token"] == ["true"]
    assert get.query["client_id"] == ["dockercreds"]

    token_server.reset()
    auth = RegistryAuth(credentials=lambda r: Credentials(r, identity_token=refresh))
    pull_image(new_session(auth), token_registry.url, "test/hello")
    (post,) = token_server.seen
    assert post.method == "POST"
    assert post.form["grant_type"] == ["refresh_token"]
    assert post.form["refresh_token"] == [refresh]
    assert post.form["scope"] == ["repository:test/hello:pull"]
    assert post.authorization is None


def test_identity_token_post_404_falls_back_to_get(
    token_registry: TokenRegistry, token_server: TokenServer
) -> None:
    login = RegistryAuth(credentials=user_credentials, offline_token=True)
    assert new_session(login).get(f"{token_registry.url}/v2/").status_code == 200
    refresh = login.identity_token(token_registry.addr)
    assert refresh
    token_server.reset()
    token_server.post_enabled = False
    auth = RegistryAuth(credentials=lambda r: Credentials(r, identity_token=refresh))
    pull_image(new_session(auth), token_registry.url, "test/hello")
    assert [s.method for s in token_server.seen] == ["POST", "GET"]


def test_httpx_pull(token_registry: TokenRegistry, token_server: TokenServer) -> None:
    httpx = pytest.importorskip("httpx")
    auth = RegistryHTTPXAuth(credentials=user_credentials)
    with httpx.Client(auth=auth, trust_env=False) as client:
        for _ in range(3):
            r = client.get(
                f"{token_registry.url}/v2/test/hello/manifests/v1", headers={"Accept": MANIFEST_V2}
            )
            assert r.status_code == 200
    assert len(token_server.gets()) == 1


@pytest.mark.parametrize(("push", "actions"), [(False, ["pull"]), (True, ["pull", "push"])])
def test_cli_token(
    token_registry: TokenRegistry,
    token_server: TokenServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    push: bool,
    actions: List[str],
) -> None:
    b64 = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {token_registry.addr: {"auth": b64}}}))
    argv = ["token", f"{token_registry.addr}/test/hello", "--config", str(config)]
    assert main(argv + (["--push"] if push else [])) == 0
    out, _ = capsys.readouterr()
    token = out.strip()
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["access"] == [{"type": "repository", "name": "test/hello", "actions": actions}]
    # the token works with any HTTP client
    r = requests.get(
        f"{token_registry.url}/v2/test/hello/manifests/v1",
        headers={"Authorization": f"Bearer {token}", "Accept": MANIFEST_V2},
        timeout=10,
    )
    assert r.status_code == 200
