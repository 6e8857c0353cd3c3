"""dockercreds.token_grant: one token exchange, driven by hand (no network)."""

from __future__ import annotations

import base64
import json
import logging
import math
import re
from typing import Any, Dict, Generator, List, Optional, Sequence, Tuple
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dockercreds.auth_steps import Fetch, FlowResponse
from dockercreds.credentials import Credentials
from dockercreds.errors import TokenError
from dockercreds.token_cache import Token
from dockercreds.token_grant import Grant, basic, exchange, header_safe, read_token, redact

NOW = 1_000_000.0  # the wall clock (epoch seconds) of every exchange here
ISSUED_100_S_AGO = "1970-01-12T13:45:00Z"  # NOW - 100
REALM = "https://auth.example.com/token"
REGISTRY = "reg.example.com"
SCOPE = "repository:team/app:pull"
PASSWORD = "Pw-31337-secret"
REFRESH = "Rt-9d8c7b6a5f4e"
ACCEPT = ("Accept", "application/json")
ALICE = Credentials(REGISTRY, username="alice", password=PASSWORD, source="file:/c.json")

Flow = Generator[Fetch, FlowResponse, Tuple[Token, Optional[str]]]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def grant(
    creds: Optional[Credentials] = None,
    refresh: Optional[str] = None,
    *,
    realm: str = REALM,
    service: str = REGISTRY,
    scopes: Tuple[str, ...] = (SCOPE,),
    offline: bool = False,
) -> Grant:
    return Grant(realm, service, scopes, REGISTRY, creds, refresh, "dockercreds", offline)


class Ticker:
    """A monotonic clock that moves ``step`` seconds on every reading."""

    def __init__(self, start: float = 500.0, step: float = 1.5) -> None:
        self.now = start - step
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def flow(g: Grant, *, timeout: float = 30.0, monotonic: Optional[Ticker] = None) -> Flow:
    return exchange(g, timeout=timeout, clock=lambda: NOW, monotonic=monotonic or Ticker())


def drive(
    exchange_flow: Flow, answers: Sequence[FlowResponse], sent: List[Fetch]
) -> Tuple[Token, Optional[str]]:
    """Answer the flow's Fetches in order (recorded in ``sent``); its result."""
    step = next(exchange_flow)
    for answer in answers:
        sent.append(step)
        try:
            step = exchange_flow.send(answer)
        except StopIteration as stop:
            result: Tuple[Token, Optional[str]] = stop.value
            return result
    raise AssertionError(f"the flow asked for more than {len(answers)} answers: {step}")


def answer(status: int = 200, body: Any = None, *, location: Optional[str] = None) -> FlowResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return FlowResponse(status, REALM, body=raw, location=location)


TOKEN = answer(200, {"token": "Tk-1", "expires_in": 300})


def query(url: str) -> List[Tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        ("alice", "pw", "Basic YWxpY2U6cHc="),
        ("", "", "Basic Og=="),
        ("<token>", REFRESH, "Basic " + b64(f"<token>:{REFRESH}")),
        ("jürgen", "pä", "Basic " + b64("jürgen:pä")),
    ],
)
def test_basic(username: str, password: str, expected: str) -> None:
    assert basic(username, password) == expected


@pytest.mark.parametrize(
    ("token", "safe"),
    [
        ("eyJhbGciOiJSUzI1NiJ9.e30.sig", True),
        ("with space", True),
        ("latin-1 é ÿ", True),
        ("tab\there", False),
        ("line\nbreak", False),
        ("cr\r", False),
        ("nul\x00", False),
        ("del\x7f", False),
        ("unicode \u0100", False),
        ("токен", False),
        ("", True),
    ],
)
def test_header_safe(token: str, safe: bool) -> None:
    assert header_safe(token) is safe


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("pw is s3cret!", ["s3cret!"], "pw is ***"),
        ("a s3cret! and s3cret!", ["s3cret!"], "a *** and ***"),
        ('json "pa\\"ss\\\\w"', ['pa"ss\\w'], 'json "***"'),  # JSON-escaped
        ("url p%40ss%2Fw%20x", ["p@ss/w x"], "url ***"),  # URL-encoded
        ("form p%40ss%2Fw+x", ["p@ss/w x"], "form ***"),  # form-encoded
        ("raw p@ss/w x", ["p@ss/w x"], "raw ***"),
        ("unicode p\\u00e4ss", ["päss"], "unicode ***"),
        ("short abc stays", ["abc"], "short abc stays"),  # under 4 characters: kept
        ("empty", ["", "mpty"], "e***"),
        ("two first second", ["first", "second"], "two *** ***"),
        ("nothing here", [], "nothing here"),
    ],
)
def test_redact(text: str, secrets: List[str], expected: str) -> None:
    assert redact(text, secrets) == expected


