"""Registry hosts and config keys: normalization and Docker Hub aliases.

A config key (in ``auths`` or ``credHelpers``) comes in several shapes::

    https://index.docker.io/v1/     URL form: scheme, host[:port], path (path dropped)
    quay.io                         host form
    localhost:5000                  host with a port (ports are significant)
    [::1]:5000                      IPv6 literal in brackets
    quay.io/org/app                 namespace: host plus repository path (no scheme)

:func:`parse_key` turns any of them into a :class:`Key`: a lowercase host (Docker Hub
aliases folded to ``docker.io``) and, for namespaces, the path. Nothing here does I/O.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Dict, NamedTuple, Optional, Tuple, Union

from .errors import InvalidRegistry

if TYPE_CHECKING:  # pragma: no cover
    from ipaddress import IPv4Address, IPv6Address

__all__ = [
    "HUB_ALIASES",
    "HUB_API_HOST",
    "HUB_DOMAIN",
    "HUB_KEY",
    "Key",
    "api_host",
    "helper_server",
    "host_ip",
    "inet_aton",
    "is_hub",
    "is_loopback",
    "normalize_registry",
    "parse_key",
    "split_host_port",
    "without_userinfo",
]

#: The key Docker writes for Docker Hub, and asks helpers with.
HUB_KEY = "https://index.docker.io/v1/"
#: The domain of Docker Hub in image references.
HUB_DOMAIN = "docker.io"
#: The host that serves Docker Hub's registry API.
HUB_API_HOST = "registry-1.docker.io"
#: Hosts that all mean Docker Hub.
HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")
_IPV6_CHARS = frozenset("0123456789abcdef:.%")


class Key(NamedTuple):
    """A config key understood: ``host`` (normalized), ``path`` ("" for a host key)."""

    host: str
    path: str
    scheme: str  # "https", "http", "" (no scheme) or another scheme as written

    @property
    def is_namespace(self) -> bool:
        return bool(self.path)


def split_host_port(hostport: str) -> Tuple[str, Optional[str]]:
    """``"[::1]:5000"`` -> ``("[::1]", "5000")``; ``"quay.io"`` -> ``("quay.io", None)``."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise InvalidRegistry(
                f"invalid registry {without_userinfo(hostport)!r}: unclosed '[' in IPv6 address"
            )
        host, rest = hostport[: end + 1], hostport[end + 1 :]
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise InvalidRegistry(
                f"invalid registry {without_userinfo(hostport)!r}: text after ']'"
            )
        return host, rest[1:]
    host, sep, port = hostport.partition(":")
    return host, (port if sep else None)


def _normalize_hostport(hostport: str, original: str) -> str:
    host, port = split_host_port(hostport)
    host = host.lower()
    if host.startswith("["):
        inner = host[1:-1]
        if not inner or not set(inner) <= _IPV6_CHARS or ":" not in inner:
            raise InvalidRegistry(
                f"invalid registry {without_userinfo(original)!r}:"
                f" bad IPv6 address {without_userinfo(host)!r}"
            )
    elif not host or not set(host) <= _HOST_CHARS:
        raise InvalidRegistry(
            f"invalid registry {without_userinfo(original)!r}:"
            f" {without_userinfo(host)!r} is not a host name"
            " (expected host[:port], e.g. quay.io or localhost:5000)"
        )
    if port is not None:
        if not port.isdigit() or not port.isascii() or len(port) > 5:
            raise InvalidRegistry(
                f"invalid registry {without_userinfo(original)!r}:"
                f" bad port {without_userinfo(port)!r}"
            )
        return f"{host}:{port}"
    if host in HUB_ALIASES:
        return HUB_DOMAIN
    return host


