"""dockercreds.auth_httpx: the same token flow driving httpx (sync and async), with respx."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any, List, Optional
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from dockercreds.auth_httpx import RegistryHTTPXAuth
from dockercreds.credentials import Credentials
from dockercreds.errors import TokenError, UnsafeAuthError

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
