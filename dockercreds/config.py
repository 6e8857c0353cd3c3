"""Config sources: find, read and validate Docker and containers auth files.

Reading follows Docker (docker/cli ``configfile``): a missing or 0-byte file is an empty
config; JSON object keys of known fields match case-insensitively and the last duplicate
wins; each ``auths`` entry is decoded at load time and a bad one is an error naming the
file and the key. Unlike Docker, a file that does not parse is an error naming the line
and column, never silently an empty config.

Sources, in the order the resolver asks them (DESIGN.md "Sources"):

1. ``DOCKER_AUTH_CONFIG``: inline JSON, ``auths`` only.
2. The Docker config file: explicit path > ``$DOCKER_CONFIG/config.json`` >
   ``~/.docker/config.json``.
3. On request, the containers auth files (podman, skopeo): ``REGISTRY_AUTH_FILE``,
   ``$XDG_RUNTIME_DIR/containers/auth.json`` (``/run/containers/$UID/auth.json``),
   ``$XDG_CONFIG_HOME/containers/auth.json`` (``~/.config/...``).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import sys
from pathlib import Path
from typing import (
    Any,
    Dict,
    FrozenSet,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Tuple,
    Union,
)

from .errors import ConfigError, ConfigFormatError, ConfigSyntaxError, InvalidArgument
from .registry import without_userinfo

__all__ = [
    "AuthEntry",
    "DockerConfig",
    "Source",
    "containers_auth_paths",
    "decode_auth",
    "docker_config_path",
    "encode_auth",
    "load_file",
    "read_config_text",
    "load_env",
    "parse_config_text",
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


class AuthEntry(NamedTuple):
    """One decoded ``auths`` entry (immutable). Secrets are hidden from ``repr``."""

    key: str
    username: Optional[str] = None
    password: Optional[str] = None
    identity_token: Optional[str] = None
    registry_token: Optional[str] = None
    email: Optional[str] = None

    @property
    def is_empty(self) -> bool:
        """``{}``: no secret here; the credential store holds it (or nobody does)."""
        return not (self.username or self.password or self.identity_token or self.registry_token)

    def __repr__(self) -> str:
        state = "empty" if self.is_empty else "with secret"
        return f"<AuthEntry {without_userinfo(self.key)!r} username={self.username!r} {state}>"

    def __str__(self) -> str:
        return self.__repr__()


def encode_auth(username: str, password: str) -> str:
    """The ``auth`` field: standard base64 of ``username:password``."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")

if sys.version_info >= (3, 11):

    def _b64decode(value: str) -> Optional[bytes]:
        """Go's StdEncoding on a value without line breaks, or None when invalid."""
        if len(value) % 4:
            return None
        try:
            return binascii.a2b_base64(value, strict_mode=True)
        except (binascii.Error, ValueError):
            return None

else:  # pragma: no cover - no strict mode before 3.11

    def _b64decode(value: str) -> Optional[bytes]:
        """Go's StdEncoding on a value without line breaks, or None when invalid."""
        if len(value) % 4 or _BASE64.fullmatch(value) is None:
            return None
        return binascii.a2b_base64(value)


_new_entry = tuple.__new__  # builds an AuthEntry without NamedTuple's Python-level __new__


