"""Image references: the distribution/reference grammar (v0.6), exactly.

Grammar (the Go package's, with the registered digest algorithms of a real Docker
binary)::

    reference          := name [ ":" tag ] [ "@" digest ]
    name               := [ domain "/" ] remote-name
    domain             := host [ ":" port-number ]
    host               := domain-name | "[" ipv6-chars "]"
    domain-name        := domain-component [ "." domain-component ]*
    domain-component   := /[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]/
    ipv6-chars         := /[a-fA-F0-9:]+/          ; no zone ("%eth0"), no IPv4 tail
    port-number        := /[0-9]+/
    remote-name        := path-component [ "/" path-component ]*
    path-component     := alpha-numeric [ separator alpha-numeric ]*
    alpha-numeric      := /[a-z0-9]+/
    separator          := /[_.]|__|[-]+/
    tag                := /[\\w][\\w.-]{0,127}/      ; \\w is ASCII [A-Za-z0-9_]
    digest             := digest-algorithm ":" digest-hex
    digest-algorithm   := /[A-Za-z][A-Za-z0-9]*/ [ /[-_+.]/ /[A-Za-z][A-Za-z0-9]*/ ]*
    digest-hex         := /[0-9a-fA-F]{32,}/
    identifier         := /[a-f0-9]{64}/

A name belongs to a domain when its first "/"-separated component matches ``domain``
and the rest matches ``remote-name``; otherwise the whole name is the remote name
(``Parse`` does not normalize). The remote name (path) may have at most 255 characters.

Digests are then validated as go-digest does: the algorithm must be registered
(``sha256``, ``sha384``, ``sha512``) with exactly 64, 96 or 128 lowercase hex digits.
An unregistered algorithm that is well-formed for go-digest
(``[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+``) is ``digest_unsupported``; anything
else is ``digest_invalid_format``.

Docker Hub normalization (:func:`parse_normalized`): a first component that is
``localhost``, contains ``.`` or ``:``, or has an uppercase letter is a domain; otherwise
the name is on ``docker.io``; ``index.docker.io`` means ``docker.io``; one-component
names on ``docker.io`` get the ``library/`` prefix.

Every function runs in time linear in the length of its input: the scanner uses only
``str``/``bytes`` methods (find, ``in``, translate) and regexes that are one character
class or a fixed two-character window, which cannot backtrack.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from .errors import InvalidReference

__all__ = [
    "DEFAULT_DOMAIN",
    "DEFAULT_TAG",
    "InvalidReference",
    "NAME_TOTAL_LENGTH_MAX",
    "REGISTERED_ALGORITHMS",
    "Reference",
    "familiar_match",
    "familiar_name",
    "familiar_string",
    "is_domain",
    "is_identifier",
    "is_name",
    "is_reference",
    "is_tag",
    "parse",
    "parse_any",
    "parse_docker_ref",
    "parse_named",
    "parse_normalized",
    "split_name",
    "split_reference",
    "with_digest",
    "with_name",
    "with_tag",
]

#: Longest allowed remote name (path), as Go's ``RepositoryNameTotalLengthMax``.
NAME_TOTAL_LENGTH_MAX = 255
#: The Docker Hub domain of normalized names.
DEFAULT_DOMAIN = "docker.io"
#: The tag :func:`parse_docker_ref` adds to a bare name.
DEFAULT_TAG = "latest"
#: Registered digest algorithms and the number of hex digits each requires.
REGISTERED_ALGORITHMS = {"sha256": 64, "sha384": 96, "sha512": 128}

_LEGACY_DEFAULT_DOMAIN = "index.docker.io"
_OFFICIAL_PREFIX = "library/"
_TAG_MAX = 128
_DIGEST_HEX_MIN = 32

_LOWER_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ALNUM = _LOWER_ALNUM | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_WORD = _ALNUM | {"_"}

# Each pattern is one (negated) character class, or a fixed two-character window:
# a search is a single left-to-right pass, never backtracking.
_BAD_PATH_CHAR = re.compile(r"[^a-z0-9._/-]")
_BAD_IPV6_CHAR = re.compile(r"[^A-Fa-f0-9:]")
_BAD_PORT_CHAR = re.compile(r"[^0-9]")
_BAD_TAG_CHAR = re.compile(r"[^A-Za-z0-9_.-]")
_BAD_LOWER_HEX_CHAR = re.compile(r"[^a-f0-9]")
_BAD_REF_ALGORITHM_CHAR = re.compile(r"[^A-Za-z0-9_+.-]")
_BAD_REF_ALGORITHM_STEP = re.compile(r"[-_+.][^A-Za-z]")
_BAD_OCI_ALGORITHM_CHAR = re.compile(r"[^a-z0-9_+.-]")
_BAD_OCI_ALGORITHM_STEP = re.compile(r"[-_+.][-_+.]")
_BAD_OCI_ENCODED_CHAR = re.compile(r"[^a-zA-Z0-9=_-]")

# Two non-alphanumeric characters next to each other in a remote name: only "--" and
# "__" are allowed ("-" runs and double "_" are separators), and "___" is not. Keyed by
# the set of separator characters present, so that only the needles that can occur are
# searched for (a single-character search is a memchr; a two-character one is slower).
_PATH_SEPARATORS = "._-/"


def _path_bad_runs(present: str) -> Tuple[str, ...]:
    runs = [a + b for a in present for b in present if not (a == b and a in "_-")]
    if "_" in present:
        runs.append("___")
    return tuple(runs)


_PATH_BAD_RUNS: Dict[str, Tuple[str, ...]] = {}
for _mask in range(1 << len(_PATH_SEPARATORS)):
    _present = "".join(c for k, c in enumerate(_PATH_SEPARATORS) if _mask >> k & 1)
    _PATH_BAD_RUNS[_present] = _path_bad_runs(_present)
del _mask, _present
_HOST_BAD_RUNS = ("..", ".-", "-.")

_PATH_CHARS = b"abcdefghijklmnopqrstuvwxyz0123456789._/-"
_HOST_CHARS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
_HEX_CHARS = b"abcdefABCDEF0123456789"


# --------------------------------------------------------------------------- scanner


def _only(s: str, allowed: bytes) -> bool:
    """Whether every character of ``s`` is one of the ASCII bytes ``allowed``."""
    return s.isascii() and not s.encode("ascii").translate(None, allowed)


def _is_remote_name(p: str) -> bool:
    """``remote-name := path-component ["/" path-component]*`` with
    ``path-component := /[a-z0-9]+/ [separator /[a-z0-9]+/]*``,
    ``separator := /[_.]|__|[-]+/``."""
    if not p or p[0] not in _LOWER_ALNUM or p[-1] not in _LOWER_ALNUM:
        return False
    if not _only(p, _PATH_CHARS):
        return False
    present = "".join(c for c in _PATH_SEPARATORS if c in p)
    return not any(run in p for run in _PATH_BAD_RUNS[present])


def _is_domain_name(h: str) -> bool:
    """``domain-name := domain-component ["." domain-component]*`` with
    ``domain-component := /[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]/``."""
    if not h or h[0] not in _ALNUM or h[-1] not in _ALNUM:
        return False
    if not _only(h, _HOST_CHARS):
        return False
    return "." not in h or not any(run in h for run in _HOST_BAD_RUNS)


def _is_port_suffix(s: str) -> bool:
    """``optional-port := [":" /[0-9]+/]``."""
    if not s:
        return True
    return s[0] == ":" and len(s) > 1 and not _BAD_PORT_CHAR.search(s, 1)


def _is_domain(d: str) -> bool:
    """``domain := host [":" port-number]``,
    ``host := domain-name | "[" /[a-fA-F0-9:]+/ "]"``."""
    if d.startswith("["):
        close = d.find("]")
        if close < 2 or _BAD_IPV6_CHAR.search(d, 1, close):
            return False
        return _is_port_suffix(d[close + 1 :])
    colon = d.find(":")
    if colon < 0:
        return _is_domain_name(d)
    return _is_domain_name(d[:colon]) and _is_port_suffix(d[colon:])


def _split_name(name: str) -> Optional[Tuple[str, str]]:
    """``name := [domain "/"] remote-name``; the domain is taken when it can be."""
    slash = name.find("/")
    if slash >= 0 and _is_domain(name[:slash]):
        rest = name[slash + 1 :]
        # rest is a suffix of whole components: if it fails, the whole name fails too
        return (name[:slash], rest) if _is_remote_name(rest) else None
    return ("", name) if _is_remote_name(name) else None


def _is_tag(t: str) -> bool:
    """``tag := /[\\w][\\w.-]{0,127}/``."""
    return 0 < len(t) <= _TAG_MAX and t[0] in _WORD and _BAD_TAG_CHAR.search(t) is None


def _is_reference_digest(d: str) -> bool:
    """``digest := digest-algorithm ":" /[0-9a-fA-F]{32,}/`` with
    ``digest-algorithm := /[A-Za-z][A-Za-z0-9]*/ [/[-_+.]/ /[A-Za-z][A-Za-z0-9]*/]*``."""
    colon = d.find(":")
    if colon <= 0 or len(d) - colon - 1 < _DIGEST_HEX_MIN:
        return False
    if d[0] not in _LETTERS or d[colon - 1] not in _ALNUM:
        return False
    if _BAD_REF_ALGORITHM_CHAR.search(d, 0, colon):
        return False
    if _BAD_REF_ALGORITHM_STEP.search(d, 0, colon):
        return False
    return _only(d[colon + 1 :], _HEX_CHARS)


def _is_oci_digest(d: str) -> bool:
    """go-digest's ``[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+``."""
    colon = d.find(":")
    if colon <= 0 or colon == len(d) - 1:
        return False
    if d[0] not in _LOWER_ALNUM or d[colon - 1] not in _LOWER_ALNUM:
        return False
    if _BAD_OCI_ALGORITHM_CHAR.search(d, 0, colon):
        return False
    if _BAD_OCI_ALGORITHM_STEP.search(d, 0, colon):
        return False
    return _BAD_OCI_ENCODED_CHAR.search(d, colon + 1) is None


