"""Network failures in one line: ``cannot reach quay.io: connection refused``.

requests, urllib3 and httpx wrap the OS error in layers whose ``str`` is a repr of a
pool, a URL and a nested exception. :func:`reason` walks the layers (``__cause__``,
``__context__``, ``.reason``, ``args``) and names the cause; :func:`unreachable` makes
the message every command and driver uses. No HTTP library is imported here.
"""

from __future__ import annotations

import socket
import ssl
from typing import List, Optional

__all__ = ["reason", "unreachable"]


def _layers(exc: BaseException) -> List[BaseException]:
    """``exc`` and every exception it wraps, outermost first (bounded)."""
    seen: List[BaseException] = []
    todo: List[BaseException] = [exc]
    while todo and len(seen) < 32:
        item = todo.pop(0)
        if any(item is s for s in seen):
            continue
        seen.append(item)
        inner = [item.__cause__, item.__context__, getattr(item, "reason", None)]
        inner += [a for a in getattr(item, "args", ()) if isinstance(a, BaseException)]
        todo.extend(e for e in inner if isinstance(e, BaseException))
    return seen


def _names(exc: BaseException) -> str:
    return " ".join(t.__name__ for t in type(exc).__mro__)


def _tls(exc: BaseException) -> Optional[str]:
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = f" ({exc.verify_message})" if exc.verify_message else ""
        return f"TLS failure: certificate verify failed{detail}"
    if isinstance(exc, ssl.SSLError):
        detail = getattr(exc, "reason", None) or ""
        return f"TLS failure: {str(detail).lower().replace('_', ' ')}" if detail else "TLS failure"
    return None


def reason(exc: BaseException) -> str:
    """The cause of a network failure in a few words (never a repr)."""
    layers = _layers(exc)
    for layer in layers:
        tls = _tls(layer)
        if tls:
            return tls
    for layer in layers:
        if isinstance(layer, socket.gaierror) or "NameResolution" in _names(layer):
            return "name resolution failed"
    # one pass per cause: urllib3's NewConnectionError is a ConnectTimeoutError, even
    # when the connection was refused
    if any(isinstance(layer, ConnectionRefusedError) for layer in layers):
        return "connection refused"
    if any(isinstance(layer, ConnectionResetError) for layer in layers):
        return "connection reset by the server"
    if any(isinstance(layer, (TimeoutError, socket.timeout)) for layer in layers):
        return "timed out"
    for layer in layers:
        if isinstance(layer, OSError) and layer.strerror:
            return str(layer.strerror).lower()  # "network is unreachable", ...
    for layer in layers:
        name = type(layer).__name__
        if "Timeout" in _names(layer):
            return "timed out"
        if "SSL" in name or "TLS" in name:
            return "TLS failure"
        if "Proxy" in name:
            return "the proxy failed"
    for layer in layers:
        name = type(layer).__name__
        if "RemoteDisconnected" in name or "ProtocolError" in name or "Disconnected" in name:
            return "the connection closed without an answer"
    return f"connection failed ({type(exc).__name__})"


def unreachable(host: str, exc: BaseException) -> str:
    """``cannot reach HOST: CAUSE``: the one-line message for any network failure."""
    return f"cannot reach {host}: {reason(exc)}"
