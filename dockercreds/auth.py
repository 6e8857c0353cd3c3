"""Registry HTTP authentication: the token flow (challenge parsing is in
:mod:`dockercreds.challenge`, re-exported here).

The flow is written once, without I/O of its own, in the style of httpx's
``auth_flow``: :meth:`TokenFlow.auth_flow` is a generator that *yields* what must be
sent (:class:`SendRequest`: the caller's request with an ``Authorization`` value;
:class:`Fetch`: a request of our own, to a token realm) and *receives*
:class:`FlowResponse` values. Drivers do the I/O:

* :class:`RegistryAuth` (``requests.auth.AuthBase``, in :mod:`dockercreds.auth_requests`),
* :class:`RegistryHTTPXAuth` (``httpx.Auth``, sync and async, in
  :mod:`dockercreds.auth_httpx`; needs the ``httpx`` extra).

Both names are importable from here; the driver modules (and ``requests``/``httpx``)
are imported only when a driver is first used.

Security rules (DESIGN.md "HTTP"): Basic credentials only to the registry host; a token
realm gets credentials only over https (http only when the registry itself is plain
http on loopback or marked insecure), never on a private, loopback or link-local IP
literal of another host; ``Authorization`` never follows a redirect to another host;
refresh (identity) tokens only ever go to the realm, never to the registry.
"""

from __future__ import annotations

import base64
import datetime as _dt
import ipaddress
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Generator,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)
from urllib.parse import SplitResult, quote, quote_plus, urlencode, urlsplit, urlunsplit

from .challenge import (
    Challenge,
    Scope,
    format_challenge,
    merge_scopes,
    parse_scope,
    parse_www_authenticate,
    repository_of,
    shown,
)
from .credentials import TOKEN_USERNAME, Credentials
from .errors import AuthError, ChallengeError, TokenError, UnsafeAuthError

if TYPE_CHECKING:  # pragma: no cover
    from .auth_httpx import RegistryHTTPXAuth
    from .auth_requests import RegistryAuth

__all__ = [
    "CLIENT_ID",
    "Challenge",
    "CredentialsFn",
    "Fetch",
    "FlowResponse",
    "RegistryAuth",
    "RegistryHTTPXAuth",
    "RequestInfo",
    "Scope",
    "SendRequest",
    "Step",
    "TokenFlow",
    "format_challenge",
    "merge_scopes",
    "parse_scope",
    "parse_www_authenticate",
    "repository_of",
]

#: ``client_id`` sent to token servers (OAuth2 POST, offline tokens).
CLIENT_ID = "dockercreds"
#: Token lifetime when the server gives none, and the minimum (distribution's rule).
DEFAULT_EXPIRES_IN = 60
#: A cached token is not used in its last seconds (requests in flight, clock skew).
EXPIRY_LEEWAY = 5.0
#: Longest wait for another thread fetching the same token before fetching ourselves.
FETCH_WAIT = 60.0
#: Largest token-server body read.
MAX_TOKEN_BODY = 1 << 20

