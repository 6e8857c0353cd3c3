"""What both drivers do with a :class:`~dockercreds.auth_steps.Fetch` (no HTTP library):
the time left before its deadline, the body cap, and the typed errors for both.
"""

from __future__ import annotations

import time
from typing import Optional
from urllib.parse import urlsplit

from .auth_policy import hostport
from .auth_steps import MAX_TOKEN_BODY, Fetch
from .errors import NetworkError, TokenError
from .netfail import unreachable

__all__ = ["BodyCap", "failure", "network_error", "remaining", "timeout_error", "unsendable"]

#: Bytes asked of the socket per read while streaming a body.
CHUNK = 65536


def timeout_error(step: Fetch) -> TokenError:
    budget = f" ({step.timeout:g} s)" if step.timeout else ""
    return TokenError(
        f"{step.purpose} failed: timed out: no complete answer within the token"
        f" timeout{budget}; the server is too slow or sends too little"
    )


def remaining(step: Fetch, timeout: Optional[float] = None) -> Optional[float]:
    """Seconds the next I/O of ``step`` may take: the time left, at most ``timeout``.

    Raises the TokenError of a passed deadline.
    """
    if step.deadline is None:
        return timeout
    left = step.deadline - time.monotonic()
    if left <= 0:
        raise timeout_error(step)
    return left if timeout is None else min(timeout, left)


def network_error(step: Fetch, exc: BaseException) -> NetworkError:
    try:
        host = hostport(urlsplit(step.url))
    except ValueError:
        host = "the server"
    return NetworkError(f"{unreachable(host, exc)} ({step.purpose})")


def unsendable(step: Fetch, exc: BaseException) -> TokenError:
    """The HTTP library cannot make a request of ``step``'s URL (a host it cannot encode)."""
    return TokenError(
        f"{step.purpose} failed: the HTTP library cannot send to this URL"
        f" ({type(exc).__name__}); the token server's realm is malformed"
    )


def failure(step: Fetch, exc: BaseException) -> Exception:
    """The typed error for a network failure of ``step``: past its deadline, a timeout."""
    if step.deadline is not None and time.monotonic() >= step.deadline:
        return timeout_error(step)
    return network_error(step, exc)


class BodyCap:
    """Collects a body chunk by chunk; TokenError past the cap or the deadline."""

    def __init__(self, step: Fetch) -> None:
        self.step = step
        self.data = bytearray()

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > MAX_TOKEN_BODY:
            raise TokenError(
                f"{self.step.purpose} failed: the answer is larger than"
                f" {MAX_TOKEN_BODY // 1024} KiB, more than any token response"
            )
        remaining(self.step)

    def body(self) -> bytes:
        return bytes(self.data)
