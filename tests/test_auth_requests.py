"""dockercreds.auth_requests: RegistryAuth over requests, against `responses` mocks.

Every security rule is checked on ``responses.calls``: what went where.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

import dockercreds
from dockercreds.auth import TokenFlow
from dockercreds.auth_requests import RegistryAuth
from dockercreds.credentials import Credentials
from dockercreds.errors import DockerCredsError, NetworkError, TokenError, UnsafeAuthError
from tests.hostile_server import HostileServer

REG = "https://reg.example"
REALM = "https://auth.example/token"
MANIFEST = f"{REG}/v2/team/app/manifests/v1"
PASSWORD = "s3cret-password"
REFRESH = "refresh-token-123456"


def _creds(**kw: Any) -> Credentials:
    return Credentials("reg.example", source="test", **kw)


def _auth(creds: Optional[Credentials] = None, **kw: Any) -> RegistryAuth:
    return RegistryAuth(credentials=lambda registry: creds, **kw)


def _session(auth: RegistryAuth) -> requests.Session:
    s = requests.Session()
    s.auth = auth
    s.trust_env = False
    return s


def _bearer(scope: str = "repository:team/app:pull", realm: str = REALM, **extra: str) -> str:
    parts = [f'realm="{realm}"', 'service="reg.example"']
    if scope:
        parts.append(f'scope="{scope}"')
    parts += [f'{k}="{v}"' for k, v in extra.items()]
    return "Bearer " + ",".join(parts)


def _needs_token(url: str, token: str, challenge: str, *, method: str = "GET", **ok: Any) -> None:
    """``url`` answers 200 (or ``ok``) with ``Bearer token``, else 401 + ``challenge``."""

    def callback(request: requests.PreparedRequest) -> Tuple[int, Dict[str, str], str]:
        if request.headers.get("Authorization") == f"Bearer {token}":
            return ok.get("status", 200), ok.get("headers", {}), ok.get("body", "{}")
        return 401, {"WWW-Authenticate": challenge}, '{"errors":[{"code":"UNAUTHORIZED"}]}'

    responses.add_callback(method, url, callback=callback)


def _token_server(tokens: List[str], **extra: Any) -> List[requests.PreparedRequest]:
    """REALM answers GETs with the next token of ``tokens``; returns the requests seen."""
    seen: List[requests.PreparedRequest] = []

    def callback(request: requests.PreparedRequest) -> Tuple[int, Dict[str, str], str]:
        seen.append(request)
        return 200, {}, json.dumps({"token": tokens[min(len(seen), len(tokens)) - 1], **extra})

    responses.add_callback("GET", REALM, callback=callback)
    return seen


def _calls_to(host: str) -> List[Any]:
    return [c for c in responses.calls if urlsplit(c.request.url).hostname == host]


def _assert_no_secret(calls: List[Any], *secrets: str) -> None:
    for call in calls:
        blob = " ".join(
            [call.request.url, json.dumps(dict(call.request.headers)), str(call.request.body or "")]
        )
        for secret in secrets:
            assert secret not in blob, f"{secret!r} sent to {call.request.url}"
            b64 = base64.b64encode(secret.encode()).decode()
            assert b64[:12] not in blob


# --------------------------------------------------------------------------- basic


@responses.activate
def test_basic_registry() -> None:
    expected = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()

    def callback(request: requests.PreparedRequest) -> Tuple[int, Dict[str, str], str]:
        if request.headers.get("Authorization") == expected:
            return 200, {}, "{}"
        return 401, {"WWW-Authenticate": 'Basic realm="basic-realm"'}, ""

    responses.add_callback("GET", MANIFEST, callback=callback)
    s = _session(_auth(_creds(username="alice", password=PASSWORD)))
    for _ in range(3):
        assert s.get(MANIFEST).status_code == 200
    # 401 once, then Basic up front
    assert [c.response.status_code for c in responses.calls] == [401, 200, 200, 200]


@responses.activate
def test_basic_wrong_password_returns_401_once() -> None:
    responses.add("GET", MANIFEST, status=401, headers={"WWW-Authenticate": 'Basic realm="r"'})
    r = _session(_auth(_creds(username="alice", password="wrong"))).get(MANIFEST)
    assert r.status_code == 401
    assert len(responses.calls) == 2
    assert len(r.history) == 1


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), 1e12])
def test_token_timeout_is_checked_up_front(value: float) -> None:
    """1e12 reached the socket wait and overflowed there (OverflowError)."""
    with pytest.raises(dockercreds.errors.InvalidArgument, match="token_timeout must be"):
        RegistryAuth(token_timeout=value)


@pytest.mark.parametrize("field", ["username", "password", "identity_token", "registry_token"])
@pytest.mark.parametrize("challenge", ['Basic realm="r"', _bearer()])
@responses.activate
def test_credentials_that_are_not_text_are_a_typed_error(field: str, challenge: str) -> None:
    """A lookup (the caller's own, or a store) handing over a lone surrogate: one typed
    error naming the registry and the source, never UnicodeEncodeError from an encoder,
    and nothing sent."""
    responses.add("GET", MANIFEST, status=401, headers={"WWW-Authenticate": challenge})
    responses.add("GET", REALM, json={"token": "t"})
    fields = {"username": "alice", "password": PASSWORD, field: "se\ud800cret"}
    with pytest.raises(dockercreds.errors.InvalidCredentials) as info:
        _session(_auth(_creds(**fields))).get(MANIFEST)
    assert f"the {field.replace('_', ' ')} for reg.example (test) holds a lone surrogate" in str(
        info.value
    )
    assert [c.request.url for c in responses.calls] == [MANIFEST]  # the challenge only


@responses.activate
def test_dockercreds_registry_auth_reads_config(tmp_path: Path) -> None:
    auth_b64 = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {"reg.example": {"auth": auth_b64}}}))
    responses.add("GET", f"{REG}/v2/", status=401, headers={"WWW-Authenticate": 'Basic realm="r"'})
    responses.add(
        "GET",
        f"{REG}/v2/",
        status=200,
        match=[matchers.header_matcher({"Authorization": f"Basic {auth_b64}"})],
    )
    s = _session(dockercreds.RegistryAuth(config=str(config)))
    assert s.get(f"{REG}/v2/").status_code == 200


def _counting_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``credsStore`` helper that logs each server it is asked for; returns the log."""
    log = tmp_path / "asked.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-count"
    helper.write_text(
        "#!/bin/sh\nread server\n"
        f'echo "$server" >> {log}\n'
        f"printf '{{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"{PASSWORD}\"}}'"
        ' "$server"\n'
    )
    helper.chmod(0o755)
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text('{"credsStore": "count"}')
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    monkeypatch.delenv("DOCKERCREDS_HELPER_CACHE_TTL", raising=False)
    return log


@pytest.mark.parametrize("config", ["default", "path"])
@responses.activate
def test_one_registry_auth_runs_a_helper_once_per_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str
) -> None:
    """Pulling 5 repositories of one registry through one RegistryAuth asks the helper
    once (issue 11: helper answers reused), also when the config is a path or the
    default, which are loaded again on each lookup."""
    log = _counting_helper(tmp_path, monkeypatch)
    expected = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()

    def callback(request: requests.PreparedRequest) -> Tuple[int, Dict[str, str], str]:
        if request.headers.get("Authorization") == expected:
            return 200, {}, "{}"
        return 401, {"WWW-Authenticate": 'Basic realm="r"'}, ""

    for i in range(5):
        responses.add_callback("GET", f"{REG}/v2/team/app{i}/manifests/v1", callback=callback)
    path = str(tmp_path / "docker" / "config.json")
    auth = dockercreds.RegistryAuth() if config == "default" else dockercreds.RegistryAuth(
        config=path
    )
    s = _session(auth)
    for i in range(5):
        assert s.get(f"{REG}/v2/team/app{i}/manifests/v1").status_code == 200
    assert log.read_text().split() == ["reg.example"]


