"""Writing accounts: login, logout, the store a write goes to, and login verification.

The read path (which source, store and key answer a lookup) is :mod:`dockercreds.resolver`;
this module builds on it and is never imported by it. The config file is only ever
changed through :func:`dockercreds.writer.update_config` (locked, re-read, atomic).

Where a write goes follows Docker (DESIGN.md "Writes"): ``credHelpers[host]`` >
``credsStore`` > plaintext in the file; ``store=`` forces ``file``, ``keyring`` or a
helper. :mod:`dockercreds.migrate` builds on the same pieces. Namespace accounts
(``quay.io/org``) live in the keyring only: item ``host/path`` and the marker
``"host/path": {}`` (see :func:`login`); helpers are asked per registry.

``target="containers"`` writes the containers auth file (podman, skopeo, buildah) the
way containers/image does, through the same locked writer:

* the file: ``config=`` if given, else podman's (``REGISTRY_AUTH_FILE`` >
  ``$DOCKER_CONFIG/config.json`` > ``$XDG_RUNTIME_DIR/containers/auth.json``, as
  containers/common picks it);
* keys as ``podman login`` writes them: ``host[:port]`` (``docker.io`` for Docker Hub),
  or a namespace ``host[:port]/path`` when the registry names one (``quay.io/org``);
* ``credHelpers[host]`` (exact key, as containers/image reads it) routes the secret to
  that helper; ``credsStore`` is ignored (podman ignores it) and never written; a
  namespace cannot go to a helper (helpers are asked per registry);
* podman does not lock the file: a podman write that overlaps ours can replace the file
  with a copy read before our write. After writing, the file is read again and the
  change re-applied (a few times at most) when an unlocked writer has undone it.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from . import resolver
from .config import DockerConfig, containers_auth_paths, docker_config_path, encode_auth
from .credentials import Credentials
from .errors import DockerCredsError, InvalidArgument, InvalidCredentials, InvalidRegistry
from .registry import HUB_DOMAIN, helper_server, normalize_registry, parse_key
from .resolver import CredentialStore

__all__ = [
    "CONTAINERS",
    "DOCKER",
    "HUB_ALIAS",
    "TARGETS",
    "SECRET_FIELDS",
    "config_path",
    "containers_key",
    "containers_write_path",
    "existing_config_path",
    "login",
    "logout",
    "namespace_of",
    "route_keys",
    "settings_of",
    "store_settings",
    "strip_secrets",
    "verify_login",
    "write_store",
]

PathArg = Union[str, "os.PathLike[str]", None]

#: Entry fields that carry a secret (or the user of one), compared case-insensitively.
SECRET_FIELDS = ("auth", "username", "password", "identitytoken", "registrytoken")

#: What podman and skopeo (containers/image) call Docker Hub in ``credHelpers`` and ask a
#: helper for; the docker CLI and dockercreds use ``https://index.docker.io/v1/``.
HUB_ALIAS = "docker.io"


#: ``target=`` values: the Docker config.json, or the containers auth.json.
DOCKER = "docker"
CONTAINERS = "containers"
TARGETS = (DOCKER, CONTAINERS)

#: How often a containers write is re-applied when an unlocked writer (podman) undid it.
_SETTLE_TRIES = 3


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise InvalidArgument(f"target must be 'docker' or 'containers', not {target!r}")


def _check_store_arg(store: Optional[str]) -> None:
    """A ``store=`` naming a helper program that is not installed is the caller's
    mistake, not the config's: say so before anything is read or written."""
    if store in (None, "file", "keyring"):
        return
    from .errors import HelperNotInstalled
    from .helpers import program_exists

    assert store is not None  # noqa: S101 - for mypy
    if not program_exists(store):
        raise HelperNotInstalled(
            f"store={store!r}: docker-credential-{store} is not installed (not found on"
            ' PATH); install it, or use store="keyring" or store="file"',
            helper=store,
            action="store",
        )


def config_path(config: PathArg, target: str = DOCKER) -> Path:
    """The file a write changes: ``config``, else the default file of ``target``.

    Docker: ``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``. Containers:
    the file podman writes (:func:`containers_write_path`).
    """
    _check_target(target)
    if config is not None:
        return Path(config)
    if target == CONTAINERS:
        return containers_write_path()
    return docker_config_path()


