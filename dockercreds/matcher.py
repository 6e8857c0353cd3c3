"""The index of a config's keys, and the most-specific match for a repository.

Built on the first lookup of a loaded config (:attr:`DockerConfig.index`), so a lookup
costs a handful of dict probes (one per path segment), never a scan of every key, and
repeated lookups of one place are answered from a memo:

* host keys (``quay.io``, ``https://quay.io/v2/``, every Docker Hub alias) by normalized host;
* namespace keys (``quay.io/org``, no scheme) by (host, path): they apply to repositories
  at or below that path, by whole segments, and never to a sibling (``quay.io/org`` does
  not match ``quay.io/organization/x``); the most specific wins, then the host key;
* ``credHelpers`` by host (a helper is asked per registry, never per namespace);
* ``credHelpers`` glob keys (``*.azurecr.io``, ``*.dkr.ecr.*.amazonaws.com``) with
  kubelet's ``matchImages`` rules for the host part: the host is split into DNS labels
  and each label is matched on its own with Go's ``filepath.Match`` (``*`` = any run of
  characters inside one label, ``[a-z]`` / ``[^0-9]`` classes, ``\\`` escapes), so a
  glob only matches hosts with the same number of labels; ports must be equal (a glob
  without a port matches only hosts without one). No scheme, path or ``?`` (kubelet
  reads ``?`` as the start of a URL query, so it never matches there). Matching is
  case-insensitive, as for every other key (hosts are normalized to lowercase).
  Globs are consulted only when no exact key names the host; the glob with the most
  literal labels wins, then the lexically smallest key. A glob key that is not a valid
  pattern is ignored (``ignored`` says why), as the docker CLI never matches it either.

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
from typing import (
    Callable,
    Container,
    Dict,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from .entry import AuthEntry
from .errors import InvalidRegistry
from .registry import HUB_ALIASES, HUB_DOMAIN, HUB_KEY, Key, parse_key, without_userinfo

__all__ = ["GlobKey", "KeyIndex", "Match", "parse_glob", "rank_key"]

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


_LABEL_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789._-"


def _affix_of(keys: Sequence[str], contains: Container[str]) -> Optional[Tuple[str, str]]:
    """``(prefix, suffix)`` when every key is ``prefix + host + suffix``, else None.

    The shape of a large config: every key a bare host (``("", "")``), or a URL of one
    scheme and one path (``("https://", "/v2/")``, as old ``docker login`` wrote them),
    with each host made of lowercase letters, digits, ``.``, ``_`` and ``-`` only (no
    port). Then the key of a host is known without reading every key: the index probes
    ``prefix + host + suffix`` (:meth:`KeyIndex.lookup`). Checked with a few passes of
    C string methods over all the keys at once; ``contains`` is the set of keys.

    Why the checks are exact: ``joined`` (the keys, a line each) starts with the prefix
    and ends with the suffix; ``sep`` (suffix, newline, prefix) occurs ``n - 1`` times,
    without overlap, in the text between them, and every character there that is not a
    label character belongs to one of them (counted: a newline inside a key, a port, a
    ``/``, an upper-case letter would be one more). So there are ``n - 1`` newlines, each
    with the suffix before it and the prefix after it, no line is too short to hold both,
    and what is left between them is the hosts. A line that is only prefix + suffix (no
    host) is the key ``prefix + suffix``.
    """
    n = len(keys)
    if not n:
        return None
    first = keys[0]
    prefix = "https://" if first.startswith("https://") else (
        "http://" if first.startswith("http://") else ""
    )
    cut = first.find("/", len(prefix))
    suffix = first[cut:] if cut >= 0 else ""
    if (suffix and not prefix) or prefix + suffix in contains:
        return None  # a namespace key (host/path), or a key without a host
    joined = "\n".join(keys)  # starts with prefix + host + suffix: the first key
    if not joined.isascii() or not joined.endswith(suffix):
        return None
    middle = joined[len(prefix) : len(joined) - len(suffix)]
    sep = suffix + "\n" + prefix
    if sep != "\n" and middle.count(sep) != n - 1:
        return None
    other = len(middle.encode("ascii").translate(None, _LABEL_BYTES))
    if other != (n - 1) * len(sep.encode("ascii").translate(None, _LABEL_BYTES)):
        return None
    return prefix, suffix


_GLOB_META = frozenset("*?[")
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


class GlobKey(NamedTuple):
    """A ``credHelpers`` glob key, compiled: ``pattern`` matches a whole normalized host."""

    raw: str
    helper: str
    literal_labels: int
    pattern: re.Pattern[str]

    def matches(self, host: str) -> bool:
        return self.pattern.fullmatch(host) is not None


def is_glob(raw: str) -> bool:
    """True when ``raw`` has a glob character (``*``, ``?``, ``[``) in its host part."""
    return not _GLOB_META.isdisjoint(raw)


def _label_regex(label: str, raw: str) -> Tuple[str, bool]:
    """(regex, literal?) for one label, with Go ``filepath.Match`` syntax."""
    out: List[str] = []
    literal = True
    i = 0
    while i < len(label):
        c = label[i]
        if c == "*":
            literal = False
            out.append("[^.:]*")  # within one label, never into the port
            i += 1
        elif c == "[":
            literal = False
            end, cls = _class_regex(label, i + 1, raw)
            out.append(cls)
            i = end
        elif c == "\\":
            if i + 1 == len(label):
                raise ValueError(f"glob key {raw!r}: a '\\' at the end of a label escapes nothing")
            out.append(re.escape(label[i + 1]))
            i += 2
        elif c in _LABEL_CHARS:
            out.append(re.escape(c))
            i += 1
        else:
            raise ValueError(f"glob key {raw!r}: {c!r} is not allowed in a host name")
    return "".join(out), literal


def _class_regex(label: str, i: int, raw: str) -> Tuple[int, str]:
    """A ``[...]`` class starting after ``[`` at ``i``: (index after ``]``, regex)."""
    negate = i < len(label) and label[i] == "^"
    if negate:
        i += 1
    ranges: List[str] = []
    while True:
        if i >= len(label):
            raise ValueError(f"glob key {raw!r}: '[' without a closing ']'")
        if label[i] == "]" and ranges:
            break
        lo, i = _class_char(label, i, raw)
        hi = lo
        if i < len(label) and label[i] == "-":
            hi, i = _class_char(label, i + 1, raw)
            if hi < lo:
                raise ValueError(f"glob key {raw!r}: range {lo}-{hi} is reversed")
        ranges.append(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}")
    # a label never holds a '.' or ':': a class never matches one (label count, port)
    return i + 1, "(?![.:])[" + ("^" if negate else "") + "".join(ranges) + "]"


def _class_char(label: str, i: int, raw: str) -> Tuple[str, int]:
    if i >= len(label) or label[i] in "-]":
        raise ValueError(f"glob key {raw!r}: bad character class in {label!r}")
    if label[i] == "\\":
        i += 1
        if i >= len(label):
            raise ValueError(f"glob key {raw!r}: a '\\' at the end of a label escapes nothing")
    return label[i], i + 1


def parse_glob(raw: str, helper: str = "") -> GlobKey:
    """Compile a ``credHelpers`` glob key; ValueError says why it is not one."""
    shown = without_userinfo(raw)  # messages never quote user info or secret parameters
    if "@" in raw:
        raise ValueError(f"glob key {shown!r} has user info; a glob is host[:port] only")
    if "://" in raw:
        raise ValueError(f"glob key {shown!r} has a scheme; a glob is host[:port] only")
    if "/" in raw:
        raise ValueError(f"glob key {shown!r} has a path; a glob is host[:port] only")
    if "?" in raw:
        raise ValueError(
            f"glob key {shown!r} has '?', which kubelet reads as a URL query (never matches);"
            " use [a-z0-9] for one character"
        )
    host, port = raw.lower(), ""
    head, colon, tail = host.rpartition(":")
    if colon:
        if not tail.isdigit() or not tail.isascii() or len(tail) > 5:
            raise ValueError(f"glob key {shown!r}: the port must be digits (no glob in a port)")
        host, port = head, tail
    labels = host.split(".")
    if "" in labels:
        raise ValueError(f"glob key {shown!r} has an empty DNS label")
    parts = [_label_regex(label, shown) for label in labels]
    regex = "\\.".join(p for p, _ in parts) + (f":{port}" if port else "")
    literal = sum(1 for _, lit in parts if lit)
    return GlobKey(raw, helper, literal, re.compile(regex, re.ASCII))


class KeyIndex:
    """Normalized index of one config's ``auths`` and ``credHelpers`` keys.

    ``hosts`` maps a normalized host to its best raw key, ``namespaces`` maps
    (host, path) to its best raw key; ``collisions`` lists, best first, every raw key of
    a place that has more than one. ``ignored`` maps unusable raw keys to the reason.
    """

    def __init__(self, entry: Callable[[str], AuthEntry]) -> None:
        self._hosts: Dict[str, str] = {}
        self._namespaces: Dict[Tuple[str, str], str] = {}
        self._collisions: Dict[Place, List[str]] = {}
        # every key is prefix + host + suffix (_affix_of): lookups probe ``_keys``, and
        # the dicts above are filled from ``_pending`` only when someone reads them
        self._affix: Optional[Tuple[str, str]] = None
        self._keys: Container[str] = ()
        self._pending: Optional[Sequence[str]] = None
        # host -> (rank, helper name, raw key), best key first
        self.helpers: Dict[str, List[Tuple[Tuple[int, str], str, str]]] = {}
        self.ignored: Dict[str, str] = {}
        # credHelpers glob keys, best first (most literal labels, then lexical)
        self.globs: List[GlobKey] = []
        self._glob_memo: Dict[str, Optional[GlobKey]] = {}
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
        contains: Optional[Container[str]] = None,
    ) -> KeyIndex:
        """The index of ``keys`` (raw ``auths`` keys) and ``cred_helpers``.

        ``entry(raw)`` decodes the entry of a raw key; it is called when a lookup picks
        that key. ``legacy``: keys of a ``~/.dockercfg``, cut at the first ``/``.
        ``contains``: the keys as a set (or mapping); with it, keys of one shape are not
        read one by one at all (:func:`_affix_of`).
        """
        index = cls(entry)
        if keys and contains is not None and not legacy:
            affix = _affix_of(keys, contains)
            if affix is not None:
                index._affix, index._keys, index._pending = affix, contains, keys
        if keys and index._affix is None:
            index._add_auths(keys, legacy)
        for raw, helper in (cred_helpers or {}).items():
            index._add_helper(raw, helper)
        for choices in index.helpers.values():
            choices.sort()
        index.globs.sort(key=lambda g: (-g.literal_labels, g.raw))
        return index

    @property
    def hosts(self) -> Dict[str, str]:
        """Normalized host -> its best raw key."""
        if self._pending is not None:
            self._materialize()
        return self._hosts

    @property
    def namespaces(self) -> Dict[Tuple[str, str], str]:
        """(host, namespace path) -> its best raw key."""
        if self._pending is not None:
            self._materialize()
        return self._namespaces

    @property
    def collisions(self) -> Dict[Place, List[str]]:
        """Place -> every raw key for it, best first (only places with several)."""
        if self._pending is not None:
            self._materialize()
        return self._collisions

    def _materialize(self) -> None:
        keys, self._pending = self._pending, None
        if keys:
            self._add_auths(keys, False)

    def _hub_probe(self) -> Tuple[Optional[str], Tuple[str, ...]]:
        """(best raw key, the keys it beat) for Docker Hub in keys of one shape: the key
        of every alias is Hub's, ranked as when every key is read."""
        prefix, suffix = self._affix  # type: ignore[misc]
        keys = self._keys
        found = sorted(
            (k for k in (prefix + a + suffix for a in HUB_ALIASES) if k in keys), key=_rank
        )
        return (found[0], tuple(found[1:])) if found else (None, ())

    def _add_auths(self, keys: Sequence[str], legacy: bool) -> None:
        hosts = _fast_hosts(keys)
        if "" not in hosts:  # every key a host key: build in bulk
            best = dict(zip(hosts, keys))
            if len(best) == len(keys):  # no two keys for one place: nothing to rank
                self._hosts = best
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
                self._collisions[place] = bucket
            if isinstance(place, tuple):
                self._namespaces[place] = bucket[0]
            else:
                self._hosts[place] = bucket[0]

    def _add_helper(self, raw: str, helper: str) -> None:
        try:
            key = _parse_key(raw)
        except InvalidRegistry as exc:
            if is_glob(raw):
                try:
                    self.globs.append(parse_glob(raw, helper))
                except ValueError as why:
                    self.ignored[raw] = f"credHelpers {why}; never matched"
                return
            self.ignored[raw] = f"credHelpers: {exc}"
            return
        if key.path:
            self.ignored[raw] = (
                f"credHelpers key {without_userinfo(raw)!r} has a repository path; helpers"
                f" are chosen per registry (use {key.host!r})"
            )
            return
        self.helpers.setdefault(key.host, []).append((rank_key(raw, key), helper, raw))

    def helper_for(self, host: str) -> Optional[Tuple[str, str]]:
        """(helper name, raw key) from ``credHelpers`` for a normalized host.

        An exact key first; else the best glob key that matches (:meth:`glob_for`).
        """
        choices = self.helpers.get(host)
        if not choices:
            if self.globs:
                glob = self.glob_for(host)
                if glob is not None:
                    return glob.helper, glob.raw
            return None
        _, helper, raw = choices[0]
        return helper, raw

    def glob_for(self, host: str) -> Optional[GlobKey]:
        """The best ``credHelpers`` glob key matching ``host`` (exact keys not consulted)."""
        memo = self._glob_memo
        found = memo.get(host, _UNKNOWN)
        if found is not _UNKNOWN:
            return found  # type: ignore[return-value]
        found = next((g for g in self.globs if g.matches(host)), None)
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[host] = found
        return found

    def globs_matching(self, host: str) -> List[GlobKey]:
        """Every glob key matching ``host``, best first (for ``explain``)."""
        return [g for g in self.globs if g.matches(host)]

    def host_key(self, host: str) -> Optional[str]:
        """The best raw key for the whole registry ``host`` (normalized), or None.

        What :meth:`lookup` picks for ``path=""``, without decoding or remembering it.
        """
        affix = self._affix
        if affix is None:
            return self._hosts.get(host)
        if host in HUB_ALIASES:  # an alias other than docker.io is no normalized host
            return self._hub_probe()[0] if host == HUB_DOMAIN else None
        raw = affix[0] + host + affix[1]  # keys of one shape: the key is known, probe it
        return raw if raw in self._keys else None

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
        shadowed: Tuple[str, ...] = ()
        if self._affix is not None:  # keys of one shape: no namespaces, a probe
            if host == HUB_DOMAIN:
                raw, shadowed = self._hub_probe()
            else:
                raw = self.host_key(host)
        else:
            if path and self._namespaces:
                segments = path.split("/")
                for n in range(len(segments), 0, -1):
                    ns = "/".join(segments[:n])
                    raw = self._namespaces.get((host, ns))
                    if raw is not None:
                        place, namespace = (host, ns), ns
                        break
            if raw is None:
                raw = self._hosts.get(host)
            if raw is not None and self._collisions:
                bucket = self._collisions.get(place)
                shadowed = tuple(bucket[1:]) if bucket else ()
        if raw is None:
            match = None
        else:
            match = _new_match(Match, (self._entry(raw), raw, namespace, shadowed))
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[host, path] = match
        return match