# --------------------------------------------------------------------------- bearer


@responses.activate
def test_token_requests_and_cache_hits_are_logged_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """issue 11 item 5: token requests (realm, scope, account, status, duration) and
    token-cache hits are DEBUG records of dockercreds' loggers; no secret in any."""
    token = "T0ken-value-9f8e7d"
    _needs_token(MANIFEST, token, _bearer())
    _token_server([token])
    s = _session(_auth(_creds(username="alice", password=PASSWORD)))
    with caplog.at_level("DEBUG", logger="dockercreds"):
        for _ in range(2):
            assert s.get(MANIFEST).status_code == 200
    texts = [r.getMessage() for r in caplog.records if r.name.startswith("dockercreds")]
    fetched = [t for t in texts if t.startswith("token request for registry reg.example")]
    assert len(fetched) == 1, texts
    assert "https://auth.example/token" in fetched[0]
    assert "repository:team/app:pull" in fetched[0]
    assert "user 'alice'" in fetched[0] and "HTTP 200" in fetched[0]
    assert any("cached" in t and "reg.example" in t for t in texts), texts
    for text in texts:
        assert PASSWORD not in text and token not in text


@responses.activate
def test_refused_token_request_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    responses.add("GET", MANIFEST, status=401, headers={"WWW-Authenticate": _bearer()})
    responses.add("GET", REALM, status=401, body=f'{{"details": "bad {PASSWORD}"}}')
    s = _session(_auth(_creds(username="alice", password=PASSWORD)))
    with caplog.at_level("DEBUG", logger="dockercreds"), pytest.raises(TokenError):
        s.get(MANIFEST)
    texts = [r.getMessage() for r in caplog.records]
    assert any("HTTP 401, refused" in t for t in texts), texts
    assert not any(PASSWORD in t for t in texts)