def existing_config_path(config: PathArg, target: str = DOCKER) -> Path:
    """:func:`config_path`, for a change that needs the file: a ``config`` named
    explicitly that does not exist is a :class:`~dockercreds.errors.ConfigNotFound` (a
    typo must not read as "nothing to do"); a missing default file is fine."""
    path = config_path(config, target)
    if config is not None and not path.exists():
        from .errors import ConfigNotFound

        raise ConfigNotFound(
            f"no such config file: {path} (a config named explicitly must exist;"
            " leave it out to use the default locations)",
            path=str(path),
        )
    return path


def containers_write_path(environ: Optional[Mapping[str, str]] = None) -> Path:
    """The file ``podman login`` (and skopeo, buildah) writes by default.

    ``REGISTRY_AUTH_FILE``, else ``$DOCKER_CONFIG/config.json`` when ``DOCKER_CONFIG`` is
    set (containers/common's default auth file: podman then writes, in its own format,
    into Docker's file and reads only that), else ``$XDG_RUNTIME_DIR/containers/auth.json``
    (``/run/containers/$UID/auth.json`` without ``XDG_RUNTIME_DIR``).
    """
    env = os.environ if environ is None else environ
    explicit = env.get("REGISTRY_AUTH_FILE")
    if explicit:
        return Path(explicit)
    docker = env.get("DOCKER_CONFIG")
    if docker:
        return Path(docker) / "config.json"
    return containers_auth_paths(env)[0]


def containers_key(registry: str) -> Tuple[str, str]:
    """(host, key) of ``registry`` in a containers auth file, as ``podman login`` writes it.

    ``host[:port]`` with Docker Hub as ``docker.io``; a registry naming a namespace
    (``quay.io/org``) keeps it: ``quay.io/org``. A URL means its whole registry
    (``https://quay.io/v2/`` is ``quay.io``), as in podman.
    """
    key = parse_key(registry.strip() or HUB_DOMAIN)
    return key.host, f"{key.host}/{key.path}" if key.path else key.host


def store_settings(path: Path) -> DockerConfig:
    """``credHelpers`` and ``credsStore`` of the file (a bad ``auths`` entry does not matter).

    A file that does not parse raises :class:`ConfigWriteError`, as a write would.
    """
    from .writer import read_config

    return settings_of(read_config(path), path)


def settings_of(raw: Dict[str, Any], path: Union[str, os.PathLike[str]]) -> DockerConfig:
    """``credHelpers`` and ``credsStore`` of an already read config object ``raw``."""
    from .config import Source, parse_config_text
    from .writer import field_key

    subset: Dict[str, Any] = {}
    for name in ("credHelpers", "credsStore"):
        key = field_key(raw, name)
        if key is not None:
            subset[name] = raw[key]
    label = os.fspath(path)
    return parse_config_text(json.dumps(subset), Source("docker", f"file:{label}", label))


def write_store(settings: DockerConfig, host: str, store: Optional[str]) -> Optional[str]:
    """The store a write for ``host`` goes to; None means plaintext in the file."""
    if store == "file":
        return None
    if store:
        return store
    helper = settings.index.helper_for(host)
    if helper is not None:
        return str(helper[0]) or None  # "": this file, as in Docker
    return settings.creds_store


def route_keys(host: str, target: str = DOCKER) -> List[str]:
    """The ``credHelpers`` keys that send ``host`` to a store in every peer.

    The docker CLI and dockercreds read ``host[:port]`` (``https://index.docker.io/v1/``
    for Docker Hub); podman and skopeo read the registry exactly as an image names it,
    which for Docker Hub is ``docker.io``, and ask the helper for that same name. In a
    containers auth file (``target="containers"``) only podman's key is needed.
    """
    if target == CONTAINERS:
        return [host]
    server = helper_server(host)
    return [server, HUB_ALIAS] if host == HUB_DOMAIN else [server]


def _store_source(name: str) -> str:
    return "keyring" if name == "keyring" else f"helper:{name}"


def _host_key(raw: str, host: str) -> bool:
    """True when auths key ``raw`` names registry ``host`` as a whole (not a namespace)."""
    try:
        key = parse_key(raw)
    except InvalidRegistry:
        return False
    return key.host == host and not key.path