def decode_auth(value: str, *, where: str, key: str, path: Optional[str]) -> Tuple[str, str]:
    """Decode an ``auth`` field as Docker does: base64, split at the first ``:``.

    Go's ``base64.StdEncoding``: padding required, line breaks ignored, nothing else.
    """
    if "\n" in value or "\r" in value:
        value = value.replace("\r", "").replace("\n", "")
    raw = _b64decode(value)
    if raw is None:
        raise ConfigFormatError(
            f"{where}: auths[{without_userinfo(key)!r}].auth is not valid base64"
            " (expected base64 of 'username:password'; log in again to rewrite it)",
            path=path,
            key=key,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    username, sep, password = text.partition(":")
    if not sep or not username:
        problem = "has no ':'" if not sep else "has an empty username"
        raise ConfigFormatError(
            f"{where}: auths[{without_userinfo(key)!r}].auth {problem} after decoding"
            " (expected base64 of 'username:password')",
            path=path,
            key=key,
        )
    if password.endswith("\x00") or password.startswith("\x00"):
        password = password.strip("\x00")
    return username, password


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


class DockerConfig:
    """One loaded config source.

    ``auths`` maps each raw key to its decoded :class:`AuthEntry`; ``cred_helpers`` maps raw
    keys to helper names; ``creds_store`` is the default helper (or None). ``data`` is the
    parsed JSON (for writers that must keep unknown keys). ``warnings`` lists what was
    accepted but looks wrong (e.g. text after the JSON value).
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
        self.auths: Dict[str, AuthEntry] = dict(auths or {})
        self.cred_helpers: Dict[str, str] = dict(cred_helpers or {})
        self.creds_store = creds_store or None
        self.data: Dict[str, Any] = dict(data or {})
        self.warnings: List[str] = list(warnings or [])
        self._index: Any = None

    @property
    def path(self) -> Optional[str]:
        return self.source.path

    @property
    def index(self) -> Any:
        """The key index (:class:`dockercreds.matcher.KeyIndex`), built once."""
        if self._index is None:
            from .matcher import KeyIndex

            self._index = KeyIndex.build(self)
        return self._index

    @property
    def is_empty(self) -> bool:
        return not (self.auths or self.cred_helpers or self.creds_store)

    def __repr__(self) -> str:
        return (
            f"<DockerConfig {self.source.label} auths={len(self.auths)}"
            f" credHelpers={len(self.cred_helpers)} credsStore={self.creds_store!r}>"
        )


def _line_col(text: str, pos: int) -> Tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


_TOP_FIELDS = frozenset({"auths", "credhelpers", "credsstore"})
#: The fields of an ``auths`` entry, in the order their types are checked.
_ENTRY_FIELDS = ("username", "password", "auth", "identitytoken", "registrytoken", "email")
_ENTRY_FIELD_SET = frozenset(_ENTRY_FIELDS)


def parse_config_text(text: str, source: Source, *, legacy: bool = False) -> DockerConfig:
    """Parse the text of a config file (or of ``DOCKER_AUTH_CONFIG``)."""
    where = source.label
    if not text.strip():
        return DockerConfig(source)
    start = len(text) - len(text.lstrip())
    try:
        data, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as exc:
        hint = ""
        if text.startswith("\ufeff"):
            hint = " (the file starts with a byte-order mark; save it as UTF-8 without BOM)"
        raise ConfigSyntaxError(
            f"{where}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}",
            path=source.path,
            line=exc.lineno,
            column=exc.colno,
        ) from None
    warnings: List[str] = []
    rest = text[end:]
    if rest.strip():
        line, col = _line_col(text, end + (len(rest) - len(rest.lstrip())))
        warnings.append(
            f"{where}: text after the JSON value at line {line}, column {col} is ignored"
            " (as Docker does)"
        )
    try:
        config = _build(data, source, legacy)
    except _Ambiguous:
        # rare: decode again keeping every object's pairs in document order
        data, _ = json.JSONDecoder(object_pairs_hook=_pairs_hook).raw_decode(text, start)
        config = _build(data, source, legacy)
    config.warnings = warnings
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
    auths = _parse_auths(auths_obj, where, path)
    helpers: Dict[str, str] = {}
    if helpers_obj is not None:
        if not isinstance(helpers_obj, dict):
            raise ConfigFormatError(
                f"{where}: credHelpers must be an object, not {_type_name(helpers_obj)}", path=path
            )
        for key, value in helpers_obj.items():
            what = f"credHelpers[{without_userinfo(key)!r}]"
            helpers[key] = _expect_str(value, where, what, path, key)
    creds_store = _expect_str(store, where, "credsStore", path, None)
    return DockerConfig(
        source,
        auths=auths,
        # "" stays: credHelpers[host] = "" routes host to this file's auths (as in Docker)
        cred_helpers=helpers,
        creds_store=creds_store or None,
        data=data,
    )


def _parse_auths(obj: Any, where: str, path: Optional[str]) -> Dict[str, AuthEntry]:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise ConfigFormatError(
            f"{where}: auths must be an object, not {_type_name(obj)}", path=path
        )
    entries: Dict[str, AuthEntry] = {}
    for key, value in obj.items():
        if type(value) is dict and len(value) == 1:
            # {"auth": "..."}: what docker login writes, nearly every entry; decoded
            # inline, anything unusual goes the general way below
            auth = value.get("auth")
            raw = _b64decode(auth) if type(auth) is str and auth else None
            if raw is not None:
                try:
                    user, sep, secret = raw.decode().partition(":")
                except UnicodeDecodeError:
                    sep = ""
                if sep and user and "\x00" not in secret:
                    entries[key] = _new_entry(
                        AuthEntry, (key, user, secret or None, None, None, None)
                    )
                    continue
        if value is None:
            entries[key] = AuthEntry(key)
            continue
        label = f"auths[{without_userinfo(key)!r}]"  # user info in a key is no one's business
        if not isinstance(value, dict):
            raise ConfigFormatError(
                f"{where}: {label} must be an object, not {_type_name(value)}",
                path=path,
                key=key,
            )
        fields = _fields(value, _ENTRY_FIELD_SET)
        for name in _ENTRY_FIELDS:  # the first field of the wrong type is the error
            _expect_str(fields.get(name), where, f"{label}.{name}", path, key)
        auth = fields.get("auth")
        username: Optional[str] = fields.get("username")
        password: Optional[str] = fields.get("password")
        if auth:
            username, password = decode_auth(auth, where=where, key=key, path=path)
        entries[key] = AuthEntry(
            key,
            username=username or None,
            password=password or None,
            identity_token=fields.get("identitytoken") or None,
            registry_token=fields.get("registrytoken") or None,
            email=fields.get("email") or None,
        )
    return entries


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


def read_config_text(path: PathLike) -> Optional[str]:
    """The text of a config file, or None when it does not exist.

    Only a regular file is read (symlinks followed): a directory, FIFO, device or socket
    is a :class:`ConfigError`, decided on the opened descriptor (a FIFO never blocks), as
    is a file over :data:`MAX_CONFIG_BYTES`; the null device reads as a missing file.
    :class:`ConfigSyntaxError` (with the line and column) when it is not UTF-8.
    """
    import stat

    p = Path(path)
    label = f"file:{p}"
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
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
            raise _not_regular(label, mode, p)
        with open(fd, "rb", closefd=False) as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read: {exc.strerror or exc}", path=str(p)) from None
    finally:
        os.close(fd)
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


def load_file(path: PathLike, *, kind: str = "docker") -> DockerConfig:
    """Load one config file. Missing or 0-byte: an empty config."""
    p = Path(path)
    legacy = kind == "legacy" or p.name == ".dockercfg"
    source = Source("legacy" if legacy else kind, f"file:{p}", str(p))
    text = read_config_text(p)
    if text is None:
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