@responses.activate
def test_bearer_cache_one_token_request_for_n_requests() -> None:
    _needs_token(MANIFEST, "T1", _bearer())
    blob = f"{REG}/v2/team/app/blobs/sha256:aaaa"
    _needs_token(blob, "T1", _bearer())
    seen = _token_server(["T1"])
    s = _session(_auth(_creds(username="alice", password=PASSWORD)))
    for _ in range(5):
        assert s.get(MANIFEST).status_code == 200
        assert s.get(blob).status_code == 200
    assert len(seen) == 1
    query = parse_qs(urlsplit(seen[0].url or "").query)
    assert query == {
        "service": ["reg.example"],
        "scope": ["repository:team/app:pull"],
        "account": ["alice"],
    }
    expected = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    assert seen[0].headers["Authorization"] == expected
    # the registry never saw the password
    _assert_no_secret(_calls_to("reg.example"), PASSWORD)


@responses.activate
def test_several_challenge_lines() -> None:
    def callback(request: requests.PreparedRequest) -> Tuple[int, List[Tuple[str, str]], str]:
        if request.headers.get("Authorization") == "Bearer T":
            return 200, [], "{}"
        return 401, [("WWW-Authenticate", 'Basic realm="b"'), ("WWW-Authenticate", _bearer())], ""

    responses.add_callback("GET", MANIFEST, callback=callback)
    seen = _token_server(["T"])
    assert _session(_auth(None)).get(MANIFEST).status_code == 200
    assert len(seen) == 1


@responses.activate
def test_anonymous_pull_sends_no_authorization_to_realm() -> None:
    _needs_token(MANIFEST, "ANON", _bearer())
    seen = _token_server(["ANON"])
    r = _session(_auth(None)).get(MANIFEST)
    assert r.status_code == 200
    assert "Authorization" not in seen[0].headers
    assert "account" not in parse_qs(urlsplit(seen[0].url or "").query)