#: What follows the ``@`` of a one-component image reference with a digest
#: (``ubuntu@sha256:...``); a host with a port (``localhost:5000``) does not count.
_DIGEST_AFTER_AT = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:([a-zA-Z0-9=_-]+)")
#: A query or fragment parameter whose value is a secret: ``?token=``, ``&access_token=``,
#: ``#id_token=``, ``?password=``, ``?X-Amz-Signature=``, ``?api_key=``...
_SECRET_PARAM = re.compile(
    r"([?&#;][^=&#;?]*(?:token|pass|secret|key|auth|sig|cred)[^=&#;?]*=)([^&#;]*)",
    re.IGNORECASE,
)


def _userinfo_end(text: str) -> Tuple[int, int]:
    """(start, end) of the user info in a key or URL (``end`` is its ``@``), or (-1, -1).

    Anything before an ``@`` in the authority is user info (a token may be a bare user
    name: ``TOKEN@host``, ``https://TOKEN@host``), except the digest of a one-component
    image reference without a scheme (``ubuntu@sha256:...``).
    """
    scheme_end = text.find("://")
    start = scheme_end + 3 if scheme_end >= 0 else 0
    authority = text[start:]
    for sep in "/?#":
        authority = authority.partition(sep)[0]
    at = authority.rfind("@")
    if at < 0:
        return -1, -1
    if scheme_end < 0:
        digest = _DIGEST_AFTER_AT.fullmatch(authority[at + 1 :])
        if digest and ":" not in authority[:at] and not (
            digest.group(1).isdigit() and len(digest.group(1)) <= 5  # a port
        ):
            return -1, -1
    return start, start + at


def without_userinfo(text: str) -> str:
    """``text`` (a config key, URL, registry or image) with its secrets replaced by ``***``.

    The one place that masks what a key or target may carry: user info in any spelling
    (``https://user:pw@quay.io/v1/`` -> ``https://***@quay.io/v1/``, ``TOKEN@quay.io``
    -> ``***@quay.io``) and secret query or fragment parameters
    (``?token=abc`` -> ``?token=***``, also ``access_token``, ``password``, ``sig``...).
    For every message, trace step and log record that shows a key or a target.
    """
    start, end = _userinfo_end(text)
    if end >= 0:
        text = text[:start] + "***" + text[end:]
    query = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=-1)
    if query >= 0:
        text = text[:query] + _SECRET_PARAM.sub(r"\1***", text[query:])
    return text


def parse_key(key: str) -> Key:
    """Understand a config key; raise :class:`InvalidRegistry` if it cannot be used.

    A key with a scheme means its host[:port] (the path is dropped, as Docker does).
    A key without a scheme but with a path is a namespace: ``quay.io/org``.
    """
    text = key.strip()
    if _userinfo_end(text)[1] >= 0:
        # never echo it: the user info is most likely a password or token
        raise InvalidRegistry(
            f"invalid registry {without_userinfo(key)!r}: a registry key cannot carry user"
            " info (user:password@host); remove it and log in to store the credentials"
        )
    scheme = ""
    if "://" in text:
        scheme, _, text = text.partition("://")
        scheme = scheme.lower()
        hostport, _, _ = text.partition("/")
        # a URL may carry a query or fragment after the host
        for sep in "?#":
            hostport = hostport.partition(sep)[0]
        return Key(_normalize_hostport(hostport, key), "", scheme)
    hostport, _, path = text.partition("/")
    path = path.strip("/")
    if path:
        for segment in path.split("/"):
            if not segment or "@" in segment or ":" in segment:
                raise InvalidRegistry(
                    f"invalid registry key {without_userinfo(key)!r}: a namespace is host/path"
                    " without a tag or digest (e.g. quay.io/org)"
                )
    return Key(_normalize_hostport(hostport, key), path, scheme)


_NORMALIZED: Dict[str, str] = {}  # a bounded memo: lookups normalize the same few hosts


