"""The precedence rules, in one place: which source, which store, which key.

For one registry and repository, each config source is asked in order (DESIGN.md
"Sources"); the first that yields credentials wins. Within a source:

1. ``credHelpers[host]``, else ``credsStore``: the store is asked with the registry
   (``host[:port]``, or ``https://index.docker.io/v1/`` for Docker Hub). The store name
   ``keyring`` is answered in-process by :class:`dockercreds.keyring_store.KeyringStore`;
   any other name runs ``docker-credential-<name>``.
2. When the store has nothing ("not found"), the most specific ``auths`` entry is used
   (deliberately unlike Docker, which ignores plaintext once a store is configured).
   An empty ``{}`` entry means "the store holds it": the source yields nothing more.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Protocol, Tuple, Union

from .config import (
    DockerConfig,
    docker_config_path,
    encode_auth,
    iter_default_sources,
    load_file,
)
from .credentials import Credentials
from .errors import InvalidCredentials, InvalidReference, InvalidRegistry
from .registry import (
    HUB_DOMAIN,
    helper_server,
    normalize_registry,
    parse_key,
    without_userinfo,
)

if TYPE_CHECKING:  # pragma: no cover
    from .matcher import Match
    from .reference import Reference

__all__ = [
    "ConfigArg",
    "CredentialStore",
    "Trace",
    "get_credentials",
    "get_registry_credentials",
    "iter_configs",
    "list_registries",
    "load_config",
    "login",
    "logout",
    "parse_target",
    "resolve",
    "store_for",
]

ConfigArg = Union[None, str, "os.PathLike[str]", DockerConfig]


class CredentialStore(Protocol):
    """What the keyring store and external helpers have in common."""

    def get(self, server: str) -> Optional[Credentials]: ...

    def store(self, server: str, username: str, secret: str) -> None: ...

    def erase(self, server: str) -> None: ...

    def list(self) -> dict[str, str]: ...


class Trace:
    """Steps of a lookup, for ``dockercreds explain``. Never holds a secret."""

    def __init__(self) -> None:
        self.steps: List[str] = []

    def __call__(self, message: str) -> None:
        self.steps.append(message)

    def __bool__(self) -> bool:
        return True


def store_for(name: str) -> CredentialStore:
    """The store for a ``credsStore``/``credHelpers`` name."""
    if name == "keyring":
        from .keyring_store import KeyringStore

        return KeyringStore()
    from .helpers import HelperClient

    return HelperClient(name)


def load_config(path: Union[str, os.PathLike[str], None] = None) -> DockerConfig:
    """Load the Docker config file: ``path``, ``$DOCKER_CONFIG/config.json`` or ``~/.docker``."""
    return load_file(path if path is not None else docker_config_path())


def iter_configs(
    config: ConfigArg = None, sources: Optional[str] = None
) -> Iterator[DockerConfig]:
    """The config sources a lookup asks, in order, each loaded when reached."""
    if config is None:
        yield from iter_default_sources(sources or "docker")
    elif isinstance(config, DockerConfig):
        yield config
    else:
        yield load_file(config)


def _from_store(name: str, server: str, trace: Optional[Trace]) -> Optional[Credentials]:
    store = store_for(name)
    what = "the keyring (in-process)" if name == "keyring" else f"docker-credential-{name}"
    if trace:
        trace(f"  asking {what} for {server!r}")
    creds = store.get(server)
    if creds is None or creds.is_empty:
        if trace:
            trace(f"  {what}: not found")
        return None
    if trace:
        kind = "identity token" if creds.identity_token and not creds.password else "password"
        trace(f"  {what}: found username {creds.username!r} with a {kind}")
    return creds


def _trace_source(config: DockerConfig, trace: Trace) -> None:
    trace(f"source {config.source.label}")
    for warning in config.warnings:
        trace(f"  warning: {warning}")
    if config.is_empty:
        trace("  empty (missing, 0-byte or no entries)")
        return
    for raw, why in sorted(config.index.ignored.items()):
        trace(f"  ignored key {without_userinfo(raw)!r}: {why}")


def _trace_match(match: Match, host: str, trace: Trace) -> None:
    where = f"namespace '{host}/{match.namespace}'" if match.namespace else f"host {host!r}"
    trace(f"  auths key {match.key!r} matches ({where})")
    if match.shadowed:
        trace(
            "  collision: "
            + ", ".join(repr(k) for k in match.shadowed)
            + f" name the same place; {match.key!r} wins (canonical form first)"
        )
    if match.entry.is_empty:
        trace(
            f"  auths[{match.key!r}] is empty ({{}}): the credential store holds it;"
            " nothing more from this source"
        )
    else:
        trace(f"  auths[{match.key!r}]: username {match.entry.username!r}")


def _entry_credentials(config: DockerConfig, match: Match) -> Credentials:
    """The Credentials of a matched entry, built once per loaded config."""
    memo = config.index.memo
    creds = memo.get(match.key)
    if creds is None:
        entry = match.entry
        creds = memo[match.key] = Credentials(
            match.key,
            username=entry.username,
            password=entry.password,
            identity_token=entry.identity_token,
            registry_token=entry.registry_token,
            email=entry.email,
            source=config.source.label,
        )
    assert isinstance(creds, Credentials)  # noqa: S101 - the memo holds nothing else
    return creds


def _from_config(
    config: DockerConfig, host: str, path: str, trace: Optional[Trace]
) -> Optional[Credentials]:
    if trace:
        _trace_source(config, trace)
    if config.is_empty:
        return None
    index = config.index
    store_name: Optional[str] = None
    helper = index.helper_for(host) if index.helpers else None
    if helper is not None:
        store_name = helper[0]
        if trace:
            trace(f"  credHelpers[{helper[1]!r}] = {store_name!r}")
    elif config.creds_store:
        store_name = config.creds_store
        if trace:
            trace(f"  credsStore = {store_name!r}")
    if store_name:
        creds = _from_store(store_name, helper_server(host), trace)
        if creds is not None:
            return creds
    match = index.lookup(host, path)
    if match is None:
        if trace:
            trace(f"  no auths key for {host}{'/' + path if path else ''}")
        return None
    if trace:
        _trace_match(match, host, trace)
    if match.entry.is_empty:
        return None
    return _entry_credentials(config, match)


def resolve(
    host: str,
    path: str = "",
    *,
    config: ConfigArg = None,
    sources: Optional[str] = None,
    trace: Optional[Trace] = None,
) -> Optional[Credentials]:
    """Credentials for repository ``path`` on registry ``host`` (normalized), or None.

    ``trace`` (a :class:`Trace`) collects the steps for ``dockercreds explain``.
    """
    if isinstance(config, DockerConfig):  # one loaded source: the common hot path
        creds = _from_config(config, host, path, trace)
    else:
        creds = None
        for cfg in iter_configs(config, sources):
            creds = _from_config(cfg, host, path, trace)
            if creds is not None:
                break
    if trace:
        if creds is not None:
            trace(f"result: {creds.source} ({creds.server!r})")
        else:
            trace("result: no credentials (anonymous)")
    return creds


def _parse_image(image: str) -> Reference:
    from .reference import parse_normalized

    return parse_normalized(image)


def get_credentials(
    image: str, *, config: ConfigArg = None, sources: Optional[str] = None
) -> Optional[Credentials]:
    """Credentials Docker (or Podman, with ``sources``) would use to pull ``image``."""
    ref = _parse_image(image)
    return resolve(normalize_registry(ref.domain), ref.path, config=config, sources=sources)


def get_registry_credentials(
    registry: str, *, config: ConfigArg = None, sources: Optional[str] = None
) -> Optional[Credentials]:
    """Credentials for a whole registry (``quay.io``, ``https://index.docker.io/v1/``)."""
    return resolve(normalize_registry(registry), "", config=config, sources=sources)


_DIGEST_SUFFIX = re.compile(r"@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}")


def _short_image(text: str) -> bool:
    """``ubuntu:22.04`` or ``ubuntu@sha256:...``: an image, though it has ``.`` or ``:``."""
    if _DIGEST_SUFFIX.search(text) and ":" not in text.split("@", 1)[0]:
        return True
    name, sep, tag = text.partition(":")
    if not sep or "." in name or name == "localhost" or text.startswith("["):
        return False
    return not (tag.isascii() and tag.isdigit())  # host:port stays a registry


def parse_target(target: str) -> tuple[str, str]:
    """(host, path) for a CLI TARGET: a registry or an image reference.

    A TARGET without ``/`` that contains ``.`` or ``:`` or is ``localhost`` is a registry,
    as is any URL; anything else is an image reference. Exceptions, which no registry
    can be: ``name:tag`` whose name has no ``.`` and whose tag is not a port
    (``ubuntu:22.04``), and ``name@algorithm:hex`` (a digest) are images.
    """
    text = target.strip()
    if not text:
        raise InvalidRegistry("empty target: give a registry (quay.io) or an image (ubuntu)")
    if "://" in text or (
        "/" not in text
        and ("." in text or ":" in text or text == "localhost")
        and not _short_image(text)
    ):
        return normalize_registry(text), ""
    try:
        ref = _parse_image(text)
    except InvalidReference:
        raise
    return normalize_registry(ref.domain), ref.path


def list_registries(*, config: ConfigArg = None, sources: Optional[str] = None) -> List[str]:
    """Every registry the config knows (auths, credHelpers, the credsStore's list)."""
    found: set[str] = set()
    for cfg in iter_configs(config, sources):
        index = cfg.index
        found.update(index.hosts)
        found.update(host for host, _ in index.namespaces)
        found.update(index.helpers)
        if cfg.creds_store:
            for server in store_for(cfg.creds_store).list():
                try:
                    found.add(normalize_registry(server))
                except InvalidRegistry:
                    continue
    return sorted(found, key=lambda h: (h != HUB_DOMAIN, h))


# --- writes ----------------------------------------------------------------------------
# login / logout (DESIGN.md "Writes"). The file is only ever changed through
# dockercreds.writer.update_config (locked, re-read, atomic).

#: Entry fields that carry a secret (or the user of one), compared case-insensitively.
SECRET_FIELDS = ("auth", "username", "password", "identitytoken", "registrytoken")


def _config_path(config: Union[str, os.PathLike[str], None]) -> Path:
    return Path(config) if config is not None else docker_config_path()


def _store_settings(path: Path) -> DockerConfig:
    """``credHelpers`` and ``credsStore`` of the file (a bad ``auths`` entry does not matter).

    A file that does not parse raises :class:`ConfigWriteError`, as a write would.
    """
    from .config import Source, parse_config_text
    from .writer import field_key, read_config

    raw = read_config(path)
    subset: Dict[str, Any] = {}
    for name in ("credHelpers", "credsStore"):
        key = field_key(raw, name)
        if key is not None:
            subset[name] = raw[key]
    return parse_config_text(json.dumps(subset), Source("docker", f"file:{path}", str(path)))


def _store_name(settings: DockerConfig, host: str, store: Optional[str]) -> Optional[str]:
    """The store a login writes to; None means plaintext in the file."""
    if store == "file":
        return None
    if store:
        return store
    helper = settings.index.helper_for(host)
    if helper is not None:
        return str(helper[0])
    return settings.creds_store


def _store_source(name: str) -> str:
    return "keyring" if name == "keyring" else f"helper:{name}"


def _host_key(raw: str, host: str) -> bool:
    """True when auths key ``raw`` names registry ``host`` as a whole (not a namespace)."""
    try:
        key = parse_key(raw)
    except InvalidRegistry:
        return False
    return key.host == host and not key.path


def strip_secrets(entry: Any, replacement: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """A copy of an auths entry without secret fields (``replacement`` goes where they were).

    Unknown fields (``email``, anything else) stay, in their order.
    """
    fields: Dict[str, Any] = entry if isinstance(entry, dict) else {}
    out: Dict[str, Any] = {}
    placed = replacement is None
    for name, value in fields.items():
        if name.lower() in SECRET_FIELDS:
            if not placed:
                out.update(replacement or {})
                placed = True
            continue
        out[name] = value
    if not placed:
        out.update(replacement or {})
    return out


def _check_credentials(username: str, password: str) -> None:
    if not username:
        raise InvalidCredentials("login needs a username (use '<token>' for an identity token)")
    if not password:
        raise InvalidCredentials(f"login needs a password (or token) for user {username!r}")
    if ":" in username:
        raise InvalidCredentials(
            f"username {username!r} contains ':'; registries cannot accept it (HTTP Basic"
            " splits user:password at the first ':')"
        )
    if any(c in username for c in "\n\r\x00"):
        raise InvalidCredentials("the username contains a line break or NUL character")


def login(
    registry: str,
    username: str,
    password: str,
    *,
    config: Union[str, os.PathLike[str], None] = None,
    store: Optional[str] = None,
    verify: bool = False,
    insecure: bool = False,
) -> Credentials:
    """Store credentials for ``registry`` where Docker would (see DESIGN.md "Writes").

    ``config``: the config.json to change (default: ``$DOCKER_CONFIG/config.json`` or
    ``~/.docker/config.json``). ``store``: None follows ``credHelpers[host]`` >
    ``credsStore`` > plaintext in the file; ``"file"``, ``"keyring"`` or a helper name
    force one. ``username`` ``<token>`` stores ``password`` as an identity token.
    ``verify``: first check the credentials with ``GET /v2/`` on the registry (https,
    then http for loopback hosts or when ``insecure``); a refusal raises
    :class:`~dockercreds.errors.LoginRefused` and nothing is stored.

    Plaintext storage emits :class:`dockercreds.writer.PlaintextStorageWarning` (Docker's
    "Your credentials are stored unencrypted" warning). The key written is Docker's:
    ``https://index.docker.io/v1/`` for Docker Hub, else ``host[:port]`` (a scheme or
    path in ``registry`` is dropped). With a store, the file gets ``"key": {}`` and any
    plaintext secret for that registry is removed from it; a ``store=`` the file does not
    already route the registry to gets a ``credHelpers[key]`` entry, so lookups ask it.
    """
    from .writer import PlaintextStorageWarning, section, update_config

    host = normalize_registry(registry.strip() or HUB_DOMAIN)  # "" is Docker Hub, as in Docker
    server = helper_server(host)
    _check_credentials(username, password)
    creds = Credentials.from_helper(server, username, password, source="")
    path = _config_path(config)
    settings = _store_settings(path)  # a malformed file stops us here
    name = _store_name(settings, host, store)
    # A forced store the file does not route this registry to: without a credHelpers
    # entry nothing (docker, podman, skopeo, dockercreds) would ever ask it.
    route = name is not None and _store_name(settings, host, None) != name
    if verify:
        verify_login(host, creds, insecure=insecure)

    if name is None:
        if creds.identity_token:
            fields = {"identitytoken": creds.identity_token}
        else:
            fields = {"auth": encode_auth(username, password)}

        def put_plain(data: Dict[str, Any]) -> None:
            auths = section(data, "auths")
            assert auths is not None  # noqa: S101 (created on demand)
            auths[server] = strip_secrets(auths.get(server), fields)

        update_config(path, put_plain)
        warnings.warn(
            PlaintextStorageWarning(
                f"Your credentials are stored unencrypted in '{path.absolute()}'."
            ),
            stacklevel=2,
        )
        return creds.replace(source=f"file:{path}")

    target = store_for(name)
    user, secret = creds.helper_pair()
    previous = target.get(server)
    if previous is not None and previous.helper_pair()[0] != user:
        # The Go helpers (pass, secretservice) keep one entry per username and may keep
        # answering with the old one: remove it before storing under a new username.
        target.erase(server)
    target.store(server, user, secret)

    def put_marker(data: Dict[str, Any]) -> None:
        auths = section(data, "auths")
        assert auths is not None  # noqa: S101 (created on demand)
        for key in list(auths):
            if key != server and _host_key(key, host) and isinstance(auths[key], dict):
                auths[key] = strip_secrets(auths[key])
        auths[server] = strip_secrets(auths.get(server))
        if route:
            helpers = section(data, "credHelpers")
            assert helpers is not None  # noqa: S101 (created on demand)
            helpers[server] = name

    update_config(path, put_marker)
    return creds.replace(source=_store_source(name))


def _logout_servers(host: str) -> List[str]:
    """What a store is asked to erase: Docker's list (key, http:// and https:// forms)."""
    server = helper_server(host)
    if host == HUB_DOMAIN:
        return [server]
    return [server, f"http://{host}", f"https://{host}"]


def _erase_everywhere(target: CredentialStore, host: str) -> bool:
    removed = False
    for server in _logout_servers(host):
        found = target.get(server)
        if found is not None and not found.is_empty:
            target.erase(server)
            removed = True
    return removed


def logout(registry: str, *, config: Union[str, os.PathLike[str], None] = None) -> bool:
    """Remove the credentials for ``registry`` from every store that holds them.

    Erases from the store ``credHelpers`` names for the registry and from ``credsStore``
    (each asked for ``host``, ``http://host`` and ``https://host``, as Docker does), and
    removes every auths key naming the registry as a whole (any scheme or path form).
    Namespace keys (``quay.io/org``) stay, unless ``registry`` names one exactly: then
    only that namespace is removed. Returns whether anything was removed; being logged
    out already is not an error. A helper program that is not installed is skipped with
    a warning; other store errors are raised after the file has been cleaned.
    """
    from .errors import DockerCredsError, HelperNotInstalled
    from .writer import resolve_target, section

    key = parse_key(registry.strip() or HUB_DOMAIN)
    host = key.host
    path = _config_path(config)
    settings = _store_settings(path)
    exists = resolve_target(path).exists()

    if key.path and not key.scheme:
        wanted = (host, key.path)

        def drop_namespace(data: Dict[str, Any]) -> bool:
            auths = section(data, "auths", create=False) or {}
            doomed = [k for k in auths if _namespace_of(k) == wanted]
            for k in doomed:
                del auths[k]
            return bool(doomed)

        if exists and _changed(path, drop_namespace):
            return True
        # no such namespace: Docker reduces the key to its host; so do we

    removed = False
    problems: List[DockerCredsError] = []
    names: List[str] = []
    helper = settings.index.helper_for(host)
    if helper is not None:
        names.append(str(helper[0]))
    if settings.creds_store and settings.creds_store not in names:
        names.append(settings.creds_store)
    for name in names:
        try:
            removed = _erase_everywhere(store_for(name), host) or removed
        except HelperNotInstalled as exc:
            warnings.warn(f"skipped {name!r} while logging out of {host}: {exc}", stacklevel=2)
        except DockerCredsError as exc:
            problems.append(exc)

    def drop_host(data: Dict[str, Any]) -> bool:
        auths = section(data, "auths", create=False) or {}
        doomed = [k for k in auths if _host_key(k, host)]
        for k in doomed:
            del auths[k]
        return bool(doomed)

    if exists:
        removed = _changed(path, drop_host) or removed
    if problems:
        raise problems[0]
    return removed


def _namespace_of(raw: str) -> Optional[Tuple[str, str]]:
    try:
        key = parse_key(raw)
    except InvalidRegistry:
        return None
    return (key.host, key.path) if key.path and not key.scheme else None


def _changed(path: Path, mutate: Any) -> bool:
    from .writer import update_config

    result: List[bool] = []

    def record(data: Dict[str, Any]) -> bool:
        changed = bool(mutate(data))
        result.append(changed)
        return changed

    update_config(path, record)
    return bool(result and result[0])


def verify_login(
    registry: str, creds: Credentials, *, insecure: bool = False, timeout: float = 30.0
) -> None:
    """Check ``creds`` against the registry as ``docker login`` does: ``GET /v2/`` = 200.

    https first; http too for loopback registries or with ``insecure`` (when https cannot
    connect). 401/403 raise :class:`~dockercreds.errors.LoginRefused`; an unreachable
    registry or another status raises :class:`~dockercreds.errors.AuthError`.
    """
    import requests

    from .errors import AuthError, LoginRefused
    from .registry import api_host, is_loopback

    host = api_host(registry)
    schemes = ["https", "http"] if insecure or is_loopback(registry) else ["https"]
    failure = ""
    for scheme in schemes:
        url = f"{scheme}://{host}/v2/"
        try:
            resp = _authenticated_get(url, creds, insecure, timeout)
        except requests.exceptions.ConnectionError as exc:
            failure = f"{url}: {type(exc).__name__}"
            continue
        except requests.exceptions.RequestException as exc:
            raise AuthError(f"login to {url} failed: {type(exc).__name__}") from None
        if resp.status_code == 200:
            return
        status = f"{resp.status_code} {resp.reason or ''}".strip()
        if resp.status_code in (401, 403):
            raise LoginRefused(
                f"login to {url} failed with status {status}: the registry refused"
                f" username {creds.username or '<token>'!r} (check the password or token);"
                " nothing was stored"
            )
        raise AuthError(
            f"login to {url} failed with status {status}; nothing was stored"
        )
    hint = "" if len(schemes) > 1 else " (for a plain-http registry use --insecure)"
    raise AuthError(f"cannot reach the registry {host}: {failure}{hint}; nothing was stored")


def _authenticated_get(url: str, creds: Credentials, insecure: bool, timeout: float) -> Any:
    """``GET url``, answering the registry's Basic or Bearer challenge with ``creds``."""
    import requests

    from .auth_requests import RegistryAuth
    from .errors import LoginRefused, TokenError

    def credentials(_registry: str) -> Credentials:
        return creds

    marked = [url.split("/")[2]] if insecure else []
    auth = RegistryAuth(credentials=credentials, insecure=marked)
    with requests.Session() as session:
        session.trust_env = False  # no proxy and no ~/.netrc for a login check
        try:
            return session.get(url, auth=auth, timeout=timeout, allow_redirects=False)
        except TokenError as exc:
            raise LoginRefused(f"login to {url} failed: {exc}; nothing was stored") from None