@responses.activate
def test_scope_upgrade_on_push() -> None:
    uploads = f"{REG}/v2/team/app/blobs/uploads/"
    _needs_token(MANIFEST, "PULL", _bearer())
    _needs_token(
        uploads,
        "PUSH",
        _bearer("repository:team/app:pull,push", error="insufficient_scope"),
        method="POST",
        status=202,
        headers={"Location": "/v2/team/app/blobs/uploads/u1"},
    )
    seen = _token_server(["PULL", "PUSH"])
    s = _session(_auth(_creds(username="alice", password=PASSWORD)))
    assert s.get(MANIFEST).status_code == 200
    r = s.post(uploads, data=b"")
    assert r.status_code == 202
    assert [parse_qs(urlsplit(q.url or "").query)["scope"] for q in seen] == [
        ["repository:team/app:pull"],
        ["repository:team/app:pull,push"],
    ]
    # the POST went: with the pull token (refused), then with the push token
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert [c.request.headers["Authorization"] for c in posts] == ["Bearer PULL", "Bearer PUSH"]


@responses.activate
def test_expired_token_is_refetched() -> None:
    clock = [1_000_000.0]
    _needs_token(MANIFEST, "T1", _bearer())
    seen = _token_server(["T1", "T1"], expires_in=120)
    s = _session(_auth(None, clock=lambda: clock[0]))
    assert s.get(MANIFEST).status_code == 200
    assert s.get(MANIFEST).status_code == 200
    assert len(seen) == 1
    clock[0] += 200
    assert s.get(MANIFEST).status_code == 200
    assert len(seen) == 2


@responses.activate
def test_identity_token_oauth2_post() -> None:
    _needs_token(MANIFEST, "ACCESS", _bearer())
    posts: List[Dict[str, List[str]]] = []

    def post(request: requests.PreparedRequest) -> Tuple[int, Dict[str, str], str]:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        posts.append(parse_qs(body))
        return 200, {}, json.dumps({"access_token": "ACCESS", "refresh_token": "NEW-REFRESH-1"})

    responses.add_callback("POST", REALM, callback=post)
    auth = _auth(_creds(identity_token=REFRESH))
    assert _session(auth).get(MANIFEST).status_code == 200
    assert posts == [
        {
            "grant_type": ["refresh_token"],
            "refresh_token": [REFRESH],
            "service": ["reg.example"],
            "client_id": ["dockercreds"],
            "access_type": ["offline"],
            "scope": ["repository:team/app:pull"],
        }
    ]
    assert auth.identity_token("reg.example") == "NEW-REFRESH-1"
    _assert_no_secret(_calls_to("reg.example"), REFRESH, "NEW-REFRESH-1")


@responses.activate
def test_identity_token_post_404_falls_back_to_get() -> None:
    _needs_token(MANIFEST, "T", _bearer())
    responses.add("POST", REALM, status=404, body="404 page not found")
    seen = _token_server(["T"])
    assert _session(_auth(_creds(identity_token=REFRESH))).get(MANIFEST).status_code == 200
    assert len(seen) == 1
    expected = "Basic " + base64.b64encode(f"<token>:{REFRESH}".encode()).decode()
    assert seen[0].headers["Authorization"] == expected
    _assert_no_secret(_calls_to("reg.example"), REFRESH)


@responses.activate
def test_registry_token_sent_as_is() -> None:
    _needs_token(MANIFEST, "REGISTRY-TOKEN", _bearer())
    s = _session(_auth(_creds(registry_token="REGISTRY-TOKEN")))
    assert s.get(MANIFEST).status_code == 200
    assert s.get(MANIFEST).status_code == 200
    assert _calls_to("auth.example") == []
    assert len(responses.calls) == 3  # 401, retry, then up front


@responses.activate
def test_token_server_refusal_is_a_clear_error() -> None:
    _needs_token(MANIFEST, "T", _bearer())
    responses.add(
        "GET",
        REALM,
        status=401,
        json={"errors": [{"code": "UNAUTHORIZED", "message": f"bad password {PASSWORD}"}]},
    )
    with pytest.raises(TokenError) as info:
        _session(_auth(_creds(username="alice", password=PASSWORD))).get(MANIFEST)
    message = str(info.value)
    for part in ("reg.example", REALM, "repository:team/app:pull", "UNAUTHORIZED", "alice"):
        assert part in message
    assert PASSWORD not in message


