"""The precedence rules, in one place: which source, which store, which key.

Lookups only: writing accounts (login, logout, the store a write goes to) is
:mod:`dockercreds.accounts`, which builds on this module (never the other way round).

For one registry and repository, each config source is asked in order (DESIGN.md
"Sources"); the first that yields credentials wins. Within a source:

1. ``credHelpers[host]``, else ``credsStore``: the store is asked with the registry
   (``host[:port]``, or ``https://index.docker.io/v1/`` for Docker Hub). The store name
   ``keyring`` is answered in-process by :class:`dockercreds.keyring_store.KeyringStore`;
   any other name runs ``docker-credential-<name>``.
2. When the store has nothing ("not found"), the most specific ``auths`` entry is used
   (deliberately unlike Docker, which ignores plaintext once a store is configured).
   An empty ``{}`` entry means "the store holds it": the source yields nothing more.

A helper that is not installed counts as "not found", with a
:class:`~dockercreds.errors.HelperNotInstalledWarning` once per helper per process
(``strict=True`` raises :class:`~dockercreds.errors.HelperNotInstalled` instead); an
installed helper that fails is an error. Helper answers are reused for a while
(:mod:`dockercreds.helper_cache`). Each step is logged at DEBUG on
``dockercreds.resolver`` (the same steps ``dockercreds explain`` prints).
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, List, Optional, Protocol, Tuple, Union

from ._log import debug_logger
from .config import (
    DockerConfig,
    docker_config_path,
    iter_default_sources,
    load_file,
    plain_auth,
)
from .credentials import Credentials, new_credentials
from .errors import (
    HelperNotInstalled,
    HelperNotInstalledWarning,
    InvalidReference,
    InvalidRegistry,
)
from .registry import (
    HUB_DOMAIN,
    HUB_KEY,
    helper_server,
    normalize_registry,
    without_userinfo,
)

if TYPE_CHECKING:  # pragma: no cover
    from logging import Logger

    from .helper_cache import HelperCache
    from .matcher import KeyIndex, Match
    from .reference import Reference

__all__ = [
    "ConfigArg",
    "CredentialStore",
    "Trace",
    "get_credentials",
    "get_registry_credentials",
    "is_registry_target",
    "iter_configs",
    "list_registries",
    "load_config",
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
    """Steps of a lookup, for ``dockercreds explain``. Never holds a secret.

    Each step is also logged at DEBUG on ``dockercreds.resolver``.
    """

    def __init__(self) -> None:
        self.steps: List[str] = []

    def __call__(self, message: str) -> None:
        self.steps.append(message)
        log = debug_logger(__name__)
        if log:
            log.debug("%s", message)

    def __bool__(self) -> bool:
        return True


class _LogTrace(Trace):
    """The steps of a lookup nobody asked to trace, logged only (DEBUG enabled)."""

    def __init__(self, log: Logger) -> None:
        super().__init__()
        self._log = log

    def __call__(self, message: str) -> None:
        self._log.debug("%s", message)


def store_for(name: str) -> CredentialStore:
    """The store for a ``credsStore``/``credHelpers`` name."""
    if name == "keyring":
        from .keyring_store import KeyringStore

        return KeyringStore()
    from .helpers import HelperClient

    return HelperClient(name)


def load_config(
    path: Union[str, os.PathLike[str], None] = None,
    *,
    helper_cache_ttl: Optional[float] = None,
) -> DockerConfig:
    """Load the Docker config file: ``path``, ``$DOCKER_CONFIG/config.json`` or ``~/.docker``.

    A ``path`` that does not exist is a :class:`~dockercreds.errors.ConfigNotFound`; the
    default location may be missing (an empty config).

    Lookups through the returned object ask each credential helper at most once per
    server per ``helper_cache_ttl`` seconds (default: ``DOCKERCREDS_HELPER_CACHE_TTL``,
    else 60; ``0`` asks every time). Answers are kept in memory only.
    """
    named = path is not None  # a config named explicitly must exist
    config = load_file(path if path is not None else docker_config_path(), must_exist=named)
    if helper_cache_ttl is not None:
        from .helper_cache import cache_for

        cache_for(config, ttl=helper_cache_ttl)
    return config


def iter_configs(
    config: ConfigArg = None, sources: Optional[str] = None
) -> Iterator[DockerConfig]:
    """The config sources a lookup asks, in order, each loaded when reached."""
    if config is None:
        yield from iter_default_sources(sources or "docker")
    elif isinstance(config, DockerConfig):
        yield config
    else:
        yield load_file(config, must_exist=True)  # named explicitly: it must exist


_MISSING_WARNED: set[str] = set()  # helpers HelperNotInstalledWarning was given for


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside dockercreds."""
    here = str(Path(__file__).parent)
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(here):
        frame = frame.f_back
        level += 1
    return level


