"""Fuzz: WWW-Authenticate headers, token responses, the whole token flow."""

from __future__ import annotations

import json
from typing import Any, Optional

from hypothesis import given
from hypothesis import strategies as st

from dockercreds.auth import Fetch, FlowResponse, RequestInfo, SendRequest, TokenFlow
from dockercreds.challenge import merge_scopes, parse_scope, parse_www_authenticate
from dockercreds.credentials import Credentials
from tests.fuzz.common import (
    SECRETS,
    assert_no_secret,
    fuzz,
    json_values,
    nasty_text,
    typed_errors_only,
)

REG = "https://reg.example"
URL = f"{REG}/v2/org/app/manifests/latest"

_realms = st.sampled_from([
    "https://auth.example/token", "http://auth.example/token", "https://[::1", "http://[::1",
    "https://127.0.0.1/t", "https://2130706433/t", "https://0x7f000001/t", "https://127.1/t",
    "https://169.254.169.254/t", "https://[fe80::1%25eth0]/t", "ftp://x/y", "", "//x/y",
    "https://reg.example:99999/t", "https://user:pw@auth.example/t", "https://auth.example:/t",
    "https://reg.example/token?a=1#f", "https://\u00e9.example/t", "https://a b/t",
    "https://auth.example:0x50/t", "https://[::ffff:127.0.0.1]/t",
]) | nasty_text

_params = st.dictionaries(
    st.sampled_from(["realm", "service", "scope", "error", "REALM", "x", "a b"]),
    _realms,
    max_size=4,
)


def _header(scheme: str, params: dict[str, str], quoted: bool) -> str:
    parts = []
    for k, v in params.items():
        value = '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' if quoted else v
        parts.append(f"{k}={value}")
    return f"{scheme} " + ", ".join(parts)


headers = st.one_of(
    st.builds(_header, st.sampled_from(["Bearer", "Basic", "bearer", "Negotiate", "", "Bearer,"]),
              _params, st.booleans()),
    nasty_text,
    st.sampled_from(['Bearer realm="http://[::1"', "Bearer realm=", 'Bearer realm="', "Basic",
                     "Bearer abc==", 'Bearer realm="r",,,scope="a"', "Bearer realm=\"\\\"", ","]),
)


@fuzz(100)
@given(st.lists(headers, max_size=3))
def test_www_authenticate(lines: list[str]) -> None:
    with typed_errors_only():
        for challenge in parse_www_authenticate(lines, source="reg.example"):
            str(challenge)
            challenge.scopes  # noqa: B018


@fuzz(200)
@given(nasty_text | st.from_regex(r"[a-z]+:[a-z/.:-]*:[a-z,*]*", fullmatch=True))
def test_scopes(text: str) -> None:
    with typed_errors_only():
        str(parse_scope(text))
    with typed_errors_only():
        merge_scopes([text], ["repository:a:pull"])


# A lone surrogate in service/scope: UnicodeEncodeError building the token URL (http
# helper's class, in test_token_flow_any_challenge through `headers`).
_no_surrogates = nasty_text.filter(lambda t: not any("\ud800" <= c <= "\udfff" for c in t))


def _creds(kind: int) -> Optional[Credentials]:
    if kind == 0:
        return None
    if kind == 1:
        return Credentials("reg.example", username="user", password=SECRETS[0], source="t")
    if kind == 2:
        return Credentials("reg.example", identity_token=SECRETS[1], source="t")
    return Credentials("reg.example", registry_token=SECRETS[2], source="t")


token_bodies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "token": st.one_of(st.just("tok-ok"), json_values, st.just(SECRETS[0]),
                               st.just("bad\r\ntoken")),
            "access_token": st.one_of(st.just("tok-ok"), json_values),
            "refresh_token": st.one_of(st.just(SECRETS[1]), json_values),
            "expires_in": st.one_of(st.integers(-(10**30), 10**30), json_values,
                                    st.just(float("nan")), st.just(1e308)),
            "issued_at": st.one_of(st.sampled_from(["2020-01-01T00:00:00Z", "nope",
                                                    "9999-99-99T99:99:99Z", ""]), json_values),
            "errors": json_values,
        },
    ).map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=100),
)
#: JSON limits in a token response: deep nesting, huge numbers, huge bodies.
limit_bodies = st.sampled_from([
    b'{"token": "a", "expires_in": ' + b"9" * 5000 + b"}",
    b'{"token": "a", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    b"[" * 50_000,
    b'{"token": "a", "expires_in": 1e999}',
    b'{"token": "a", "expires_in": NaN}',
    b'{"token": "\\ud800"}',
])

def _drive(flow: TokenFlow, header: str, status: int, body: bytes) -> Any:
    gen = flow.auth_flow(RequestInfo("GET", URL))
    step = next(gen)
    assert isinstance(step, SendRequest)
    step = gen.send(FlowResponse(401, URL, (header,)))
    for _ in range(4):
        if isinstance(step, Fetch):
            assert_no_secret(repr(step))
            step = gen.send(FlowResponse(status, step.url, body=body))
        else:
            step = gen.send(FlowResponse(200, URL))
    return step


def _run_flow(kind: int, header: str, status: int, body: bytes) -> None:
    flow = TokenFlow(lambda registry: _creds(kind))
    try:
        with typed_errors_only():
            _drive(flow, header, status, body)
    except StopIteration:
        pass
    assert_no_secret(repr(flow))


@fuzz(100)
@given(
    st.integers(0, 3),
    st.builds(_header, st.just("Bearer"),
              st.fixed_dictionaries({"realm": st.just("https://auth.example/token")},
                                    optional={"service": _no_surrogates, "scope": _no_surrogates}),
              st.just(True)),
    st.sampled_from([200, 200, 200, 201, 400, 401, 403, 404, 500, 302]),
    token_bodies,
)
def test_token_responses(kind: int, header: str, status: int, body: bytes) -> None:
    _run_flow(kind, header, status, body)


@fuzz(10)
@given(st.integers(0, 3), st.sampled_from([200, 401]), limit_bodies)
def test_token_response_json_limits(kind: int, status: int, body: bytes) -> None:
    _run_flow(kind, 'Bearer realm="https://auth.example/token",service="s"', status, body)


@fuzz(60)
@given(st.integers(0, 3), headers, st.sampled_from([200, 401, 404]),
       st.just(b'{"token": "t"}') | token_bodies)
def test_token_flow_any_challenge(kind: int, header: str, status: int, body: bytes) -> None:
    _run_flow(kind, header, status, body)