@responses.activate
def test_put_body_is_sent_again() -> None:
    url = f"{REG}/v2/team/app/blobs/uploads/u1?digest=sha256:aa"
    bodies: List[Any] = []

    def callback(request: requests.PreparedRequest) -> Tuple[int, Dict[str, str], str]:
        body = request.body
        bodies.append(body.read() if hasattr(body, "read") else body)
        if request.headers.get("Authorization") == "Bearer T":
            return 201, {}, ""
        return 401, {"WWW-Authenticate": _bearer("repository:team/app:pull,push")}, ""

    responses.add_callback("PUT", url, callback=callback)
    _token_server(["T"])
    s = _session(_auth(None))
    assert s.put(url, data=b"blob-bytes").status_code == 201
    assert bodies == [b"blob-bytes", b"blob-bytes"]
    bodies.clear()
    s.auth = _auth(None)  # a fresh cache: 401 first again
    stream = io.BytesIO(b"xxstream-bytes")
    stream.seek(2)
    assert s.put(url, data=stream).status_code == 201
    assert bodies == [b"stream-bytes", b"stream-bytes"]


# --------------------------------------------------------------------------- security


@responses.activate
def test_redirect_to_cdn_drops_authorization() -> None:
    blob = f"{REG}/v2/team/app/blobs/sha256:bbbb"
    cdn = "https://cdn.example/blobs/bbbb?sig=1"
    _needs_token(blob, "T", _bearer(), status=307, headers={"Location": cdn})
    responses.add("GET", cdn, status=200, body=b"layer")
    _token_server(["T"])
    s = _session(_auth(_creds(username="alice", password=PASSWORD)))
    r = s.get(blob)
    assert r.status_code == 200
    assert r.content == b"layer"
    # again with the token sent up front
    assert s.get(blob).status_code == 200
    cdn_calls = _calls_to("cdn.example")
    assert len(cdn_calls) == 2
    for call in cdn_calls:
        assert "Authorization" not in call.request.headers


@responses.activate
def test_challenge_from_cdn_is_not_answered() -> None:
    """A 401 from the redirect target must not make the hook add credentials there."""
    blob = f"{REG}/v2/team/app/blobs/sha256:bbbb"
    cdn = "https://cdn.example/blobs/bbbb"
    _needs_token(blob, "T", _bearer(), status=307, headers={"Location": cdn})
    responses.add(
        "GET",
        cdn,
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="https://cdn.example/token",service="cdn"'},
    )
    responses.add("GET", "https://cdn.example/token", json={"token": "CDN"})
    responses.add("GET", cdn, status=401, headers={"WWW-Authenticate": 'Basic realm="cdn"'})
    _token_server(["T"])
    s = _session(_auth(_creds(username="alice", password=PASSWORD)))
    assert s.get(blob).status_code == 401
    assert s.get(blob).status_code == 401
    cdn_calls = _calls_to("cdn.example")
    assert [urlsplit(c.request.url).path for c in cdn_calls] == ["/blobs/bbbb", "/blobs/bbbb"]
    for call in cdn_calls:
        assert "Authorization" not in call.request.headers


@responses.activate
def test_same_host_redirect_keeps_working() -> None:
    blob = f"{REG}/v2/team/app/blobs/sha256:cccc"
    moved = f"{REG}/storage/cccc"
    _needs_token(blob, "T", _bearer(), status=307, headers={"Location": moved})
    _needs_token(moved, "T", _bearer(), body="data")
    _token_server(["T"])
    r = _session(_auth(None)).get(blob)
    assert r.status_code == 200
    assert r.text == "data"