_SECRET_CHARS = st.characters(codec="utf-8", exclude_characters="*")


@settings(max_examples=120, deadline=None)
@given(
    st.text(_SECRET_CHARS, min_size=4, max_size=16),
    st.text(max_size=20),
    st.text(max_size=20),
    st.sampled_from(["raw", "json", "quote", "quote_plus"]),
)
@example("pa ss", "", "", "quote_plus")
def test_redact_leaves_no_form(secret: str, before: str, after: str, form: str) -> None:
    shown = {
        "raw": secret,
        "json": json.dumps(secret)[1:-1],
        "quote": quote(secret, safe=""),
        "quote_plus": quote_plus(secret),
    }[form]
    text = redact(before + shown + after, [secret])
    assert shown not in text
    assert secret not in text


# --------------------------------------------------------------------------- Grant


def test_describe() -> None:
    assert grant().describe() == (
        f"token request for registry {REGISTRY} to {REALM}"
        f" (scope {SCOPE}, service '{REGISTRY}')"
    )
    bare = grant(realm="https://u:pw@auth.example.com/t?secret=1", service="", scopes=())
    assert bare.describe() == (
        f"token request for registry {REGISTRY} to https://auth.example.com/t (scope none)"
    )


@pytest.mark.parametrize(
    ("realm", "service", "scopes", "extra", "expected"),
    [
        (REALM, "", (), (), REALM),
        (
            REALM,
            "reg.example.com",
            ("repository:a/b:pull", "repository:c:pull,push"),
            (),
            REALM + "?service=reg.example.com&scope=repository%3Aa%2Fb%3Apull"
            "&scope=repository%3Ac%3Apull%2Cpush",
        ),
        (
            REALM + "?tenant=t1#frag",
            "svc",
            (),
            (("account", "alice"),),
            REALM + "?tenant=t1&service=svc&account=alice",
        ),
        (REALM + "?tenant=t1", "", (), (), REALM + "?tenant=t1"),
        (REALM, "a b&c", (), (), REALM + "?service=a+b%26c"),
    ],
)
def test_url(
    realm: str,
    service: str,
    scopes: Tuple[str, ...],
    extra: Tuple[Tuple[str, str], ...],
    expected: str,
) -> None:
    assert grant(realm=realm, service=service, scopes=scopes).url(extra) == expected


@pytest.mark.parametrize(
    ("creds", "refresh", "expected"),
    [
        (None, None, []),
        (ALICE, None, [PASSWORD, b64(f"alice:{PASSWORD}")]),
        (None, REFRESH, [REFRESH, b64(f"<token>:{REFRESH}")]),
        (ALICE, REFRESH, [REFRESH, PASSWORD, b64(f"alice:{REFRESH}"), b64(f"alice:{PASSWORD}")]),
        (Credentials(REGISTRY, identity_token="IdT-xyz"), None, []),  # nothing it sends
        (Credentials(REGISTRY, password="pw-only"), None, ["pw-only", b64(":pw-only")]),
    ],
)
def test_secrets(creds: Optional[Credentials], refresh: Optional[str], expected: List[str]) -> None:
    assert grant(creds, refresh).secrets() == expected


# --------------------------------------------------------------------------- the requests


def test_anonymous() -> None:
    sent: List[Fetch] = []
    result = drive(flow(grant()), [TOKEN], sent)
    assert result == (Token("Tk-1", NOW + 300), None)
    assert sent == [
        Fetch("GET", f"{REALM}?service={REGISTRY}&scope=repository%3Ateam%2Fapp%3Apull", (ACCEPT,))
    ]


def test_credentials_without_password_are_anonymous() -> None:
    sent: List[Fetch] = []
    drive(flow(grant(Credentials(REGISTRY, username="alice"))), [TOKEN], sent)
    assert sent[0].headers == (ACCEPT,)
    assert ("account", "alice") not in query(sent[0].url)


