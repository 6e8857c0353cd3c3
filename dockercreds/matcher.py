"""The index of a config's keys, and the most-specific match for a repository.

Built on the first lookup of a loaded config (:attr:`DockerConfig.index`), so a lookup
costs a handful of dict probes (one per path segment), never a scan of every key, and
repeated lookups of one place are answered from a memo:

* host keys (``quay.io``, ``https://quay.io/v2/``, every Docker Hub alias) by normalized host;
* namespace keys (``quay.io/org``, no scheme) by (host, path): they apply to repositories
  at or below that path, by whole segments, and never to a sibling (``quay.io/org`` does
  not match ``quay.io/organization/x``); the most specific wins, then the host key;
* ``credHelpers`` by host (a helper is asked per registry, never per namespace).

Two keys for the same place are ranked deterministically (DESIGN.md "Keys"): the key
already in canonical form, then ``https://`` keys, then ``http://`` keys, then other
spellings; ties by the raw key's lexical order. The losers are kept for ``explain``.

The index knows keys, not files: it is given the raw keys and a function that decodes
the entry of a key (:class:`~dockercreds.entry.AuthEntry`) when a lookup picks it, so a
bad entry is reported by the lookup that uses it. Data flows one way: config sources
(:mod:`dockercreds.config`) -> this index -> the resolver.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from .entry import AuthEntry
from .errors import InvalidRegistry
from .registry import HUB_ALIASES, HUB_DOMAIN, HUB_KEY, Key, parse_key

__all__ = ["KeyIndex", "Match", "rank_key"]

Place = Union[str, Tuple[str, str]]  # a host, or (host, namespace path)

#: Distinct (host, path) lookups remembered per index; past this the memo starts over.
MEMO_LIMIT = 4096


class Match(NamedTuple):
    """The entry a lookup chose, the key that won, and the keys it beat."""

    entry: AuthEntry
    key: str
    namespace: str  # "" for a host key
    shadowed: Tuple[str, ...]  # other keys for the same place (collisions)


_new_match = tuple.__new__  # a Match without NamedTuple's Python-level __new__
_UNKNOWN = object()


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
# key has. They are read without the general parser (same result as parse_key).
_HOST = r"[a-z0-9._-]+(?::[0-9]{1,5})?"
_FAST_KEY = re.compile(rf"(?:(https?)://)?({_HOST})(/.*)?", re.DOTALL)


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


def _rank(raw: str) -> Tuple[int, str]:
    return rank_key(raw, _parse_key(raw))


_HOST_CHARS = b"abcdefghijklmnopqrstuvwxyz0123456789._-\n"
_PLAIN_HOSTS = re.compile(rf"{_HOST}(?:\n{_HOST})*")


def _all_plain_hosts(text: str) -> bool:
    """``text`` is lines of ``host[:port]`` (lowercase), none empty: checked in bulk."""
    if not text or text[0] == "\n" or text[-1] == "\n" or "\n\n" in text:
        return False
    rest = text.encode("ascii").translate(None, _HOST_CHARS)
    if not rest:
        return True
    # ports (rare in large configs), or something else: the exact pattern decides
    return not rest.strip(b":0123456789") and _PLAIN_HOSTS.fullmatch(text) is not None


def _bulk_hosts(keys: Sequence[str]) -> Optional[List[str]]:
    """The hosts of ``keys`` when all are ``host[:port]`` or all are URLs, else None.

    What a large config holds; read with a few passes of C string methods over all the
    keys at once instead of a regex per key.
    """
    joined = "\n".join(keys)
    if not joined.isascii() or joined.count("\n") != len(keys) - 1:
        return None
    lines = "\n" + joined
    urls = lines.count("\nhttps://") + lines.count("\nhttp://")
    if urls == 0:
        hosts = list(keys)
        text = joined
    elif urls == len(keys):
        hosts = [k.split("/", 3)[2] for k in keys]
        text = "\n".join(hosts)
    else:
        return None
    if not _all_plain_hosts(text):
        return None
    if not HUB_ALIASES.isdisjoint(hosts):
        hosts = [HUB_DOMAIN if h in HUB_ALIASES else h for h in hosts]
    return hosts


def _fast_hosts(keys: Sequence[str]) -> List[str]:
    """The host of each key of the common shapes, "" for the others (same order)."""
    hosts = _bulk_hosts(keys)
    if hosts is not None:
        return hosts
    out = []
    for raw in keys:
        m = _FAST_KEY.fullmatch(raw)
        if m is None or (m[1] is None and m[3] is not None):  # not a host key
            out.append("")
        else:
            host = m[2]
            out.append(HUB_DOMAIN if host in HUB_ALIASES else host)
    return out


class KeyIndex:
    """Normalized index of one config's ``auths`` and ``credHelpers`` keys.

    ``hosts`` maps a normalized host to its best raw key, ``namespaces`` maps
    (host, path) to its best raw key; ``collisions`` lists, best first, every raw key of
    a place that has more than one. ``ignored`` maps unusable raw keys to the reason.
    """

    def __init__(self, entry: Callable[[str], AuthEntry]) -> None:
        self.hosts: Dict[str, str] = {}
        self.namespaces: Dict[Tuple[str, str], str] = {}
        self.collisions: Dict[Place, List[str]] = {}
        # host -> (rank, helper name, raw key), best key first
        self.helpers: Dict[str, List[Tuple[Tuple[int, str], str, str]]] = {}
        self.ignored: Dict[str, str] = {}
        # memo for callers that turn a matched entry into a value once (resolver)
        self.memo: Dict[str, object] = {}
        self._entry = entry
        self._lookups: Dict[Tuple[str, str], Optional[Match]] = {}

    @classmethod
    def build(
        cls,
        keys: Sequence[str],
        entry: Callable[[str], AuthEntry],
        *,
        cred_helpers: Optional[Mapping[str, str]] = None,
        legacy: bool = False,
    ) -> KeyIndex:
        """The index of ``keys`` (raw ``auths`` keys) and ``cred_helpers``.

        ``entry(raw)`` decodes the entry of a raw key; it is called when a lookup picks
        that key. ``legacy``: keys of a ``~/.dockercfg``, cut at the first ``/``.
        """
        index = cls(entry)
        if keys:
            index._add_auths(keys, legacy)
        for raw, helper in (cred_helpers or {}).items():
            index._add_helper(raw, helper)
        for choices in index.helpers.values():
            choices.sort()
        return index

    def _add_auths(self, keys: Sequence[str], legacy: bool) -> None:
        hosts = _fast_hosts(keys)
        if "" not in hosts:  # every key a host key: build in bulk
            best = dict(zip(hosts, keys))
            if len(best) == len(keys):  # no two keys for one place: nothing to rank
                self.hosts = best
                return
        groups: Dict[Place, List[str]] = {}
        for raw, host in zip(keys, hosts):
            place: Place = host
            if not host:
                try:
                    key = parse_key(raw)
                except InvalidRegistry as exc:
                    self.ignored[raw] = str(exc)
                    continue
                # legacy ~/.dockercfg keys are cut at the first '/' (containers/image)
                place = (key.host, key.path) if key.path and not legacy else key.host
            bucket = groups.get(place)
            if bucket is None:
                groups[place] = [raw]
            else:
                bucket.append(raw)
        for place, bucket in groups.items():
            if len(bucket) > 1:
                bucket.sort(key=_rank)
                self.collisions[place] = bucket
            if isinstance(place, tuple):
                self.namespaces[place] = bucket[0]
            else:
                self.hosts[place] = bucket[0]

    def _add_helper(self, raw: str, helper: str) -> None:
        try:
            key = _parse_key(raw)
        except InvalidRegistry as exc:
            self.ignored[raw] = f"credHelpers: {exc}"
            return
        if key.path:
            self.ignored[raw] = (
                f"credHelpers key {raw!r} has a repository path; helpers are chosen per"
                f" registry (use {key.host!r})"
            )
            return
        self.helpers.setdefault(key.host, []).append((rank_key(raw, key), helper, raw))

    def helper_for(self, host: str) -> Optional[Tuple[str, str]]:
        """(helper name, raw key) from ``credHelpers`` for a normalized host."""
        choices = self.helpers.get(host)
        if not choices:
            return None
        _, helper, raw = choices[0]
        return helper, raw

    def lookup(self, host: str, path: str = "") -> Optional[Match]:
        """The most specific entry for repository ``path`` on normalized ``host``.

        Raises :class:`~dockercreds.errors.ConfigFormatError` when the chosen entry
        cannot be decoded. Answers are remembered (errors are not).
        """
        memo = self._lookups
        match = memo.get((host, path), _UNKNOWN)
        if match is not _UNKNOWN:
            return match  # type: ignore[return-value]
        place: Place = host
        namespace = ""
        raw = None
        if path and self.namespaces:
            segments = path.split("/")
            for n in range(len(segments), 0, -1):
                ns = "/".join(segments[:n])
                raw = self.namespaces.get((host, ns))
                if raw is not None:
                    place, namespace = (host, ns), ns
                    break
        if raw is None:
            raw = self.hosts.get(host)
        if raw is None:
            match = None
        else:
            bucket = self.collisions.get(place) if self.collisions else None
            shadowed = tuple(bucket[1:]) if bucket else ()
            match = _new_match(Match, (self._entry(raw), raw, namespace, shadowed))
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[host, path] = match
        return match
