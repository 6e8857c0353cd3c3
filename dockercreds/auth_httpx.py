"""``RegistryHTTPXAuth``: the token flow of :mod:`dockercreds.auth` driven by ``httpx``.

Sync and async clients: ``httpx.Client(auth=RegistryHTTPXAuth())``. Needs the ``httpx``
extra. The async flow never blocks the event loop: it does not wait for another task
fetching the same token (it may fetch the token itself instead).

Token requests go through the caller's client (its TLS, proxy and transport settings)
but never follow a redirect, even with ``follow_redirects=True``: the client would
re-send the request (a refresh-token POST keeps its body on 307/308) to wherever the
realm points. Three guards, from strongest: the connection's ``trace`` hook refuses to
send a redirected token request at all; the body stream refuses to be sent twice; and
an answer that came through a redirect is refused.
"""

from __future__ import annotations

from typing import (
    Any,
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Dict,
    Generator,
    Iterable,
    Iterator,
    Optional,
)

import httpx

from .auth import CLIENT_ID, DEFAULT_TOKEN_TIMEOUT, TokenFlow
from .auth_limits import BodyCap, network_error, remaining
from .auth_policy import display
from .auth_steps import CredentialsFn, Fetch, FlowResponse, RequestInfo, Step
from .errors import TokenError

__all__ = ["RegistryHTTPXAuth"]


class RegistryHTTPXAuth(httpx.Auth):
    """``httpx.Client(auth=RegistryHTTPXAuth())``; same options as ``RegistryAuth``.

    The request body is buffered (``requires_request_body``) so the request can be sent
    again after a challenge.
    """

    requires_request_body = True

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

    def __repr__(self) -> str:
        return f"<RegistryHTTPXAuth {self.flow!r}>"

    def identity_token(self, registry: str) -> Optional[str]:
        return self.flow.identity_token(registry)

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        gen = self.flow.auth_flow(_info(request), blocking=True)
        try:
            step: Step = next(gen)
            while True:
                outgoing = _outgoing(request, step)
                response = yield outgoing
                body = b""
                if isinstance(step, Fetch):
                    body = _read_sync(response, step, outgoing)
                step = gen.send(_flow_response(response, body))
        except StopIteration:
            return
        finally:
            gen.close()

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        gen = self.flow.auth_flow(_info(request), blocking=False)
        try:
            step: Step = next(gen)
            while True:
                outgoing = _outgoing(request, step)
                response = yield outgoing
                body = b""
                if isinstance(step, Fetch):
                    body = await _read_async(response, step, outgoing)
                try:
                    step = gen.send(_flow_response(response, body))
                except StopIteration:
                    return
        finally:
            gen.close()


def _failure(step: Fetch, exc: BaseException) -> Exception:
    if isinstance(exc, httpx.TimeoutException) and step.deadline is not None:
        try:
            remaining(step)
        except TokenError as late:
            return late
    return network_error(step, exc)


def _is_network(exc: Exception) -> bool:
    """An httpcore or OS error (not ours, not a cancellation) in a token request."""
    return type(exc).__module__.startswith("httpcore") or isinstance(exc, OSError)


def _info(request: httpx.Request) -> RequestInfo:
    return RequestInfo(request.method, str(request.url))


class _Once(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A token request's body: a client following a redirect cannot send it again.

    (A redirect keeps the request's stream and extensions, see httpx's
    ``_build_redirect_request``.)
    """

    def __init__(self, step: Fetch) -> None:
        self.step = step
        self.body = step.body or b""
        self.sent = False

    def _take(self) -> bytes:
        if self.sent:
            raise TokenError(
                f"{self.step.purpose} failed: the token server redirected;"
                " token requests do not follow redirects"
            )
        self.sent = True
        return self.body

    def __iter__(self) -> Iterator[bytes]:
        body = self._take()
        if body:
            yield body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        body = self._take()
        if body:
            yield body


def _outgoing(request: httpx.Request, step: Step) -> httpx.Request:
    if isinstance(step, Fetch):
        return _token_request(step, request)
    if step.authorization is None:
        request.headers.pop("Authorization", None)
    else:
        request.headers["Authorization"] = step.authorization
    return request


def _token_request(step: Fetch, original: httpx.Request) -> httpx.Request:
    limit = remaining(step)
    extensions: Dict[str, Any] = {}
    if limit is not None:
        extensions["timeout"] = {"connect": limit, "read": limit, "write": limit, "pool": limit}
    target = httpx.URL(step.url)
    is_async = _is_async(original)

    def check(event: str, info: Any) -> None:
        if event.endswith(".failed"):
            exc = info.get("exception") if isinstance(info, dict) else None
            if isinstance(exc, Exception) and _is_network(exc):
                raise _failure(step, exc) from None
            return
        if not event.endswith("send_request_headers.started"):
            return
        sent = info.get("request") if isinstance(info, dict) else None
        url = getattr(sent, "url", None)
        if url is None:
            return
        host = bytes(url.host).decode("ascii", "replace").lower()
        port = url.port or {b"https": 443, b"http": 80}.get(bytes(url.scheme))
        want_port = target.port or {"https": 443, "http": 80}.get(target.scheme)
        if (host, port) != (target.host.lower(), want_port) or bytes(url.target) != target.raw_path:
            raise TokenError(
                f"{step.purpose} failed: the token server redirected (to"
                f" {bytes(url.scheme).decode('ascii', 'replace')}://{host});"
                " token requests do not follow redirects"
            )

    if is_async:

        async def trace(event: str, info: Any) -> None:
            check(event, info)

        extensions["trace"] = trace
    else:
        extensions["trace"] = check
    return httpx.Request(
        step.method,
        step.url,
        headers=list(step.headers),
        stream=_Once(step),
        extensions=extensions,
    )


def _is_async(request: httpx.Request) -> bool:
    return isinstance(request.stream, httpx.AsyncByteStream) and not isinstance(
        request.stream, httpx.SyncByteStream
    )


def _refuse_redirected(response: httpx.Response, step: Fetch, sent: httpx.Request) -> None:
    """The answer must be to the request sent, not to one a redirect made of it."""
    if response.request is not sent:
        raise TokenError(
            f"{step.purpose} failed: the token server redirected (to"
            f" {display(str(response.url))}); token requests do not follow redirects"
        )


def _read_sync(response: httpx.Response, step: Fetch, sent: httpx.Request) -> bytes:
    """The body, streamed: at most MAX_TOKEN_BODY bytes, and only until the deadline."""
    try:
        _refuse_redirected(response, step, sent)
        cap = BodyCap(step)
        try:
            for chunk in response.iter_raw():
                cap.add(chunk)
        except httpx.TransportError as exc:
            raise _failure(step, exc) from None
        body = cap.body()
        response._content = body  # the client reads the response again: it has been
        return body
    finally:
        response.close()


async def _read_async(response: httpx.Response, step: Fetch, sent: httpx.Request) -> bytes:
    try:
        _refuse_redirected(response, step, sent)
        cap = BodyCap(step)
        try:
            async for chunk in response.aiter_raw():
                cap.add(chunk)
        except httpx.TransportError as exc:
            raise _failure(step, exc) from None
        body = cap.body()
        response._content = body
        return body
    finally:
        await response.aclose()


def _flow_response(response: httpx.Response, body: bytes) -> FlowResponse:
    return FlowResponse(
        status=response.status_code,
        url=str(response.url),
        www_authenticate=tuple(response.headers.get_list("WWW-Authenticate")),
        body=body,
        location=response.headers.get("Location"),
    )
