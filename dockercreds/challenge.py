"""WWW-Authenticate challenges and token scopes: parsing and formatting, no I/O.

Grammar (RFC 9110 section 11): a header holds one or more challenges, separated by
commas, each ``scheme [token68 | #auth-param]``; a parameter value is a token or a
quoted string with backslash escapes. Scheme and parameter names are case-insensitive
(lowercased here). Scopes follow distribution's ``type[(class)]:name:actions``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple, Union

from .errors import ChallengeError

__all__ = [
    "Challenge",
    "Scope",
    "format_challenge",
    "merge_scopes",
    "parse_scope",
    "parse_www_authenticate",
    "repository_of",
    "shown",
]

# --------------------------------------------------------------------------- challenges

_TCHAR = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_TOKEN68 = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-._~+/")
_SHOW = 200


@dataclass(frozen=True)
class Challenge:
    """One challenge: ``scheme`` lowercased, ``items`` the (lowercased key, value) pairs.

    ``token68`` holds the bare token of a ``Scheme token68`` challenge (rare).
    """

    scheme: str
    items: Tuple[Tuple[str, str], ...] = ()
    token68: Optional[str] = field(default=None, repr=False)  # may be a credential

    @property
    def params(self) -> Dict[str, str]:
        return dict(self.items)

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:
        key = key.lower()
        for k, v in self.items:
            if k == key:
                return v
        return default

    @property
    def realm(self) -> Optional[str]:
        return self.get("realm")

    @property
    def service(self) -> Optional[str]:
        return self.get("service")

    @property
    def error(self) -> Optional[str]:
        return self.get("error")

    @property
    def scopes(self) -> Tuple[str, ...]:
        """The ``scope`` parameter split at spaces (several scopes may share one)."""
        return tuple((self.get("scope") or "").split())

    def __str__(self) -> str:
        return format_challenge(self)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_challenge(challenge: Challenge) -> str:
    """The header text of one challenge (values always quoted)."""
    text = challenge.scheme
    if challenge.token68 is not None:
        return f"{text} {challenge.token68}"
    if challenge.items:
        text += " " + ", ".join(f"{k}={_quote(v)}" for k, v in challenge.items)
    return text


#: URL user info and query strings: where a header may carry a credential.
_URL_SECRETS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^\s\"/@]*@|\?[^\s\",]*")


def _scrub(text: str) -> str:
    """``text`` with URL user info and query strings replaced by ``***``."""
    return _URL_SECRETS.sub(
        lambda m: f"{m.group('scheme')}***@" if m.group("scheme") else "?***", text
    )


def shown(text: str) -> str:
    """``text`` quoted for a message: bounded, URL user info and queries hidden."""
    text = _scrub(text)
    if len(text) > _SHOW:
        return repr(text[:_SHOW]) + f" (+{len(text) - _SHOW} characters)"
    return repr(text)


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.source = source

    def fail(self, reason: str, at: Optional[int] = None) -> ChallengeError:
        pos = self.i if at is None else at
        where = f" {self.source}" if self.source else ""
        return ChallengeError(
            f"malformed WWW-Authenticate header{where}: {reason} at character {pos + 1}"
            f" of {shown(self.s)}"
        )

    def ows(self) -> None:
        while self.i < self.n and self.s[self.i] in " \t":
            self.i += 1

    def token(self) -> str:
        start = self.i
        while self.i < self.n and self.s[self.i] in _TCHAR:
            self.i += 1
        return self.s[start : self.i]

    def at_param(self) -> bool:
        """Does an auth-param (``token BWS = BWS value``) start here?"""
        j = self.i
        while j < self.n and self.s[j] in _TCHAR:
            j += 1
        if j == self.i:
            return False
        while j < self.n and self.s[j] in " \t":
            j += 1
        if j >= self.n or self.s[j] != "=":
            return False
        j += 1
        while j < self.n and self.s[j] in " \t":
            j += 1
        return j < self.n and (self.s[j] == '"' or self.s[j] in _TCHAR)

    def quoted(self) -> str:
        start = self.i
        self.i += 1
        out: List[str] = []
        while self.i < self.n:
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                return "".join(out)
            if c == "\\":
                if self.i + 1 >= self.n:
                    break
                nxt = self.s[self.i + 1]
                if _is_ctl(nxt):
                    raise self.fail("control character after '\\' in a quoted string", self.i + 1)
                out.append(nxt)
                self.i += 2
                continue
            if _is_ctl(c):
                raise self.fail("control character in a quoted string")
            out.append(c)
            self.i += 1
        raise self.fail("unterminated quoted string", start)

    def parse(self) -> List[Challenge]:
        found: List[Challenge] = []
        while True:
            self.skip_separators()
            if self.i >= self.n:
                return found
            found.append(self.challenge())

    def skip_separators(self) -> None:
        while self.i < self.n and self.s[self.i] in " \t,":
            self.i += 1

    def challenge(self) -> Challenge:
        scheme = self.token()
        if not scheme:
            raise self.fail("expected an authentication scheme")
        before = self.i
        self.ows()
        if self.i >= self.n or self.s[self.i] == ",":
            return Challenge(scheme.lower())
        if self.i == before:
            raise self.fail(f"unexpected {self.s[self.i]!r} after the scheme {scheme!r}")
        if not self.at_param():
            return Challenge(scheme.lower(), token68=self.token68())
        items: List[Tuple[str, str]] = []
        seen = set()
        while True:
            key_at = self.i
            key = self.token().lower()
            self.ows()
            self.i += 1  # '=' (checked by at_param)
            self.ows()
            value = self.quoted() if self.s[self.i] == '"' else self.token()
            if key in seen:
                raise self.fail(f"parameter {key!r} given twice", key_at)
            seen.add(key)
            items.append((key, value))
            self.ows()
            if self.i >= self.n:
                break
            if self.s[self.i] != ",":
                raise self.fail(f"expected ',' but found {self.s[self.i]!r}")
            self.skip_separators()
            if self.i >= self.n or not self.at_param():
                break
        return Challenge(scheme.lower(), tuple(items))

    def token68(self) -> str:
        start = self.i
        while self.i < self.n and self.s[self.i] in _TOKEN68:
            self.i += 1
        if self.i == start:
            raise self.fail(f"unexpected {self.s[self.i]!r}")
        while self.i < self.n and self.s[self.i] == "=":
            self.i += 1
        value = self.s[start : self.i]
        self.ows()
        if self.i < self.n and self.s[self.i] != ",":
            raise self.fail(f"expected ',' but found {self.s[self.i]!r}")
        return value


def _is_ctl(c: str) -> bool:
    return (ord(c) < 0x20 and c != "\t") or c == "\x7f"


def parse_www_authenticate(
    headers: Union[str, Iterable[str]], *, source: str = ""
) -> List[Challenge]:
    """All challenges in one header value or several header lines, in order.

    Several challenges may share a line (``Bearer realm="r", Basic realm="b"``), which
    is also what a client that joins repeated header lines with ``", "`` sees. Scheme and
    parameter names are lowercased; values keep their case. Raises
    :class:`~dockercreds.errors.ChallengeError` (naming ``source``, e.g. the registry)
    on malformed input; nothing else.
    """
    lines = [headers] if isinstance(headers, str) else list(headers)
    found: List[Challenge] = []
    for line in lines:
        found.extend(_Parser(line, source).parse())
    return found


# --------------------------------------------------------------------------- scopes


@dataclass(frozen=True)
class Scope:
    """``type[(class)]:name:actions``, e.g. ``repository:team/app:pull,push``."""

    type: str
    name: str
    actions: Tuple[str, ...]
    resource_class: str = ""

    def __str__(self) -> str:
        cls = f"({self.resource_class})" if self.resource_class else ""
        return f"{self.type}{cls}:{self.name}:{','.join(self.actions)}"


_TYPE_RE = re.compile(r"^([a-z0-9]+)(?:\(([a-z0-9]+)\))?$", re.IGNORECASE)


def parse_scope(text: str) -> Scope:
    """Split at the first ``:`` (type) and the last ``:`` (actions); the name may hold ``:``."""
    first, last = text.find(":"), text.rfind(":")
    if first < 0 or first == last:
        raise ChallengeError(f"invalid scope {text!r}: expected type:name:actions")
    match = _TYPE_RE.match(text[:first])
    name = text[first + 1 : last]
    if match is None or not name or any(c in name for c in " \t\","):
        raise ChallengeError(
            f"invalid scope {text!r}: expected type[(class)]:name:actions"
            " (e.g. repository:team/app:pull)"
        )
    actions: List[str] = []
    for action in text[last + 1 :].split(","):
        if action and action not in actions:
            actions.append(action)
    return Scope(match.group(1), name, tuple(actions), match.group(2) or "")


def merge_scopes(*groups: Iterable[str]) -> Tuple[str, ...]:
    """Union of scope strings; the actions of one resource are merged. Sorted, canonical.

    A scope that does not parse is kept as it is (the server knows what it means).
    """
    merged: Dict[Tuple[str, str, str], List[str]] = {}
    opaque: List[str] = []
    for group in groups:
        for text in group:
            try:
                scope = parse_scope(text)
            except ChallengeError:
                if text not in opaque:
                    opaque.append(text)
                continue
            actions = merged.setdefault((scope.type, scope.resource_class, scope.name), [])
            actions.extend(a for a in scope.actions if a not in actions)
    out = {
        str(Scope(typ, name, tuple(sorted(actions)), cls))
        for (typ, cls, name), actions in merged.items()
    }
    return tuple(sorted(out | set(opaque)))


_REPO_RE = re.compile(
    r"^/v2/(?P<name>.+)/(?:manifests/[^/]+|blobs/uploads/[^/]*|blobs/[^/]+|tags/list"
    r"|referrers/[^/]+)$"
)


def repository_of(path: str) -> str:
    """The repository a registry API path is about (``""`` for ``/v2/``, ``/v2/_catalog``)."""
    match = _REPO_RE.match(path)
    return match.group("name") if match else ""
