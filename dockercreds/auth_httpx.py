"""``RegistryHTTPXAuth``: the token flow of :mod:`dockercreds.auth` driven by ``httpx``.

Sync and async clients: ``httpx.Client(auth=RegistryHTTPXAuth())``. Needs the ``httpx``
extra. The async flow never blocks the event loop: it does not wait for another task
fetching the same token (it may fetch the token itself instead).
"""

from __future__ import annotations

from typing import Any, AsyncGenerator, Callable, Generator, Iterable, Optional

import httpx

from .auth import (
    CLIENT_ID,
    MAX_TOKEN_BODY,
    CredentialsFn,
    Fetch,
    FlowResponse,
    RequestInfo,
    Step,
    TokenFlow,
)

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
    ) -> None:
        self.flow = flow or TokenFlow.for_config(
            config,
            credentials=credentials,
            insecure=insecure,
            client_id=client_id,
            offline_token=offline_token,
            clock=clock,
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
                    response.read()
                    body = response.content[:MAX_TOKEN_BODY]
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
                    await response.aread()
                    body = response.content[:MAX_TOKEN_BODY]
                try:
                    step = gen.send(_flow_response(response, body))
                except StopIteration:
                    return
        finally:
            gen.close()


def _info(request: httpx.Request) -> RequestInfo:
    return RequestInfo(request.method, str(request.url))


def _outgoing(request: httpx.Request, step: Step) -> httpx.Request:
    if isinstance(step, Fetch):
        return httpx.Request(step.method, step.url, headers=list(step.headers), content=step.body)
    if step.authorization is None:
        request.headers.pop("Authorization", None)
    else:
        request.headers["Authorization"] = step.authorization
    return request


def _flow_response(response: httpx.Response, body: bytes) -> FlowResponse:
    return FlowResponse(
        status=response.status_code,
        url=str(response.url),
        www_authenticate=tuple(response.headers.get_list("WWW-Authenticate")),
        body=body,
        location=response.headers.get("Location"),
    )