def namespace_of(raw: str) -> Optional[Tuple[str, str]]:
    """(host, path) when auths key ``raw`` is a namespace key (``quay.io/org``), else None."""
    try:
        key = parse_key(raw)
    except InvalidRegistry:
        return None
    return (key.host, key.path) if key.path and not key.scheme else None


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
    config: PathArg = None,
    store: Optional[str] = None,
    verify: bool = False,
    insecure: bool = False,
    target: str = DOCKER,
) -> Credentials:
    """Store credentials for ``registry`` where Docker (or podman) would (DESIGN.md "Writes").

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

    A namespace (``quay.io/org``, ``host:5000/team/sub``) whose write store is the
    keyring (``store="keyring"``, or the file routes the registry there) is a namespace
    account: the keyring item ``host/path`` and the marker ``"host/path": {}``, with no
    ``credHelpers`` entry; lookups of repositories under it use it, most specific first.
    A namespace with ``store=`` an external helper raises
    :class:`~dockercreds.errors.InvalidArgument` (helpers are asked per registry);
    otherwise (plaintext, or a helper the file routes to) the whole registry is logged
    in to, as Docker does. The docker CLI reduces keys to hosts: it never sees a
    namespace account and uses the registry's own account for those repositories.

    ``target="containers"``: change the containers auth file instead (podman, skopeo,
    buildah; ``config`` then names that file, default podman's own) in its format, as
    ``podman login`` would; see the module doc. ``registry`` may name a namespace there
    (``quay.io/org``): that key is written and the registry's other keys stay.
    """
    _check_target(target)
    _check_store_arg(store)
    if target == CONTAINERS:
        return _login_containers(
            registry, username, password,
            config=config, store=store, verify=verify, insecure=insecure,
        )
    from .helper_cache import invalidate
    from .writer import PlaintextStorageWarning, section, update_config

    host = normalize_registry(registry.strip() or HUB_DOMAIN)  # "" is Docker Hub, as in Docker
    server = helper_server(host)
    _check_credentials(username, password)
    creds = Credentials.from_helper(server, username, password, source="")
    path = config_path(config)
    settings = store_settings(path)  # a malformed file stops us here
    name = write_store(settings, host, store)
    namespace = namespace_of(registry.strip())
    if namespace is not None:
        if name == "keyring":
            return _login_namespace(
                namespace, username, password, path=path, verify=verify, insecure=insecure
            )
        if store is not None and name is not None:
            raise InvalidArgument(
                f"cannot store the namespace {registry.strip()!r} in {name!r}: credential"
                " helpers are asked per registry only (the helper protocol has no"
                " repositories); use --store keyring for a namespace account, or log in"
                f" to {host} for the whole registry"
            )
        # plaintext or a helper the file routes to: the whole registry, as Docker does
    # A forced store the file does not route this registry to: without a credHelpers
    # entry nothing (docker, podman, skopeo, dockercreds) would ever ask it.
    route = name is not None and write_store(settings, host, None) != name
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
        invalidate(host)
        warnings.warn(
            PlaintextStorageWarning(
                f"Your credentials are stored unencrypted in '{path.absolute()}'."
            ),
            stacklevel=2,
        )
        return creds.replace(source=f"file:{path}")

    _store_account(name, _store_servers(settings, host, name), creds, host)

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


def _login_namespace(
    namespace: Tuple[str, str],
    username: str,
    password: str,
    *,
    path: Path,
    verify: bool,
    insecure: bool,
) -> Credentials:
    """A namespace account (``quay.io/org``) in the keyring, marked ``"quay.io/org": {}``.

    The keyring item is named by the canonical namespace key; no ``credHelpers`` entry
    is written (helpers are chosen per registry, and routing the registry to the keyring
    would hide its plaintext account from the docker CLI). The docker CLI reduces keys to
    hosts: it never sees the namespace account (see DESIGN.md "Keys").
    """
    from .helper_cache import invalidate
    from .writer import section, update_config

    host, ns_path = namespace
    key = f"{host}/{ns_path}"
    creds = Credentials.from_helper(key, username, password, source="")
    if verify:
        verify_login(host, creds, insecure=insecure)
    chosen = resolver.store_for("keyring")
    user, secret = creds.helper_pair()
    previous = chosen.get(key)
    if previous is not None and previous.helper_pair()[0] != user:
        chosen.erase(key)
    chosen.store(key, user, secret)
    invalidate(host)

    def put_marker(data: Dict[str, Any]) -> None:
        auths = section(data, "auths")
        assert auths is not None  # noqa: S101 (created on demand)
        for other in list(auths):  # other spellings of the namespace lose their secret
            if other != key and namespace_of(other) == namespace and isinstance(
                auths[other], dict
            ):
                auths[other] = strip_secrets(auths[other])
        auths[key] = strip_secrets(auths.get(key))

    update_config(path, put_marker)
    return creds.replace(source=_store_source("keyring"))