def _is_identifier(s: str) -> bool:
    """``identifier := /[a-f0-9]{64}/``."""
    return len(s) == 64 and _BAD_LOWER_HEX_CHAR.search(s) is None


def _match_reference(s: str) -> Optional[Tuple[str, str, str, str, str]]:
    """``reference := name [":" tag] ["@" digest]`` (syntax only).

    Returns ``(name, domain, path, tag, digest)`` with ``""`` for absent parts.
    No character of the name or the tag can be ``@``, and a tag cannot hold ``/``
    or ``:``, so the split points are fixed: the one ``@``, then the last ``:``
    after the last ``/``.
    """
    at = s.find("@")
    digest = ""
    before = s
    if at >= 0:
        digest = s[at + 1 :]
        before = s[:at]
        if not _is_reference_digest(digest):
            return None
    tag = ""
    colon = before.rfind(":")
    if colon > before.rfind("/"):
        tag = before[colon + 1 :]
        before = before[:colon]
        if not _is_tag(tag):
            return None
    parts = _split_name(before)
    if parts is None:
        return None
    return before, parts[0], parts[1], tag, digest


def _go_lower(s: str) -> str:
    """Lowercase as Go's strings.ToLower does, as far as the ASCII grammar can tell."""
    if s.isascii():
        return s.lower()
    return s.replace("\u0130", "i").replace("\u212a", "k").lower()


