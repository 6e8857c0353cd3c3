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

import socket
import sys
import threading
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
    Tuple,
)

import httpx

from .auth import CLIENT_ID, DEFAULT_TOKEN_TIMEOUT, TokenFlow
from .auth_limits import BodyCap, failure, remaining, unsendable
from .auth_policy import display
from .auth_steps import CredentialsFn, Fetch, FlowResponse, RequestInfo, SendRequest, Step
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
                if isinstance(step, SendRequest):
                    response = yield _authorize(request, step)
                    step = gen.send(_flow_response(response, b""))
                    continue
                outgoing, watch = _token_request(step, is_async=False)
                try:
                    response = yield outgoing
                    body = _read_sync(response, step, outgoing)
                finally:
                    watch.stop()
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
                body = b""
                if isinstance(step, SendRequest):
                    response = yield _authorize(request, step)
                else:
                    outgoing, watch = _token_request(step, is_async=True)
                    try:
                        response = yield outgoing
                        body = await _read_async(response, step, outgoing)
                    finally:
                        watch.stop()
                try:
                    step = gen.send(_flow_response(response, body))
                except StopIteration:
                    return
        finally:
            gen.close()


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


def _authorize(request: httpx.Request, step: SendRequest) -> httpx.Request:
    if step.authorization is None:
        request.headers.pop("Authorization", None)
    else:
        request.headers["Authorization"] = step.authorization
    return request


class _Watch:
    """Ends a token request at its deadline, however slowly the server sends.

    httpx's timeouts bound each read; a server sending a byte a second never trips them.
    The trace hook keeps the connection's network stream; at the deadline a timer shuts
    its socket down, which ends a blocked read at once (the failure is then reported as
    the timeout). A request on a reused keep-alive connection has no stream to keep and
    is bounded by the per-read timeout (the time left when it started).
    """

    def __init__(self, step: Fetch) -> None:
        self.step = step
        self.stream: Any = None
        self.timer: Optional[threading.Timer] = None
        left = remaining(step)
        if left is not None:
            self.timer = threading.Timer(left, self.fire)
            self.timer.daemon = True
            self.timer.start()

    def fire(self) -> None:
        get = getattr(self.stream, "get_extra_info", None)
        sock = get("socket") if get is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.stream = None


def _token_request(step: Fetch, is_async: bool) -> Tuple[httpx.Request, _Watch]:
    """The httpx request for ``step``: bounded in time, refusing to be redirected."""
    try:
        httpx.URL(step.url).host  # noqa: B018 - httpx's IDNA encoding may refuse the host
    except (httpx.InvalidURL, ValueError) as exc:  # ValueError: UnicodeError, IDNAError
        raise unsendable(step, exc) from None
    watch = _Watch(step)
    limit = remaining(step)
    extensions: Dict[str, Any] = {}
    if limit is not None:
        extensions["timeout"] = {"connect": limit, "read": limit, "write": limit, "pool": limit}
    target = httpx.URL(step.url)
    want = (target.host.lower(), target.port or _PORTS.get(target.scheme), target.raw_path)

    def check(event: str, info: Any) -> None:
        data = info if isinstance(info, dict) else {}
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            watch.stream = data.get("return_value")
            return
        if event.endswith(".failed"):
            watch.stop()
            exc = data.get("exception")
            if isinstance(exc, Exception) and _is_network(exc):
                raise failure(step, exc) from None
            return
        if event.endswith("response_closed.complete"):
            watch.stop()
            return
        if not event.endswith("send_request_headers.started"):
            return
        if watch.stream is None:
            watch.stream = _reused_stream()
        url = getattr(data.get("request"), "url", None)
        if url is None:
            return
        scheme = bytes(url.scheme).decode("ascii", "replace")
        host = bytes(url.host).decode("ascii", "replace").lower()
        if (host, url.port or _PORTS.get(scheme), bytes(url.target)) != want:
            raise TokenError(
                f"{step.purpose} failed: the token server redirected (to {scheme}://{host});"
                " token requests do not follow redirects"
            )

    if is_async:

        async def trace(event: str, info: Any) -> None:
            check(event, info)

        extensions["trace"] = trace
    else:
        extensions["trace"] = check
    request = httpx.Request(
        step.method,
        step.url,
        headers=list(step.headers),
        content=step.body,  # sets Host and Content-Length
        extensions=extensions,
    )
    request.stream = _Once(step)
    return request, watch


_PORTS = {"https": 443, "http": 80}


def _reused_stream() -> Any:
    """The network stream of the keep-alive connection sending the token request.

    httpcore's trace hook is not told the connection; it is the ``self`` of a caller a
    few frames up (``HTTP11Connection.handle_request``). Best effort: None when the
    layout differs, and the request is then bounded by the per-read timeout only.
    """
    frame = sys._getframe(1)
    for _ in range(8):
        frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            return None
        owner = frame.f_locals.get("self")
        stream = getattr(owner, "_network_stream", None)
        if stream is not None and hasattr(stream, "get_extra_info"):
            return stream
    return None


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
            raise failure(step, exc) from None
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
            raise failure(step, exc) from None
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