@pytest.mark.parametrize(
    ("offline", "params"),
    [
        (False, [("service", REGISTRY), ("scope", SCOPE), ("account", "alice")]),
        (
            True,
            [
                ("service", REGISTRY),
                ("scope", SCOPE),
                ("account", "alice"),
                ("offline_token", "true"),
                ("client_id", "dockercreds"),
            ],
        ),
    ],
)
def test_password_grant(offline: bool, params: List[Tuple[str, str]]) -> None:
    sent: List[Fetch] = []
    token, refresh = drive(
        flow(grant(ALICE, offline=offline)),
        [answer(200, {"token": "Tk-1", "refresh_token": "Rt-new"})],
        sent,
    )
    assert (token, refresh) == (Token("Tk-1", NOW + 60), "Rt-new")
    [fetch] = sent
    assert fetch.method == "GET"
    assert fetch.body is None
    assert fetch.url.split("?")[0] == REALM
    assert query(fetch.url) == params
    assert fetch.headers == (("Authorization", "Basic " + b64(f"alice:{PASSWORD}")), ACCEPT)
    assert PASSWORD not in fetch.url


def test_password_grant_without_username() -> None:
    sent: List[Fetch] = []
    drive(flow(grant(Credentials(REGISTRY, password="pw-only"))), [TOKEN], sent)
    assert [k for k, _ in query(sent[0].url)] == ["service", "scope"]  # no account
    assert sent[0].headers == (("Authorization", "Basic " + b64(":pw-only")), ACCEPT)


@pytest.mark.parametrize(
    ("scopes", "scope_field"),
    [
        ((), []),
        ((SCOPE,), [("scope", SCOPE)]),
        (
            ("repository:a:pull", "repository:b:push"),
            [("scope", "repository:a:pull repository:b:push")],
        ),
    ],
)
def test_refresh_token_post(scopes: Tuple[str, ...], scope_field: List[Tuple[str, str]]) -> None:
    sent: List[Fetch] = []
    result = drive(
        flow(grant(refresh=REFRESH, scopes=scopes, realm=REALM + "?tenant=t1")),
        [answer(200, {"access_token": "At-1", "expires_in": 900, "refresh_token": "Rt-2"})],
        sent,
    )
    assert result == (Token("At-1", NOW + 900), "Rt-2")
    [fetch] = sent
    assert (fetch.method, fetch.url) == ("POST", REALM + "?tenant=t1")  # the realm as given
    assert fetch.headers == (("Content-Type", "application/x-www-form-urlencoded"), ACCEPT)
    assert fetch.body is not None
    assert parse_qsl(fetch.body.decode("ascii"), keep_blank_values=True) == [
        ("grant_type", "refresh_token"),
        ("refresh_token", REFRESH),
        ("service", REGISTRY),
        ("client_id", "dockercreds"),
        ("access_type", "offline"),
        *scope_field,
    ]
    assert REFRESH not in fetch.url


@pytest.mark.parametrize(
    ("creds", "username"), [(None, "<token>"), (Credentials(REGISTRY, username="bob"), "bob")]
)
def test_refresh_token_404_falls_back_to_get(
    creds: Optional[Credentials], username: str
) -> None:
    sent: List[Fetch] = []
    result = drive(
        flow(grant(creds, REFRESH)),
        [answer(404, {"errors": [{"code": "NOT_FOUND"}]}), TOKEN],
        sent,
    )
    assert result == (Token("Tk-1", NOW + 300), None)
    assert [f.method for f in sent] == ["POST", "GET"]
    get = sent[1]
    assert get.url == grant().url()
    assert get.body is None
    assert get.headers == (("Authorization", "Basic " + b64(f"{username}:{REFRESH}")), ACCEPT)


@pytest.mark.parametrize("status", [400, 401, 403, 405, 500])
def test_refresh_token_other_failures_do_not_fall_back(status: int) -> None:
    sent: List[Fetch] = []
    with pytest.raises(TokenError, match=f"HTTP {status}"):
        drive(flow(grant(refresh=REFRESH)), [answer(status, {}), TOKEN], sent)
    assert [f.method for f in sent] == ["POST"]


@pytest.mark.parametrize(
    ("g", "answers"),
    [
        (grant(), [TOKEN]),
        (grant(ALICE), [TOKEN]),
        (grant(refresh=REFRESH), [TOKEN]),
        (grant(refresh=REFRESH), [answer(404, {}), TOKEN]),
    ],
)
def test_every_fetch_has_the_same_deadline(g: Grant, answers: List[FlowResponse]) -> None:
    ticker = Ticker(start=500.0, step=7.0)  # time moves between the requests
    sent: List[Fetch] = []
    drive(flow(g, timeout=12.0, monotonic=ticker), answers, sent)
    assert len(sent) == len(answers)
    for fetch in sent:
        assert fetch.deadline == 512.0
        assert fetch.timeout == 12.0
        assert fetch.purpose == g.describe()


