"""Registry HTTP authentication: the token flow, as an I/O-free generator.

The flow is written once, in the style of httpx's ``auth_flow``: :meth:`TokenFlow.auth_flow`
*yields* what must be sent (:class:`SendRequest`: the caller's request with an
``Authorization`` value; :class:`Fetch`: a request of our own, to a token realm) and
*receives* :class:`FlowResponse` values. Drivers do the I/O and import this module
(never the reverse):

* ``RegistryAuth`` (``requests.auth.AuthBase``) in :mod:`dockercreds.auth_requests`,
* ``RegistryHTTPXAuth`` (``httpx.Auth``, sync and async) in :mod:`dockercreds.auth_httpx`.

The parts, one job each: :mod:`~dockercreds.challenge` (parsing challenges and scopes),
:mod:`~dockercreds.auth_hosts` (what challenges taught: realm per host, scopes per
repository), :mod:`~dockercreds.auth_policy` (where credentials may go),
:mod:`~dockercreds.token_cache` (tokens and expiry), :mod:`~dockercreds.token_grant`
(one exchange with a token server), :mod:`~dockercreds.auth_steps` (the values
exchanged with drivers).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Generator, Iterable, Optional, Sequence

from ._log import debug_logger
from .auth_hosts import HostAuth, HostMemory, read_challenges
from .auth_policy import RealmPolicy, display, hostport, scope_text, split_url
from .auth_steps import (
    MAX_TOKEN_BODY,
    CredentialsFn,
    Fetch,
    FlowResponse,
    RequestInfo,
    SendRequest,
    Step,
)
from .challenge import (
    Challenge,
    Scope,
    format_challenge,
    merge_scopes,
    parse_scope,
    parse_www_authenticate,
    repository_of,
)
from .credentials import Credentials
from .errors import AuthError, InvalidArgument
from .timeouts import RULE, is_timeout
from .token_cache import Token, TokenCache, TokenKey
from .token_grant import Grant, basic, check_sendable, exchange, header_safe

__all__ = [
    "CLIENT_ID",
    "DEFAULT_TOKEN_TIMEOUT",
    "MAX_TOKEN_BODY",
    "Challenge",
    "CredentialsFn",
    "Fetch",
    "FlowResponse",
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
#: Longest wait for another thread fetching the same token before fetching ourselves.
FETCH_WAIT = 60.0
#: Seconds one token exchange (or ``/v2/`` ping) may take in all, slow servers included.
DEFAULT_TOKEN_TIMEOUT = 30.0


class TokenFlow:
    """Registry authentication state and logic, shared by all drivers (thread-safe).

    ``credentials(registry)`` is asked with the normalized registry (``docker.io`` for
    Docker Hub) the first time a registry challenges; the answer is kept in memory.
    ``repository_credentials(registry, repository)``, when given, is asked instead, once
    per repository (namespace accounts, :meth:`for_config` uses it).
    ``insecure``: registries (``host[:port]``) that may get credentials over plain http.
    ``offline_token``: ask token servers for a refresh token with username/password
    (what ``docker login`` stores as an identity token); see :meth:`identity_token`.
    ``token_timeout``: seconds a whole token exchange may take (a TokenError after).
    """

    def __init__(
        self,
        credentials: CredentialsFn,
        *,
        insecure: Iterable[str] = (),
        client_id: str = CLIENT_ID,
        offline_token: bool = False,
        clock: Callable[[], float] = time.time,
        token_timeout: float = DEFAULT_TOKEN_TIMEOUT,
        repository_credentials: Optional[
            Callable[[str, str], Optional[Credentials]]
        ] = None,
    ) -> None:
        self._lookup = credentials
        self._lookup_repo = repository_credentials
        self.policy = RealmPolicy(insecure)
        self.client_id = client_id
        self.offline_token = offline_token
        if not is_timeout(token_timeout):
            raise InvalidArgument(f"token_timeout must be {RULE}, not {token_timeout!r}")
        self.token_timeout = token_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._creds: Dict[str, Optional[Credentials]] = {}
        self._hosts = HostMemory()
        self._tokens = TokenCache(clock)
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
        token_timeout: float = DEFAULT_TOKEN_TIMEOUT,
    ) -> TokenFlow:
        """The flow the drivers build: credentials from ``credentials`` or the resolver.

        The resolver is asked per repository, so namespace accounts (``quay.io/org``) are
        used for the repositories under them. Helper answers are reused for the helper
        cache's TTL: a loaded ``config`` keeps its own cache (so a ``login`` through it
        drops the answer); with a path or ``None``, which load the file on each lookup,
        the flow keeps one, so pulling many repositories of one registry runs its helper
        once, not once per repository.
        """
        by_repo: Optional[Callable[[str, str], Optional[Credentials]]] = None
        if credentials is None:
            from .config import DockerConfig
            from .helper_cache import HelperCache

            cache = None if isinstance(config, DockerConfig) else HelperCache()

            def credentials(registry: str) -> Optional[Credentials]:
                from .resolver import get_registry_credentials

                return get_registry_credentials(registry, config=config, helper_cache=cache)

            def by_repo(registry: str, repository: str) -> Optional[Credentials]:
                from .registry import normalize_registry
                from .resolver import resolve

                return resolve(
                    normalize_registry(registry), repository, config=config, helper_cache=cache
                )

        return cls(
            credentials,
            insecure=insecure,
            client_id=client_id,
            offline_token=offline_token,
            clock=clock or time.time,
            token_timeout=token_timeout,
            repository_credentials=by_repo,
        )

    def __repr__(self) -> str:
        return f"<TokenFlow registries={self._hosts.hosts()!r} tokens={len(self._tokens)}>"

    # -- public helpers

    def identity_token(self, registry: str) -> Optional[str]:
        """The refresh token a token server issued for ``registry`` (in memory), if any."""
        with self._lock:
            return self._refresh.get(_registry_name(registry))

    def clear(self) -> None:
        """Forget cached tokens, challenges and credentials."""
        with self._lock:
            self._creds.clear()
            self._refresh.clear()
        self._hosts.clear()
        self._tokens.clear()

    def credentials(self, registry: str, repository: str = "") -> Optional[Credentials]:
        """The credentials for ``registry`` (for ``repository`` when looked up per repository)."""
        by_repo = self._lookup_repo is not None and repository
        key = f"{registry}/{repository}" if by_repo else registry
        with self._lock:
            if key in self._creds:
                return self._creds[key]
        if by_repo:
            assert self._lookup_repo is not None  # noqa: S101 (by_repo says so)
            creds = self._lookup_repo(registry, repository)
        else:
            creds = self._lookup(registry)
        if creds is not None and creds.is_empty:
            creds = None
        if creds is not None:
            check_sendable(creds)
        with self._lock:
            self._creds.setdefault(key, creds)
            return self._creds[key]

    # -- the request flow

    def auth_flow(
        self, request: RequestInfo, *, blocking: bool = True
    ) -> Generator[Step, FlowResponse, None]:
        """Authenticate one registry request. The first step is always a SendRequest.

        ``blocking``: wait for another thread already fetching the same token (sync
        drivers); async drivers pass False and never wait on a lock.
        """
        parts = split_url(request.url)
        scheme = parts.scheme.lower()
        hp = hostport(parts)
        repo = repository_of(parts.path)
        host, known_scopes = self._hosts.recall(hp, repo)

        # 1. preemptive: what we learnt from earlier challenges on this host
        sent: Any = None
        authorization: Optional[str] = None
        if host is not None and self.policy.transport_ok(scheme, hp):
            creds = self.credentials(_registry_name(hp), repo)
            if host.scheme == "basic":
                if creds is not None and creds.password is not None:
                    authorization = basic(creds.username or "", creds.password)
                    sent = "basic"
            elif creds is not None and creds.registry_token:
                authorization = _registry_bearer(creds, hp)
                sent = "registry_token"
            elif known_scopes is not None:
                key = (host.realm, host.service, known_scopes)
                token = self._tokens.fresh(key)
                if token is not None:
                    self._log_cached(hp, key, token)
                    authorization = f"Bearer {token.value}"
                    sent = (key, token.value)
        response = yield SendRequest(authorization)

        # 2. a challenge from the registry itself (not from a host we were redirected to)
        if response.status != 401 or _response_host(response) != hp:
            return
        challenges = read_challenges(response.www_authenticate, hp)
        bearer = challenges.bearer
        registry = _registry_name(hp)

        if bearer is None:
            if challenges.basic is None or sent == "basic":
                return
            creds = self.credentials(registry, repo)
            if creds is None or creds.password is None:
                return
            self.policy.check_registry(scheme, hp, "a password")
            self._hosts.learn(hp, HostAuth("basic"))
            yield SendRequest(basic(creds.username or "", creds.password))
            return

        realm = challenges.realm(hp)
        service = bearer.service or ""
        self._hosts.learn(hp, HostAuth("bearer", realm, service))
        creds = self.credentials(registry, repo)
        if creds is not None and creds.registry_token:
            if sent == "registry_token":
                return
            self.policy.check_registry(scheme, hp, "a registry token")
            yield SendRequest(_registry_bearer(creds, hp))
            return

        scopes = self._hosts.needed(known_scopes, bearer)
        key = (realm, service, scopes)
        if isinstance(sent, tuple) and sent[0] == key:
            self._tokens.forget(key, sent[1])  # rejected (expired, revoked): fetch a new one
        self.policy.check_registry(scheme, hp, "a bearer token")
        value = yield from self._obtain(key, scheme, hp, creds, blocking)
        self._hosts.remember_scopes(hp, repo, scopes)
        yield SendRequest(f"Bearer {value}")

    def token_flow(
        self, registry_url: str, scopes: Sequence[str], *, blocking: bool = True
    ) -> Generator[Fetch, FlowResponse, str]:
        """Ping ``registry_url``/v2/ and return a bearer token for ``scopes``.

        Raises :class:`AuthError` when the registry does not use bearer tokens.
        """
        parts = split_url(registry_url.rstrip("/"))
        scheme = parts.scheme.lower()
        hp = hostport(parts)
        ping = f"{scheme}://{parts.netloc}/v2/"
        deadline = time.monotonic() + self.token_timeout
        response = yield Fetch(
            "GET",
            ping,
            deadline=deadline,
            purpose=f"GET {display(ping)} (registry {hp})",
            timeout=self.token_timeout,
        )
        if response.status != 401:
            raise AuthError(
                f"registry {hp} answered GET {display(ping)} with HTTP {response.status}"
                " without a challenge: it issues no bearer token"
                + (" (no authentication needed)" if 200 <= response.status < 300 else "")
            )
        challenges = read_challenges(response.www_authenticate, hp)
        if challenges.bearer is None:
            kinds = ", ".join(c.scheme.capitalize() for c in challenges.all) or "no scheme"
            raise AuthError(
                f"registry {hp} uses {kinds} authentication, not bearer tokens:"
                " there is no token to print; use the username and password"
                f" (dockercreds get {_registry_name(hp)})"
            )
        realm = challenges.realm(hp)
        service = challenges.bearer.service or ""
        creds = self.credentials(_registry_name(hp))
        if creds is not None and creds.registry_token:
            return creds.registry_token
        key = (realm, service, merge_scopes(scopes))
        token = yield from self._obtain(key, scheme, hp, creds, blocking)
        return token

    # -- tokens

    def _log_cached(self, hp: str, key: TokenKey, token: Token) -> None:
        log = debug_logger(__name__)
        if log:
            log.debug(
                "token for %s (realm %s, scope %s): cached, valid %.0f s more",
                _registry_name(hp), display(key[0]), scope_text(key[2]),
                token.expires_at - self._clock(),
            )

    def _obtain(
        self,
        key: TokenKey,
        scheme: str,
        hp: str,
        creds: Optional[Credentials],
        blocking: bool,
    ) -> Generator[Fetch, FlowResponse, str]:
        """A fresh token for ``key``: cached, fetched by another thread, or fetched now."""
        token = self._tokens.fresh(key)
        if token is not None:
            self._log_cached(hp, key, token)
            return token.value
        lock = self._tokens.key_lock(key)
        acquired = lock.acquire(timeout=FETCH_WAIT) if blocking else lock.acquire(blocking=False)
        try:
            if acquired:
                token = self._tokens.fresh(key)  # fetched by another thread meanwhile
                if token is not None:
                    return token.value
            token = yield from self._fetch(key, scheme, hp, creds)
            self._tokens.put(key, token)
            return token.value
        finally:
            if acquired:
                lock.release()

    def _fetch(
        self, key: TokenKey, scheme: str, hp: str, creds: Optional[Credentials]
    ) -> Generator[Fetch, FlowResponse, Token]:
        """One exchange with the realm, after the realm policy allowed it."""
        realm, service, scopes = key
        self.policy.check_realm(realm, scheme, hp, scopes)
        registry = _registry_name(hp)
        with self._lock:
            refresh = self._refresh.get(registry)
        if refresh is None and creds is not None:
            refresh = creds.identity_token
        grant = Grant(
            realm, service, scopes, registry, creds, refresh, self.client_id, self.offline_token
        )
        token, new_refresh = yield from exchange(
            grant, timeout=self.token_timeout, clock=self._clock
        )
        if new_refresh and (refresh or self.offline_token):
            with self._lock:
                self._refresh[registry] = new_refresh
        return token


def _response_host(response: FlowResponse) -> Optional[str]:
    try:
        return hostport(split_url(response.url))
    except AuthError:
        return None


def _registry_bearer(creds: Credentials, hp: str) -> str:
    """``Bearer <registry token>``, refused (without quoting it) when no header can hold it."""
    token = creds.registry_token or ""
    if not header_safe(token):
        raise AuthError(
            f"the registry token for {_registry_name(hp)} ({creds.source or 'credentials'})"
            " has control or non-Latin-1 characters (a stray line break?), so it cannot be"
            " sent in an HTTP header; fix registrytoken in the config"
        )
    return f"Bearer {token}"


def _registry_name(hp: str) -> str:
    """The registry a host[:port] means for credentials (``docker.io`` for Docker Hub)."""
    from .registry import normalize_registry

    return normalize_registry(hp)
