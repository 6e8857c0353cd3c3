"""The values the I/O-free token flow exchanges with its drivers (no I/O, no logic).

The flow (:mod:`dockercreds.auth`) is a generator: it *yields* a :class:`Step` (what
must be sent) and *receives* a :class:`FlowResponse`. A driver (requests, httpx) does
the I/O and honours each :class:`Fetch`'s limits: no redirect is followed, at most
:data:`MAX_TOKEN_BODY` bytes are read, and the exchange ends by ``deadline``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple, Union

from .credentials import Credentials

__all__ = [
    "MAX_TOKEN_BODY",
    "CredentialsFn",
    "Fetch",
    "FlowResponse",
    "RequestInfo",
    "SendRequest",
    "Step",
]

#: Largest token-server (or ping) body read; a larger one is a TokenError.
MAX_TOKEN_BODY = 1 << 20

CredentialsFn = Callable[[str], Optional[Credentials]]


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
    """Send a request of our own (a token request, or a ``/v2/`` ping).

    Never follow a redirect (answer the 3xx itself); read at most ``MAX_TOKEN_BODY``
    bytes; give up at ``deadline`` (``time.monotonic()`` value, None: no limit) with a
    :class:`~dockercreds.errors.TokenError` that starts with ``purpose``.
    """

    method: str
    url: str
    headers: Tuple[Tuple[str, str], ...] = field(default=(), repr=False)
    body: Optional[bytes] = field(default=None, repr=False)
    # limits and wording, not what is sent: not compared
    deadline: Optional[float] = field(default=None, compare=False)
    purpose: str = field(default="token request", compare=False)
    timeout: float = field(default=0.0, compare=False)  # the budget of ``deadline``


Step = Union[SendRequest, Fetch]


@dataclass(frozen=True)
class FlowResponse:
    """What the flow needs from a response: ``body`` only for :class:`Fetch` requests."""

    status: int
    url: str
    www_authenticate: Tuple[str, ...] = ()
    body: bytes = field(default=b"", repr=False)
    location: Optional[str] = None