def _missing_helper(
    name: str, routed_by: str, config: DockerConfig, trace: Optional[Trace]
) -> None:
    program = f"docker-credential-{name}"
    if trace:
        trace(
            f"  {program} is not installed (not on PATH): skipped, as if it had answered"
            " 'not found' (HelperNotInstalledWarning; strict=True or --strict make this"
            " an error)"
        )
    if name in _MISSING_WARNED:
        return
    _MISSING_WARNED.add(name)
    warnings.warn(
        HelperNotInstalledWarning(
            f"{program} is not installed (not on PATH), but {routed_by} in"
            f" {config.source.label} names it; lookups skip it and use the auths entries,"
            " then anonymous access. Install it or remove it from the config"
            " (strict=True or --strict make this an error)",
            helper=name,
        ),
        stacklevel=_caller_stacklevel(),
    )


def _from_store(
    name: str,
    server: str,
    trace: Optional[Trace],
    *,
    routed_by: str = "credsStore",
    config: Optional[DockerConfig] = None,
    strict: bool = True,
    cache: Optional[HelperCache] = None,
) -> Optional[Credentials]:
    what = "the keyring (in-process)" if name == "keyring" else f"docker-credential-{name}"
    if trace:
        trace(f"  asking {what} for {server!r}")
    hit = False
    creds: Optional[Credentials] = None
    if cache is not None:
        hit, creds = cache.get(name, server)
        if hit and trace:
            trace(f"  {what}: answer reused from the helper cache (kept {cache.ttl:g} s)")
    if not hit:
        store = store_for(name)
        try:
            creds = store.get(server)
        except HelperNotInstalled:
            if strict or config is None:
                raise
            _missing_helper(name, routed_by, config, trace)
            return None
        if creds is not None and creds.is_empty:
            creds = None
        if cache is not None:
            cache.put(name, server, creds)
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
    key = without_userinfo(match.key)
    trace(f"  auths key {key!r} matches ({where})")
    if match.shadowed:
        verb = "names" if len(match.shadowed) == 1 else "name"
        trace(
            "  collision: "
            + ", ".join(repr(without_userinfo(k)) for k in match.shadowed)
            + f" also {verb} the place {key!r} names; {key!r} wins (canonical form first)"
        )
    if match.entry.is_empty:
        trace(
            f"  auths[{key!r}] is empty ({{}}): the credential store holds it;"
            " nothing more from this source"
        )
    else:
        trace(f"  auths[{key!r}]: username {match.entry.username!r}")


def _trace_route(
    index: KeyIndex, host: str, raw: str, routed_by: str, store_name: str, trace: Trace
) -> None:
    """How ``credHelpers`` routed ``host``: the exact key, or the glob and the globs it beat."""
    globs = index.globs_matching(host) if index.globs else []
    said = f"{routed_by} = {store_name!r}"
    if globs and globs[0].raw == raw:
        said = f"credHelpers glob {without_userinfo(raw)!r} matches {host!r}: helper {store_name!r}"
    trace(
        f"  {said}"
        + ("" if store_name else ": this file's auths, not credsStore (as Docker)")
    )
    if not globs:
        return
    beaten = globs if globs[0].raw != raw else globs[1:]
    if not beaten:
        return
    others = ", ".join(repr(without_userinfo(g.raw)) for g in beaten)
    verb = "matches" if len(beaten) == 1 else "match"
    if beaten is globs:
        trace(f"  credHelpers glob {others} also {verb}; the exact key wins")
    else:
        trace(
            f"  credHelpers glob {others} also {verb}; {raw!r} wins"
            " (more literal labels, then lexical order)"
        )


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
    return creds  # type: ignore[return-value]  # the memo holds nothing else


