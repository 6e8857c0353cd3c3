"""``RegistryAuth``: the token flow of :mod:`dockercreds.auth` driven by ``requests``.

Importing this module imports ``requests``; ``import dockercreds`` does not.
"""

from __future__ import annotations

import functools
import threading
import weakref
from typing import Any, Callable, Generator, Iterable, Optional, Sequence, Union

import requests
from requests.auth import AuthBase

from .auth import (
    CLIENT_ID,
    MAX_TOKEN_BODY,
    CredentialsFn,
    Fetch,
    FlowResponse,
    RequestInfo,
    SendRequest,
    Step,
    TokenFlow,
    _hostport,
    _split,
)

__all__ = ["RegistryAuth"]

_Flow = Generator[Step, FlowResponse, None]


class RegistryAuth(AuthBase):
    """``session.auth = RegistryAuth()``: credentials for any registry URL, as Docker finds them.

    Answers Basic and Bearer challenges; bearer tokens are cached per (realm, service,
    scopes) until they expire, and a request is retried once after a challenge.
    A token server that refuses raises :class:`~dockercreds.errors.TokenError`; a rule
    that would leak a credential raises :class:`~dockercreds.errors.UnsafeAuthError`.

    ``config``: a Docker config path or loaded config (default: Docker's sources).
    ``credentials``: ``f(registry) -> Credentials | None`` instead of the config lookup.
    ``insecure``: registries (``host[:port]``) that may get credentials over plain http
    (loopback registries always may). ``offline_token``: ask for refresh tokens (see
    :meth:`identity_token`). ``clock``: ``time.time`` replacement (tests).
    """

    def __init__(
        self,
        *,
        config: Any = None,
        insecure: Iterable[str] = (),
        credentials: Optional[CredentialsFn] = None,
        client_id: str = CLIENT_ID,
        offline_token: bool = False,
        clock: Optional[Callable[[], float]] = None,
        flow: Optional[TokenFlow] = None,
    ) -> None:
        self.flow = flow or TokenFlow.for_config(
            config,
            credentials=credentials,
            insecure=insecure,
            client_id=client_id,
            offline_token=offline_token,
            clock=clock,
        )
        self._lock = threading.Lock()
        self._pending: weakref.WeakKeyDictionary[requests.PreparedRequest, _Flow] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"<RegistryAuth {self.flow!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RegistryAuth) and other.flow is self.flow

    def __hash__(self) -> int:
        return id(self.flow)

    def identity_token(self, registry: str) -> Optional[str]:
        """A refresh token issued for ``registry`` while ``offline_token`` was on."""
        return self.flow.identity_token(registry)

    def httpx(self) -> Any:
        """An ``httpx.Auth`` sharing this object's token cache (needs httpx)."""
        from .auth_httpx import RegistryHTTPXAuth

        return RegistryHTTPXAuth(flow=self.flow)

    # -- requests hooks

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        url = r.url or ""
        gen = self.flow.auth_flow(RequestInfo(r.method or "GET", url))
        step = next(gen)
        assert isinstance(step, SendRequest)  # noqa: S101 - the flow's contract
        _set_authorization(r, step.authorization)
        with self._lock:
            self._pending[r] = gen
        origin = _hostport(_split(url))
        hook = functools.partial(self._handle_response, origin)
        r.register_hook("response", hook)  # type: ignore[no-untyped-call]
        return r

    def _handle_response(
        self, origin: str, r: requests.Response, **kwargs: Any
    ) -> requests.Response:
        request = r.request
        with self._lock:
            gen = self._pending.pop(request, None)
        if _hostport(_split(request.url or "")) != origin:
            # A redirect took us to another host (a CDN): nothing of ours goes there.
            if gen is not None:
                gen.close()
            return r
        if gen is None:
            # A same-host redirect hop we did not prepare: a new flow if it was refused.
            if r.status_code != 401:
                return r
            gen = self.flow.auth_flow(RequestInfo(request.method or "GET", request.url or ""))
            next(gen)
        try:
            step = gen.send(_flow_response(r))
            while True:
                if isinstance(step, Fetch):
                    step = gen.send(_fetch(r.connection, step, kwargs))
                    continue
                if not _replayable(request):
                    return r
                r.content  # noqa: B018 - read the 401 so the connection can be reused
                r.close()
                prep = request.copy()
                _set_authorization(prep, step.authorization)
                _rewind(prep)
                new = r.connection.send(prep, **kwargs)
                new.history.append(r)
                new.request = prep
                r, request = new, prep
                step = gen.send(_flow_response(r))
        except StopIteration:
            return r
        finally:
            gen.close()

    # -- tokens for other tools (dockercreds token)

    def token(
        self,
        registry_url: str,
        scopes: Sequence[str],
        *,
        session: Optional[requests.Session] = None,
        timeout: float = 30.0,
        verify: Union[bool, str, None] = None,
    ) -> str:
        """A bearer token for ``scopes`` on the registry at ``registry_url`` (``https://host``).

        Pings ``/v2/`` for the challenge; raises :class:`~dockercreds.errors.AuthError`
        when the registry does not use bearer tokens (htpasswd registries).
        """
        own = session is None
        sess = session if session is not None else requests.Session()
        try:
            gen = self.flow.token_flow(registry_url, scopes)
            step = next(gen)
            while True:
                prep = requests.Request(
                    step.method, step.url, headers=dict(step.headers), data=step.body
                ).prepare()
                settings = sess.merge_environment_settings(prep.url, {}, None, verify, None)
                response = sess.send(prep, allow_redirects=False, timeout=timeout, **settings)
                step = gen.send(_flow_response(response, body=_read(response)))
        except StopIteration as stop:
            value: str = stop.value
            return value
        finally:
            if own:
                sess.close()


