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

import os
from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Protocol, Union

from .config import DockerConfig, docker_config_path, iter_default_sources, load_file
from .credentials import Credentials
from .errors import InvalidReference, InvalidRegistry
from .registry import HUB_DOMAIN, helper_server, normalize_registry

if TYPE_CHECKING:  # pragma: no cover
    from .reference import Reference

__all__ = [
    "ConfigArg",
    "CredentialStore",
    "Trace",
    "get_credentials",
    "get_registry_credentials",
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


def _noop(message: str) -> None:
    return None


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


def _configs(config: ConfigArg, sources: Optional[str]) -> Iterator[DockerConfig]:
    if config is None:
        yield from iter_default_sources(sources or "docker")
    elif isinstance(config, DockerConfig):
        yield config
    else:
        yield load_file(config)


def _from_store(name: str, server: str, trace: Any) -> Optional[Credentials]:
    store = store_for(name)
    what = "the keyring (in-process)" if name == "keyring" else f"docker-credential-{name}"
    trace(f"  asking {what} for {server!r}")
    creds = store.get(server)
    if creds is None or creds.is_empty:
        trace(f"  {what}: not found")
        return None
    kind = "identity token" if creds.identity_token and not creds.password else "password"
    trace(f"  {what}: found username {creds.username!r} with a {kind}")
    return creds


def _from_config(
    config: DockerConfig, host: str, path: str, trace: Any
) -> Optional[Credentials]:
    trace(f"source {config.source.label}")
    for warning in config.warnings:
        trace(f"  warning: {warning}")
    if config.is_empty:
        trace("  empty (missing, 0-byte or no entries)")
        return None
    index = config.index
    for raw, why in sorted(index.ignored.items()):
        trace(f"  ignored key {raw!r}: {why}")
    server = helper_server(host)
    helper = index.helper_for(host)
    store_name: Optional[str] = None
    if helper is not None:
        store_name = helper[0]
        trace(f"  credHelpers[{helper[1]!r}] = {store_name!r}")
    elif config.creds_store:
        store_name = config.creds_store
        trace(f"  credsStore = {store_name!r}")
    if store_name:
        creds = _from_store(store_name, server, trace)
        if creds is not None:
            return creds
    match = index.lookup(host, path)
    if match is None:
        trace(f"  no auths key for {host}{'/' + path if path else ''}")
        return None
    where = f"namespace '{host}/{match.namespace}'" if match.namespace else f"host {host!r}"
    trace(f"  auths key {match.key!r} matches ({where})")
    if match.shadowed:
        trace(
            "  collision: "
            + ", ".join(repr(k) for k in match.shadowed)
            + f" name the same place; {match.key!r} wins (canonical form first)"
        )
    entry = match.entry
    if entry.is_empty:
        trace(
            f"  auths[{match.key!r}] is empty ({{}}): the credential store holds it;"
            " nothing more from this source"
        )
        return None
    trace(f"  auths[{match.key!r}]: username {entry.username!r}")
    return Credentials(
        match.key,
        username=entry.username,
        password=entry.password,
        identity_token=entry.identity_token,
        registry_token=entry.registry_token,
        email=entry.email,
        source=config.source.label,
    )


def resolve(
    host: str,
    path: str = "",
    *,
    config: ConfigArg = None,
    sources: Optional[str] = None,
    trace: Any = _noop,
) -> Optional[Credentials]:
    """Credentials for repository ``path`` on registry ``host`` (normalized), or None."""
    for cfg in _configs(config, sources):
        creds = _from_config(cfg, host, path, trace)
        if creds is not None:
            trace(f"result: {creds.source} ({creds.server!r})")
            return creds
    trace("result: no credentials (anonymous)")
    return None


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


def parse_target(target: str) -> tuple[str, str]:
    """(host, path) for a CLI TARGET: a registry or an image reference.

    A TARGET without ``/`` that contains ``.`` or ``:`` or is ``localhost`` is a registry,
    as is any URL; anything else is an image reference.
    """
    text = target.strip()
    if not text:
        raise InvalidRegistry("empty target: give a registry (quay.io) or an image (ubuntu)")
    if "://" in text or (
        "/" not in text and ("." in text or ":" in text or text == "localhost")
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
    for cfg in _configs(config, sources):
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


def login(
    registry: str,
    username: str,
    password: str,
    *,
    config: Union[str, os.PathLike[str], None] = None,
    store: Optional[str] = None,
    verify: bool = False,
) -> Credentials:
    """Store credentials for ``registry`` where Docker would (see DESIGN.md "Writes")."""
    raise NotImplementedError("login lands with the safe-writes work")


def logout(registry: str, *, config: Union[str, os.PathLike[str], None] = None) -> bool:
    """Remove the credentials for ``registry`` from every store that holds them."""
    raise NotImplementedError("logout lands with the safe-writes work")