# --------------------------------------------------------------------------- the answers

_NAMED = "token request for registry reg.example.com to https://auth.example.com/token" \
         " (scope repository:team/app:pull, service 'reg.example.com') failed: "


@pytest.mark.parametrize(
    ("body", "token", "expires_at", "refresh"),
    [
        ({"token": "T"}, "T", NOW + 60, None),
        ({"access_token": "A"}, "A", NOW + 60, None),
        ({"access_token": "A", "token": "T"}, "A", NOW + 60, None),  # access_token first
        ({"access_token": "", "token": "T"}, "T", NOW + 60, None),
        ({"token": "T", "expires_in": 300}, "T", NOW + 300, None),
        ({"token": "T", "expires_in": 10}, "T", NOW + 60, None),  # 60 at least
        ({"token": "T", "expires_in": "300"}, "T", NOW + 60, None),
        ({"token": "T", "expires_in": 300, "issued_at": ISSUED_100_S_AGO}, "T", NOW + 200, None),
        ({"token": "T", "issued_at": ISSUED_100_S_AGO}, "T", NOW - 40, None),
        ({"token": "T", "refresh_token": "R2"}, "T", NOW + 60, "R2"),
        ({"token": "T", "refresh_token": ""}, "T", NOW + 60, None),
        ({"token": "T", "refresh_token": 7}, "T", NOW + 60, None),
        ({"token": "latin-1 é"}, "latin-1 é", NOW + 60, None),
    ],
)
def test_token_body(
    body: Dict[str, Any], token: str, expires_at: float, refresh: Optional[str]
) -> None:
    sent: List[Fetch] = []
    assert drive(flow(grant()), [answer(200, body)], sent) == (Token(token, expires_at), refresh)


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_any_2xx_is_read(status: int) -> None:
    assert read_token(answer(status, {"token": "T"}), grant(), "anonymous access", NOW) == (
        Token("T", NOW + 60),
        None,
    )


NOT_OBJECT = "the token server answered HTTP 200 with a body that is not a JSON object"
NO_TOKEN = "the token server answered without a token (no access_token or token field)"
NOT_HEADER = (
    "the token server answered a token with control or non-Latin-1 characters,"
    " which cannot be sent in an HTTP header"
)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", NOT_OBJECT),
        (b"not json", NOT_OBJECT),
        (b"\xff\xfe", NOT_OBJECT),
        (b"[]", NOT_OBJECT),
        (b'"Tk"', NOT_OBJECT),
        (b"[" * 100_000, NOT_OBJECT),  # too deep for the parser
        (b"{}", NO_TOKEN),
        (b'{"token": ""}', NO_TOKEN),
        (b'{"token": 5}', NO_TOKEN),
        (b'{"token": null}', NO_TOKEN),
        (b'{"access_token": 5, "token": "T"}', NO_TOKEN),
        (b'{"token": "a\\nb"}', NOT_HEADER),
        (b'{"token": "\\u0442\\u043e\\u043a"}', NOT_HEADER),
    ],
)
def test_bad_token_body(body: bytes, problem: str) -> None:
    sent: List[Fetch] = []
    with pytest.raises(TokenError) as info:
        drive(flow(grant()), [answer(200, body)], sent)
    assert str(info.value) == _NAMED + problem