def _store_account(name: str, servers: List[str], creds: Credentials, host: str) -> None:
    """Store ``creds`` in store ``name`` under each of ``servers``; drop cached answers.

    The Go helpers (pass, secretservice) keep one entry per username and may keep
    answering with the old one: an entry under another username is erased first.
    """
    from .helper_cache import invalidate

    chosen = resolver.store_for(name)
    user, secret = creds.helper_pair()
    for each in servers:
        previous = chosen.get(each)
        if previous is not None and previous.helper_pair()[0] != user:
            chosen.erase(each)
        chosen.store(each, user, secret)
    invalidate(host)


def _store_servers(settings: DockerConfig, host: str, name: str) -> List[str]:
    """The names a login stores under in store ``name``.

    ``host[:port]`` (Docker Hub: ``https://index.docker.io/v1/``); for Docker Hub also
    ``docker.io`` when ``credHelpers["docker.io"]`` sends podman and skopeo to the same
    store (``dockercreds migrate`` routes Hub so), which keeps their copy current.
    """
    server = helper_server(host)
    if host == HUB_DOMAIN and settings.cred_helpers.get(HUB_ALIAS) == name:
        return [server, HUB_ALIAS]
    return [server]


def _logout_servers(host: str) -> List[str]:
    """What a store is asked to erase: Docker's list (key, http:// and https:// forms).

    For Docker Hub also ``docker.io``, the name podman and skopeo ask a helper for.
    """
    server = helper_server(host)
    if host == HUB_DOMAIN:
        return [server, HUB_ALIAS]
    return [server, f"http://{host}", f"https://{host}"]


def _erase_namespace(server: str) -> None:
    """Erase a namespace account from the keyring (a keyring that is not there has none)."""
    from .errors import NoKeyringError

    chosen = resolver.store_for("keyring")
    try:
        found = chosen.get(server)
    except NoKeyringError as exc:
        warnings.warn(f"skipped the keyring while logging out of {server}: {exc}", stacklevel=3)
        return
    if found is not None:
        chosen.erase(server)


def _erase_everywhere(target: CredentialStore, host: str) -> bool:
    removed = False
    for server in _logout_servers(host):
        found = target.get(server)
        if found is not None and not found.is_empty:
            target.erase(server)
            removed = True
    return removed


def logout(registry: str, *, config: PathArg = None, target: str = DOCKER) -> bool:
    """Remove the credentials for ``registry`` from every store that holds them.

    Erases from the store ``credHelpers`` names for the registry and from ``credsStore``
    (each asked for ``host``, ``http://host`` and ``https://host``, as Docker does), and
    removes every auths key naming the registry as a whole (any scheme or path form).
    A ``config`` named explicitly must exist (:class:`~dockercreds.errors.ConfigNotFound`).
    Namespace keys (``quay.io/org``) stay, unless ``registry`` names one exactly: then
    only that namespace is removed (its keyring item too, when the key was a ``{}``
    marker of a namespace account). Returns whether anything was removed; being logged
    out already is not an error. A helper program that is not installed is skipped with
    a warning; other store errors are raised after the file has been cleaned.

    ``target="containers"``: the containers auth file (``config`` names it, default
    podman's), as ``podman logout`` does: a namespace (``quay.io/org``) removes exactly
    that key; a registry removes its whole-registry keys and erases it from the helper
    ``credHelpers[host]`` names (``credsStore`` is not used by podman, so not here).
    """
    _check_target(target)
    if target == CONTAINERS:
        return _logout_containers(registry, config=config)
    from .errors import HelperNotInstalled
    from .helper_cache import invalidate
    from .writer import resolve_target, section

    key = parse_key(registry.strip() or HUB_DOMAIN)
    host = key.host
    path = existing_config_path(config)
    settings = store_settings(path)
    exists = resolve_target(path).exists()

    if key.path and not key.scheme:
        wanted = (host, key.path)

        markers: List[bool] = []

        def drop_namespace(data: Dict[str, Any]) -> bool:
            auths = section(data, "auths", create=False) or {}
            doomed = [k for k in auths if namespace_of(k) == wanted]
            for k in doomed:
                markers.append(auths[k] == {})
                del auths[k]
            return bool(doomed)

        if exists and _changed(path, drop_namespace):
            if any(markers):  # a namespace account: its keyring item goes too
                _erase_namespace(f"{host}/{key.path}")
            invalidate(host)
            return True
        # no such namespace: Docker reduces the key to its host; so do we

    removed = False
    problems: List[DockerCredsError] = []
    names: List[str] = []
    helper = settings.index.helper_for(host)
    if helper is not None and helper[0]:
        names.append(str(helper[0]))
    if settings.creds_store and settings.creds_store not in names:
        names.append(settings.creds_store)
    for name in names:
        try:
            removed = _erase_everywhere(resolver.store_for(name), host) or removed
        except HelperNotInstalled as exc:
            warnings.warn(f"skipped {name!r} while logging out of {host}: {exc}", stacklevel=2)
        except DockerCredsError as exc:
            problems.append(exc)

    if exists:
        removed = _drop_host_keys(path, host) or removed
    invalidate(host)
    if problems:
        raise problems[0]
    return removed