@pytest.mark.parametrize(
    ("registry", "realm"),
    [
        ("https://reg.example", "http://auth.example/token"),
        ("https://reg.example", "https://127.0.0.1:9000/token"),
        ("https://reg.example", "https://169.254.169.254/token"),
        ("https://reg.example", "https://10.0.0.1/token"),
        ("https://reg.example", "https://[fe80::1]/token"),
        ("http://reg.example", "http://reg.example/token"),
    ],
)
@responses.activate
def test_unsafe_realm_gets_nothing(registry: str, realm: str) -> None:
    url = f"{registry}/v2/team/app/manifests/v1"
    responses.add("GET", url, status=401, headers={"WWW-Authenticate": _bearer(realm=realm)})
    responses.add("GET", realm.split("?", maxsplit=1)[0], json={"token": "X"})
    with pytest.raises(UnsafeAuthError) as info:
        _session(_auth(_creds(username="alice", password=PASSWORD))).get(url)
    assert PASSWORD not in str(info.value)
    assert len(responses.calls) == 1  # only the registry request; no token request
    _assert_no_secret(list(responses.calls), PASSWORD)


@responses.activate
def test_loopback_http_registry_may_use_http_realm_on_same_host() -> None:
    registry = "http://127.0.0.1:5000"
    realm = "http://127.0.0.1:9000/token"
    url = f"{registry}/v2/team/app/manifests/v1"

    def callback(request: requests.PreparedRequest) -> Tuple[int, Dict[str, str], str]:
        if request.headers.get("Authorization") == "Bearer T":
            return 200, {}, "{}"
        return 401, {"WWW-Authenticate": _bearer(realm=realm)}, ""

    responses.add_callback("GET", url, callback=callback)
    responses.add("GET", realm, json={"token": "T"})
    r = _session(_auth(_creds(username="alice", password=PASSWORD))).get(url)
    assert r.status_code == 200


@responses.activate
def test_insecure_registry_may_use_http() -> None:
    url = "http://reg.example/v2/"
    responses.add("GET", url, status=401, headers={"WWW-Authenticate": 'Basic realm="r"'})
    responses.add("GET", url, status=200)
    with pytest.raises(UnsafeAuthError, match="plain http"):
        _session(_auth(_creds(username="alice", password=PASSWORD))).get(url)
    assert len(responses.calls) == 1
    r = _session(_auth(_creds(username="alice", password=PASSWORD), insecure=["reg.example"])).get(
        url
    )
    assert r.status_code == 200


@responses.activate
def test_basic_challenge_answered_only_for_registry_host() -> None:
    """The password for reg.example never goes to the host a redirect points at."""
    url = f"{REG}/v2/team/app/blobs/sha256:dd"
    other = "https://other.example/x"
    responses.add("GET", url, status=307, headers={"Location": other})
    responses.add("GET", other, status=401, headers={"WWW-Authenticate": 'Basic realm="o"'})
    r = _session(_auth(_creds(username="alice", password=PASSWORD))).get(url)
    assert r.status_code == 401
    _assert_no_secret(list(responses.calls), PASSWORD)


# --------------------------------------------------------------------------- threads


@responses.activate
def test_concurrent_requests_fetch_one_token() -> None:
    n = 6
    refused = threading.Semaphore(0)
    count = {"token": 0}
    lock = threading.Lock()

    def registry(request: requests.PreparedRequest) -> Tuple[int, Dict[str, str], str]:
        if request.headers.get("Authorization") == "Bearer T":
            return 200, {}, "{}"
        refused.release()
        return 401, {"WWW-Authenticate": _bearer()}, ""

    def token(request: requests.PreparedRequest) -> Tuple[int, Dict[str, str], str]:
        with lock:
            count["token"] += 1
        # hold the fetch until every thread has had its 401 (and so wants a token)
        for _ in range(n):
            assert refused.acquire(timeout=10)
        return 200, {}, json.dumps({"token": "T"})

    responses.add_callback("GET", MANIFEST, callback=registry)
    responses.add_callback("GET", REALM, callback=token)
    auth = _auth(None)
    results: List[int] = []

    def worker() -> None:
        results.append(_session(auth).get(MANIFEST).status_code)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == [200] * n
    assert count["token"] == 1


# --------------------------------------------------------------------------- token()


@responses.activate
def test_token_method() -> None:
    responses.add("GET", f"{REG}/v2/", status=401, headers={"WWW-Authenticate": _bearer("")})
    seen = _token_server(["TOKEN"])
    auth = _auth(_creds(username="alice", password=PASSWORD))
    assert auth.token(REG, ["repository:team/app:pull,push"]) == "TOKEN"
    assert parse_qs(urlsplit(seen[0].url or "").query)["scope"] == ["repository:team/app:pull,push"]