def _set_authorization(r: requests.PreparedRequest, value: Optional[str]) -> None:
    if value is None:
        r.headers.pop("Authorization", None)
    else:
        r.headers["Authorization"] = value


def _replayable(r: requests.PreparedRequest) -> bool:
    """Can the request be sent again (its body is bytes, text, or seekable)?"""
    body = r.body
    if body is None or isinstance(body, (bytes, str)):
        return True
    return isinstance(getattr(r, "_body_position", None), int) and hasattr(body, "seek")


def _rewind(r: requests.PreparedRequest) -> None:
    position = getattr(r, "_body_position", None)
    seek = getattr(r.body, "seek", None)
    if isinstance(position, int) and seek is not None:
        seek(position)


def _challenges(r: requests.Response) -> tuple[str, ...]:
    raw = getattr(r.raw, "headers", None)
    getlist = getattr(raw, "getlist", None)
    if callable(getlist):
        lines = getlist("WWW-Authenticate")
        if lines:
            return tuple(str(line) for line in lines)
    value = r.headers.get("WWW-Authenticate")
    return (value,) if value else ()


def _flow_response(r: requests.Response, body: bytes = b"") -> FlowResponse:
    return FlowResponse(
        status=r.status_code,
        url=r.url or (r.request.url if r.request is not None else "") or "",
        www_authenticate=_challenges(r),
        body=body,
        location=r.headers.get("Location"),
    )


def _read(r: requests.Response) -> bytes:
    data = b""
    for chunk in r.iter_content(chunk_size=65536):
        data += chunk
        if len(data) > MAX_TOKEN_BODY:
            break
    r.close()
    return data[:MAX_TOKEN_BODY]


def _fetch(connection: Any, step: Fetch, kwargs: Any) -> FlowResponse:
    """Send a token request through the registry request's adapter (same TLS settings)."""
    prep = requests.Request(
        step.method, step.url, headers=dict(step.headers), data=step.body
    ).prepare()
    send_kwargs = {k: v for k, v in kwargs.items() if k in ("timeout", "verify", "cert", "proxies")}
    if connection is None:
        with requests.Session() as session:
            response = session.send(prep, allow_redirects=False, **send_kwargs)
    else:
        response = connection.send(prep, stream=True, **send_kwargs)
    return _flow_response(response, body=_read(response))