# --------------------------------------------------------------------------- containers


def _raw_helper(raw: Dict[str, Any], host: str) -> Optional[str]:
    """``credHelpers[host]`` as containers/image reads it: the exact key, nothing else."""
    from .writer import section

    try:
        helpers = section(raw, "credHelpers", create=False) or {}
    except DockerCredsError:
        return None
    name = helpers.get(host)
    return name if isinstance(name, str) and name else None


def _containers_store(raw: Dict[str, Any], host: str, store: Optional[str]) -> Optional[str]:
    """Where a containers write for ``host`` goes; None means plaintext in the file."""
    if store == "file":
        return None
    return store or _raw_helper(raw, host)


def _settle(path: Path, done: Any, mutate: Any) -> None:
    """Write with ``mutate``; re-apply while ``done(data)`` says an unlocked writer undid it.

    podman renames its own copy over the file without a lock; a copy it read before our
    rename drops our change. ``done`` is true when the file has our value, or a value
    that is neither ours nor the one we replaced (a later writer's: theirs stands).
    Bounded: a writer that keeps undoing it wins.
    """
    from .writer import read_config, resolve_target, update_config

    for _ in range(_SETTLE_TRIES):
        update_config(path, mutate)
        try:
            if done(read_config(resolve_target(path))):
                return
        except DockerCredsError:
            return  # someone wrote a file we cannot read: not ours to fix


def _login_containers(
    registry: str,
    username: str,
    password: str,
    *,
    config: PathArg,
    store: Optional[str],
    verify: bool,
    insecure: bool,
) -> Credentials:
    from .helper_cache import invalidate
    from .writer import PlaintextStorageWarning, read_config, section

    host, key = containers_key(registry)
    _check_credentials(username, password)
    creds = Credentials.from_helper(host, username, password, source="")
    path = config_path(config, CONTAINERS)
    raw = read_config(path)  # a malformed file stops us here
    name = _containers_store(raw, host, store)
    if name is not None and key != host:
        why = (
            f"credHelpers[{host!r}] in {path} sends {host} to {name!r}"
            if store is None
            else f"--store {name!r} was asked for"
        )
        raise InvalidArgument(
            f"cannot store the namespace {key!r}: {why}, and credential helpers are asked"
            f" per registry only (podman refuses it too); log in to {host} instead, or"
            " use --store file"
        )
    if name is None and creds.identity_token:
        raise InvalidCredentials(
            "a containers auth file cannot hold an identity token without a username"
            " (podman and skopeo would not use it); use --store keyring or a helper"
        )
    route = name is not None and _raw_helper(raw, host) != name
    if verify:
        verify_login(host, creds, insecure=insecure)

    if name is None:
        fields = {"auth": encode_auth(username, password)}
        replaced: List[Any] = [None]  # the entry our last write replaced

        def put_plain(data: Dict[str, Any]) -> None:
            auths = section(data, "auths")
            assert auths is not None  # noqa: S101 (created on demand)
            if key == host:  # one key per registry: podman's wins, other forms go
                for other in [k for k in auths if k != key and _host_key(k, host)]:
                    del auths[other]
            replaced[0] = auths.get(key)
            auths[key] = strip_secrets(auths.get(key), fields)

        def has_plain(data: Dict[str, Any]) -> bool:
            auths = section(data, "auths", create=False) or {}
            entry = auths.get(key)
            ours = isinstance(entry, dict) and entry.get("auth") == fields["auth"]
            return ours or entry != replaced[0]

        _settle(path, has_plain, put_plain)
        invalidate(host)
        warnings.warn(
            PlaintextStorageWarning(
                f"Your credentials are stored unencrypted in '{path.absolute()}'."
            ),
            stacklevel=3,
        )
        return creds.replace(source=f"file:{path}")

    # podman asks a helper for docker.io; dockercreds (reading this file too) and
    # docker ask for https://index.docker.io/v1/: Docker Hub is stored under both
    _store_account(name, route_keys(host), creds, host)

    old_route: List[Optional[str]] = [None]  # the credHelpers value our last write replaced

    def put_route(data: Dict[str, Any]) -> bool:
        old_route[0] = _raw_helper(data, host)
        changed = False
        auths = section(data, "auths", create=False) or {}
        for other in [k for k in auths if _host_key(k, host)]:
            stripped = strip_secrets(auths[other])
            if stripped != auths[other]:
                changed = True
                if stripped:
                    auths[other] = stripped
                else:  # an empty entry would only hide the registry from podman
                    del auths[other]
        if route:
            helpers = section(data, "credHelpers")
            assert helpers is not None  # noqa: S101 (created on demand)
            if helpers.get(host) != name:
                helpers[host] = name
                changed = True
        return changed

    def routed(data: Dict[str, Any]) -> bool:
        now = _raw_helper(data, host)
        return not route or now == name or now != old_route[0]

    _settle(path, routed, put_route)
    return creds.replace(source=_store_source(name))