def _helper_cache(config: DockerConfig, given: Optional[HelperCache]) -> HelperCache:
    """The cache a helper lookup uses: given, else the current one, else the config's."""
    if given is not None:
        return given
    from .helper_cache import cache_for, current

    return current() or cache_for(config)


def _keyring_routed(config: DockerConfig, host: str) -> bool:
    """True when lookups of ``host`` ask the keyring store anyway (its errors matter)."""
    helper = config.index.helper_for(host) if config.index.helpers else None
    return (helper[0] if helper is not None else config.creds_store) == "keyring"


def _from_namespace(
    config: DockerConfig, host: str, match: Match, trace: Optional[Trace]
) -> Optional[Credentials]:
    """The namespace account for the ``{}`` namespace marker ``match``, from the keyring.

    Asked before the registry's own store: the most specific key wins. When the keyring
    does not hold it, the lookup goes on as before (the registry's store; then the marker
    itself, which gives nothing more from this source, DESIGN.md "Keys"). A keyring that
    is not available or fails counts as "not found" (shown by ``explain``), unless the
    registry is routed to the keyring anyway (then its error stands, as for any store).
    """
    from .errors import KeyringError

    server = f"{host}/{match.namespace}"
    if trace:
        trace(
            f"  auths key {without_userinfo(match.key)!r} is a namespace marker ({{}}): the"
            f" keyring is asked for the namespace account {server!r} before the registry's"
            " own account (most specific first)"
        )
    try:
        creds = _from_store("keyring", server, trace)
    except KeyringError as exc:
        if _keyring_routed(config, host):
            raise
        if trace:
            trace(
                f"  the keyring failed ({exc}): treated as 'not found' (the registry is not"
                " routed to the keyring, so a {} marker alone never breaks a lookup)"
            )
        return None
    if trace:
        if creds is not None:
            trace(f"  namespace account {server!r} wins over the registry's own account")
        else:
            trace(
                f"  no namespace account {server!r}: the lookup goes on with the registry"
                " (its store, then the auths keys)"
            )
    return creds


def _from_config(
    config: DockerConfig,
    host: str,
    path: str,
    trace: Optional[Trace],
    strict: bool = False,
    helper_cache: Optional[HelperCache] = None,
) -> Optional[Credentials]:
    if trace:
        _trace_source(config, trace)
    if config.is_empty:
        return None
    index = config.index
    match = index.lookup(host, path) if path else None
    if match is not None and match.namespace and match.entry.is_empty:
        # namespace accounts live in the keyring, most specific first (DESIGN.md "Keys")
        found = _from_namespace(config, host, match, trace)
        if found is not None:
            return found
    store_name: Optional[str] = None
    routed_by = "credsStore"
    helper = index.helper_for(host) if index.helpers or index.globs else None
    if helper is not None:
        store_name = helper[0]
        routed_by = f"credHelpers[{without_userinfo(helper[1])!r}]"
        if trace:
            _trace_route(index, host, helper[1], routed_by, store_name, trace)
    elif config.creds_store:
        store_name = config.creds_store
        if trace:
            trace(f"  credsStore = {store_name!r}")
    if store_name:
        cache = None if store_name == "keyring" else _helper_cache(config, helper_cache)
        creds = _from_store(
            store_name,
            helper_server(host),
            trace,
            routed_by=routed_by,
            config=config,
            strict=strict,
            cache=cache,
        )
        if creds is not None:
            return creds
    if not path:
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
    strict: bool = False,
    helper_cache: Optional[HelperCache] = None,
) -> Optional[Credentials]:
    """Credentials for repository ``path`` on registry ``host`` (normalized), or None.

    ``trace`` (a :class:`Trace`) collects the steps for ``dockercreds explain``.
    ``strict``: a credential helper that is not installed raises
    :class:`~dockercreds.errors.HelperNotInstalled` instead of being skipped with a
    :class:`~dockercreds.errors.HelperNotInstalledWarning`. ``helper_cache``: where
    helper answers are reused (:mod:`dockercreds.helper_cache`; default: the current
    one, else the loaded config's).
    """
    if trace is None:
        log = debug_logger(__name__)
        if log is not None:
            trace = _LogTrace(log)
            trace(f"lookup of registry {host!r}" + (f", repository {path!r}" if path else ""))
    if isinstance(config, DockerConfig):  # one loaded source: the common hot path
        creds = _from_config(config, host, path, trace, strict, helper_cache)
    else:
        creds = None
        for cfg in iter_configs(config, sources):
            creds = _from_config(cfg, host, path, trace, strict, helper_cache)
            if creds is not None:
                break
    if trace:
        if creds is not None:
            trace(f"result: {creds.source} ({without_userinfo(creds.server)!r})")
        else:
            trace("result: no credentials (anonymous)")
    return creds