def test_httpx_shares_the_cache() -> None:
    auth = _auth(None)
    assert auth.httpx().flow is auth.flow
    assert isinstance(auth.flow, TokenFlow)


def test_repr_and_equality() -> None:
    auth = _auth(_creds(username="alice", password=PASSWORD))
    assert PASSWORD not in repr(auth)
    assert auth == RegistryAuth(flow=auth.flow)
    assert auth != _auth(None)


def test_httpx_missing_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)  # import httpx -> ImportError
    monkeypatch.delitem(sys.modules, "dockercreds.auth_httpx", raising=False)
    with pytest.raises(DockerCredsError, match=r"pip install 'dockercreds\[httpx\]'"):
        _auth(None).httpx()


# --------------------------------------------------------------------------- limits


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@responses.activate
def test_token_requests_never_follow_redirects(status: int) -> None:
    _needs_token(MANIFEST, "T", _bearer())
    responses.add("POST", REALM, status=status, headers={"Location": "http://evil.example/x"})
    responses.add("POST", "http://evil.example/x", json={"token": "T"})
    responses.add("GET", "http://evil.example/x", json={"token": "T"})
    with pytest.raises(TokenError, match="do not follow redirects"):
        _session(_auth(_creds(identity_token=REFRESH))).get(MANIFEST)
    assert _calls_to("evil.example") == []


@responses.activate
def test_huge_token_body_is_a_token_error() -> None:
    _needs_token(MANIFEST, "T", _bearer())
    responses.add("GET", REALM, body=b'{"token": "T"' + b" " * (2 << 20) + b"}")
    with pytest.raises(TokenError, match="larger than 1024 KiB"):
        _session(_auth(_creds(username="alice", password=PASSWORD))).get(MANIFEST)


def _hook(auth: RegistryAuth, url: str) -> None:
    _session(auth).get(f"{url}/v2/app/manifests/1", timeout=5)


def _token(auth: RegistryAuth, url: str) -> None:
    auth.token(url, ["repository:app:pull"], timeout=5)


@pytest.mark.parametrize("mode", ["drip", "drip_body"])
@pytest.mark.parametrize("call", [_hook, _token])
def test_slow_token_server_ends_at_the_deadline(
    mode: str, call: Callable[[RegistryAuth, str], None]
) -> None:
    auth = _auth(_creds(username="alice", password=PASSWORD), token_timeout=0.5)
    server = HostileServer(mode, interval=0.05, max_seconds=8)
    with server, pytest.raises(TokenError, match="timed out") as info:
        call(auth, server.url)
    assert "token request for registry 127.0.0.1" in str(info.value)
    assert PASSWORD not in str(info.value)


@pytest.mark.parametrize("call", [_hook, _token])
def test_huge_answer_from_a_real_server(call: Callable[[RegistryAuth, str], None]) -> None:
    server = HostileServer("huge", max_seconds=8)
    with server, pytest.raises(TokenError, match="larger than 1024 KiB"):
        call(_auth(None), server.url)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_realm_is_one_line() -> None:
    closed = _closed_port()
    server = HostileServer("ok", realm=f"http://127.0.0.1:{closed}/token")
    with server, pytest.raises(NetworkError) as info:
        _hook(_auth(None), server.url)
    message = str(info.value)
    assert message.startswith(f"cannot reach 127.0.0.1:{closed}: connection refused (")
    assert "\n" not in message and "urllib3" not in message and "Pool" not in message


def test_tls_to_a_plain_http_server_is_one_line() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def answer_in_plain_http() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=answer_in_plain_http, daemon=True)
    thread.start()
    try:
        with pytest.raises(NetworkError, match=r"^cannot reach 127\.0\.0\.1:\d+: TLS failure"):
            _token(_auth(None), f"https://127.0.0.1:{port}")
    finally:
        thread.join(timeout=5)
        listener.close()
