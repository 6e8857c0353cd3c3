"""Where credentials may go: the realm and transport rules of registry HTTP auth (no I/O).

DESIGN.md "HTTP": Basic credentials only to the registry host; credentials reach a
token realm only over https (http only when the registry itself is plain http on
loopback or marked insecure), never a loopback, private or link-local address of
another host. An IP literal is read as the C resolver reads it, so ``127.1``,
``2130706433`` or ``0x7f000001`` are 127.0.0.1 (:func:`dockercreds.registry.host_ip`).
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence, Tuple
from urllib.parse import SplitResult, urlsplit, urlunsplit

from .errors import ChallengeError, UnsafeAuthError
from .registry import host_ip

__all__ = [
    "RealmPolicy",
    "display",
    "hostname",
    "hostport",
    "is_internal",
    "is_loopback_host",
    "odd_host",
    "same_host",
    "scope_text",
    "split_url",
]


_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def odd_host(host: str) -> str:
    """Why ``host`` (lowercase, no brackets) is not a plain host name or IP literal, or "".

    The realm rule judges a host by its text; the HTTP libraries send to what they make
    of it (IDNA maps ``127。0。0。1`` to ``127.0.0.1``; some raise on what they cannot
    encode). So a realm host must already be what goes on the wire: ASCII labels of
    letters, digits, ``-`` and ``_`` (``xn--`` labels valid punycode), or an IP literal.
    """
    if ":" in host:  # an IPv6 literal (split_url checked what the brackets hold)
        return ""
    if not host.isascii():
        return "is not ASCII (an internationalized host could name another address)"
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    for label in labels:
        if not _LABEL.fullmatch(label):
            return f"is not a valid host name (label {label[:64]!r})"
        if label.startswith("xn--"):
            try:
                label[4:].encode("ascii").decode("punycode").encode("idna")
            except (UnicodeError, ValueError):
                return f"is not a valid host name (bad punycode label {label[:64]!r})"
    return ""


def split_url(url: str) -> SplitResult:
    """``urlsplit``, but a malformed URL (``http://[::1``) is a ChallengeError."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port and the brackets
        host = parts.netloc.rpartition("@")[2]
        if host.startswith("["):  # Python < 3.11 does not check what the brackets hold
            import ipaddress

            ipaddress.IPv6Address(host[1 : host.find("]")].partition("%")[0])
    except ValueError as exc:
        raise ChallengeError(f"malformed URL {display_raw(url)}: {exc}") from None
    return parts


def display_raw(url: str) -> str:
    """A URL that did not parse, for a message: no user info or query, bounded."""
    text = url.split("?", 1)[0].split("#", 1)[0]
    scheme, sep, rest = text.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = "***@" + rest.split("@", 1)[1]
    text = scheme + sep + rest if sep else text
    return repr(text[:200])


def hostport(parts: SplitResult) -> str:
    """host[:port] of a URL, lowercased, without user info (IPv6 kept in brackets)."""
    return parts.netloc.rpartition("@")[2].lower()


def hostname(hp: str) -> str:
    """The host of a host[:port] without the port and brackets."""
    if hp.startswith("["):
        return hp[1 : hp.find("]")] if "]" in hp else hp[1:]
    return hp.partition(":")[0]


def display(url: str) -> str:
    """A URL for messages: scheme://host/path, no user info, no query."""
    try:
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, hostport(parts), parts.path, "", ""))
    except ValueError:
        return display_raw(url)


def scope_text(scopes: Sequence[str]) -> str:
    return " ".join(scopes) if scopes else "none"


def is_loopback_host(host: str) -> bool:
    """``localhost`` (and ``*.localhost``) or a loopback IP in any spelling."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    addr = host_ip(host)
    return addr is not None and addr.is_loopback


def is_internal(host: str) -> bool:
    """A name or IP literal that points inside: loopback, private, link-local, shared
    (100.64/10), unspecified, reserved or multicast: anything not globally routable."""
    if is_loopback_host(host):
        return True
    addr = host_ip(host)
    return addr is not None and (not addr.is_global or addr.is_multicast)


def same_host(a: str, b: str) -> bool:
    """Do two host names (no port) name the same host (``127.1`` is ``127.0.0.1``)?"""
    if a.lower() == b.lower():
        return True
    ip_a, ip_b = host_ip(a), host_ip(b)
    return ip_a is not None and ip_a == ip_b


def normalize_insecure(host: str) -> str:
    text = host.strip().lower()
    if "://" in text:
        text = hostport(split_url(text))
    return text.rstrip("/")


class RealmPolicy:
    """Which registry may get credentials over http, and which realm may get them.

    ``insecure``: registries (``host[:port]``) that may get credentials over plain http.
    """

    def __init__(self, insecure: Iterable[str] = ()) -> None:
        self.insecure = frozenset(normalize_insecure(h) for h in insecure)

    def is_insecure(self, hp: str) -> bool:
        return hp in self.insecure or hostname(hp) in self.insecure

    def transport_ok(self, scheme: str, hp: str) -> bool:
        """May a registry request over ``scheme`` to ``hp`` carry credentials?"""
        return scheme == "https" or is_loopback_host(hostname(hp)) or self.is_insecure(hp)

    def check_registry(self, scheme: str, hp: str, what: str) -> None:
        if not self.transport_ok(scheme, hp):
            raise UnsafeAuthError(
                f"refusing to send {what} to registry {hp} over plain http: only https,"
                " loopback or registries marked insecure (insecure=[...], --insecure) get"
                " credentials over http"
            )

    def check_realm(self, realm: str, scheme: str, hp: str, scopes: Tuple[str, ...]) -> None:
        """Raise UnsafeAuthError unless ``realm`` may get the credentials of registry ``hp``."""
        where = f"token realm {display(realm)} of registry {hp} (scope {scope_text(scopes)})"
        try:
            parts = split_url(realm)
        except ChallengeError:
            raise UnsafeAuthError(f"refusing {where}: the realm is not a valid URL") from None
        rscheme = parts.scheme.lower()
        if rscheme not in ("http", "https") or not parts.hostname:
            raise UnsafeAuthError(f"refusing {where}: the realm is not an absolute http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise UnsafeAuthError(f"refusing {where}: the realm URL carries user info")
        registry_host = hostname(hp)
        if rscheme == "http" and not (
            self.is_insecure(hp) or (scheme == "http" and is_loopback_host(registry_host))
        ):
            raise UnsafeAuthError(
                f"refusing {where}: credentials go to a realm only over https (http only when"
                " the registry itself is plain http on loopback or marked insecure)"
            )
        realm_host = parts.hostname.lower()
        why = odd_host(realm_host)
        if why:
            raise UnsafeAuthError(f"refusing {where}: the realm host {why}")
        if (
            not same_host(realm_host, registry_host)
            and is_internal(realm_host)
            and not (is_loopback_host(realm_host) and is_loopback_host(registry_host))
        ):
            raise UnsafeAuthError(
                f"refusing {where}: the realm is a loopback, private or link-local address"
                " on another host"
            )
