"""Config sources: find, read and validate Docker and containers auth files.

Reading follows Docker (docker/cli ``configfile``): a missing or 0-byte file is an empty
config; JSON object keys of known fields match case-insensitively and the last duplicate
wins. Unlike Docker, a file that does not parse is an error naming the line and column,
never silently an empty config; ``NaN``/``Infinity`` are refused as Go's encoding/json
refuses them, and what Python's reader cannot hold (nesting too deep for it, integers
of more than 4,300 digits, text that is not UTF-8 in ``DOCKER_AUTH_CONFIG``) is a
:class:`ConfigSyntaxError`
naming the source, never another exception.

Loading is cheap: a load parses the JSON and checks the file's shape; each ``auths``
entry is decoded (and a bad one reported, naming the file, key and line) when a lookup
first uses it, and the key index (:mod:`dockercreds.matcher`) is built on the first
lookup. :meth:`DockerConfig.problems` checks every entry at once (``dockercreds check``).

Sources, in the order the resolver asks them (DESIGN.md "Sources"):

1. ``DOCKER_AUTH_CONFIG``: inline JSON, ``auths`` only.
2. The Docker config file: explicit path > ``$DOCKER_CONFIG/config.json`` >
   ``~/.docker/config.json``.
3. On request, the containers auth files (podman, skopeo): ``REGISTRY_AUTH_FILE``,
   ``$XDG_RUNTIME_DIR/containers/auth.json`` (``/run/containers/$UID/auth.json``),
   ``$XDG_CONFIG_HOME/containers/auth.json`` (``~/.config/...``).

A config named explicitly (``load_file(path, must_exist=True)``) that does not exist is
a :class:`ConfigNotFound`; the default locations may be missing.
"""

from __future__ import annotations

import binascii
import functools
import json
import os
import re
import sys
from binascii import a2b_base64
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterator,
    List,
    Mapping,
    Optional,
    Tuple,
    Union,
)

from .entry import AuthEntry, b64decode, decode_auth, encode_auth
from .errors import (
    ConfigError,
    ConfigFormatError,
    ConfigNotFound,
    ConfigSyntaxError,
    InvalidArgument,
)
from .matcher import KeyIndex
from .registry import without_userinfo

__all__ = [
    "AuthEntries",
    "AuthEntry",
    "CheckReport",
    "DockerConfig",
    "Source",
    "check_sources",
    "containers_auth_paths",
    "decode_auth",
    "docker_config_path",
    "encode_auth",
    "load_env",
    "load_file",
    "parse_config_text",
    "read_config_text",
]

PathLike = Union[str, "os.PathLike[str]"]

ENV_AUTH_CONFIG = "DOCKER_AUTH_CONFIG"


class Source:
    """Where a config came from: ``kind`` is docker, containers, env or legacy."""

    __slots__ = ("kind", "label", "path")

    def __init__(self, kind: str, label: str, path: Optional[str] = None) -> None:
        self.kind = kind
        self.label = label
        self.path = path

    def __repr__(self) -> str:
        return f"<Source {self.label}>"


_new_entry = tuple.__new__  # builds an AuthEntry without NamedTuple's Python-level __new__


class _Ambiguous(Exception):
    """Two spellings of one field in an object: only document order can decide."""


class _Obj(dict):  # type: ignore[type-arg]
    """A JSON object that remembers its pairs in document order."""

    __slots__ = ("pairs",)
    pairs: List[Tuple[str, Any]]


def _pairs_hook(pairs: List[Tuple[str, Any]]) -> _Obj:
    obj = _Obj(pairs)
    obj.pairs = pairs
    return obj