@pytest.mark.parametrize(
    ("g", "status", "body", "problem"),
    [
        (
            grant(),
            401,
            b"",
            "the token server refused anonymous access (HTTP 401);"
            " log in first (docker login reg.example.com)",
        ),
        (
            grant(ALICE),
            401,
            b'{"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}',
            "the token server refused user 'alice' (HTTP 401: UNAUTHORIZED: authentication"
            " required); check the username and password (dockercreds explain"
            " reg.example.com shows where they come from)",
        ),
        (
            grant(ALICE),
            403,
            b'{"error": "access_denied", "error_description": "no such user"}',
            "the token server refused user 'alice' (HTTP 403: access_denied; no such user);"
            " check the username and password (dockercreds explain reg.example.com shows"
            " where they come from)",
        ),
        (
            grant(refresh=REFRESH),
            401,
            b'{"error": "invalid_grant"}',
            "the token server refused the identity token (HTTP 401: invalid_grant);"
            " the identity token may have expired or been revoked; log in again",
        ),
        (
            grant(),
            500,
            b"upstream down",
            "the token server answered HTTP 500: upstream down",
        ),
        (
            grant(),
            502,
            b"<html>\n<b>Bad gateway</b>\n</html>",  # not one line: not shown
            "the token server answered HTTP 502",
        ),
        (grant(), 400, b"x" * 201, "the token server answered HTTP 400"),  # too long to show
        (
            grant(),
            400,
            b'{"message": "bad   scope\\n  here", "details": "", "detail": "d"}',
            "the token server answered HTTP 400: d; bad scope here",
        ),
        (
            grant(),
            429,
            json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "m" * 300}]}).encode(),
            "the token server answered HTTP 429: TOOMANYREQUESTS: " + "m" * 200 + "...",
        ),
        (
            grant(),
            302,
            b"",
            "the token server redirected (HTTP 302); token requests do not follow redirects",
        ),
    ],
)
def test_refused(g: Grant, status: int, body: bytes, problem: str) -> None:
    sent: List[Fetch] = []
    with pytest.raises(TokenError) as info:
        drive(flow(g), [answer(status, body)], sent)
    assert str(info.value) == _NAMED + problem


@pytest.mark.parametrize("status", [300, 301, 302, 303, 307, 308, 399])
def test_redirect_is_not_followed(status: int) -> None:
    with pytest.raises(TokenError) as info:
        read_token(
            answer(status, b"", location="https://u:pw@login.example.com/sso?next=%2Fx"),
            grant(),
            "anonymous access",
            NOW,
        )
    assert str(info.value) == _NAMED + (
        f"the token server redirected (HTTP {status} to https://login.example.com/sso);"
        " token requests do not follow redirects"
    )


def _echoes(secret: str, basic_form: str) -> List[bytes]:
    """Bodies of a server that repeats what it was sent."""
    return [
        json.dumps({"error": f"bad password {secret}"}).encode(),
        json.dumps({"errors": [{"code": "DENIED", "message": f"token {secret} revoked"}]}).encode(),
        json.dumps({"errors": [{"code": secret, "message": secret}]}).encode(),
        json.dumps({"details": f"Authorization: Basic {basic_form}"}).encode(),
        json.dumps({"message": "x" * 190 + secret}).encode(),  # cut at 200 characters
        json.dumps({"detail": f'got {{"password": {json.dumps(secret)}}}'}).encode(),
        json.dumps({"error_description": f"refresh_token={quote_plus(secret)}"}).encode(),
        json.dumps({"error": f"token=  {secret}  "}).encode(),
        f"invalid credentials {secret}".encode(),
        f"invalid credentials {quote(secret, safe='')}".encode(),
    ]


