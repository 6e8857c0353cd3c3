"""The index of a config's keys, and the most-specific match for a repository.

Built once per loaded config (:attr:`DockerConfig.index`), so a lookup costs a handful of
dict probes (one per path segment), never a scan of every key:

* host keys (``quay.io``, ``https://quay.io/v2/``, every Docker Hub alias) by normalized host;
* namespace keys (``quay.io/org``, no scheme) by (host, path): they apply to repositories
  at or below that path, by whole segments, and never to a sibling (``quay.io/org`` does
  not match ``quay.io/organization/x``); the most specific wins, then the host key;
* ``credHelpers`` by host (a helper is asked per registry, never per namespace).

Two keys for the same place are ranked deterministically (DESIGN.md "Keys"): the key
already in canonical form, then ``https://`` keys, then ``http://`` keys, then other
spellings; ties by the raw key's lexical order. The losers are kept for ``explain``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Tuple

from .errors import InvalidRegistry
from .registry import HUB_ALIASES, HUB_DOMAIN, HUB_KEY, Key, parse_key

if TYPE_CHECKING:  # pragma: no cover
    from .config import AuthEntry, DockerConfig

__all__ = ["KeyIndex", "Match", "rank_key"]


class Match(NamedTuple):
    """The entry a lookup chose, the key that won, and the keys it beat."""

    entry: AuthEntry
    key: str
    namespace: str  # "" for a host key
    shadowed: Tuple[str, ...]  # other keys for the same place (collisions)


def _canonical(key: Key) -> str:
    if key.host == HUB_DOMAIN and not key.path:
        return HUB_KEY
    return f"{key.host}/{key.path}" if key.path else key.host


def rank_key(raw: str, key: Key) -> Tuple[int, str]:
    """Lower is better: canonical form, then https://, then http://, then the rest."""
    if raw == _canonical(key):
        tier = 0
    elif key.scheme == "https":
        tier = 1
    elif key.scheme == "http":
        tier = 2
    else:
        tier = 3
    return (tier, raw)


# ``host[:port]`` and ``http(s)://host[:port][/...]`` in lowercase: the shapes nearly every
# key has. They are read here without the general parser (same result as parse_key).
_FAST_KEY = re.compile(r"(?:(https?)://)?([a-z0-9._-]+(?::[0-9]{1,5})?)(/.*)?", re.DOTALL)


def _parse_key(raw: str) -> Key:
    """:func:`~dockercreds.registry.parse_key`, with a fast path for the common shapes."""
    m = _FAST_KEY.fullmatch(raw)
    if m is None:
        return parse_key(raw)
    scheme, host, rest = m.groups()
    if scheme is None:
        if rest is not None:
            return parse_key(raw)  # a namespace key (host/path): the full rules
        scheme = ""
    return Key(HUB_DOMAIN if host in HUB_ALIASES else host, "", scheme)


def _by_rank(bucket: List[str]) -> None:
    """Sort colliding raw keys best first (only called for buckets of two or more)."""
    bucket.sort(key=lambda raw: rank_key(raw, _parse_key(raw)))


class KeyIndex:
    """Normalized index of one config's ``auths`` and ``credHelpers`` keys."""

    def __init__(self) -> None:
        # host -> raw keys (best first)
        self.hosts: Dict[str, List[str]] = {}
        # (host, path) -> raw keys (best first)
        self.namespaces: Dict[Tuple[str, str], List[str]] = {}
        # host -> (helper name, raw key), best key first
        self.helpers: Dict[str, List[Tuple[Tuple[int, str], str, str]]] = {}
        # raw key -> why it was ignored
        self.ignored: Dict[str, str] = {}
        self.entries: Dict[str, AuthEntry] = {}
        # memo for callers that turn a matched entry into a value once (resolver)
        self.memo: Dict[str, object] = {}

    @classmethod
    def build(cls, config: DockerConfig) -> KeyIndex:
        index = cls()
        index.entries = config.auths
        legacy = config.source.kind == "legacy"
        hosts, namespaces = index.hosts, index.namespaces
        fast = _FAST_KEY.fullmatch
        for raw in config.auths:
            m = fast(raw)
            if m is not None:
                scheme, host, rest = m.groups()
                if scheme is not None or rest is None:  # host[:port] or a URL: a host key
                    if host in HUB_ALIASES:
                        host = HUB_DOMAIN
                    bucket = hosts.get(host)
                    if bucket is None:
                        hosts[host] = [raw]
                    else:
                        bucket.append(raw)
                    continue
            try:
                key = parse_key(raw)
            except InvalidRegistry as exc:
                index.ignored[raw] = str(exc)
                continue
            if key.path and not legacy:
                namespaces.setdefault((key.host, key.path), []).append(raw)
            else:
                # legacy ~/.dockercfg keys are cut at the first '/' (containers/image)
                hosts.setdefault(key.host, []).append(raw)
        for buckets in (hosts.values(), namespaces.values()):
            for bucket in buckets:
                if len(bucket) > 1:
                    _by_rank(bucket)
        for raw, helper in config.cred_helpers.items():
            try:
                key = _parse_key(raw)
            except InvalidRegistry as exc:
                index.ignored[raw] = f"credHelpers: {exc}"
                continue
            if key.path:
                index.ignored[raw] = (
                    f"credHelpers key {raw!r} has a repository path; helpers are chosen per"
                    f" registry (use {key.host!r})"
                )
                continue
            index.helpers.setdefault(key.host, []).append((rank_key(raw, key), helper, raw))
        for choices in index.helpers.values():
            choices.sort()
        return index

    def helper_for(self, host: str) -> Optional[Tuple[str, str]]:
        """(helper name, raw key) from ``credHelpers`` for a normalized host."""
        choices = self.helpers.get(host)
        if not choices:
            return None
        _, helper, raw = choices[0]
        return helper, raw

    def lookup(self, host: str, path: str = "") -> Optional[Match]:
        """The most specific entry for repository ``path`` on normalized ``host``."""
        if path and self.namespaces:
            segments = path.split("/")
            for n in range(len(segments), 0, -1):
                ns = "/".join(segments[:n])
                bucket = self.namespaces.get((host, ns))
                if bucket:
                    return self._match(bucket, ns)
        bucket = self.hosts.get(host)
        if bucket:
            return self._match(bucket, "")
        return None

    def _match(self, bucket: List[str], namespace: str) -> Match:
        best = bucket[0]
        return Match(self.entries[best], best, namespace, tuple(bucket[1:]))
