"""dockercreds.auth_httpx: the same token flow driving httpx (sync and async), with respx."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from typing import Any, List, Optional
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from dockercreds.auth_httpx import RegistryHTTPXAuth
from dockercreds.credentials import Credentials
from dockercreds.errors import InvalidCredentials, NetworkError, TokenError, UnsafeAuthError
from tests.hostile_server import HostileServer

REG = "https://reg.example"
REALM = "https://auth.example/token"
MANIFEST = f"{REG}/v2/team/app/manifests/v1"
PASSWORD = "s3cret-password"


def _auth(creds: Optional[Credentials] = None, **kw: Any) -> RegistryHTTPXAuth:
    return RegistryHTTPXAuth(credentials=lambda registry: creds, **kw)


def _creds(**kw: Any) -> Credentials:
    return Credentials("reg.example", source="test", **kw)


def _bearer(scope: str = "repository:team/app:pull", realm: str = REALM, **extra: str) -> str:
    parts = [f'realm="{realm}"', 'service="reg.example"', f'scope="{scope}"']
    parts += [f'{k}="{v}"' for k, v in extra.items()]
    return "Bearer " + ",".join(parts)


def _guarded(token: str, challenge: str, **ok: Any) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") == f"Bearer {token}":
            return httpx.Response(ok.get("status", 200), headers=ok.get("headers"), content=b"{}")
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    return handler


def _token_route(router: respx.MockRouter, *tokens: str) -> respx.Route:
    return router.get(REALM).mock(
        side_effect=[httpx.Response(200, json={"token": t}) for t in tokens]
    )


@pytest.mark.parametrize("field", ["password", "identity_token"])
@respx.mock(assert_all_called=False)
def test_credentials_that_are_not_text_are_a_typed_error(
    respx_mock: respx.MockRouter, field: str
) -> None:
    respx_mock.get(MANIFEST).mock(side_effect=_guarded("T", _bearer()))
    token = _token_route(respx_mock, "T")
    creds = _creds(**{"username": "alice", "password": PASSWORD, field: "x\udc80y"})
    with httpx.Client(auth=_auth(creds)) as client, pytest.raises(
        InvalidCredentials, match="holds a lone surrogate"
    ):
        client.get(MANIFEST)
    assert not token.called


@respx.mock(assert_all_called=False)
def test_sync_cache_and_password(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(MANIFEST).mock(side_effect=_guarded("T", _bearer()))
    token = _token_route(respx_mock, "T")
    with httpx.Client(auth=_auth(_creds(username="alice", password=PASSWORD))) as client:
        for _ in range(4):
            assert client.get(MANIFEST).status_code == 200
    assert token.call_count == 1
    request = token.calls[0].request
    expected = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    assert request.headers["Authorization"] == expected
    assert parse_qs(request.url.query.decode()) == {
        "service": ["reg.example"],
        "scope": ["repository:team/app:pull"],
        "account": ["alice"],
    }


@respx.mock(assert_all_called=False)
def test_sync_scope_upgrade(respx_mock: respx.MockRouter) -> None:
    uploads = f"{REG}/v2/team/app/blobs/uploads/"
    respx_mock.get(MANIFEST).mock(side_effect=_guarded("PULL", _bearer()))
    respx_mock.post(uploads).mock(
        side_effect=_guarded(
            "PUSH",
            _bearer("repository:team/app:pull,push", error="insufficient_scope"),
            status=202,
        )
    )
    token = _token_route(respx_mock, "PULL", "PUSH")
    with httpx.Client(auth=_auth(None)) as client:
        assert client.get(MANIFEST).status_code == 200
        assert client.post(uploads, content=b"").status_code == 202
    scopes = [parse_qs(c.request.url.query.decode())["scope"] for c in token.calls]
    assert scopes == [["repository:team/app:pull"], ["repository:team/app:pull,push"]]


@respx.mock(assert_all_called=False)
def test_redirect_to_cdn_drops_authorization(respx_mock: respx.MockRouter) -> None:
    blob = f"{REG}/v2/team/app/blobs/sha256:bb"
    cdn = "https://cdn.example/bb"
    respx_mock.get(blob).mock(
        side_effect=_guarded("T", _bearer(), status=307, headers={"Location": cdn})
    )
    cdn_route = respx_mock.get(cdn).mock(
        return_value=httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="cdn"'})
    )
    _token_route(respx_mock, "T")
    with httpx.Client(
        auth=_auth(_creds(username="alice", password=PASSWORD)), follow_redirects=True
    ) as client:
        assert client.get(blob).status_code == 401
        assert client.get(blob).status_code == 401
    assert cdn_route.call_count == 2
    for call in cdn_route.calls:
        assert "Authorization" not in call.request.headers


@respx.mock(assert_all_called=False)
def test_identity_token_post_and_404_fallback(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(MANIFEST).mock(side_effect=_guarded("T", _bearer()))
    post = respx_mock.post(REALM).mock(return_value=httpx.Response(404))
    get = _token_route(respx_mock, "T")
    with httpx.Client(auth=_auth(_creds(identity_token="REFRESH-XYZ"))) as client:
        assert client.get(MANIFEST).status_code == 200
    form = parse_qs(post.calls[0].request.content.decode())
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == ["REFRESH-XYZ"]
    assert get.call_count == 1
    for call in respx_mock.calls:
        if call.request.url.host == "reg.example":
            assert "REFRESH-XYZ" not in json.dumps(dict(call.request.headers))


@respx.mock(assert_all_called=False)
def test_unsafe_realm(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(MANIFEST).mock(
        return_value=httpx.Response(
            401, headers={"WWW-Authenticate": _bearer(realm="http://auth.example/token")}
        )
    )
    realm = respx_mock.get("http://auth.example/token")
    client = httpx.Client(auth=_auth(_creds(username="alice", password=PASSWORD)))
    with client, pytest.raises(UnsafeAuthError):
        client.get(MANIFEST)
    assert realm.call_count == 0


@respx.mock(assert_all_called=False)
def test_token_error(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(MANIFEST).mock(side_effect=_guarded("T", _bearer()))
    respx_mock.get(REALM).mock(return_value=httpx.Response(401, json={"details": "nope"}))
    client = httpx.Client(auth=_auth(_creds(username="alice", password=PASSWORD)))
    with client, pytest.raises(TokenError, match="nope") as info:
        client.get(MANIFEST)
    assert PASSWORD not in str(info.value)


@respx.mock(assert_all_called=False)
def test_async_flow(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(MANIFEST).mock(side_effect=_guarded("T", _bearer()))
    token = _token_route(respx_mock, "T")
    auth = _auth(_creds(username="alice", password=PASSWORD))

    async def main() -> List[int]:
        async with httpx.AsyncClient(auth=auth) as client:
            first = await client.get(MANIFEST)
            rest = await asyncio.gather(*(client.get(MANIFEST) for _ in range(3)))
            return [first.status_code, *(r.status_code for r in rest)]

    assert asyncio.run(main()) == [200, 200, 200, 200]
    assert token.call_count == 1


@respx.mock(assert_all_called=False)
def test_async_shares_cache_with_sync(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(MANIFEST).mock(side_effect=_guarded("T", _bearer()))
    token = _token_route(respx_mock, "T")
    auth = _auth(None)
    with httpx.Client(auth=auth) as client:
        assert client.get(MANIFEST).status_code == 200

    async def main() -> int:
        async with httpx.AsyncClient(auth=auth) as client:
            return (await client.get(MANIFEST)).status_code

    assert asyncio.run(main()) == 200
    assert token.call_count == 1


# --------------------------------------------------------------------------- limits


def _identity() -> Credentials:
    return _creds(identity_token="REFRESH-XYZ")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("creds", ["identity", "password"])
@respx.mock(assert_all_called=False)
def test_token_requests_never_follow_redirects(
    respx_mock: respx.MockRouter, status: int, creds: str
) -> None:
    respx_mock.get(MANIFEST).mock(side_effect=_guarded("T", _bearer()))
    location = "http://evil.example/steal"
    respx_mock.route(url__startswith=REALM).mock(
        return_value=httpx.Response(status, headers={"Location": location})
    )
    evil = respx_mock.route(host="evil.example").mock(
        return_value=httpx.Response(200, json={"token": "T"})
    )
    who = _identity() if creds == "identity" else _creds(username="u", password=PASSWORD)
    client = httpx.Client(auth=_auth(who), follow_redirects=True)
    with client, pytest.raises(TokenError, match="do not follow redirects") as info:
        client.get(MANIFEST)
    assert "REFRESH-XYZ" not in str(info.value) and PASSWORD not in str(info.value)
    for call in evil.calls:
        assert "Authorization" not in call.request.headers
        assert b"REFRESH-XYZ" not in call.request.content


@respx.mock(assert_all_called=False)
def test_async_token_requests_never_follow_redirects(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(MANIFEST).mock(side_effect=_guarded("T", _bearer()))
    respx_mock.post(REALM).mock(
        return_value=httpx.Response(307, headers={"Location": "http://evil.example/steal"})
    )
    evil = respx_mock.route(host="evil.example").mock(
        return_value=httpx.Response(200, json={"token": "T"})
    )

    async def run() -> None:
        async with httpx.AsyncClient(auth=_auth(_identity()), follow_redirects=True) as client:
            await client.get(MANIFEST)

    with pytest.raises(TokenError, match="do not follow redirects"):
        asyncio.run(run())
    for call in evil.calls:
        assert b"REFRESH-XYZ" not in call.request.content


class _Endless(httpx.SyncByteStream):
    """A 300 MB body that counts what was taken from it."""

    def __init__(self) -> None:
        self.taken = 0

    def __iter__(self) -> Any:
        for _ in range(300 * 16):
            self.taken += 1
            yield b" " * 65536


@respx.mock(assert_all_called=False)
def test_huge_token_body_is_capped(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(MANIFEST).mock(side_effect=_guarded("T", _bearer()))
    body = _Endless()
    respx_mock.get(url__startswith=REALM).mock(return_value=httpx.Response(200, stream=body))
    client = httpx.Client(auth=_auth(_creds(username="u", password=PASSWORD)))
    with client, pytest.raises(TokenError, match="larger than 1024 KiB"):
        client.get(MANIFEST)
    assert body.taken <= 20  # about 1 MiB read, not 300 MB


@pytest.mark.parametrize("mode", ["drip", "drip_body"])
def test_slow_token_server_ends_at_the_deadline(mode: str) -> None:
    creds = _creds(username="u", password=PASSWORD)
    client = httpx.Client(auth=_auth(creds, token_timeout=0.5), timeout=5)
    server = HostileServer(mode, interval=0.05, max_seconds=8)
    with server, client, pytest.raises(TokenError, match="timed out") as info:
        client.get(f"{server.url}/v2/app/manifests/1")
    assert "127.0.0.1" in str(info.value) and "token request" in str(info.value)


def test_async_slow_token_server_ends_at_the_deadline() -> None:
    creds = _creds(username="u", password=PASSWORD)

    async def run(url: str) -> None:
        async with httpx.AsyncClient(auth=_auth(creds, token_timeout=0.5), timeout=5) as client:
            await client.get(f"{url}/v2/app/manifests/1")

    server = HostileServer("drip", interval=0.05, max_seconds=8)
    with server, pytest.raises(TokenError, match="timed out"):
        asyncio.run(run(server.url))


def test_unreachable_realm_is_one_line() -> None:
    closed = _closed_port()
    realm = f"http://127.0.0.1:{closed}/token"
    server, client = HostileServer("ok", realm=realm), httpx.Client(auth=_auth(None))
    with server, client, pytest.raises(NetworkError) as info:
        client.get(f"{server.url}/v2/app/manifests/1")
    message = str(info.value)
    assert message.startswith(f"cannot reach 127.0.0.1:{closed}: connection refused (")
    assert "\n" not in message and "httpcore" not in message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("creds", ["identity", "password"])
def test_redirected_token_request_reaches_no_other_server(creds: str) -> None:
    who = _identity() if creds == "identity" else _creds(username="u", password=PASSWORD)
    client = httpx.Client(auth=_auth(who), follow_redirects=True, timeout=5)
    with HostileServer("ok") as evil, client:
        server = HostileServer("redirect", location=f"{evil.url}/steal")
        with server, pytest.raises(TokenError, match="do not follow redirects"):
            client.get(f"{server.url}/v2/app/manifests/1")
        assert evil.paths == []  # not even the request line went there
