"""One token exchange with a token server, as an I/O-free generator.

Three grants (distribution's token spec, reference/token-auth-and-kubelet.md):

* a refresh (identity) token: the OAuth2 ``grant_type=refresh_token`` POST; a server
  without the OAuth2 endpoint (404) gets a GET with the token as Basic password;
* a username and password: GET with Basic auth (``offline_token=true`` asks for a
  refresh token);
* nothing: an anonymous GET.

:func:`exchange` yields the :class:`~dockercreds.auth_steps.Fetch` requests and reads
the answers; every bad answer is a :class:`~dockercreds.errors.TokenError` that names the
registry, the realm and the scope, never a secret.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Generator, List, Optional, Sequence, Tuple
from urllib.parse import quote, quote_plus, urlencode, urlunsplit

from ._log import debug_logger
from .auth_policy import display, scope_text, split_url
from .auth_steps import Fetch, FlowResponse
from .credentials import TOKEN_USERNAME, Credentials
from .errors import InvalidCredentials, TokenError
from .token_cache import Token, expiry

__all__ = ["Grant", "basic", "check_sendable", "exchange", "header_safe", "redact"]


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def check_sendable(creds: Credentials) -> None:
    """:class:`InvalidCredentials` when a field of ``creds`` cannot go on the wire as
    UTF-8: a lone surrogate, from a caller's own lookup or a store we do not check."""
    for name in ("username", "password", "identity_token", "registry_token"):
        value = getattr(creds, name)
        if value and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidCredentials(
                    f"the {name.replace('_', ' ')} for {display(creds.server)}"
                    f" ({creds.source or 'given by the caller'}) holds a lone surrogate,"
                    " which is not Unicode text and cannot be sent; store it again as text"
                ) from None


#: What an HTTP client refuses in a header value, quoting the value in its error.
_NOT_IN_HEADER = re.compile("[\x00-\x1f\x7f]|[^\x00-\xff]")


def header_safe(token: str) -> bool:
    return _NOT_IN_HEADER.search(token) is None


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each secret replaced by ``***``: raw, JSON-escaped and URL-encoded."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            forms = {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}
            for form in sorted(forms, key=len, reverse=True):  # a longer form first
                text = text.replace(form, "***")
    return text


def _clip(value: Any, secrets: Sequence[str]) -> str:
    # redact first: squeezing whitespace or cutting could hide a secret from redact
    text = " ".join(redact(str(value), secrets).split())
    return text if len(text) <= 200 else text[:200] + "..."


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _error_detail(body: bytes, secrets: Sequence[str]) -> str:
    """The server's error code/message fields (never a whole body of unknown shape)."""
    parts: List[str] = []
    data = _json(body)
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list):
            for item in errors[:3]:
                if isinstance(item, dict):
                    code, message = item.get("code"), item.get("message")
                    parts.append(": ".join(_clip(x, secrets) for x in (code, message) if x))
        for key in ("error", "error_description", "details", "detail", "message"):
            value = data.get(key)
            if isinstance(value, str) and value:
                parts.append(_clip(value, secrets))
    elif data is None:
        text = body.decode("utf-8", "replace").strip()
        if text and len(text) <= 200 and "\n" not in text and text.isprintable():
            parts.append(_clip(text, secrets))
    return redact("; ".join(p for p in parts if p), secrets)


@dataclass(frozen=True)
class Grant:
    """What one exchange is about, and with what."""

    realm: str
    service: str
    scopes: Tuple[str, ...]
    registry: str
    creds: Optional[Credentials]
    refresh: Optional[str]  # a refresh token to use instead of the password
    client_id: str
    offline_token: bool

    def describe(self) -> str:
        service = f", service {self.service!r}" if self.service else ""
        return (
            f"token request for registry {self.registry} to {display(self.realm)}"
            f" (scope {scope_text(self.scopes)}{service})"
        )

    def secrets(self) -> List[str]:
        """Every secret this exchange sends, in the forms a server might echo."""
        creds = self.creds
        password = creds.password if creds is not None else None
        found = [s for s in (self.refresh, password) if s]
        if self.refresh:
            found.append(basic(self._user(), self.refresh)[len("Basic ") :])
        if creds is not None and creds.password is not None:
            found.append(basic(creds.username or "", creds.password)[len("Basic ") :])
        return found

    def _user(self) -> str:
        return (self.creds.username if self.creds is not None else None) or TOKEN_USERNAME

    def url(self, extra: Sequence[Tuple[str, str]] = ()) -> str:
        parts = split_url(self.realm)
        params: List[Tuple[str, str]] = []
        if self.service:
            params.append(("service", self.service))
        params.extend(("scope", s) for s in self.scopes)
        params.extend(extra)
        query = parts.query
        if params:
            query = (query + "&" if query else "") + urlencode(params)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