# -------------------------------------------------------------------------- messages

_QUOTE_MAX = 80


def _q(s: str) -> str:
    """Quote user text for a message, shortened when long."""
    if len(s) > _QUOTE_MAX:
        return repr(s[: _QUOTE_MAX - 20] + "..." + s[-10:]) + f" ({len(s)} characters)"
    return repr(s)


def _fail(
    text: str, kind: str, why: str, *, prefix: str = "invalid reference format"
) -> InvalidReference:
    return InvalidReference(f"{prefix}: {_q(text)}: {why}", kind=kind, text=text)


def _component_at(p: str, pos: int) -> str:
    """The "/"-separated component of ``p`` holding position ``pos``."""
    end = p.find("/", pos)
    return p[p.rfind("/", 0, pos) + 1 : end if end >= 0 else len(p)]


def _explain_path(p: str) -> str:
    """Say why ``p`` is not a remote name, in time linear in ``len(p)``."""
    if not p:
        return "the repository name is empty"
    if p[0] == "/" or p[-1] == "/" or "//" in p:
        return "the repository name has an empty component (leading, trailing or double '/')"
    m = _BAD_PATH_CHAR.search(p)
    if m:
        bad, component = m.group(), _component_at(p, m.start())
        if bad.isupper():
            return f"path component {_q(component)} must be lowercase"
        return (
            f"path component {_q(component)} contains {bad!r}; only lowercase letters, "
            "digits, '.', '_' and '-' are allowed"
        )
    if p[0] not in _LOWER_ALNUM:
        pos = 0
    elif p[-1] not in _LOWER_ALNUM:
        pos = len(p) - 1
    else:
        found = [p.find(run) for run in _PATH_BAD_RUNS[_PATH_SEPARATORS]]
        pos = min((f for f in found if f >= 0), default=0)
        if p[pos] == "/":
            pos += 1
    return (
        f"path component {_q(_component_at(p, pos))} must start and end with a lowercase "
        "letter or digit, with only one '.', one or two '_', or '-'s between them"
    )