def normalize_registry(registry: str) -> str:
    """The registry a key, URL or host names: ``host[:port]``, ``docker.io`` for Docker Hub."""
    host = _NORMALIZED.get(registry)
    if host is None:
        host = parse_key(registry).host
        if len(_NORMALIZED) < 4096:
            _NORMALIZED[registry] = host
    return host


def is_hub(registry: str) -> bool:
    """True when ``registry`` (normalized or not) is Docker Hub."""
    try:
        return normalize_registry(registry) == HUB_DOMAIN
    except InvalidRegistry:
        return False


def helper_server(registry: str) -> str:
    """What a credential helper or the keyring is asked for this registry."""
    host = normalize_registry(registry)
    return HUB_KEY if host == HUB_DOMAIN else host


def api_host(registry: str) -> str:
    """The host[:port] that serves the registry API (``registry-1.docker.io`` for Hub)."""
    host = normalize_registry(registry)
    return HUB_API_HOST if host == HUB_DOMAIN else host


def is_loopback(registry: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 (in any spelling the C resolver reads, such as
    ``127.1`` or ``2130706433``) and ``[::1]``, with any port."""
    host, _ = split_host_port(normalize_registry(registry))
    if host == "localhost" or host.endswith(".localhost"):
        return True
    addr = host_ip(host)
    return addr is not None and addr.is_loopback


# --------------------------------------------------------------------------- IP literals

#: One part of a numeric IPv4 host as C's ``inet_aton`` reads it (``strtoul`` base 0).
_ATON_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")
#: Largest value of the last part, by number of parts (a, a.b, a.b.c, a.b.c.d).
_LAST_PART_MAX = {1: 0xFFFFFFFF, 2: 0xFFFFFF, 3: 0xFFFF, 4: 0xFF}


def inet_aton(host: str) -> Optional[int]:
    """The IPv4 address (as an int) C's ``inet_aton`` reads in ``host``, or None.

    The C resolver (``getaddrinfo``, hence every HTTP client) accepts more than the
    dotted quad: 1 to 4 parts, each decimal, octal (leading ``0``) or hex (``0x``); the
    last part fills the remaining bytes. ``2130706433``, ``0x7f000001``, ``127.1`` and
    ``0177.0.0.1`` are all 127.0.0.1. (glibc also ignores text after a space, which no
    host name has; that is not accepted here.)
    """
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        if not part.isascii() or _ATON_PART.fullmatch(part) is None:
            return None
        if part[:2] in ("0x", "0X"):
            value = int(part[2:], 16)
        elif part.startswith("0"):
            value = int(part, 8)
        else:
            value = int(part)
        if value > 0xFFFFFFFF:
            return None
        values.append(value)
    *head, last = values
    if any(v > 0xFF for v in head) or last > _LAST_PART_MAX[len(values)]:
        return None
    address = 0
    for i, value in enumerate(head):
        address |= value << (24 - 8 * i)
    return address | last


IPAddress = Union["IPv4Address", "IPv6Address"]


def host_ip(host: str) -> Optional[IPAddress]:
    """The address a host names when it is an IP literal in any form a client connects
    to, else None: ``[::1]``, ``::1``, ``127.0.0.1``, ``127.1``, ``0x7f000001`` (see
    :func:`inet_aton`), one trailing dot allowed. An IPv6 address that embeds an IPv4
    one (``::ffff:a.b.c.d``, 6to4, NAT64 ``64:ff9b::/96``) is that IPv4 address.
    """
    import ipaddress

    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    if ":" in text:
        try:
            v6 = ipaddress.IPv6Address(text.partition("%")[0])
        except ValueError:
            return None
        if v6.ipv4_mapped is not None:
            return v6.ipv4_mapped
        if v6.sixtofour is not None:
            return v6.sixtofour
        if v6 in ipaddress.IPv6Network("64:ff9b::/96"):
            return ipaddress.IPv4Address(int(v6) & 0xFFFFFFFF)
        return v6
    number = inet_aton(text)
    return None if number is None else ipaddress.IPv4Address(number)