def _fields(obj: Dict[str, Any], known: FrozenSet[str]) -> Dict[str, Any]:
    """Go struct decoding of ``obj``'s ``known`` fields: keys match case-insensitively and
    the last one in the document wins. Returns lowercased field -> value.

    A plain dict has lost the document order of different spellings (``auth`` ... ``Auth``
    ... ``auth``), so two spellings of one field raise :class:`_Ambiguous` unless ``obj``
    kept its pairs (:class:`_Obj`).
    """
    pairs = obj.pairs if isinstance(obj, _Obj) else obj.items()
    out: Dict[str, Any] = {}
    for name, value in pairs:
        lowered = name.lower()
        if lowered in known:
            if lowered in out and not isinstance(obj, _Obj):
                raise _Ambiguous
            out[lowered] = value
    return out


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "null" if value is None else type(value).__name__


def _expect_str(value: Any, where: str, what: str, path: Optional[str], key: Optional[str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigFormatError(
            f"{where}: {what} must be a string, not {_type_name(value)}", path=path, key=key
        )
    return value


def _check_unicode(text: str, where: str, what: str, path: Optional[str], key: str) -> None:
    """A value with an escaped lone surrogate (``\\ud800``) is not text: it cannot be
    sent to a registry or a helper. (Go's decoder reads it as U+FFFD, so the docker CLI
    would send another secret than the one written.)"""
    for ch in text:
        if "\ud800" <= ch <= "\udfff":
            raise ConfigFormatError(
                f"{where}: {what} holds a lone surrogate escape (\\u{ord(ch):04x}), which is"
                " not Unicode text (the docker CLI reads it as U+FFFD); write the value as"
                " UTF-8 text, or log in again",
                path=path,
                key=key,
            )


#: The fields of an ``auths`` entry, in the order their types are checked.
_ENTRY_FIELDS = ("username", "password", "auth", "identitytoken", "registrytoken", "email")
_ENTRY_FIELD_SET = frozenset(_ENTRY_FIELDS)


def plain_auth(value: Any) -> Optional[Tuple[str, str]]:
    """(username, password) of ``{"auth": "<base64 of user:password>"}``, else None.

    What docker login writes, nearly every entry: read without the general rules of
    :func:`_decode_entry`, which decide everything else (and say what is wrong).
    """
    if type(value) is not dict or len(value) != 1:
        return None
    auth = value.get("auth")
    if type(auth) is not str or not auth:
        return None
    if sys.version_info >= (3, 11):  # Go's StdEncoding, in C
        if len(auth) % 4:  # strict_mode lets an extra "=" through: Go does not
            return None
        try:
            raw = a2b_base64(auth, strict_mode=True)
        except (binascii.Error, ValueError):
            return None
    else:  # pragma: no cover - Python < 3.11
        raw = b64decode(auth)
        if raw is None:
            return None
    try:
        user, sep, secret = raw.decode().partition(":")
    except UnicodeDecodeError:
        return None
    if not sep or not user or "\x00" in secret:
        return None
    return user, secret


def _decode_entry(key: str, value: Any, where: str, path: Optional[str]) -> AuthEntry:
    """One ``auths`` value as Docker reads it (:class:`ConfigFormatError` when it cannot be).

    Raises :class:`_Ambiguous` for a plain dict with two spellings of one field. (The
    common ``{"auth": "..."}`` is read first by :class:`_EntryDecoder`.)
    """
    if value is None:
        return AuthEntry(key)
    label = f"auths[{without_userinfo(key)!r}]"  # user info in a key is no one's business
    if not isinstance(value, dict):
        raise ConfigFormatError(
            f"{where}: {label} must be an object, not {_type_name(value)}", path=path, key=key
        )
    fields = _fields(value, _ENTRY_FIELD_SET)
    for name in _ENTRY_FIELDS:  # the first field of the wrong type is the error
        text = _expect_str(fields.get(name), where, f"{label}.{name}", path, key)
        if not text.isascii():
            _check_unicode(text, where, f"{label}.{name}", path, key)
    auth = fields.get("auth")
    username: Optional[str] = fields.get("username")
    password: Optional[str] = fields.get("password")
    if auth:
        username, password = decode_auth(auth, where=where, key=key, path=path)
    return AuthEntry(
        key,
        username=username or None,
        password=password or None,
        identity_token=fields.get("identitytoken") or None,
        registry_token=fields.get("registrytoken") or None,
        email=fields.get("email") or None,
    )


class AuthEntries(Mapping[str, AuthEntry]):
    """The ``auths`` of a config: raw key -> :class:`AuthEntry`, decoded on first access.

    Iteration, ``len`` and ``in`` use the raw keys and decode nothing; ``entries[key]``
    decodes that entry once (a bad one raises :class:`ConfigFormatError` naming the file,
    key and line, every time it is asked for).
    """

    __slots__ = ("_decode", "_decoded", "_raw")

    def __init__(
        self,
        raw: Mapping[str, Any],
        decode: Optional[Callable[[str, Any], AuthEntry]] = None,
        decoded: Optional[Dict[str, AuthEntry]] = None,
    ) -> None:
        self._raw = raw
        self._decode = decode
        self._decoded: Dict[str, AuthEntry] = decoded if decoded is not None else {}

    def __getitem__(self, key: str) -> AuthEntry:
        entry = self._decoded.get(key)
        if entry is None:
            value = self._raw[key]
            if self._decode is None:  # pragma: no cover - built from decoded entries
                raise KeyError(key)
            entry = self._decoded[key] = self._decode(key, value)
        return entry

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    @property
    def raw(self) -> Mapping[str, Any]:
        """The ``auths`` object as parsed (raw key -> JSON value); do not change it."""
        return self._raw

    def keys_list(self) -> List[str]:
        """The raw keys, in document order (first position of a duplicate)."""
        return list(self._raw)

    def __repr__(self) -> str:
        return f"<AuthEntries {len(self._raw)} keys>"


_EMPTY: Mapping[str, Any] = {}


class _EntryDecoder:
    """Decodes the ``auths`` entries of one config source (what :class:`AuthEntries` calls).

    Holds the source and its text, never the config: a loaded config is then no reference
    cycle, and is freed as soon as its last user lets go (not at the next collection).
    """

    __slots__ = ("source", "text")

    def __init__(self, source: Source) -> None:
        self.source = source
        self.text = ""

    def line_of(self, key: str) -> Optional[int]:
        return _key_line(self.text, key, legacy=self.source.kind == "legacy")

    def __call__(self, key: str, value: Any) -> AuthEntry:
        pair = plain_auth(value)
        if pair is not None:
            return _new_entry(AuthEntry, (key, pair[0], pair[1] or None, None, None, None))
        where, path = self.source.label, self.source.path
        try:
            try:
                return _decode_entry(key, value, where, path)
            except _Ambiguous:
                # rare: decode again keeping every object's pairs in document order
                return _decode_entry(key, self._pairs_value(key), where, path)
        except ConfigFormatError as exc:
            line = self.line_of(key)
            if line is None:
                raise
            message = str(exc)
            prefix = f"{where}: "
            if message.startswith(prefix):
                message = f"{prefix}line {line}: {message[len(prefix):]}"
            raise ConfigFormatError(message, path=path, key=key, line=line) from None

    def _pairs_value(self, key: str) -> Any:
        text = self.text
        if not text:  # pragma: no cover - only parsed configs hold plain dicts
            raise ConfigFormatError(
                f"{self.source.label}: auths[{without_userinfo(key)!r}] spells a field"
                " twice", path=self.source.path, key=key
            )
        data, _ = _PAIRS_DECODER.raw_decode(text, _skip_ws(text))
        if self.source.kind != "legacy":
            data = _fields(data, _TOP_FIELDS).get("auths")
        return data[key]


class DockerConfig:
    """One loaded config source.

    ``auths`` maps each raw key to its :class:`AuthEntry` (:class:`AuthEntries`: decoded
    on first access); ``cred_helpers`` maps raw keys to helper names; ``creds_store`` is
    the default helper (or None). ``data`` is the parsed JSON (for writers that must keep
    unknown keys). ``warnings`` lists what was accepted but looks wrong (e.g. text after
    the JSON value). ``index`` is the key index, built on first use.
    """

    def __init__(
        self,
        source: Source,
        *,
        auths: Optional[Mapping[str, AuthEntry]] = None,
        cred_helpers: Optional[Mapping[str, str]] = None,
        creds_store: Optional[str] = None,
        data: Optional[Mapping[str, Any]] = None,
        warnings: Optional[List[str]] = None,
    ) -> None:
        self.source = source
        if isinstance(auths, AuthEntries):
            self.auths: AuthEntries = auths
        else:
            decoded = dict(auths or {})
            self.auths = AuthEntries(decoded, None, decoded)
        self.cred_helpers: Dict[str, str] = dict(cred_helpers or {})
        self.creds_store = creds_store or None
        self.data: Dict[str, Any] = dict(data or {})
        self.warnings: List[str] = list(warnings or [])
        self._index: Optional[KeyIndex] = None
        #: whole answers of lookups that no credential store takes part in (resolver)
        self.answers: Dict[Any, Any] = {}
        self._decoder = _EntryDecoder(source)  # holds the source text once it is parsed

    @property
    def path(self) -> Optional[str]:
        return self.source.path

    @property
    def index(self) -> KeyIndex:
        """The key index (:class:`dockercreds.matcher.KeyIndex`), built once."""
        index = self._index
        if index is None:
            index = self._index = KeyIndex.build(
                self.auths.keys_list(),
                self.auths.__getitem__,
                cred_helpers=self.cred_helpers,
                legacy=self.source.kind == "legacy",
                contains=self.auths.raw,
            )
        return index

    @property
    def is_empty(self) -> bool:
        return not (self.auths._raw or self.cred_helpers or self.creds_store)

    def problems(self) -> List[ConfigFormatError]:
        """Every ``auths`` entry that cannot be decoded, in document order (one error each)."""
        found: List[ConfigFormatError] = []
        for key in self.auths:
            try:
                self.auths[key]
            except ConfigFormatError as exc:
                # kept as values: a traceback would tie this frame (and self) in a cycle
                found.append(exc.with_traceback(None))
        return found

    def line_of(self, key: str) -> Optional[int]:
        """The line of ``auths`` key ``key`` in the source text (best effort), or None."""
        return self._decoder.line_of(key)

    def __repr__(self) -> str:
        return (
            f"<DockerConfig {self.source.label} auths={len(self.auths)}"
            f" credHelpers={len(self.cred_helpers)} credsStore={self.creds_store!r}>"
        )


def _line_col(text: str, pos: int) -> Tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def _key_line(text: str, key: str, *, legacy: bool) -> Optional[int]:
    """The line where ``auths`` key ``key`` is written (its last spelling), best effort."""
    if not text:
        return None
    start = 0
    if not legacy:
        sections = list(_AUTHS_START.finditer(text))
        if not sections:
            return None
        start = sections[-1].end()
    pattern = re.compile(re.escape(json.dumps(key)) + r"\s*:")
    found = None
    for m in pattern.finditer(text, start):
        found = m.start()
    if found is None:
        pattern = re.compile(re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:")
        for m in pattern.finditer(text, start):
            found = m.start()
    return None if found is None else _line_col(text, found)[0]


_AUTHS_START = re.compile(r'"auths"\s*:\s*\{', re.IGNORECASE)


# --- JSON: Go's rules, and a typed error for everything Python's reader cannot hold ------


class _Constant(Exception):
    """NaN, Infinity or -Infinity in the text: not JSON (Go refuses them)."""


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
_PAIRS_DECODER = json.JSONDecoder(object_pairs_hook=_pairs_hook, parse_constant=_refuse_constant)
_WS = re.compile(r"\s*")

# Tokens outside strings, to find where a value Python cannot read is written
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_CONSTANT_TOKEN = re.compile(_STRING + r"|(-?Infinity|NaN)", re.DOTALL)
_BIG_INT_TOKEN = re.compile(_STRING + r"|(-?[0-9]{4301,})", re.DOTALL)
_BRACKET_TOKEN = re.compile(_STRING + r"|([\[{])|([\]}])", re.DOTALL)
_RAW_SURROGATE = re.compile("[\ud800-\udfff]")


def _skip_ws(text: str) -> int:
    return len(text) - len(text.lstrip())


def _first_token(pattern: re.Pattern[str], text: str, start: int) -> Optional[re.Match[str]]:
    for m in pattern.finditer(text, start):
        if m.lastindex:
            return m
    return None


def _syntax_error(source: Source, text: str, pos: int, what: str) -> ConfigSyntaxError:
    line, column = _line_col(text, pos)
    return ConfigSyntaxError(
        f"{source.label}: {what.format(at=f'at line {line}, column {column}')}",
        path=source.path,
        line=line,
        column=column,
    )


def _unreadable(source: Source, text: str, start: int, exc: BaseException) -> ConfigSyntaxError:
    """The typed error for valid-looking JSON that Python's reader refused."""
    if isinstance(exc, _Constant):
        m = _first_token(_CONSTANT_TOKEN, text, start)
        return _syntax_error(
            source, text, m.start(1) if m else start,
            f"not valid JSON {{at}}: {exc.args[0]} is not a JSON value"
            " (JSON has no NaN or Infinity; Docker refuses them too)",
        )
    if isinstance(exc, RecursionError):
        depth, deepest, pos = 0, 0, start
        for m in _BRACKET_TOKEN.finditer(text, start):
            if m.lastindex == 1:
                depth += 1
                if depth > deepest:
                    deepest, pos = depth, m.start()
            elif m.lastindex == 2:
                depth -= 1
        return _syntax_error(
            source, text, pos,
            f"cannot read the JSON {{at}}: nested {deepest} levels deep, too deep to read",
        )
    m = _first_token(_BIG_INT_TOKEN, text, start)
    if m is not None:
        digits = len(m.group(1).lstrip("-"))
        return _syntax_error(
            source, text, m.start(1),
            f"cannot read the number {{at}}: {digits:,} digits (the limit is 4,300)",
        )
    return _syntax_error(source, text, start, f"cannot read the JSON {{at}}: {exc}")


def _check_text(text: str, source: Source, start: int) -> None:
    """Raw lone surrogates (bytes that are not UTF-8, in an environment variable) are refused."""
    if not text.isascii():
        m = _RAW_SURROGATE.search(text)
        if m is not None:
            raise _syntax_error(source, text, m.start(), "not UTF-8 text {at}")
    # Escaped lone surrogates (\ud800) are read as Python reads them: writers keep them
    # as escapes (dockercreds.writer), and Go reads them as U+FFFD.


def _decode_json(
    text: str, source: Source, start: int, decoder: json.JSONDecoder
) -> Tuple[Any, int]:
    try:
        data, end = decoder.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        hint = ""
        if text.startswith("\ufeff"):
            hint = " (the file starts with a byte-order mark; save it as UTF-8 without BOM)"
        raise ConfigSyntaxError(
            f"{source.label}: not valid JSON at line {exc.lineno}, column {exc.colno}:"
            f" {exc.msg}{hint}",
            path=source.path,
            line=exc.lineno,
            column=exc.colno,
        ) from None
    except (_Constant, RecursionError, ValueError) as exc:
        raise _unreadable(source, text, start, exc) from None
    return data, end


_TOP_FIELDS = frozenset({"auths", "credhelpers", "credsstore"})


def parse_config_text(text: str, source: Source, *, legacy: bool = False) -> DockerConfig:
    """Parse the text of a config file (or of ``DOCKER_AUTH_CONFIG``).

    Checks the JSON and the file's shape; ``auths`` entries are decoded when first used.
    """
    where = source.label
    if not text or text.isspace():
        return DockerConfig(source)
    start = _skip_ws(text)
    data, end = _decode_json(text, source, start, _DECODER)
    _check_text(text, source, start)
    warnings: List[str] = []
    if end < len(text):
        rest = text[end:]
        if rest.strip():
            line, col = _line_col(text, end + _skip_ws(rest))
            warnings.append(
                f"{where}: text after the JSON value at line {line}, column {col} is ignored"
                " (as Docker does)"
            )
    try:
        config = _build(data, source, legacy)
    except _Ambiguous:
        # rare: decode again keeping every object's pairs in document order
        data, _ = _decode_json(text, source, start, _PAIRS_DECODER)
        config = _build(data, source, legacy)
    config.warnings = warnings
    config._decoder.text = text
    return config


def _build(data: Any, source: Source, legacy: bool) -> DockerConfig:
    where, path = source.label, source.path
    if data is None:  # `null`: Go leaves the config empty
        return DockerConfig(source)
    if not isinstance(data, dict):
        raise ConfigFormatError(
            f"{where}: the top level must be a JSON object, not {_type_name(data)}", path=path
        )
    if legacy:
        auths_obj: Any = data
        helpers_obj: Any = None
        store: Any = None
    else:
        top = _fields(data, _TOP_FIELDS)
        auths_obj = top.get("auths")
        helpers_obj = top.get("credhelpers")
        store = top.get("credsstore")
    if auths_obj is None:
        auths_obj = _EMPTY
    elif not isinstance(auths_obj, dict):
        raise ConfigFormatError(
            f"{where}: auths must be an object, not {_type_name(auths_obj)}", path=path
        )
    helpers: Dict[str, str] = {}
    if helpers_obj is not None:
        if not isinstance(helpers_obj, dict):
            raise ConfigFormatError(
                f"{where}: credHelpers must be an object, not {_type_name(helpers_obj)}", path=path
            )
        for key, value in helpers_obj.items():
            what = f"credHelpers[{without_userinfo(key)!r}]"
            # "" stays: credHelpers[host] = "" routes host to this file's auths (as in Docker)
            helpers[key] = _expect_str(value, where, what, path, key)
    creds_store = _expect_str(store, where, "credsStore", path, None)
    config = DockerConfig(
        source,
        cred_helpers=helpers,
        creds_store=creds_store or None,
        data=data,
    )
    config.auths = AuthEntries(auths_obj, config._decoder)
    return config


#: The largest config file read (bytes); Docker configs are a few KiB.
MAX_CONFIG_BYTES = 16 * 1024 * 1024


def _not_regular(label: str, mode: int, path: Path) -> ConfigError:
    from .fileio import file_kind

    return ConfigError(
        f"{label}: is {file_kind(mode)}, not a regular file (give the path of a config.json file)",
        path=str(path),
    )


def _is_null_device(rdev: int) -> bool:
    try:
        return Path(os.devnull).stat().st_rdev == rdev
    except OSError:  # pragma: no cover
        return False


def _read_upto(fd: int, size_hint: int, limit: int) -> bytes:
    """At most ``limit`` bytes from ``fd``, to its end.

    Sized by ``size_hint`` (``st_size``): one read gets a whole file, a second sees its
    end; a file that grows meanwhile is read on in 64 KiB steps. (``read(limit)`` on a
    file object would allocate the whole 16 MiB limit on every load.)
    """
    chunks: List[bytes] = []
    total = 0
    want = min(max(size_hint, 0), limit - 1) + 1
    while want > 0:
        chunk = os.read(fd, want)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = min(65536, limit - total)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_config_text(path: PathLike) -> Optional[str]:
    """The text of a config file, or None when it does not exist.

    Only a regular file is read (symlinks followed): a directory, FIFO, device or socket
    is a :class:`ConfigError`, decided on the opened descriptor (a FIFO never blocks), as
    is a file over :data:`MAX_CONFIG_BYTES`; the null device reads as a missing file.
    :class:`ConfigSyntaxError` (with the line and column) when it is not UTF-8.
    """
    import stat

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        p = Path(path)
        label = f"file:{p}"
        try:  # a socket cannot be opened at all: say what it is
            mode = p.stat().st_mode
        except OSError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            raise _not_regular(label, mode, p) from None
        raise ConfigError(f"{label}: cannot read: {exc.strerror or exc}", path=str(p)) from None
    try:
        st = os.fstat(fd)
        mode = st.st_mode
        if stat.S_ISCHR(mode) and _is_null_device(st.st_rdev):
            return None  # /dev/null: "no config", as reading it always meant
        if not stat.S_ISREG(mode):
            p = Path(path)
            raise _not_regular(f"file:{p}", mode, p)
        raw = _read_upto(fd, st.st_size, MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        p = Path(path)
        raise ConfigError(f"file:{p}: cannot read: {exc.strerror or exc}", path=str(p)) from None
    finally:
        os.close(fd)
    if len(raw) <= MAX_CONFIG_BYTES:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    p = Path(path)
    label = f"file:{p}"
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{label}: larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB; not a Docker"
            " config file (check the path)",
            path=str(p),
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigSyntaxError(
            f"{label}: not UTF-8 text at line {line}, column {column}",
            path=str(p),
            line=line,
            column=column,
        ) from None


def load_file(path: PathLike, *, kind: str = "docker", must_exist: bool = False) -> DockerConfig:
    """Load one config file. Missing or 0-byte: an empty config.

    ``must_exist``: a missing file is a :class:`ConfigNotFound` instead (for a config
    named explicitly: ``config=PATH``, ``--config PATH``).
    """
    name = os.fspath(path)
    legacy = kind == "legacy" or name.rpartition(os.sep)[2] == ".dockercfg"
    source = Source("legacy" if legacy else kind, f"file:{name}", name)
    text = read_config_text(name)
    if text is None:
        if must_exist and not Path(name).exists():  # /dev/null exists, reads as empty
            raise ConfigNotFound(
                f"no such config file: {name} (a config named explicitly must exist;"
                " leave it out to use the default locations)",
                path=name,
            )
        return DockerConfig(source)
    return parse_config_text(text, source, legacy=legacy)


def load_env(environ: Optional[Mapping[str, str]] = None) -> Optional[DockerConfig]:
    """The inline ``DOCKER_AUTH_CONFIG`` config (``auths`` only), or None when unset."""
    env = os.environ if environ is None else environ
    text = env.get(ENV_AUTH_CONFIG)
    if not text:
        return None
    source = Source("env", f"env:{ENV_AUTH_CONFIG}")
    config = parse_config_text(text, source)
    # Only auths are honoured from the environment (as Docker does).
    config.cred_helpers = {}
    config.creds_store = None
    return config


def docker_config_dir(environ: Optional[Mapping[str, str]] = None) -> Path:
    """``$DOCKER_CONFIG`` (when non-empty) or ``~/.docker``."""
    env = os.environ if environ is None else environ
    configured = env.get("DOCKER_CONFIG")
    if configured:
        return Path(configured)
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".docker"


def docker_config_path(environ: Optional[Mapping[str, str]] = None) -> Path:
    """The Docker config file: ``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``."""
    return docker_config_dir(environ) / "config.json"


def containers_auth_paths(environ: Optional[Mapping[str, str]] = None) -> List[Path]:
    """The containers auth files in containers/image order.

    The primary file is ``REGISTRY_AUTH_FILE`` when set, else the runtime ``auth.json``
    (not both); then ``$XDG_CONFIG_HOME/containers/auth.json``.
    """
    env = os.environ if environ is None else environ
    paths: List[Path] = []
    explicit = env.get("REGISTRY_AUTH_FILE")
    runtime = env.get("XDG_RUNTIME_DIR")
    if explicit:
        paths.append(Path(explicit))
    elif runtime:
        paths.append(Path(runtime) / "containers" / "auth.json")
    elif hasattr(os, "getuid"):
        paths.append(Path("/run/containers") / str(os.getuid()) / "auth.json")
    config_home = env.get("XDG_CONFIG_HOME") or str(
        Path(env.get("HOME") or str(Path.home())) / ".config"
    )
    paths.append(Path(config_home) / "containers" / "auth.json")
    seen: List[Path] = []
    for p in paths:
        if p not in seen:
            seen.append(p)
    return seen


def iter_default_sources(
    sources: str = "docker", environ: Optional[Mapping[str, str]] = None
) -> Iterator[DockerConfig]:
    """Load the default sources lazily, in order. ``sources``: docker, containers or all."""
    if sources not in ("docker", "containers", "all"):
        raise InvalidArgument(
            f"sources must be 'docker', 'containers' or 'all', not {sources!r}"
        )
    return _iter_sources(sources, environ)


def _iter_sources(sources: str, environ: Optional[Mapping[str, str]]) -> Iterator[DockerConfig]:
    if sources in ("docker", "all"):
        env_config = load_env(environ)
        if env_config is not None:
            yield env_config
        yield load_file(docker_config_path(environ))
    if sources in ("containers", "all"):
        for path in containers_auth_paths(environ):
            config = load_file(path, kind="containers")
            # containers/image ignores credsStore (container-libs#278)
            config.creds_store = None
            yield config


# --- check: every entry of every source, not only the ones a lookup uses ----------------


class CheckReport:
    """What :func:`check_sources` found: one line per problem, per warning, per source."""

    def __init__(self) -> None:
        self.problems: List[str] = []  # each names the source, the line and the key
        self.warnings: List[str] = []
        self.checked: List[str] = []  # "<label>: <summary>" per source read

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_one(report: CheckReport, label: str, load: Callable[[], Optional[DockerConfig]]) -> None:
    try:
        config = load()
    except ConfigError as exc:
        report.problems.append(str(exc))
        return
    if config is None:
        return
    report.warnings.extend(config.warnings)
    problems = config.problems()
    report.problems.extend(str(exc) for exc in problems)
    for raw, why in sorted(config.index.ignored.items()):
        report.warnings.append(f"{label}: ignored key {without_userinfo(raw)!r}: {why}")
    if config.is_empty and not config._decoder.text:
        summary = "missing or empty (an empty config)"
    else:
        summary = (
            f"{len(config.auths)} auths entries ({len(problems)} bad),"
            f" {len(config.cred_helpers)} credHelpers, credsStore {config.creds_store!r}"
        )
    report.checked.append(f"{label}: {summary}")


def check_sources(
    config: Optional[PathLike] = None,
    *,
    sources: str = "docker",
    environ: Optional[Mapping[str, str]] = None,
) -> CheckReport:
    """Read every source a lookup would read and decode every entry of each.

    ``config``: only this file (it must exist); else the default sources
    (``sources``: docker, containers or all). Unlike a lookup, a problem in one source
    does not stop the others from being checked.
    """
    report = CheckReport()
    if config is not None:
        name = os.fspath(config)
        _check_one(report, f"file:{name}", lambda: load_file(name, must_exist=True))
        return report
    if sources not in ("docker", "containers", "all"):
        raise InvalidArgument(
            f"sources must be 'docker', 'containers' or 'all', not {sources!r}"
        )
    if sources in ("docker", "all"):
        _check_one(report, f"env:{ENV_AUTH_CONFIG}", lambda: load_env(environ))
        path = docker_config_path(environ)
        _check_one(report, f"file:{path}", lambda: load_file(path))
    if sources in ("containers", "all"):
        for auth_file in containers_auth_paths(environ):
            load = functools.partial(load_file, auth_file, kind="containers")
            _check_one(report, f"file:{auth_file}", load)
    return report