def _explain(s: str) -> str:
    """Say which rule of the grammar ``s`` breaks (only called on failure)."""
    at = s.find("@")
    before = s
    if at >= 0:
        digest = s[at + 1 :]
        before = s[:at]
        if "@" in digest:
            return "more than one '@'"
        if not digest:
            return "nothing after '@'; expected a digest such as 'sha256:<64 hex digits>'"
        if not _is_reference_digest(digest):
            return (
                f"digest {_q(digest)} is not 'algorithm:hex' with at least "
                f"{_DIGEST_HEX_MIN} hex digits"
            )
    colon = before.rfind(":")
    if colon > before.rfind("/"):
        tag = before[colon + 1 :]
        before = before[:colon]
        if not tag:
            return "empty tag after ':'"
        if len(tag) > _TAG_MAX:
            return f"tag is {len(tag)} characters long; at most {_TAG_MAX} are allowed"
        if not _is_tag(tag):
            return (
                f"tag {_q(tag)} may contain only letters, digits, '_', '.' and '-', "
                "and must not start with '.' or '-'"
            )
    if not before:
        return "missing repository name"
    slash = before.find("/")
    if slash >= 0 and _is_domain(before[:slash]):
        return _explain_path(before[slash + 1 :])
    return _explain_path(before)


# ------------------------------------------------------------------------- reference


