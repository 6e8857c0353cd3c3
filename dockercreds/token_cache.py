"""Bearer tokens kept in memory per (realm, service, scopes), with their expiry (no I/O).

distribution's rules: a token lives ``expires_in`` seconds (60 when absent, never less),
counted from ``issued_at`` when the server sends one in the past. A cached token is not
used in its last :data:`EXPIRY_LEEWAY` seconds.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

__all__ = [
    "DEFAULT_EXPIRES_IN",
    "EXPIRY_LEEWAY",
    "Token",
    "TokenCache",
    "TokenKey",
    "expiry",
    "parse_time",
]

#: Token lifetime when the server gives none, and the minimum (distribution's rule).
DEFAULT_EXPIRES_IN = 60
#: A cached token is not used in its last seconds (requests in flight, clock skew).
EXPIRY_LEEWAY = 5.0

TokenKey = Tuple[str, str, Tuple[str, ...]]  # (realm, service, scopes)


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: float


def parse_time(text: Any) -> Optional[float]:
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
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=_dt.timezone.utc)
        return parsed.timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def expiry(now: float, expires_in: Any, issued_at: Any) -> float:
    """When a token answered at ``now`` with these JSON fields expires (epoch seconds)."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)):
        expires_in = DEFAULT_EXPIRES_IN
    try:
        seconds = max(float(expires_in), float(DEFAULT_EXPIRES_IN))
    except OverflowError:  # an integer too large for a float
        seconds = float(DEFAULT_EXPIRES_IN)
    if math.isnan(seconds):
        seconds = float(DEFAULT_EXPIRES_IN)
    issued = parse_time(issued_at)
    start = min(now, issued) if issued is not None else now
    return start + seconds


class TokenCache:
    """Thread-safe tokens by key, plus one lock per key so one thread fetches each token."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: Dict[TokenKey, Token] = {}
        self._key_locks: Dict[TokenKey, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._tokens)

    def fresh(self, key: TokenKey) -> Optional[Token]:
        """The cached token for ``key`` unless it expires within the leeway."""
        with self._lock:
            token = self._tokens.get(key)
        if token is not None and self._clock() < token.expires_at - EXPIRY_LEEWAY:
            return token
        return None

    def put(self, key: TokenKey, token: Token) -> None:
        with self._lock:
            self._tokens[key] = token

    def forget(self, key: TokenKey, value: Optional[str]) -> None:
        """Drop the token of ``key`` if it is still ``value`` (None: whatever it is)."""
        with self._lock:
            token = self._tokens.get(key)
            if token is not None and (value is None or token.value == value):
                del self._tokens[key]

    def key_lock(self, key: TokenKey) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