def _logout_containers(registry: str, *, config: PathArg) -> bool:
    from .errors import HelperNotInstalled
    from .helper_cache import invalidate
    from .writer import read_config, resolve_target, section

    host, key = containers_key(registry)
    path = existing_config_path(config, CONTAINERS)
    raw = read_config(path)
    exists = resolve_target(path).exists()

    if key != host:
        wanted = namespace_of(key)

        def drop_namespace(data: Dict[str, Any]) -> bool:
            auths = section(data, "auths", create=False) or {}
            doomed = [k for k in auths if namespace_of(k) == wanted]
            for k in doomed:
                del auths[k]
            return bool(doomed)

        # podman removes exactly that key; the registry's own entry stays
        return exists and _changed(path, drop_namespace)

    removed = False
    problem: Optional[DockerCredsError] = None
    name = _raw_helper(raw, host)
    if name is not None:
        try:
            removed = _erase_everywhere(resolver.store_for(name), host)
        except HelperNotInstalled as exc:
            warnings.warn(f"skipped {name!r} while logging out of {host}: {exc}", stacklevel=3)
        except DockerCredsError as exc:
            problem = exc

    if exists:
        removed = _drop_host_keys(path, host) or removed
    invalidate(host)
    if problem is not None:
        raise problem
    return removed


def _drop_host_keys(path: Path, host: str) -> bool:
    """Remove every auths key naming ``host`` as a whole (any scheme or path form)."""
    from .writer import section

    def drop_host(data: Dict[str, Any]) -> bool:
        auths = section(data, "auths", create=False) or {}
        doomed = [k for k in auths if _host_key(k, host)]
        for k in doomed:
            del auths[k]
        return bool(doomed)

    return _changed(path, drop_host)


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

    from .errors import AuthError, LoginRefused, NetworkError
    from .netfail import unreachable
    from .registry import api_host, is_loopback

    host = api_host(registry)
    schemes = ["https", "http"] if insecure or is_loopback(registry) else ["https"]
    failure = ""
    for scheme in schemes:
        url = f"{scheme}://{host}/v2/"
        try:
            resp = _authenticated_get(url, creds, insecure, timeout)
        except requests.exceptions.ConnectionError as exc:
            failure = f"{unreachable(host, exc)} (GET {url})"
            continue
        except requests.exceptions.RequestException as exc:
            raise NetworkError(
                f"{unreachable(host, exc)} (GET {url}); nothing was stored"
            ) from None
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
    hint = "" if len(schemes) > 1 else "; for a plain-http registry use --insecure"
    raise NetworkError(f"{failure}{hint}; nothing was stored")


def _authenticated_get(url: str, creds: Credentials, insecure: bool, timeout: float) -> Any:
    """``GET url``, answering the registry's Basic or Bearer challenge with ``creds``."""
    import requests

    from .auth_requests import RegistryAuth
    from .errors import LoginRefused, TokenError

    def credentials(_registry: str) -> Credentials:
        return creds

    marked = [url.split("/")[2]] if insecure else []
    auth = RegistryAuth(credentials=credentials, insecure=marked, token_timeout=timeout)
    with requests.Session() as session:
        session.trust_env = False  # no proxy and no ~/.netrc for a login check
        try:
            return session.get(url, auth=auth, timeout=timeout, allow_redirects=False)
        except TokenError as exc:
            raise LoginRefused(f"login to {url} failed: {exc}; nothing was stored") from None
