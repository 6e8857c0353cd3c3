"""dockercreds.auth: the I/O-free token flow, stepped by hand (next/send)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Any, Dict, Generator, List, Optional, Tuple
from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dockercreds.auth import (
    Fetch,
    FlowResponse,
    RequestInfo,
    SendRequest,
    Step,
    TokenFlow,
)
from dockercreds.credentials import Credentials
from dockercreds.errors import AuthError, ChallengeError, TokenError, UnsafeAuthError

# --------------------------------------------------------------------------- flow by hand

REG = "https://reg.example"
REALM = "https://auth.example/token"


def _creds(**kw: Any) -> Credentials:
    return Credentials("reg.example", source="test", **kw)


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _flow(creds: Optional[Credentials] = None, **kw: Any) -> TokenFlow:
    return TokenFlow(lambda registry: creds, **kw)


def _challenge(scope: str = "repository:app:pull", **extra: str) -> Tuple[str, ...]:
    parts = [f'realm="{REALM}"', 'service="reg"']
    if scope:
        parts.append(f'scope="{scope}"')
    parts += [f'{k}="{v}"' for k, v in extra.items()]
    return ("Bearer " + ",".join(parts),)


def _basic_value(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _token_body(token: str, **extra: Any) -> bytes:
    return json.dumps({"token": token, **extra}).encode()


def _drive(
    flow: TokenFlow, url: str, responses: List[FlowResponse], method: str = "GET"
) -> List[Step]:
    """Run the flow, answering its steps with ``responses`` in order; returns the steps."""
    steps: List[Step] = []
    gen = flow.auth_flow(RequestInfo(method, url))
    step = next(gen)
    for response in responses:
        steps.append(step)
        try:
            step = gen.send(response)
        except StopIteration:
            return steps
    raise AssertionError(f"flow not finished; next step {step!r}")


def test_flow_by_hand_anonymous_then_cached() -> None:
    flow = _flow(None)
    url = f"{REG}/v2/app/manifests/v1"
    gen = flow.auth_flow(RequestInfo("GET", url))
    step = next(gen)
    assert step == SendRequest(None)
    step = gen.send(FlowResponse(401, url, _challenge()))
    assert isinstance(step, Fetch)
    assert step.method == "GET"
    query = parse_qs(urlsplit(step.url).query)
    assert query == {"service": ["reg"], "scope": ["repository:app:pull"]}
    assert "Authorization" not in dict(step.headers)
    step = gen.send(FlowResponse(200, step.url, body=_token_body("T1")))
    assert step == SendRequest("Bearer T1")
    with pytest.raises(StopIteration):
        gen.send(FlowResponse(200, url))
    # second request: the token is sent up front, no fetch
    gen = flow.auth_flow(RequestInfo("GET", f"{REG}/v2/app/blobs/sha256:aa"))
    assert next(gen) == SendRequest("Bearer T1")


def test_flow_stops_on_success_without_challenge() -> None:
    flow = _flow(_creds(username="u", password="p"))
    steps = _drive(flow, f"{REG}/v2/", [FlowResponse(200, f"{REG}/v2/")])
    assert steps == [SendRequest(None)]


def test_flow_basic() -> None:
    flow = _flow(_creds(username="u", password="p"))
    url = f"{REG}/v2/app/manifests/v1"
    steps = _drive(
        flow,
        url,
        [FlowResponse(401, url, ('Basic realm="x"',)), FlowResponse(200, url)],
    )
    assert steps[1] == SendRequest("Basic dTpw")
    # known Basic registry: sent up front; a 401 for it is final (no loop)
    steps = _drive(flow, url, [FlowResponse(401, url, ('Basic realm="x"',))])
    assert steps == [SendRequest("Basic dTpw")]


def test_flow_basic_without_credentials_returns_401() -> None:
    flow = _flow(None)
    url = f"{REG}/v2/"
    assert _drive(flow, url, [FlowResponse(401, url, ('Basic realm="x"',))]) == [SendRequest(None)]


def test_flow_bearer_with_password() -> None:
    flow = _flow(_creds(username="alice", password="pw"))
    url = f"{REG}/v2/app/manifests/v1"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    fetch = gen.send(FlowResponse(401, url, _challenge()))
    assert isinstance(fetch, Fetch)
    assert dict(fetch.headers)["Authorization"] == "Basic YWxpY2U6cHc="
    assert parse_qs(urlsplit(fetch.url).query)["account"] == ["alice"]
    assert "pw" not in repr(fetch)


def test_flow_realm_query_kept_and_one_param_per_scope() -> None:
    flow = TokenFlow(lambda r: None)
    url = f"{REG}/v2/app/blobs/uploads/"
    gen = flow.auth_flow(RequestInfo("POST", url))
    next(gen)
    header = (
        f'Bearer realm="{REALM}?x=1",service="reg",'
        'scope="repository:app:pull,push repository:other:pull"'
    )
    fetch = gen.send(FlowResponse(401, url, (header,)))
    assert isinstance(fetch, Fetch)
    query = parse_qs(urlsplit(fetch.url).query)
    assert query["x"] == ["1"]
    assert query["scope"] == ["repository:app:pull,push", "repository:other:pull"]


def test_flow_scope_upgrade_merges() -> None:
    flow = _flow(None)
    pull_url = f"{REG}/v2/app/manifests/v1"
    _drive(
        flow,
        pull_url,
        [
            FlowResponse(401, pull_url, _challenge()),
            FlowResponse(200, REALM, body=_token_body("PULL")),
            FlowResponse(200, pull_url),
        ],
    )
    push_url = f"{REG}/v2/app/blobs/uploads/"
    steps = _drive(
        flow,
        push_url,
        [
            FlowResponse(
                401, push_url, _challenge("repository:app:pull,push", error="insufficient_scope")
            ),
            FlowResponse(200, REALM, body=_token_body("PUSH")),
            FlowResponse(202, push_url),
        ],
        method="POST",
    )
    assert steps[0] == SendRequest("Bearer PULL")
    assert isinstance(steps[1], Fetch)
    assert parse_qs(urlsplit(steps[1].url).query)["scope"] == ["repository:app:pull,push"]
    assert steps[2] == SendRequest("Bearer PUSH")
    # afterwards pulls of that repository use the merged token
    gen = flow.auth_flow(RequestInfo("GET", pull_url))
    assert next(gen) == SendRequest("Bearer PUSH")


def test_flow_retries_only_once() -> None:
    flow = _flow(None)
    url = f"{REG}/v2/app/manifests/v1"
    steps = _drive(
        flow,
        url,
        [
            FlowResponse(401, url, _challenge()),
            FlowResponse(200, REALM, body=_token_body("T")),
            FlowResponse(401, url, _challenge(error="insufficient_scope")),
        ],
    )
    assert len(steps) == 3  # no second fetch, the 401 goes back to the caller


def test_flow_rejected_token_is_refetched() -> None:
    flow = _flow(None)
    url = f"{REG}/v2/app/manifests/v1"
    _drive(
        flow,
        url,
        [
            FlowResponse(401, url, _challenge()),
            FlowResponse(200, REALM, body=_token_body("OLD")),
            FlowResponse(200, url),
        ],
    )
    steps = _drive(
        flow,
        url,
        [
            FlowResponse(401, url, _challenge(error="invalid_token")),
            FlowResponse(200, REALM, body=_token_body("NEW")),
            FlowResponse(200, url),
        ],
    )
    assert steps[0] == SendRequest("Bearer OLD")
    assert isinstance(steps[1], Fetch)
    assert steps[2] == SendRequest("Bearer NEW")


@pytest.mark.parametrize(
    ("body", "after", "cached"),
    [
        ({"token": "T"}, 54, True),  # default 60 s, minus the 5 s leeway
        ({"token": "T"}, 56, False),
        ({"token": "T", "expires_in": 10}, 54, True),  # minimum 60 s
        ({"token": "T", "expires_in": 300}, 290, True),
        ({"token": "T", "expires_in": 300}, 296, False),
        ({"token": "T", "expires_in": "300"}, 56, False),  # nonsense: default
        # issued_at 100 s before our clock: the token is older than it looks
        ({"token": "T", "expires_in": 300, "issued_at": "1970-01-12T13:45:00Z"}, 190, True),
        ({"token": "T", "expires_in": 300, "issued_at": "1970-01-12T13:45:00Z"}, 196, False),
        # Go's nanoseconds and offsets parse
        (
            {"token": "T", "expires_in": 300, "issued_at": "1970-01-12T14:45:00.123456789+01:00"},
            196,
            False,
        ),
        # issued_at in the future (clock skew) does not extend the lifetime
        ({"token": "T", "expires_in": 300, "issued_at": "1971-01-01T00:00:00Z"}, 296, False),
        ({"token": "T", "expires_in": 300, "issued_at": "garbage"}, 290, True),
    ],
)
def test_flow_expiry(body: Dict[str, Any], after: float, cached: bool) -> None:
    clock = Clock(1_000_000.0)  # 1970-01-12T13:46:40Z
    flow = _flow(None, clock=clock)
    url = f"{REG}/v2/app/manifests/v1"
    _drive(
        flow,
        url,
        [
            FlowResponse(401, url, _challenge()),
            FlowResponse(200, REALM, body=json.dumps(body).encode()),
            FlowResponse(200, url),
        ],
    )
    clock.now += after
    gen = flow.auth_flow(RequestInfo("GET", url))
    assert next(gen) == SendRequest("Bearer T" if cached else None)


def test_flow_prefers_access_token() -> None:
    flow = _flow(None)
    url = f"{REG}/v2/app/manifests/v1"
    steps = _drive(
        flow,
        url,
        [
            FlowResponse(401, url, _challenge()),
            FlowResponse(200, REALM, body=_token_body("TOKEN", access_token="ACCESS")),
            FlowResponse(200, url),
        ],
    )
    assert steps[2] == SendRequest("Bearer ACCESS")


def test_flow_identity_token_post() -> None:
    flow = _flow(_creds(identity_token="REFRESH-1"))
    url = f"{REG}/v2/app/manifests/v1"
    gen = flow.auth_flow(RequestInfo("GET", url))
    assert next(gen) == SendRequest(None)
    post = gen.send(FlowResponse(401, url, _challenge()))
    assert isinstance(post, Fetch)
    assert post.method == "POST"
    assert post.url == REALM
    assert post.body is not None
    form = parse_qs(post.body.decode())
    assert form == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["REFRESH-1"],
        "service": ["reg"],
        "client_id": ["dockercreds"],
        "access_type": ["offline"],
        "scope": ["repository:app:pull"],
    }
    assert "Authorization" not in dict(post.headers)
    body = json.dumps({"access_token": "A", "refresh_token": "REFRESH-2", "expires_in": 60})
    step = gen.send(FlowResponse(200, REALM, body=body.encode()))
    assert step == SendRequest("Bearer A")
    assert flow.identity_token("reg.example") == "REFRESH-2"
    # the new refresh token is used afterwards
    url2 = f"{REG}/v2/other/manifests/v1"
    gen = flow.auth_flow(RequestInfo("GET", url2))
    next(gen)
    post = gen.send(FlowResponse(401, url2, _challenge("repository:other:pull")))
    assert isinstance(post, Fetch)
    assert post.body is not None
    assert parse_qs(post.body.decode())["refresh_token"] == ["REFRESH-2"]


def test_flow_identity_token_post_404_falls_back_to_get() -> None:
    flow = _flow(_creds(identity_token="REFRESH"))
    url = f"{REG}/v2/app/manifests/v1"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    post = gen.send(FlowResponse(401, url, _challenge()))
    assert isinstance(post, Fetch)
    get = gen.send(FlowResponse(404, REALM, body=b"404 page not found"))
    assert isinstance(get, Fetch)
    assert get.method == "GET"
    assert dict(get.headers)["Authorization"] == "Basic PHRva2VuPjpSRUZSRVNI"  # <token>:REFRESH
    assert gen.send(FlowResponse(200, REALM, body=_token_body("T"))) == SendRequest("Bearer T")


def test_flow_registry_token_sent_as_is() -> None:
    flow = _flow(_creds(registry_token="REGTOKEN"))
    url = f"{REG}/v2/app/manifests/v1"
    steps = _drive(flow, url, [FlowResponse(401, url, _challenge()), FlowResponse(200, url)])
    assert steps == [SendRequest(None), SendRequest("Bearer REGTOKEN")]
    # known host: sent up front; rejected: final
    steps = _drive(flow, url, [FlowResponse(401, url, _challenge())])
    assert steps == [SendRequest("Bearer REGTOKEN")]


def test_flow_offline_token_get() -> None:
    flow = _flow(_creds(username="u", password="p"), offline_token=True)
    url = f"{REG}/v2/"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    fetch = gen.send(FlowResponse(401, url, _challenge("")))
    assert isinstance(fetch, Fetch)
    query = parse_qs(urlsplit(fetch.url).query)
    assert query["offline_token"] == ["true"]
    assert query["client_id"] == ["dockercreds"]
    assert "scope" not in query
    gen.send(FlowResponse(200, REALM, body=_token_body("T", refresh_token="R")))
    assert flow.identity_token("reg.example") == "R"


def test_flow_ignores_challenge_from_redirect_target() -> None:
    flow = _flow(_creds(username="u", password="p"))
    url = f"{REG}/v2/app/blobs/sha256:aa"
    steps = _drive(flow, url, [FlowResponse(401, "https://cdn.example/blob", _challenge())])
    assert steps == [SendRequest(None)]


def test_flow_bearer_without_realm() -> None:
    flow = _flow(None)
    url = f"{REG}/v2/"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    with pytest.raises(ChallengeError, match="without a realm"):
        gen.send(FlowResponse(401, url, ('Bearer realm=""',)))


def test_flow_malformed_challenge_names_registry() -> None:
    flow = _flow(None)
    url = f"{REG}/v2/"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    with pytest.raises(ChallengeError, match=r"from registry reg\.example"):
        gen.send(FlowResponse(401, url, ("Bearer realm=https://a/t",)))


@pytest.mark.parametrize(
    ("registry", "realm", "insecure", "ok"),
    [
        ("https://reg.example", "https://auth.example/t", (), True),
        ("https://reg.example", "http://auth.example/t", (), False),
        ("https://reg.example", "http://auth.example/t", ("reg.example",), True),
        ("http://reg.example", "http://auth.example/t", (), False),
        ("http://127.0.0.1:5000", "http://127.0.0.1:9000/t", (), True),  # same host, loopback
        ("https://127.0.0.1:5000", "http://127.0.0.1:9000/t", (), False),  # registry https
        ("http://localhost:5000", "http://127.0.0.1:9000/t", (), True),  # loopback to loopback
        ("https://reg.example", "https://127.0.0.1/t", (), False),
        ("https://reg.example", "https://localhost/t", (), False),
        ("https://reg.example", "https://10.1.2.3/t", (), False),
        ("https://reg.example", "https://192.168.1.1/t", (), False),
        ("https://reg.example", "https://169.254.169.254/latest", (), False),
        ("https://reg.example", "https://[fe80::1]/t", (), False),
        ("https://reg.example", "https://[::1]/t", (), False),
        ("https://reg.example", "https://[::ffff:10.0.0.1]/t", (), False),
        ("https://reg.example", "https://0.0.0.0/t", (), False),
        ("https://10.0.0.5:5000", "https://10.0.0.5:5001/t", (), True),  # same host
        ("https://10.0.0.5:5000", "https://10.0.0.6/t", (), False),
        ("https://reg.example", "https://8.8.8.8/t", (), True),  # public IP literal
        ("https://reg.example", "ftp://auth.example/t", (), False),
        ("https://reg.example", "/relative/token", (), False),
        ("https://reg.example", "https://user:pw@auth.example/t", (), False),
        # IP spellings the C resolver reads as internal IPv4 (inet_aton forms)
        ("https://reg.example", "https://2130706433/t", (), False),
        ("https://reg.example", "https://0x7f000001/t", (), False),
        ("https://reg.example", "https://127.1/t", (), False),
        ("https://reg.example", "https://0177.0.0.1/t", (), False),
        ("https://reg.example", "https://10.1/t", (), False),
        ("https://reg.example", "https://2852039166/latest", (), False),
        ("https://reg.example", "https://127.0.0.1./t", (), False),
        ("https://reg.example", "https://100.100.100.200/t", (), False),  # shared (CGNAT)
        ("https://reg.example", "https://[::ffff:7f00:1]/t", (), False),
        ("https://reg.example", "https://[64:ff9b::a9fe:a9fe]/t", (), False),
        ("http://127.0.0.1:5000", "http://2130706433:9000/t", (), True),  # same host
        ("https://10.0.0.5:5000", "https://10.5/t", (), True),  # 10.5 is 10.0.0.5
        # malformed realms are refused, not a bare ValueError
        ("https://reg.example", "http://[::1", (), False),
        ("https://reg.example", "https://[::1/t", (), False),
        ("https://reg.example", "https://auth.example:99999/t", (), False),
        ("https://reg.example", "https://auth.example:x/t", (), False),
    ],
)
def test_realm_rules(registry: str, realm: str, insecure: Tuple[str, ...], ok: bool) -> None:
    flow = _flow(_creds(username="u", password="secret-pw"), insecure=insecure)
    url = f"{registry}/v2/app/manifests/v1"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    header = (f'Bearer realm="{realm}",service="s",scope="repository:app:pull"',)
    if ok:
        assert isinstance(gen.send(FlowResponse(401, url, header)), Fetch)
        return
    with pytest.raises(UnsafeAuthError) as info:
        gen.send(FlowResponse(401, url, header))
    message = str(info.value)
    assert "reg.example" in message or "127.0.0.1" in message or "10.0.0.5" in message
    assert "repository:app:pull" in message or "plain http" in message
    assert "\n" not in message
    assert "secret-pw" not in message
    assert "pw@" not in message


@pytest.mark.parametrize(
    ("url", "insecure", "ok"),
    [
        ("http://reg.example/v2/", (), False),
        ("http://reg.example/v2/", ("reg.example",), True),
        ("http://reg.example:5000/v2/", ("reg.example:5000",), True),
        ("http://reg.example:5000/v2/", ("http://reg.example:5000/",), True),
        ("http://127.0.0.1:5000/v2/", (), True),
        ("http://localhost:5000/v2/", (), True),
        ("https://reg.example/v2/", (), True),
    ],
)
def test_basic_over_plain_http(url: str, insecure: Tuple[str, ...], ok: bool) -> None:
    flow = _flow(_creds(username="u", password="p"), insecure=insecure)
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    if ok:
        assert gen.send(FlowResponse(401, url, ('Basic realm="r"',))) == SendRequest("Basic dTpw")
    else:
        with pytest.raises(UnsafeAuthError, match="plain http"):
            gen.send(FlowResponse(401, url, ('Basic realm="r"',)))


def test_refresh_token_never_sent_to_registry_as_basic() -> None:
    flow = _flow(_creds(identity_token="REFRESH"))
    url = f"{REG}/v2/"
    steps = _drive(flow, url, [FlowResponse(401, url, ('Basic realm="r"',))])
    assert steps == [SendRequest(None)]


TOKEN_ERRORS = [
    (
        401,
        {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
        "UNAUTHORIZED: authentication required",
    ),
    (403, {"details": "access denied"}, "access denied"),
    (
        400,
        {"error": "invalid_grant", "error_description": "bad refresh"},
        "invalid_grant; bad refresh",
    ),
    (500, "internal oops", "internal oops"),
    (401, "line one\nline two with secret-pw", ""),
    (
        401,
        {"errors": [{"code": "DENIED", "message": "password secret-pw is wrong"}]},
        "password *** is wrong",
    ),
]


@pytest.mark.parametrize(("status", "body", "detail"), TOKEN_ERRORS)
def test_token_errors(status: int, body: Any, detail: str) -> None:
    flow = _flow(_creds(username="alice", password="secret-pw"))
    url = f"{REG}/v2/app/manifests/v1"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    gen.send(FlowResponse(401, url, _challenge()))
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    with pytest.raises(TokenError) as info:
        gen.send(FlowResponse(status, REALM, body=raw))
    message = str(info.value)
    assert "reg.example" in message
    assert "https://auth.example/token" in message
    assert "repository:app:pull" in message
    assert f"HTTP {status}" in message
    assert detail in message
    assert "secret-pw" not in message
    if status == 401:
        assert "alice" in message
        assert "check the username and password" in message


@pytest.mark.parametrize(
    ("status", "body", "match"),
    [
        (200, b"not json", "not a JSON object"),
        (200, b"[1]", "not a JSON object"),
        (200, b'{"token": ""}', "without a token"),
        (200, b'{"expires_in": 60}', "without a token"),
        (302, b"", "redirected"),
    ],
)
def test_token_nonsense(status: int, body: bytes, match: str) -> None:
    flow = _flow(None)
    url = f"{REG}/v2/app/manifests/v1"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    gen.send(FlowResponse(401, url, _challenge()))
    with pytest.raises(TokenError, match=match):
        gen.send(FlowResponse(status, REALM, body=body, location="https://elsewhere/x?secret=1"))


def test_anonymous_refused_hint() -> None:
    flow = _flow(None)
    url = f"{REG}/v2/app/manifests/v1"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    gen.send(FlowResponse(401, url, _challenge()))
    with pytest.raises(TokenError, match=r"refused anonymous access.*log in first"):
        gen.send(FlowResponse(401, REALM))


def test_credentials_looked_up_once_with_normalized_registry() -> None:
    asked: List[str] = []

    def lookup(registry: str) -> Optional[Credentials]:
        asked.append(registry)
        return None

    flow = TokenFlow(lookup)
    url = "https://registry-1.docker.io/v2/library/alpine/manifests/3"
    challenge = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/alpine:pull"'
    )
    first = [
        FlowResponse(401, url, (challenge,)),
        FlowResponse(200, "https://auth.docker.io/token", body=_token_body("T")),
        FlowResponse(200, url),
    ]
    assert _drive(flow, url, first)[-1] == SendRequest("Bearer T")
    for _ in range(2):
        assert _drive(flow, url, [FlowResponse(200, url)]) == [SendRequest("Bearer T")]
    assert asked == ["docker.io"]


def test_token_flow_for_cli() -> None:
    flow = _flow(_creds(username="u", password="p"))
    gen = flow.token_flow("https://reg.example", ["repository:app:pull,push"])
    ping = next(gen)
    assert ping == Fetch("GET", "https://reg.example/v2/")
    fetch = gen.send(FlowResponse(401, ping.url, _challenge("")))
    assert isinstance(fetch, Fetch)
    assert parse_qs(urlsplit(fetch.url).query)["scope"] == ["repository:app:pull,push"]
    with pytest.raises(StopIteration) as stop:
        gen.send(FlowResponse(200, REALM, body=_token_body("T")))
    assert stop.value.value == "T"


@pytest.mark.parametrize(
    ("status", "headers", "match"),
    [
        (401, ('Basic realm="r"',), "uses Basic authentication.*no token"),
        (200, (), "no authentication needed"),
    ],
)
def test_token_flow_without_bearer(status: int, headers: Tuple[str, ...], match: str) -> None:
    gen = _flow(None).token_flow("http://127.0.0.1:5000", ["repository:app:pull"])
    next(gen)
    with pytest.raises(AuthError, match=match):
        gen.send(FlowResponse(status, "http://127.0.0.1:5000/v2/", headers))


SECRET_PW = 'pw\t  S3CR3T"x/+y'  # whitespace, a quote and URL-special characters


@pytest.mark.parametrize(
    ("password", "echo"),
    [
        # cut at 200 characters: no prefix of it may stay
        ("S3CR3T-abcdefgh", "x" * 195 + "S3CR3T-abcdefgh"),
        (SECRET_PW, "wrong password " + SECRET_PW),  # whitespace squeezed for the message
        (SECRET_PW, "wrong password " + json.dumps(SECRET_PW)),  # JSON-escaped
        (SECRET_PW, "form: password=" + quote_plus(SECRET_PW)),  # URL-encoded
        (SECRET_PW, "header: " + _basic_value("alice", SECRET_PW)),  # Authorization value
    ],
    ids=["clipped", "whitespace", "json", "urlencoded", "basic"],
)
def test_token_error_detail_never_echoes_the_password(password: str, echo: str) -> None:
    flow = _flow(_creds(username="alice", password=password))
    url = f"{REG}/v2/app/manifests/v1"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    gen.send(FlowResponse(401, url, _challenge()))
    with pytest.raises(TokenError) as info:
        gen.send(FlowResponse(401, REALM, body=json.dumps({"error": echo}).encode()))
    message = str(info.value)
    assert "S3CR3T" not in message
    assert "S3CR" not in message
    assert _basic_value("alice", password) not in message


def test_token_error_detail_never_echoes_the_identity_token() -> None:
    flow = _flow(_creds(identity_token="REFRESH S3CR3T+/="))
    url = f"{REG}/v2/"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    gen.send(FlowResponse(401, url, _challenge()))
    body = json.dumps({"error": "bad refresh_token=" + quote_plus("REFRESH S3CR3T+/=")})
    with pytest.raises(TokenError) as info:
        gen.send(FlowResponse(400, REALM, body=body.encode()))
    assert "S3CR3T" not in str(info.value)


@pytest.mark.parametrize("token", ["S3CR3T-xyz\n", "S3CR3T\r\nX-Injected: 1", "S3CR3T\x00"])
def test_token_unfit_for_a_header_is_refused_without_echo(token: str) -> None:
    """An HTTP client would refuse the header and quote the token in its ValueError."""
    flow = _flow(_creds(username="u", password="p"))
    url = f"{REG}/v2/app/manifests/v1"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    gen.send(FlowResponse(401, url, _challenge()))
    with pytest.raises(TokenError, match="cannot be sent in an HTTP header") as info:
        gen.send(FlowResponse(200, REALM, body=_token_body(token)))
    assert "S3CR3T" not in str(info.value)


@pytest.mark.parametrize("token", ["S3CR3T-xyz\n", "S3CR3T\u20ac"])
def test_registry_token_unfit_for_a_header_is_refused_without_echo(token: str) -> None:
    flow = _flow(_creds(registry_token=token))
    url = f"{REG}/v2/app/manifests/v1"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    with pytest.raises(AuthError, match="registrytoken") as info:
        gen.send(FlowResponse(401, url, _challenge()))
    assert "S3CR3T" not in str(info.value)
    # known host: the preemptive header is refused the same way
    with pytest.raises(AuthError, match="registrytoken") as info:
        next(flow.auth_flow(RequestInfo("GET", url)))
    assert "S3CR3T" not in str(info.value)


def test_bearer_token68_without_realm_is_not_shown() -> None:
    flow = _flow(None)
    url = f"{REG}/v2/"
    gen = flow.auth_flow(RequestInfo("GET", url))
    next(gen)
    with pytest.raises(ChallengeError, match="without a realm") as info:
        gen.send(FlowResponse(401, url, ("Bearer S3CR3T-xyz",)))
    assert "S3CR3T" not in str(info.value)


def test_repr_has_no_secrets() -> None:
    assert "X" not in repr(SendRequest("Bearer XXXX"))
    assert "pw" not in repr(Fetch("POST", REALM, (("Authorization", "Basic pw"),), b"pw"))


def _gen_type_check() -> Generator[Step, FlowResponse, None]:  # pragma: no cover
    return _flow(None).auth_flow(RequestInfo("GET", REG))


def test_import_auth_is_cheap() -> None:
    code = (
        "import sys, dockercreds, dockercreds.auth; "
        "assert 'requests' not in sys.modules and 'httpx' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- fuzz

_URLISH = st.text("htps:/[]@%?#.:0123456789abcdefx-_~ ", max_size=40)
_REALMS = st.one_of(
    _URLISH,
    _URLISH.map(lambda s: "https://" + s),
    _URLISH.map(lambda s: "http://" + s),
    st.sampled_from(
        ["http://[::1", "https://[::1]:x/", "https://a:99999/", "https://[zz]/", "http://%/"]
    ),
)
_VALUES = st.one_of(_URLISH, st.text(max_size=30), _REALMS)


@st.composite
def _headers(draw: Any) -> str:
    """WWW-Authenticate lines: mostly well-formed Bearer/Basic with odd values, some noise."""
    if draw(st.booleans()):
        return str(draw(st.text(max_size=60)))
    scheme = draw(st.sampled_from(["Bearer", "Basic", "bearer", "Negotiate"]))
    keys = draw(st.lists(st.sampled_from(["realm", "service", "scope", "error"]), max_size=4))
    params = []
    for key in keys:
        value = draw(_REALMS if key == "realm" else _VALUES)
        params.append(f'{key}="{value.replace(chr(92), "").replace(chr(34), "")}"')
    return f"{scheme} {','.join(params)}".strip()


_BODIES = st.one_of(
    st.binary(max_size=80),
    st.dictionaries(
        st.sampled_from(["token", "access_token", "expires_in", "issued_at", "refresh_token"]),
        st.one_of(
            st.text(max_size=20),
            st.integers(-(10**30), 10**30),
            st.floats(allow_nan=True),
            st.booleans(),
            st.none(),
            st.lists(st.integers(), max_size=2),
        ),
    ).map(lambda d: json.dumps(d).encode()),
)
_STATUS = st.sampled_from([200, 201, 204, 301, 307, 400, 401, 403, 404, 500])
_ALLOWED = (AuthError,)  # ChallengeError, TokenError, UnsafeAuthError, NetworkError


@given(
    _headers(),
    st.sampled_from(["https://reg.example", "http://127.0.0.1:5000"]),
    st.lists(st.tuples(_STATUS, _BODIES, st.one_of(st.none(), _URLISH)), max_size=3),
    st.sampled_from([None, "password", "identity"]),
)
@example('Bearer realm="http://[::1"', "https://reg.example", [], "password")
@example('Bearer realm="https://a:99999/t"', "https://reg.example", [], None)
@example(
    'Bearer realm="https://a/t"',
    "https://reg.example",
    [(200, b'{"token": "t", "expires_in": 1e999}', None)],
    None,
)
def test_fuzz_challenges_and_token_answers_end_in_typed_errors(
    header: str,
    registry: str,
    answers: List[Tuple[int, bytes, Optional[str]]],
    secret: Optional[str],
) -> None:
    creds = None
    if secret == "password":
        creds = _creds(username="u", password="S3CRET-pw")
    elif secret == "identity":
        creds = _creds(username="u", identity_token="S3CRET-refresh")
    flow = _flow(creds)
    url = f"{registry}/v2/app/manifests/v1"
    for gen in (
        flow.auth_flow(RequestInfo("GET", url)),
        flow.token_flow(registry, ["repository:app:pull"]),
    ):
        try:
            step: Any = next(gen)
            if isinstance(step, Fetch):  # the ping of token_flow
                step = gen.send(FlowResponse(401, step.url, (header,)))
            else:
                step = gen.send(FlowResponse(401, url, (header,)))
            for status, body, location in answers:
                step = gen.send(FlowResponse(status, getattr(step, "url", url), (), body, location))
        except StopIteration:
            continue
        except _ALLOWED as exc:
            message = str(exc)
            assert "S3CRET" not in message
            assert "\n" not in message
        finally:
            gen.close()