class Reference:
    """A parsed image reference: immutable, hashable, compared by value.

    ``domain`` and ``path`` are the registry part and the repository path (``""`` when
    absent); ``tag`` and ``digest`` are ``None`` when absent. A digest-only reference
    (from :func:`parse_any`) has empty ``domain``, ``path`` and ``name``.
    ``str(ref)`` is the reference text (Go's ``String()``).

    The constructor validates its parts like Go's ``WithName``/``WithTag``/
    ``WithDigest``: the digest must be well-formed, but its algorithm and length are
    checked only by the ``parse*`` functions.
    """

    __slots__ = ("digest", "domain", "path", "tag")

    domain: str
    path: str
    tag: Optional[str]
    digest: Optional[str]

    def __init__(
        self,
        domain: str = "",
        path: str = "",
        tag: Optional[str] = None,
        digest: Optional[str] = None,
    ) -> None:
        name = f"{domain}/{path}" if domain else path
        if name or tag is not None:
            parts = _split_name(name)
            if parts is None:
                why = _explain_path(path)
                if domain and not _is_domain(domain):
                    why = f"{_q(domain)} is not a registry host[:port]"
                raise _fail(name, "invalid_format", why)
            if parts != (domain, path):
                raise _fail(
                    name,
                    "invalid_format",
                    f"this name splits into domain {parts[0]!r} and path {parts[1]!r}",
                )
            if len(path) > NAME_TOTAL_LENGTH_MAX:
                raise _name_too_long(name, path)
        elif digest is None:
            raise InvalidReference(
                "invalid reference format: a reference needs a name or a digest",
                kind="name_empty",
                text="",
            )
        if tag is not None and not _is_tag(tag):
            raise _fail(tag, "invalid_format", "invalid tag format", prefix="invalid tag")
        if digest is not None and not _is_reference_digest(digest):
            raise _fail(
                digest,
                "digest_invalid_format",
                "expected 'algorithm:hex' with at least 32 hex digits",
                prefix="invalid digest",
            )
        _init(self, domain, path, tag, digest)

    @property
    def name(self) -> str:
        """``domain/path``, or ``path`` without a domain; ``""`` for a digest only."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def familiar_name(self) -> str:
        """The name as the docker CLI shows it (``docker.io/library/x`` -> ``x``)."""
        domain, path = _familiarize(self.domain, self.path)
        return f"{domain}/{path}" if domain else path

    @property
    def familiar_string(self) -> str:
        """The reference as the docker CLI shows it (``ubuntu:latest``)."""
        return _render(self.familiar_name, self.tag, self.digest)

    def __str__(self) -> str:
        return _render(self.name, self.tag, self.digest)

    def __repr__(self) -> str:
        return f"<Reference({str(self)!r})>"

    def _key(self) -> Tuple[str, str, Optional[str], Optional[str]]:
        return (self.domain, self.path, self.tag, self.digest)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reference):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Reference is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Reference is immutable; cannot delete {name!r}")

    def __reduce__(self) -> Tuple[type, Tuple[str, str, Optional[str], Optional[str]]]:
        return (Reference, self._key())

    def __copy__(self) -> Reference:
        return self

    def __deepcopy__(self, memo: object) -> Reference:
        return self


_set = object.__setattr__


def _init(
    ref: Reference, domain: str, path: str, tag: Optional[str], digest: Optional[str]
) -> None:
    _set(ref, "domain", domain)
    _set(ref, "path", path)
    _set(ref, "tag", tag)
    _set(ref, "digest", digest)


def _make(domain: str, path: str, tag: Optional[str], digest: Optional[str]) -> Reference:
    """Build a Reference from parts the scanner already validated."""
    ref = object.__new__(Reference)
    _init(ref, domain, path, tag, digest)
    return ref


def _render(name: str, tag: Optional[str], digest: Optional[str]) -> str:
    out = name
    if tag is not None:
        out += ":" + tag
    if digest is not None:
        out = out + "@" + digest if out else digest
    return out


def _familiarize(domain: str, path: str) -> Tuple[str, str]:
    """Drop ``docker.io`` and a ``library/`` prefix of a one-component Hub path."""
    if domain != DEFAULT_DOMAIN:
        return domain, path
    if path.startswith(_OFFICIAL_PREFIX) and "/" not in path[len(_OFFICIAL_PREFIX) :]:
        return "", path[len(_OFFICIAL_PREFIX) :]
    return "", path


def _name_too_long(text: str, path: str) -> InvalidReference:
    return _fail(
        text,
        "name_too_long",
        f"the repository path is {len(path)} characters long; "
        f"at most {NAME_TOTAL_LENGTH_MAX} are allowed",
    )


def _validate_digest(text: str, digest: str) -> Optional[InvalidReference]:
    """go-digest's ``Digest.Validate`` with sha256, sha384 and sha512 registered."""
    colon = digest.find(":")
    if colon <= 0 or colon == len(digest) - 1:
        return _fail(text, "digest_invalid_format", f"digest {_q(digest)} is not 'algorithm:hex'")
    algorithm = digest[:colon]
    size = REGISTERED_ALGORITHMS.get(algorithm)
    if size is None:
        if not _is_oci_digest(digest):
            return _fail(
                text,
                "digest_invalid_format",
                f"digest algorithm {_q(algorithm)} is malformed "
                "(lowercase letters and digits, separated by '+', '.', '_' or '-')",
            )
        return _fail(
            text,
            "digest_unsupported",
            f"unsupported digest algorithm {_q(algorithm)}; use sha256, sha384 or sha512",
        )
    encoded_length = len(digest) - colon - 1
    if encoded_length != size:
        return _fail(
            text,
            "digest_invalid_length",
            f"a {algorithm} digest has {size} hex digits, not {encoded_length}",
        )
    if _BAD_LOWER_HEX_CHAR.search(digest, colon + 1):
        return _fail(
            text,
            "digest_invalid_format",
            f"a {algorithm} digest must be lowercase hex (0-9, a-f)",
        )
    return None