@pytest.mark.parametrize("status", [400, 401, 403, 500])
@pytest.mark.parametrize(
    ("creds", "refresh", "secret"),
    [
        (ALICE, None, PASSWORD),
        (Credentials(REGISTRY, username="alice", password='p "w\\ / ä+&='), None,
         'p "w\\ / ä+&='),
        (Credentials(REGISTRY, username="alice", password="Pw  3l33t  x"), None,
         "Pw  3l33t  x"),  # runs of spaces, which a message squeezes
        (None, REFRESH, REFRESH),
        (None, 'r "t/ ä+&=', 'r "t/ ä+&='),
    ],
)
def test_refusal_never_shows_the_secret(
    status: int, creds: Optional[Credentials], refresh: Optional[str], secret: str
) -> None:
    g = grant(creds, refresh)
    user = creds.username if creds and creds.username else "<token>"
    forms = {
        secret,
        " ".join(secret.split()),
        json.dumps(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret),
        b64(f"{user}:{secret}"),
    }
    # no half of one either (a message is cut at 200 characters)
    parts = {form[: len(form) // 2 + 1] for form in forms}
    for body in _echoes(secret, b64(f"{user}:{secret}")):
        with pytest.raises(TokenError) as info:
            read_token(answer(status, body), g, "user 'alice'", NOW)
        message = str(info.value)
        assert message.startswith(_NAMED)
        for part in parts:
            assert part not in message, body
        if status in (401, 403):
            assert "check the username and password" in message


@pytest.mark.parametrize(
    ("password", "body"),
    [
        # the server's fields, joined into one message, spell the secret
        ("Pw-1: Zq-2", {"errors": [{"code": "Pw-1", "message": "Zq-2"}]}),
        ("Pw-1; Zq-2", {"error": "Pw-1", "error_description": "Zq-2"}),
        ("Pw-1; Zq-2", {"errors": [{"code": "Pw-1"}], "message": "Zq-2"}),
        # squeezing the server's whitespace spells it
        ("Pw-1 Zq-2", {"error": "Pw-1 \n\t Zq-2"}),
        ("Pw-1 Zq-2", b"Pw-1    Zq-2"),
    ],
)
def test_refusal_never_spells_the_secret(password: str, body: Any) -> None:
    g = grant(Credentials(REGISTRY, username="alice", password=password))
    with pytest.raises(TokenError) as info:
        read_token(answer(401, body), g, "user 'alice'", NOW)
    assert password not in str(info.value)
    assert "***" in str(info.value)


@settings(max_examples=100, deadline=None)
@given(
    st.text(st.characters(codec="utf-8", exclude_characters="*)"), min_size=2, max_size=12),
    st.text(max_size=30),
    st.text(max_size=30),
    st.sampled_from(["error", "error_description", "details", "detail", "message", "code"]),
    st.sampled_from([400, 401, 403, 404, 500]),
    st.booleans(),
)
def test_refusal_never_shows_the_secret_property(
    tail: str, before: str, after: str, field: str, status: int, refresh: bool
) -> None:
    secret = "ZqX" + tail  # the fixed text of a message never holds "ZqX"
    g = grant(None, secret) if refresh else grant(Credentials(REGISTRY, username="al",
                                                                password=secret))
    echoed = before + secret + after
    data: Dict[str, Any] = (
        {"errors": [{"code": echoed, "message": echoed}]} if field == "code" else {field: echoed}
    )
    with pytest.raises(TokenError) as info:
        read_token(answer(status, data), g, "the identity token", NOW)
    assert secret not in str(info.value)


_FIELD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)
_BODIES = st.dictionaries(
    st.sampled_from(
        ["token", "access_token", "expires_in", "issued_at", "refresh_token", "errors", "error"]
    ),
    _FIELD_VALUES,
)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=100, max_value=599), st.one_of(st.binary(max_size=60), _BODIES))
@example(200, {"token": "T", "expires_in": float("nan")})
def test_read_token_any_answer(status: int, body: Any) -> None:
    """Every answer is a token or a TokenError that names the request; nothing else."""
    try:
        token, refresh = read_token(answer(status, body), grant(), "anonymous access", NOW)
    except TokenError as exc:
        assert str(exc).startswith(_NAMED)
    else:
        assert 200 <= status < 300
        assert isinstance(body, dict)
        assert token.value == (body.get("access_token") or body.get("token"))
        assert header_safe(token.value)
        assert not math.isnan(token.expires_at)
        assert refresh == (body.get("refresh_token") or None)


# --------------------------------------------------------------------------- logging


def test_exchange_is_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    sent: List[Fetch] = []
    with caplog.at_level(logging.DEBUG, logger="dockercreds"):
        drive(flow(grant(ALICE)), [TOKEN], sent)
        with pytest.raises(TokenError):
            drive(flow(grant(refresh=REFRESH)), [answer(401, {"error": REFRESH})], [])
    messages = [r.getMessage() for r in caplog.records if r.name == "dockercreds.token_grant"]
    assert len(messages) == 2
    assert re.fullmatch(
        re.escape(f"{grant().describe()} as user 'alice': HTTP 200, token valid 300 s (")
        + r"\d+ ms\)",
        messages[0],
    )
    assert re.fullmatch(
        re.escape(f"{grant().describe()} as the identity token: HTTP 401, refused (")
        + r"\d+ ms\)",
        messages[1],
    )
    for secret in (PASSWORD, REFRESH, b64(f"alice:{PASSWORD}")):
        assert secret not in caplog.text


@pytest.mark.parametrize("kind", ["refresh", "password"])
def test_redirect_never_shows_the_secret(kind: str) -> None:
    """A Location chosen by the server may carry the secret in its path: redacted."""
    g = grant(refresh=REFRESH) if kind == "refresh" else grant(ALICE)
    secret = REFRESH if kind == "refresh" else PASSWORD
    with pytest.raises(TokenError) as info:
        read_token(
            answer(302, b"", location=f"https://auth.example.com/denied/{quote(secret)}/x"),
            g, "the identity token", NOW,
        )
    assert secret not in str(info.value) and quote(secret) not in str(info.value)
    assert "HTTP 302 to https://auth.example.com/denied/***/x" in str(info.value)
