"""``RegistryAuth``: the token flow of :mod:`dockercreds.auth` driven by ``requests``.

Importing this module imports ``requests``; ``import dockercreds`` does not.
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from typing import Any, Callable, Generator, Iterable, List, Optional, Sequence, Union

import requests
from requests.auth import AuthBase

from .auth import CLIENT_ID, DEFAULT_TOKEN_TIMEOUT, TokenFlow
from .auth_limits import CHUNK, BodyCap, failure, remaining, timeout_error, unsendable
from .auth_policy import hostport, split_url
from .auth_steps import CredentialsFn, Fetch, FlowResponse, RequestInfo, SendRequest, Step
from .errors import DockerCredsError

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
    ``token_timeout``: seconds one token exchange may take in all (slow servers
    included); past it, or with a token answer over 1 MiB, a TokenError. Token requests
    never follow redirects. An unreachable token server is a
    :class:`~dockercreds.errors.NetworkError` (``cannot reach HOST: CAUSE``).
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
        token_timeout: float = DEFAULT_TOKEN_TIMEOUT,
    ) -> None:
        self.flow = flow or TokenFlow.for_config(
            config,
            credentials=credentials,
            insecure=insecure,
            client_id=client_id,
            offline_token=offline_token,
            clock=clock,
            token_timeout=token_timeout,
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
        try:
            import httpx  # noqa: F401
        except ImportError:
            raise DockerCredsError(
                "RegistryAuth().httpx() needs httpx, which is not installed:"
                " pip install 'dockercreds[httpx]'"
            ) from None
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
        origin = _origin(url)
        hook = functools.partial(self._handle_response, origin)
        r.register_hook("response", hook)  # type: ignore[no-untyped-call]
        return r

    def _handle_response(
        self, origin: Optional[str], r: requests.Response, **kwargs: Any
    ) -> requests.Response:
        request = r.request
        with self._lock:
            gen = self._pending.pop(request, None)
        if _origin(request.url or "") != origin:
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
                    step = gen.send(_fetch(getattr(r, "connection", None), step, kwargs))
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

        def send(prep: requests.PreparedRequest, limit: Any) -> requests.Response:
            settings = sess.merge_environment_settings(prep.url, {}, True, verify, None)
            return sess.send(prep, allow_redirects=False, timeout=limit, **settings)

        try:
            gen = self.flow.token_flow(registry_url, scopes)
            step = next(gen)
            while True:
                step = gen.send(_fetch_with(send, step, timeout))
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


def _origin(url: str) -> Optional[str]:
    try:
        return hostport(split_url(url))
    except DockerCredsError:
        return None


def _read(r: requests.Response, step: Fetch) -> bytes:
    """The body, streamed: at most MAX_TOKEN_BODY bytes, and only until the deadline."""
    cap = BodyCap(step)
    raw = r.raw
    read1 = getattr(raw, "read1", None)  # urllib3 2: what has arrived, not a full chunk
    try:
        while True:
            if read1 is not None:
                chunk = read1(CHUNK, decode_content=True)
            else:  # pragma: no cover - urllib3 1.x
                chunk = raw.read(4096, decode_content=True)
            if not chunk:
                break
            cap.add(chunk)
    finally:
        r.close()
    return cap.body()


def _limit(step: Fetch, timeout: Any) -> Any:
    """The requests ``timeout`` for the next I/O of ``step``: within its deadline."""
    if isinstance(timeout, tuple):
        connect, read = timeout
        return (remaining(step, connect), remaining(step, read))
    return remaining(step, timeout if isinstance(timeout, (int, float)) else None)


_NETWORK = (requests.RequestException, OSError)
_Send = Callable[[requests.PreparedRequest, Any], requests.Response]


def _fetch_with(send: _Send, step: Fetch, timeout: Any) -> FlowResponse:
    """Send ``step`` (never following a redirect) and read its answer within its limits.

    A socket timeout bounds each read, not the whole answer: a server sending a byte a
    second would never trip it. So with a deadline the exchange runs in a worker thread
    and the caller waits only until the deadline; the worker then stops at its next
    read (the body loop checks the deadline; the socket timeout is the time left).
    """
    try:
        prep = requests.Request(
            step.method, step.url, headers=dict(step.headers), data=step.body
        ).prepare()
    except (requests.RequestException, ValueError) as exc:  # InvalidURL, UnicodeError
        raise unsendable(step, exc) from None
    if step.deadline is None:
        return _exchange(send, prep, step, timeout)
    outcome: List[Any] = []
    done = threading.Event()

    def work() -> None:
        try:
            outcome.append(_exchange(send, prep, step, timeout))
        except BaseException as exc:  # handed to the caller
            outcome.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=work, name="dockercreds-token-request", daemon=True)
    worker.start()
    if not done.wait(max(0.0, step.deadline - time.monotonic())):
        raise timeout_error(step)
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    assert isinstance(result, FlowResponse)  # noqa: S101
    return result


def _exchange(
    send: _Send, prep: requests.PreparedRequest, step: Fetch, timeout: Any
) -> FlowResponse:
    try:
        response = send(prep, _limit(step, timeout))
        return _flow_response(response, body=_read(response, step))
    except _NETWORK as exc:
        raise failure(step, exc) from None
    except Exception as exc:  # urllib3's errors while streaming the body
        if type(exc).__module__.startswith("urllib3"):
            raise failure(step, exc) from None
        raise


def _fetch(connection: Any, step: Fetch, kwargs: Any) -> FlowResponse:
    """Send a token request through the registry request's adapter (same TLS settings)."""
    send_kwargs = {k: v for k, v in kwargs.items() if k in ("verify", "cert", "proxies")}

    def send(prep: requests.PreparedRequest, limit: Any) -> requests.Response:
        if connection is None:
            with requests.Session() as session:
                return session.send(
                    prep, allow_redirects=False, stream=True, timeout=limit, **send_kwargs
                )
        response: requests.Response = connection.send(
            prep, stream=True, timeout=limit, **send_kwargs
        )
        return response

    return _fetch_with(send, step, kwargs.get("timeout"))