def _parse(s: str, shown: str) -> Reference:
    if not s:
        raise _fail(shown, "name_empty", "the repository name must have at least one component")
    m = _match_reference(s)
    if m is None:
        lowered = _go_lower(s)
        if lowered != s and _match_reference(lowered) is not None:
            raise _fail(
                shown,
                "name_contains_uppercase",
                "the repository name must be lowercase "
                "(only the registry host and the tag may have uppercase letters)",
            )
        raise _fail(shown, "invalid_format", _explain(s))
    _, domain, path, tag, digest = m
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise _name_too_long(shown, path)
    if digest:
        error = _validate_digest(shown, digest)
        if error is not None:
            raise error
    return _make(domain, path, tag or None, digest or None)


# --------------------------------------------------------------------------- parsers


def parse(s: str) -> Reference:
    """Parse ``s`` exactly as written (Go ``reference.Parse``; no normalization).

    ``reference := name [":" tag] ["@" digest]``. ``"ubuntu"`` has no domain here; use
    :func:`parse_normalized` for Docker's reading of short names.
    """
    return _parse(s, s)


def _split_docker_domain(s: str) -> Tuple[str, str]:
    """Split a familiar name into (domain, remainder) as Docker does."""
    slash = s.find("/")
    if slash < 0:
        return DEFAULT_DOMAIN, _OFFICIAL_PREFIX + s
    first, rest = s[:slash], s[slash + 1 :]
    if first == _LEGACY_DEFAULT_DOMAIN:
        domain, remainder = DEFAULT_DOMAIN, rest
    elif first == "localhost" or "." in first or ":" in first or first.lower() != first:
        domain, remainder = first, rest
    else:
        domain, remainder = DEFAULT_DOMAIN, s
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = _OFFICIAL_PREFIX + remainder
    return domain, remainder


def parse_normalized(s: str) -> Reference:
    """Parse a name as the docker CLI reads it (Go ``ParseNormalizedNamed``).

    ``ubuntu`` -> ``docker.io/library/ubuntu``; ``index.docker.io`` -> ``docker.io``;
    the first component is a domain when it is ``localhost``, contains ``.`` or ``:``,
    or has an uppercase letter. A 64-hex-digit string is refused (``hex_id``): it is an
    image ID, see :func:`parse_any`.
    """
    if _is_identifier(s):
        raise _fail(
            s,
            "hex_id",
            "a 64-character hexadecimal string is an image ID, not a repository name "
            "(use parse_any() to accept IDs)",
            prefix="invalid repository name",
        )
    domain, remainder = _split_docker_domain(s)
    colon = remainder.find(":")
    remote = remainder if colon < 0 else remainder[:colon]
    if remote.lower() != remote:
        raise _fail(
            s,
            "name_contains_uppercase",
            f"repository name {_q(remote)} must be lowercase",
        )
    return _parse(f"{domain}/{remainder}", s)


def parse_docker_ref(s: str) -> Reference:
    """Normalize like Docker and containerd (Go ``ParseDockerRef``).

    A bare name gets the tag ``latest``; with both a tag and a digest, the tag is
    dropped (the digest decides).
    """
    ref = parse_normalized(s)
    if ref.digest is not None:
        if ref.tag is not None:
            return _make(ref.domain, ref.path, None, ref.digest)
        return ref
    if ref.tag is None:
        return _make(ref.domain, ref.path, DEFAULT_TAG, None)
    return ref


def parse_any(s: str) -> Reference:
    """Parse an image ID, a digest or a familiar name (Go ``ParseAnyReference``).

    ``identifier`` (64 lowercase hex) -> digest-only ``sha256:<id>``; a valid
    ``algorithm:hex`` digest -> digest-only; anything else :func:`parse_normalized`.
    """
    if _is_identifier(s):
        return _make("", "", None, "sha256:" + s)
    if _validate_digest(s, s) is None:
        return _make("", "", None, s)
    return parse_normalized(s)


def parse_named(s: str) -> Reference:
    """Parse a name that must already be canonical (Go ``ParseNamed``).

    ``parse_normalized(s)`` must give back ``s`` itself (``docker.io/library/foo``,
    not ``foo``); otherwise ``InvalidReference`` (kind ``invalid_format``).
    """
    ref = parse_normalized(s)
    if str(ref) != s:
        raise _fail(
            s,
            "invalid_format",
            f"write {_q(str(ref))} instead",
            prefix="repository name is not canonical",
        )
    return ref