def _refuse_secrets(text: str, what: str) -> None:
    """Refuse an image or target that carries user info or a secret parameter, masked.

    The reference grammar's messages quote their input; this one never shows the secret.
    """
    shown = without_userinfo(text)
    if shown == text:
        return
    message = (
        f"invalid {what} {shown!r}: it carries user info or a secret parameter"
        " (user:password@, TOKEN@, ?token=); give the registry or image alone and"
        " log in to store the credentials"
    )
    if what == "target":
        raise InvalidRegistry(message)
    raise InvalidReference(message, kind="invalid_format", text=shown)


def _parse_image(image: str) -> Reference:
    from .reference import parse_normalized

    try:
        return parse_normalized(image)
    except InvalidReference:
        _refuse_secrets(image, "reference format")
        raise


def get_credentials(
    image: str,
    *,
    config: ConfigArg = None,
    sources: Optional[str] = None,
    strict: bool = False,
    helper_cache: Optional[HelperCache] = None,
) -> Optional[Credentials]:
    """Credentials Docker (or Podman, with ``sources``) would use to pull ``image``.

    A registry given as the image (``quay.io``, ``localhost:5000``: what the TARGET rule
    of :func:`parse_target` calls a registry) raises InvalidReference (kind
    ``registry_not_image``): the grammar would read ``docker.io/library/quay.io`` and
    answer with the Docker Hub credentials. ``strict`` and ``helper_cache``: as for
    :func:`resolve`.
    """
    text = image.strip()
    if "/" not in text and is_registry_target(text):
        _refuse_secrets(text, "reference format")  # TOKEN@quay.io: never quoted
        raise InvalidReference(
            f"{text!r} is a registry, not an image: get_credentials({text!r}) would mean"
            f" docker.io/library/{text}; use get_registry_credentials({text!r}) for the"
            " registry's credentials, or write the image in full"
            f" (docker.io/library/{text})",
            kind="registry_not_image",
            text=image,
        )
    if type(config) is DockerConfig and _no_store(config):
        creds = config.answers.get(("image", image), _UNKNOWN)
        if creds is _UNKNOWN:
            ref = _parse_image(image)
            creds = resolve(normalize_registry(ref.domain), ref.path, config=config)
            _remember(config, ("image", image), creds)
        return creds  # type: ignore[no-any-return]
    ref = _parse_image(image)
    return resolve(
        normalize_registry(ref.domain),
        ref.path,
        config=config,
        sources=sources,
        strict=strict,
        helper_cache=helper_cache,
    )