_LAZY = {"RegistryAuth": "auth_requests", "RegistryHTTPXAuth": "auth_httpx"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    globals()[name] = value
    return value


# --------------------------------------------------------------------------- flow values


@dataclass(frozen=True)
class RequestInfo:
    """What the flow needs to know about the caller's request."""

    method: str
    url: str


@dataclass(frozen=True)
class SendRequest:
    """Send the caller's request with this ``Authorization`` value (None: no header)."""

    authorization: Optional[str] = field(default=None, repr=False)


@dataclass(frozen=True)
class Fetch:
    """Send a request of our own (a token request, or a ``/v2/`` ping)."""

    method: str
    url: str
    headers: Tuple[Tuple[str, str], ...] = field(default=(), repr=False)
    body: Optional[bytes] = field(default=None, repr=False)


Step = Union[SendRequest, Fetch]


@dataclass(frozen=True)
class FlowResponse:
    """What the flow needs from a response: ``body`` only for :class:`Fetch` requests."""

    status: int
    url: str
    www_authenticate: Tuple[str, ...] = ()
    body: bytes = field(default=b"", repr=False)
    location: Optional[str] = None


CredentialsFn = Callable[[str], Optional[Credentials]]


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float


TokenKey = Tuple[str, str, Tuple[str, ...]]  # (realm, service, scopes)


@dataclass(frozen=True)
class _HostAuth:
    scheme: str  # "basic" or "bearer"
    realm: str = ""
    service: str = ""


# --------------------------------------------------------------------------- hosts


def _split(url: str) -> SplitResult:
    return urlsplit(url)


def _hostport(parts: SplitResult) -> str:
    """host[:port] of a URL, lowercased, without user info (IPv6 kept in brackets)."""
    netloc = parts.netloc.rpartition("@")[2]
    return netloc.lower()


def _hostname(hostport: str) -> str:
    """The host without the port and brackets."""
    if hostport.startswith("["):
        return hostport[1 : hostport.find("]")] if "]" in hostport else hostport[1:]
    return hostport.partition(":")[0]


def _ip(host: str) -> Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    addr = _ip(host)
    return addr is not None and addr.is_loopback


def _is_internal_literal(host: str) -> bool:
    """A name or IP literal that points inside: loopback, private, link-local, unspecified."""
    if _is_loopback(host):
        return True
    addr = _ip(host)
    return addr is not None and (
        addr.is_private
        or addr.is_link_local
        or addr.is_unspecified
        or addr.is_reserved
        or addr.is_multicast
    )


def _display(url: str) -> str:
    """A URL for messages: scheme://host/path, no user info, no query."""
    parts = _split(url)
    return urlunsplit((parts.scheme, _hostport(parts), parts.path, "", ""))


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _parse_time(text: Any) -> Optional[float]:
    """RFC 3339 (Go may send nanoseconds and ``Z``) -> epoch seconds, or None."""
    if not isinstance(text, str) or not text:
        return None
    value = text.strip().replace("z", "Z")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", value)
    if match is None:
        return None
    frac = (match.group(2) or "")[:7]
    try:
        parsed = _dt.datetime.fromisoformat(match.group(1) + frac + match.group(3))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.timestamp()


# --------------------------------------------------------------------------- errors


def _redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each secret replaced by ``***``: raw, JSON-escaped and URL-encoded."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            forms = {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}
            for form in sorted(forms, key=len, reverse=True):  # a longer form first
                text = text.replace(form, "***")
    return text


def _clip(value: Any, secrets: Sequence[str]) -> str:
    # redact first: squeezing whitespace or cutting could hide a secret from _redact
    text = " ".join(_redact(str(value), secrets).split())
    return text if len(text) <= 200 else text[:200] + "..."


#: What an HTTP client refuses in a header value, quoting the value in its error.
_NOT_IN_HEADER = re.compile("[\x00-\x1f\x7f]|[^\x00-\xff]")


def _header_safe(token: str) -> bool:
    return _NOT_IN_HEADER.search(token) is None


def _error_detail(body: bytes, secrets: Sequence[str]) -> str:
    """The server's error code/message fields (never a whole body of unknown shape)."""
    parts: List[str] = []
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
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
    detail = "; ".join(p for p in parts if p)
    return _redact(detail, secrets)


# --------------------------------------------------------------------------- the flow


class TokenFlow:
    """Registry authentication state and logic, shared by all drivers (thread-safe).

    ``credentials(registry)`` is asked with the normalized registry (``docker.io`` for
    Docker Hub) the first time a registry challenges; the answer is kept in memory.
    ``insecure``: registries (``host[:port]``) that may get credentials over plain http.
    ``offline_token``: ask token servers for a refresh token with username/password
    (what ``docker login`` stores as an identity token); see :meth:`identity_token`.
    """

    def __init__(
        self,
        credentials: CredentialsFn,
        *,
        insecure: Iterable[str] = (),
        client_id: str = CLIENT_ID,
        offline_token: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._lookup = credentials
        self._insecure = frozenset(_normalize_insecure(h) for h in insecure)
        self.client_id = client_id
        self.offline_token = offline_token
        self._clock = clock
        self._lock = threading.Lock()
        self._creds: Dict[str, Optional[Credentials]] = {}
        self._hosts: Dict[str, _HostAuth] = {}
        self._repo_scopes: Dict[Tuple[str, str], Tuple[str, ...]] = {}
        self._tokens: Dict[TokenKey, _Token] = {}
        self._key_locks: Dict[TokenKey, threading.Lock] = {}
        self._refresh: Dict[str, str] = {}

    @classmethod
    def for_config(
        cls,
        config: Any = None,
        *,
        credentials: Optional[CredentialsFn] = None,
        insecure: Iterable[str] = (),
        client_id: str = CLIENT_ID,
        offline_token: bool = False,
        clock: Optional[Callable[[], float]] = None,
    ) -> TokenFlow:
        """The flow the drivers build: credentials from ``credentials`` or the resolver."""
        if credentials is None:

            def credentials(registry: str) -> Optional[Credentials]:
                from .resolver import get_registry_credentials

                return get_registry_credentials(registry, config=config)

        return cls(
            credentials,
            insecure=insecure,
            client_id=client_id,
            offline_token=offline_token,
            clock=clock or time.time,
        )

    def __repr__(self) -> str:
        return f"<TokenFlow registries={sorted(self._hosts)!r} tokens={len(self._tokens)}>"

    # -- public helpers

    def identity_token(self, registry: str) -> Optional[str]:
        """The refresh token a token server issued for ``registry`` (in memory), if any."""
        with self._lock:
            return self._refresh.get(_registry_name(registry))

    def clear(self) -> None:
        """Forget cached tokens, challenges and credentials."""
        with self._lock:
            self._creds.clear()
            self._hosts.clear()
            self._repo_scopes.clear()
            self._tokens.clear()
            self._refresh.clear()

    # -- state

    def credentials(self, registry: str) -> Optional[Credentials]:
        with self._lock:
            if registry in self._creds:
                return self._creds[registry]
        creds = self._lookup(registry)
        if creds is not None and creds.is_empty:
            creds = None
        with self._lock:
            self._creds.setdefault(registry, creds)
            return self._creds[registry]

    def _cached(self, key: TokenKey) -> Optional[_Token]:
        with self._lock:
            token = self._tokens.get(key)
        if token is not None and self._clock() < token.expires_at - EXPIRY_LEEWAY:
            return token
        return None

    def _forget(self, key: TokenKey, value: Optional[str]) -> None:
        with self._lock:
            token = self._tokens.get(key)
            if token is not None and (value is None or token.value == value):
                del self._tokens[key]

    def _key_lock(self, key: TokenKey) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def _transport_ok(self, scheme: str, hostport: str) -> bool:
        return scheme == "https" or _is_loopback(_hostname(hostport)) or self._is_insecure(hostport)

    def _is_insecure(self, hostport: str) -> bool:
        return hostport in self._insecure or _hostname(hostport) in self._insecure

    def _check_registry_transport(self, scheme: str, hostport: str, what: str) -> None:
        if not self._transport_ok(scheme, hostport):
            raise UnsafeAuthError(
                f"refusing to send {what} to registry {hostport} over plain http: only https,"
                " loopback or registries marked insecure (insecure=[...], --insecure) get"
                " credentials over http"
            )

    def _check_realm(
        self, realm: str, scheme: str, hostport: str, scopes: Tuple[str, ...]
    ) -> None:
        parts = _split(realm)
        rscheme = parts.scheme.lower()
        where = (
            f"token realm {_display(realm)} of registry {hostport}"
            f" (scope {_scope_text(scopes)})"
        )
        if rscheme not in ("http", "https") or not parts.hostname:
            raise UnsafeAuthError(f"refusing {where}: the realm is not an absolute http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise UnsafeAuthError(f"refusing {where}: the realm URL carries user info")
        if rscheme == "http" and not (
            self._is_insecure(hostport) or (scheme == "http" and _is_loopback(_hostname(hostport)))
        ):
            raise UnsafeAuthError(
                f"refusing {where}: credentials go to a realm only over https (http only when"
                " the registry itself is plain http on loopback or marked insecure)"
            )
        realm_host = parts.hostname.lower()
        registry_host = _hostname(hostport)
        if (
            realm_host != registry_host
            and _is_internal_literal(realm_host)
            and not (_is_loopback(realm_host) and _is_loopback(registry_host))
        ):
            raise UnsafeAuthError(
                f"refusing {where}: the realm is a loopback, private or link-local address"
                " on another host"
            )

    # -- the request flow

    def auth_flow(
        self, request: RequestInfo, *, blocking: bool = True
    ) -> Generator[Step, FlowResponse, None]:
        """Authenticate one registry request. The first step is always a SendRequest.

        ``blocking``: wait for another thread already fetching the same token (sync
        drivers); async drivers pass False and never wait on a lock.
        """
        parts = _split(request.url)
        scheme = parts.scheme.lower()
        hostport = _hostport(parts)
        repo = repository_of(parts.path)
        with self._lock:
            host = self._hosts.get(hostport)
            known_scopes = self._repo_scopes.get((hostport, repo))

        # 1. preemptive: what we learnt from earlier challenges on this host
        sent: Any = None
        authorization: Optional[str] = None
        if host is not None and self._transport_ok(scheme, hostport):
            creds = self.credentials(_registry_name(hostport))
            if host.scheme == "basic":
                if creds is not None and creds.password is not None:
                    authorization = _basic(creds.username or "", creds.password)
                    sent = "basic"
            elif creds is not None and creds.registry_token:
                authorization = _registry_bearer(creds, hostport)
                sent = "registry_token"
            elif known_scopes is not None:
                key = (host.realm, host.service, known_scopes)
                token = self._cached(key)
                if token is not None:
                    authorization = f"Bearer {token.value}"
                    sent = (key, token.value)
        response = yield SendRequest(authorization)

        # 2. a challenge from the registry itself (not from a host we were redirected to)
        if response.status != 401 or _hostport(_split(response.url)) != hostport:
            return
        challenges = parse_www_authenticate(
            response.www_authenticate, source=f"from registry {hostport}"
        )
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        basic = next((c for c in challenges if c.scheme == "basic"), None)
        registry = _registry_name(hostport)

        if bearer is None:
            if basic is None or sent == "basic":
                return
            creds = self.credentials(registry)
            if creds is None or creds.password is None:
                return
            self._check_registry_transport(scheme, hostport, "a password")
            with self._lock:
                self._hosts[hostport] = _HostAuth("basic")
            response = yield SendRequest(_basic(creds.username or "", creds.password))
            return

        realm = bearer.realm
        if not realm:
            # a bare token68 ("Bearer <token>") is not shown: it may be a credential
            text = "bearer <token>" if bearer.token68 else format_challenge(bearer)
            raise ChallengeError(
                f"registry {hostport} sent a Bearer challenge without a realm: {shown(text)}"
            )
        service = bearer.service or ""
        with self._lock:
            self._hosts[hostport] = _HostAuth("bearer", realm, service)
        creds = self.credentials(registry)
        if creds is not None and creds.registry_token:
            if sent == "registry_token":
                return
            self._check_registry_transport(scheme, hostport, "a registry token")
            response = yield SendRequest(_registry_bearer(creds, hostport))
            return

        scopes = merge_scopes(known_scopes or (), bearer.scopes)
        key = (realm, service, scopes)
        if isinstance(sent, tuple) and sent[0] == key:
            self._forget(key, sent[1])  # rejected (expired, revoked): fetch a new one
        self._check_registry_transport(scheme, hostport, "a bearer token")
        value = yield from self._obtain(key, scheme, hostport, creds, blocking)
        with self._lock:
            self._repo_scopes[(hostport, repo)] = scopes
        response = yield SendRequest(f"Bearer {value}")

    def token_flow(
        self, registry_url: str, scopes: Sequence[str], *, blocking: bool = True
    ) -> Generator[Fetch, FlowResponse, str]:
        """Ping ``registry_url``/v2/ and return a bearer token for ``scopes``.

        Raises :class:`AuthError` when the registry does not use bearer tokens.
        """
        parts = _split(registry_url.rstrip("/"))
        scheme = parts.scheme.lower()
        hostport = _hostport(parts)
        ping = urlunsplit((scheme, parts.netloc, "/v2/", "", ""))
        response = yield Fetch("GET", ping)
        if response.status != 401:
            raise AuthError(
                f"registry {hostport} answered GET {_display(ping)} with HTTP {response.status}"
                " without a challenge: it issues no bearer token"
                + (" (no authentication needed)" if 200 <= response.status < 300 else "")
            )
        challenges = parse_www_authenticate(
            response.www_authenticate, source=f"from registry {hostport}"
        )
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        if bearer is None:
            kinds = ", ".join(c.scheme.capitalize() for c in challenges) or "no scheme"
            raise AuthError(
                f"registry {hostport} uses {kinds} authentication, not bearer tokens:"
                " there is no token to print; use the username and password"
                f" (dockercreds get {_registry_name(hostport)})"
            )
        realm = bearer.realm
        if not realm:
            raise ChallengeError(f"registry {hostport} sent a Bearer challenge without a realm")
        service = bearer.service or ""
        creds = self.credentials(_registry_name(hostport))
        if creds is not None and creds.registry_token:
            return creds.registry_token
        key = (realm, service, merge_scopes(scopes))
        token = yield from self._obtain(key, scheme, hostport, creds, blocking)
        return token

    # -- tokens

    def _obtain(
        self,
        key: TokenKey,
        scheme: str,
        hostport: str,
        creds: Optional[Credentials],
        blocking: bool,
    ) -> Generator[Fetch, FlowResponse, str]:
        token = self._cached(key)
        if token is not None:
            return token.value
        lock = self._key_lock(key)
        acquired = lock.acquire(timeout=FETCH_WAIT) if blocking else lock.acquire(blocking=False)
        try:
            if acquired:
                token = self._cached(key)  # fetched by another thread meanwhile
                if token is not None:
                    return token.value
            token = yield from self._fetch(key, scheme, hostport, creds)
            with self._lock:
                self._tokens[key] = token
            return token.value
        finally:
            if acquired:
                lock.release()

    def _fetch(
        self,
        key: TokenKey,
        scheme: str,
        hostport: str,
        creds: Optional[Credentials],
    ) -> Generator[Fetch, FlowResponse, _Token]:
        realm, service, scopes = key
        self._check_realm(realm, scheme, hostport, scopes)
        registry = _registry_name(hostport)
        with self._lock:
            refresh = self._refresh.get(registry)
        if refresh is None and creds is not None:
            refresh = creds.identity_token
        secrets = [s for s in (refresh, creds.password if creds else None) if s]
        # the Basic values sent, should a server echo the Authorization header
        user = (creds.username if creds is not None else None) or TOKEN_USERNAME
        if refresh:
            secrets.append(_basic(user, refresh)[len("Basic ") :])
        if creds is not None and creds.password is not None:
            secrets.append(_basic(creds.username or "", creds.password)[len("Basic ") :])
        accept = ("Accept", "application/json")
        context = _Context(realm, service, scopes, registry)

        if refresh:
            form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("service", service),
                ("client_id", self.client_id),
                ("access_type", "offline"),
            ]
            if scopes:
                form.append(("scope", " ".join(scopes)))
            response = yield Fetch(
                "POST",
                realm,
                (("Content-Type", "application/x-www-form-urlencoded"), accept),
                urlencode(form).encode("ascii"),
            )
            if response.status == 404:  # no OAuth2 endpoint: GET with the token as password
                response = yield Fetch(
                    "GET",
                    _token_url(realm, service, scopes, []),
                    (("Authorization", _basic(user, refresh)), accept),
                )
            who = "the identity token"
        elif creds is not None and creds.password is not None:
            extra = [("account", creds.username)] if creds.username else []
            if self.offline_token:
                extra += [("offline_token", "true"), ("client_id", self.client_id)]
            response = yield Fetch(
                "GET",
                _token_url(realm, service, scopes, extra),
                (("Authorization", _basic(creds.username or "", creds.password)), accept),
            )
            who = f"user {creds.username!r}"
        else:
            response = yield Fetch("GET", _token_url(realm, service, scopes, []), (accept,))
            who = "anonymous access"
        token, new_refresh = self._read_token(response, context, who, secrets)
        if new_refresh and (refresh or self.offline_token):
            with self._lock:
                self._refresh[registry] = new_refresh
        return token

    def _read_token(
        self, response: FlowResponse, ctx: _Context, who: str, secrets: Sequence[str]
    ) -> Tuple[_Token, Optional[str]]:
        status = response.status
        if 300 <= status < 400:
            raise TokenError(
                f"{ctx.describe()}: the token server redirected (HTTP {status}"
                f"{' to ' + _display(response.location) if response.location else ''});"
                " token requests do not follow redirects"
            )
        if not 200 <= status < 300:
            detail = _error_detail(response.body, secrets)
            detail = f": {detail}" if detail else ""
            if status in (401, 403):
                if who == "anonymous access":
                    hint = f"log in first (docker login {ctx.registry})"
                elif who == "the identity token":
                    hint = "the identity token may have expired or been revoked; log in again"
                else:
                    hint = (
                        "check the username and password"
                        f" (dockercreds explain {ctx.registry} shows where they come from)"
                    )
                raise TokenError(
                    f"{ctx.describe()}: the token server refused {who}"
                    f" (HTTP {status}{detail}); {hint}"
                )
            raise TokenError(f"{ctx.describe()}: the token server answered HTTP {status}{detail}")
        try:
            data = json.loads(response.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
        if not isinstance(data, dict):
            raise TokenError(
                f"{ctx.describe()}: the token server answered HTTP {status} with a body that"
                " is not a JSON object"
            )
        value = data.get("access_token") or data.get("token")
        if not isinstance(value, str) or not value:
            raise TokenError(
                f"{ctx.describe()}: the token server answered without a token"
                " (no access_token or token field)"
            )
        if not _header_safe(value):
            # an HTTP client would refuse the header and quote the token in its error
            raise TokenError(
                f"{ctx.describe()}: the token server answered a token with control or"
                " non-Latin-1 characters, which cannot be sent in an HTTP header"
            )
        expires_in = data.get("expires_in")
        if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)):
            expires_in = DEFAULT_EXPIRES_IN
        expires_in = max(float(expires_in), float(DEFAULT_EXPIRES_IN))
        now = self._clock()
        issued = _parse_time(data.get("issued_at"))
        start = min(now, issued) if issued is not None else now
        refresh = data.get("refresh_token")
        return _Token(value, start + expires_in), (
            refresh if isinstance(refresh, str) and refresh else None
        )


@dataclass(frozen=True)
class _Context:
    realm: str
    service: str
    scopes: Tuple[str, ...]
    registry: str

    def describe(self) -> str:
        service = f", service {self.service!r}" if self.service else ""
        return (
            f"token request for registry {self.registry} to {_display(self.realm)}"
            f" (scope {_scope_text(self.scopes)}{service}) failed"
        )


def _registry_bearer(creds: Credentials, hostport: str) -> str:
    """``Bearer <registry token>``, refused (without quoting it) when no header can hold it."""
    token = creds.registry_token or ""
    if not _header_safe(token):
        raise AuthError(
            f"the registry token for {_registry_name(hostport)} ({creds.source or 'credentials'})"
            " has control or non-Latin-1 characters (a stray line break?), so it cannot be"
            " sent in an HTTP header; fix registrytoken in the config"
        )
    return f"Bearer {token}"


def _scope_text(scopes: Sequence[str]) -> str:
    return " ".join(scopes) if scopes else "none"


def _token_url(
    realm: str, service: str, scopes: Sequence[str], extra: List[Tuple[str, str]]
) -> str:
    parts = _split(realm)
    params: List[Tuple[str, str]] = []
    if service:
        params.append(("service", service))
    params.extend(("scope", s) for s in scopes)
    params.extend(extra)
    query = parts.query
    if params:
        query = (query + "&" if query else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _registry_name(hostport: str) -> str:
    """The registry a host[:port] means for credentials (``docker.io`` for Docker Hub)."""
    from .registry import normalize_registry

    return normalize_registry(hostport)


def _normalize_insecure(host: str) -> str:
    text = host.strip().lower()
    if "://" in text:
        text = _hostport(_split(text))
    return text.rstrip("/")