# ---------------------------------------------------------------- Go API helpers


def with_name(name: str) -> Reference:
    """A name-only reference (Go ``WithName``): ``name := [domain "/"] remote-name``.

    Anything else, including a tag or digest, is ``invalid_format``.
    """
    parts = _split_name(name)
    if parts is None:
        if not name:
            why = "the name is empty"
        elif "@" in name:
            why = "a name cannot have a digest"
        elif _match_reference(name) is not None:
            why = "a name cannot have a tag"
        else:
            why = _explain(name)
        raise _fail(name, "invalid_format", why)
    if len(parts[1]) > NAME_TOTAL_LENGTH_MAX:
        raise _name_too_long(name, parts[1])
    return _make(parts[0], parts[1], None, None)


def _require_name(ref: Reference, what: str) -> None:
    if not ref.name:
        raise _fail(str(ref), "invalid_format", f"a digest-only reference cannot take {what}")


def with_tag(ref: Reference, tag: str) -> Reference:
    """``ref`` with its tag set to ``tag`` (Go ``WithTag``); a digest is kept.

    ``tag := /[\\w][\\w.-]{0,127}/``; otherwise ``invalid_format``.
    """
    if not _is_tag(tag):
        raise _fail(
            tag,
            "invalid_format",
            "a tag is 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
            prefix="invalid tag format",
        )
    _require_name(ref, "a tag")
    return _make(ref.domain, ref.path, tag, ref.digest)


def with_digest(ref: Reference, digest: str) -> Reference:
    """``ref`` with its digest set (Go ``WithDigest``); a tag is kept.

    Only the form is checked (``algorithm:hex`` with at least 32 hex digits), as in Go.
    """
    if not _is_reference_digest(digest):
        raise _fail(
            digest,
            "digest_invalid_format",
            "expected 'algorithm:hex' with at least 32 hex digits",
            prefix="invalid digest format",
        )
    _require_name(ref, "a digest")
    return _make(ref.domain, ref.path, ref.tag, digest)


def familiar_name(ref: Reference) -> str:
    """Go ``FamiliarName``: ``docker.io/library/redis`` -> ``redis``."""
    return ref.familiar_name


def familiar_string(ref: Reference) -> str:
    """Go ``FamiliarString``: the reference as the docker CLI prints it."""
    return ref.familiar_string


def familiar_match(pattern: str, ref: Reference) -> bool:
    """Go ``FamiliarMatch``: ``pattern`` (Go ``path.Match`` syntax) against the
    familiar string, then against the familiar name.

    ``*`` matches a run of non-``/`` characters, ``?`` one non-``/`` character,
    ``[...]``/``[^...]`` a class with ranges, ``\\`` escapes. A malformed pattern raises
    ``InvalidReference`` (kind ``invalid_format``), whatever the reference.
    """
    chunks = _compile_glob(pattern)
    if _glob_match(chunks, ref.familiar_string):
        return True
    return bool(ref.name) and _glob_match(chunks, ref.familiar_name)


# A glob token is a character class: (negated, ranges). A literal c is (False, ((c, c),))
# and "?" is (True, (("/", "/"),)): any character but "/".
_Token = Tuple[bool, Tuple[Tuple[str, str], ...]]
_Chunk = Tuple[bool, List[_Token]]  # (follows a star, tokens)
_ANY_BUT_SLASH: _Token = (True, (("/", "/"),))


def _bad_pattern(pattern: str, why: str) -> InvalidReference:
    return InvalidReference(
        f"invalid match pattern {_q(pattern)}: {why}", kind="invalid_format", text=pattern
    )