def get_registry_credentials(
    registry: str,
    *,
    config: ConfigArg = None,
    sources: Optional[str] = None,
    strict: bool = False,
    helper_cache: Optional[HelperCache] = None,
) -> Optional[Credentials]:
    """Credentials for a whole registry (``quay.io``, ``https://index.docker.io/v1/``).

    ``strict`` and ``helper_cache``: as for :func:`resolve`.
    """
    if type(config) is DockerConfig and _no_store(config):
        answers = config.answers
        creds = answers.get(registry, _UNKNOWN)
        if creds is _UNKNOWN:
            creds = _auths_answer(config, normalize_registry(registry))
            if len(answers) >= ANSWERS_LIMIT:  # _remember, inline: the hot path
                answers.clear()
            answers[registry] = creds
        return creds  # type: ignore[no-any-return]
    return resolve(
        normalize_registry(registry),
        "",
        config=config,
        sources=sources,
        strict=strict,
        helper_cache=helper_cache,
    )


# --- repeated lookups on a loaded config (issue 12) -------------------------------------
# When no credential store takes part (no credHelpers, no credsStore), the answer for a
# registry or image depends on the loaded config alone: it is computed once and kept on
# the config (DockerConfig.answers). Answers that involve a helper are never kept here.

#: Distinct registries/images remembered per loaded config; past this it starts over.
ANSWERS_LIMIT = 4096
_UNKNOWN = object()


def _no_store(config: DockerConfig) -> bool:
    """No store takes part in this config's lookups, and no one is logging them."""
    return (
        not config.cred_helpers
        and not config.creds_store
        and debug_logger(__name__) is None  # DEBUG logs go the traced way, step by step
    )


def _auths_answer(config: DockerConfig, host: str) -> Optional[Credentials]:
    """What :func:`resolve` answers for a whole registry from a config with no store.

    A key in canonical form (``host[:port]``; ``https://index.docker.io/v1/`` for Docker
    Hub) beats every other spelling of its place (DESIGN.md "Keys"), so when it is there
    the answer needs no key index: a large config answers its first lookups without
    reading every key. Otherwise the index decides, as in :func:`resolve`. The common
    entry (``{"auth": ...}``) is read straight into the answer; any other goes through
    the config's decoder (which says what is wrong with a bad one).
    """
    raw = HUB_KEY if host == HUB_DOMAIN else host
    auths = config.auths
    values = auths.raw
    value = values.get(raw, _UNKNOWN)
    if value is _UNKNOWN:
        key = config.index.host_key(host)
        if key is None:
            return None
        raw, value = key, values[key]
    pair = plain_auth(value)
    if pair is not None:  # the common entry, read straight into the answer
        return new_credentials(raw, pair[0], pair[1] or None, None, None, config.source.label, None)
    entry = auths[raw]  # a bad entry raises here, as through the index
    if not (entry.username or entry.password or entry.identity_token or entry.registry_token):
        return None  # {}: the store holds it, and there is no store
    return new_credentials(
        raw,
        entry.username,
        entry.password,
        entry.identity_token,
        entry.registry_token,
        config.source.label,
        entry.email,
    )


def _remember(
    config: DockerConfig, what: Union[str, Tuple[str, str]], creds: Optional[Credentials]
) -> None:
    answers = config.answers
    if len(answers) >= ANSWERS_LIMIT:
        answers.clear()
    answers[what] = creds


_DIGEST_SUFFIX = re.compile(r"@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}")


def _short_image(text: str) -> bool:
    """``ubuntu:22.04`` or ``ubuntu@sha256:...``: an image, though it has ``.`` or ``:``."""
    if _DIGEST_SUFFIX.search(text) and ":" not in text.split("@", 1)[0]:
        return True
    name, sep, tag = text.partition(":")
    if not sep or "." in name or name == "localhost" or text.startswith("["):
        return False
    return not (tag.isascii() and tag.isdigit())  # host:port stays a registry


def is_registry_target(text: str) -> bool:
    """The TARGET rule: is ``text`` (stripped) a registry rather than an image reference?"""
    return "://" in text or (
        "/" not in text
        and ("." in text or ":" in text or text == "localhost")
        and not _short_image(text)
    )


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
    try:
        if is_registry_target(text):
            return normalize_registry(text), ""
        ref = _parse_image(text)
    except (InvalidRegistry, InvalidReference):
        _refuse_secrets(text, "target")  # never quote a secret the target carries
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