_ACCEPT = ("Accept", "application/json")


def exchange(
    grant: Grant,
    *,
    timeout: float,
    clock: Callable[[], float],
    monotonic: Callable[[], float] = time.monotonic,
) -> Generator[Fetch, FlowResponse, Tuple[Token, Optional[str]]]:
    """Fetch a token; return it with the new refresh token the server sent, if any.

    The whole exchange (both requests of the refresh-token fallback) ends within
    ``timeout`` seconds: every Fetch carries the same deadline.
    """
    started = monotonic()
    deadline = started + timeout
    purpose = grant.describe()

    def fetch(
        method: str, url: str, headers: Tuple[Tuple[str, str], ...], body: Any = None
    ) -> Fetch:
        return Fetch(method, url, headers, body, deadline, purpose, timeout)

    creds = grant.creds
    if grant.refresh:
        form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", grant.refresh),
            ("service", grant.service),
            ("client_id", grant.client_id),
            ("access_type", "offline"),
        ]
        if grant.scopes:
            form.append(("scope", " ".join(grant.scopes)))
        content_type = ("Content-Type", "application/x-www-form-urlencoded")
        response = yield fetch(
            "POST", grant.realm, (content_type, _ACCEPT), urlencode(form).encode("ascii")
        )
        if response.status == 404:  # no OAuth2 endpoint: GET with the token as password
            auth = ("Authorization", basic(grant._user(), grant.refresh))
            response = yield fetch("GET", grant.url(), (auth, _ACCEPT))
        who = "the identity token"
    elif creds is not None and creds.password is not None:
        extra = [("account", creds.username)] if creds.username else []
        if grant.offline_token:
            extra += [("offline_token", "true"), ("client_id", grant.client_id)]
        auth = ("Authorization", basic(creds.username or "", creds.password))
        response = yield fetch("GET", grant.url(extra), (auth, _ACCEPT))
        who = f"user {creds.username!r}"
    else:
        response = yield fetch("GET", grant.url(), (_ACCEPT,))
        who = "anonymous access"
    log = debug_logger(__name__)
    if log is None:
        return read_token(response, grant, who, clock())
    took = (monotonic() - started) * 1000
    try:
        token, refresh = read_token(response, grant, who, clock())
    except TokenError:
        log.debug("%s as %s: HTTP %s, refused (%.0f ms)", purpose, who, response.status, took)
        raise
    log.debug(
        "%s as %s: HTTP %s, token valid %.0f s (%.0f ms)",
        purpose, who, response.status, token.expires_at - clock(), took,
    )
    return token, refresh


def read_token(
    response: FlowResponse, grant: Grant, who: str, now: float
) -> Tuple[Token, Optional[str]]:
    """The token (and refresh token) in a token server's answer, or a TokenError."""
    failed = f"{grant.describe()} failed"
    secrets = grant.secrets()
    status = response.status
    if 300 <= status < 400:
        # the server chose the Location: a secret may sit in its path (redacted, clipped)
        where = f" to {_clip(display(response.location), secrets)}" if response.location else ""
        raise TokenError(
            f"{failed}: the token server redirected (HTTP {status}{where});"
            " token requests do not follow redirects"
        )
    if not 200 <= status < 300:
        detail = _error_detail(response.body, secrets)
        detail = f": {detail}" if detail else ""
        if status in (401, 403):
            if who == "anonymous access":
                hint = f"log in first (docker login {grant.registry})"
            elif who == "the identity token":
                hint = "the identity token may have expired or been revoked; log in again"
            else:
                hint = (
                    "check the username and password"
                    f" (dockercreds explain {grant.registry} shows where they come from)"
                )
            raise TokenError(
                f"{failed}: the token server refused {who} (HTTP {status}{detail}); {hint}"
            )
        raise TokenError(f"{failed}: the token server answered HTTP {status}{detail}")
    data = _json(response.body)
    if not isinstance(data, dict):
        raise TokenError(
            f"{failed}: the token server answered HTTP {status} with a body that"
            " is not a JSON object"
        )
    value = data.get("access_token") or data.get("token")
    if not isinstance(value, str) or not value:
        raise TokenError(
            f"{failed}: the token server answered without a token (no access_token or token field)"
        )
    if not header_safe(value):
        # an HTTP client would refuse the header and quote the token in its error
        raise TokenError(
            f"{failed}: the token server answered a token with control or"
            " non-Latin-1 characters, which cannot be sent in an HTTP header"
        )
    refresh = data.get("refresh_token")
    token = Token(value, expiry(now, data.get("expires_in"), data.get("issued_at")))
    return token, (refresh if isinstance(refresh, str) and refresh else None)
