"""What the token flow learnt from challenges (no I/O): each registry host's scheme,
realm and service, and the scopes each repository needed (merged, so a request is sent
with a token that already covers them).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .challenge import Challenge, format_challenge, merge_scopes, parse_www_authenticate, shown
from .errors import ChallengeError

__all__ = ["HostAuth", "HostMemory", "Challenges", "read_challenges"]


@dataclass(frozen=True)
class HostAuth:
    scheme: str  # "basic" or "bearer"
    realm: str = ""
    service: str = ""


@dataclass(frozen=True)
class Challenges:
    """The Bearer and Basic challenges of one 401 (the first of each)."""

    bearer: Optional[Challenge]
    basic: Optional[Challenge]
    all: Tuple[Challenge, ...]

    def realm(self, hostport: str) -> str:
        """The Bearer realm, or a ChallengeError when the challenge has none."""
        bearer = self.bearer
        if bearer is None or not bearer.realm:
            # a bare token68 ("Bearer <token>") is not shown: it may be a credential
            hidden = bearer is None or bearer.token68 is not None
            text = "bearer <token>" if hidden or bearer is None else format_challenge(bearer)
            raise ChallengeError(
                f"registry {hostport} sent a Bearer challenge without a realm: {shown(text)}"
            )
        return bearer.realm


def read_challenges(headers: Tuple[str, ...], hostport: str) -> Challenges:
    found: List[Challenge] = parse_www_authenticate(headers, source=f"from registry {hostport}")
    return Challenges(
        next((c for c in found if c.scheme == "bearer"), None),
        next((c for c in found if c.scheme == "basic"), None),
        tuple(found),
    )


class HostMemory:
    """Thread-safe: how each host challenged, and the scopes each repository needed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hosts: Dict[str, HostAuth] = {}
        self._scopes: Dict[Tuple[str, str], Tuple[str, ...]] = {}

    def hosts(self) -> List[str]:
        with self._lock:
            return sorted(self._hosts)

    def recall(
        self, hostport: str, repo: str
    ) -> Tuple[Optional[HostAuth], Optional[Tuple[str, ...]]]:
        with self._lock:
            return self._hosts.get(hostport), self._scopes.get((hostport, repo))

    def learn(self, hostport: str, auth: HostAuth) -> None:
        with self._lock:
            self._hosts[hostport] = auth

    def needed(self, known: Optional[Tuple[str, ...]], challenge: Challenge) -> Tuple[str, ...]:
        """The scopes a token needs: those known for the repository plus the challenge's."""
        return merge_scopes(known or (), challenge.scopes)

    def remember_scopes(self, hostport: str, repo: str, scopes: Tuple[str, ...]) -> None:
        with self._lock:
            self._scopes[(hostport, repo)] = scopes

    def clear(self) -> None:
        with self._lock:
            self._hosts.clear()
            self._scopes.clear()