def _compile_glob(pattern: str) -> List[_Chunk]:
    """Split a Go ``path.Match`` pattern into chunks between runs of ``*``.

    ``pattern := { "*" | "?" | "[" ["^"] range+ "]" | "\\" char | char }``,
    ``range := char ["-" char]``; what Go calls ErrBadPattern raises, whether or not
    the pattern could match.
    """
    chunks: List[_Chunk] = []
    tokens: List[_Token] = []
    star = False
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if tokens:
                chunks.append((star, tokens))
                tokens = []
            star = True
            i += 1
            continue
        if c == "?":
            tokens.append(_ANY_BUT_SLASH)
            i += 1
        elif c == "[":
            i, token = _compile_class(pattern, i + 1)
            tokens.append(token)
        else:
            if c == "\\":
                i += 1
                if i >= n:
                    raise _bad_pattern(pattern, "it ends with a lone '\\'")
                c = pattern[i]
            tokens.append((False, ((c, c),)))
            i += 1
    chunks.append((star, tokens))
    return chunks


def _class_char(pattern: str, i: int) -> Tuple[str, int]:
    """One character of a class (``\\`` escapes); a bare ``-`` or ``]`` is an error."""
    n = len(pattern)
    if i >= n or pattern[i] in "-]":
        raise _bad_pattern(pattern, "malformed character class")
    if pattern[i] == "\\":
        i += 1
    if i + 1 >= n:
        raise _bad_pattern(pattern, "unterminated character class")
    return pattern[i], i + 1


def _compile_class(pattern: str, i: int) -> Tuple[int, _Token]:
    """``class := "[" ["^"] (char ["-" char])+ "]"``; ``i`` is just after ``[``."""
    negated = i < len(pattern) and pattern[i] == "^"
    if negated:
        i += 1
    ranges: List[Tuple[str, str]] = []
    while not (ranges and pattern[i] == "]"):
        lo, i = _class_char(pattern, i)
        hi = lo
        if pattern[i] == "-":
            hi, i = _class_char(pattern, i + 1)
        ranges.append((lo, hi))
    return i + 1, (negated, tuple(ranges))


def _chunk_at(tokens: List[_Token], s: str, pos: int) -> int:
    """Match ``tokens`` at ``s[pos:]``: the end position, or -1."""
    if pos + len(tokens) > len(s):
        return -1
    for k, (negated, ranges) in enumerate(tokens):
        ch = s[pos + k]
        if any(lo <= ch <= hi for lo, hi in ranges) == negated:
            return -1
    return pos + len(tokens)


def _glob_match(chunks: List[_Chunk], s: str) -> bool:
    """Go's matcher: each chunk where it first fits (after a star, a later start not
    past a ``/``); the last chunk must reach the end of ``s``."""
    pos = 0
    last = len(chunks) - 1
    for index, (star, tokens) in enumerate(chunks):
        if star and not tokens:
            return "/" not in s[pos:]  # a trailing star takes the rest of the segment
        end = _chunk_at(tokens, s, pos)
        if end >= 0 and (end == len(s) or index < last):
            pos = end
            continue
        if not star:
            return False
        start = pos
        while start < len(s) and s[start] != "/":
            start += 1
            end = _chunk_at(tokens, s, start)
            if end >= 0 and (end == len(s) or index < last):
                pos = end
                break
        else:
            return False
    return pos == len(s)


# ------------------------------------------------------------------ regexp helpers


def is_domain(s: str) -> bool:
    """Whole-string match of ``domain`` (Go ``DomainRegexp``, anchored)."""
    return _is_domain(s)


def is_name(s: str) -> bool:
    """Whole-string match of ``name`` (Go ``NameRegexp``, anchored; no length limit)."""
    return _split_name(s) is not None


def split_name(s: str) -> Optional[Tuple[str, str]]:
    """``(domain, path)`` of a name as Go's anchored name regexp captures it, or None."""
    return _split_name(s)


def is_reference(s: str) -> bool:
    """Whole-string match of ``reference`` (Go ``ReferenceRegexp``; syntax only)."""
    return _match_reference(s) is not None


def split_reference(s: str) -> Optional[Tuple[str, str, str]]:
    """``(name, tag, digest)`` as Go's ReferenceRegexp captures them (``""`` if absent)."""
    m = _match_reference(s)
    return None if m is None else (m[0], m[3], m[4])


def is_identifier(s: str) -> bool:
    """Whole-string match of ``identifier``: 64 lowercase hex digits (an image ID)."""
    return _is_identifier(s)


def is_tag(s: str) -> bool:
    """Whole-string match of ``tag``."""
    return _is_tag(s)


def __dir__() -> List[str]:
    return list(__all__)
