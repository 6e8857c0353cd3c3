"""Every account this machine has credentials for, and which one a lookup would use.

:func:`list_credentials` reads the same sources as a lookup
(:func:`dockercreds.resolver.iter_configs`): the ``auths`` entries of each config, and the
stores the configs route to (``credsStore`` and ``credHelpers``), asked with the helper
protocol's ``list`` action (the keyring store in-process, from its secret-free index).
It never asks a store for a secret, and an :class:`Account` never holds one: only the
kind of secret (``password``, ``identity_token``, ``registry_token``).

For each place an account is for (a registry, or a namespace such as ``quay.io/org``)
the lookup is replayed on the listed data, in the resolver's order (DESIGN.md
"Precedence"): per source, the routed store asked with the registry, then the most
specific ``auths`` key (``{}`` markers pass to the next source). The account it reaches
is ``active``; the others say why not (``shadowed`` by the account that wins, or
``unused`` when no lookup ever reaches them). A store whose ``list`` fails is counted
as holding nothing (as a lookup counts a missing helper) and reported: a
:class:`~dockercreds.errors.IncompleteListWarning`, or the error with ``strict=True``.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Tuple

from . import resolver
from ._log import debug_logger
from .credentials import TOKEN_USERNAME
from .errors import DockerCredsError, IncompleteListWarning, InvalidRegistry
from .registry import HUB_DOMAIN, helper_server, parse_key, without_userinfo

if TYPE_CHECKING:  # pragma: no cover
    from .config import AuthEntry, DockerConfig

__all__ = ["Account", "Inventory", "StoreProblem", "inventory", "list_credentials"]

#: ``Account.status`` values.
ACTIVE, SHADOWED, UNUSED = "active", "shadowed", "unused"


class Account(NamedTuple):
    """One account in one source (immutable, secret-free).

    ``registry`` is the normalized host (``docker.io`` for Docker Hub), ``namespace``
    the repository path of a namespace key (``org`` for ``quay.io/org``) or ``""``;
    ``key`` the key or server as the source spells it; ``secret`` the kind of secret;
    ``source`` as :attr:`Credentials.source <dockercreds.Credentials>`; ``status`` is
    ``active`` (a lookup uses it), ``shadowed`` or ``unused``; ``reason`` says why, and
    ``shadowed_by`` names the winning account as ``source key``.
    """

    registry: str
    namespace: str
    key: str
    username: Optional[str]
    secret: str
    source: str
    status: str
    reason: str
    shadowed_by: Optional[str] = None

    @property
    def place(self) -> str:
        """``registry`` or ``registry/namespace``: what the account is for."""
        return f"{self.registry}/{self.namespace}" if self.namespace else self.registry

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def to_json(self) -> Dict[str, object]:
        """The stable JSON shape of ``dockercreds list --json``."""
        return {
            "registry": self.registry,
            "namespace": self.namespace,
            "key": self.key,
            "username": self.username,
            "secret": self.secret,
            "source": self.source,
            "status": self.status,
            "active": self.active,
            "shadowed_by": self.shadowed_by,
            "reason": self.reason,
        }


class StoreProblem(NamedTuple):
    """A store whose ``list`` failed: its name, who routes to it, and the error."""

    store: str
    routed_by: str
    error: DockerCredsError

    @property
    def message(self) -> str:
        text = " ".join(str(self.error).split())  # one line, whatever the helper said
        what = "the keyring store" if self.store == "keyring" else f"docker-credential-{self.store}"
        return f"cannot list {what} ({self.routed_by}): {text}"


class Inventory(NamedTuple):
    accounts: Tuple[Account, ...]
    problems: Tuple[StoreProblem, ...]


# --------------------------------------------------------------------------- reading


def _kind(entry: AuthEntry) -> str:
    if entry.identity_token and not entry.password:
        return "identity_token"
    if entry.password or not entry.registry_token:
        return "password"
    return "registry_token"


def _store_source(name: str) -> str:
    return "keyring" if name == "keyring" else f"helper:{name}"


class _Candidate(NamedTuple):
    """An account before its status is known; ``rank`` orders the sources."""

    registry: str
    namespace: str
    key: str
    username: Optional[str]
    secret: str
    source: str
    rank: int  # index of the config source; stores: -1
    beaten_by: str  # auths collisions: the key that wins the same place, else ""


def _auths_accounts(config: DockerConfig, rank: int) -> List[_Candidate]:
    found = []
    index = config.index
    for raw in config.auths:
        try:
            key = parse_key(raw)
        except InvalidRegistry:
            continue  # ignored by lookups too (explain shows why)
        match = index.lookup(key.host, key.path)
        if match is None:
            continue
        entry = config.auths[raw]
        if entry.is_empty:
            continue  # a {} marker: the store holds it
        found.append(
            _Candidate(
                key.host,
                match.namespace,
                without_userinfo(raw),
                entry.username or None,
                _kind(entry),
                config.source.label,
                rank,
                "" if match.key == raw else without_userinfo(match.key),
            )
        )
    return found


def _routes(configs: List[DockerConfig]) -> Dict[str, str]:
    """Store name -> the first route naming it (for messages), in source order."""
    routes: Dict[str, str] = {}
    for config in configs:
        label = config.source.label
        if config.creds_store:
            routes.setdefault(config.creds_store, f"credsStore in {label}")
        for raw, name in config.cred_helpers.items():
            if name:
                routes.setdefault(name, f"credHelpers[{raw!r}] in {label}")
        for raw in _namespace_markers(config):
            routes.setdefault("keyring", f"the namespace marker {raw!r} in {label}")
    return routes


def _namespace_markers(config: DockerConfig) -> List[str]:
    """auths keys that are ``{}`` namespace markers: lookups ask the keyring for them."""
    found = []
    for raw in config.auths:
        try:
            key = parse_key(raw)
        except InvalidRegistry:
            continue
        if key.path and not key.scheme and config.auths[raw].is_empty:
            found.append(without_userinfo(raw))
    return found


def _store_accounts(name: str, listed: Dict[str, str]) -> List[_Candidate]:
    found = []
    for server, username in listed.items():
        try:
            key = parse_key(server)
        except InvalidRegistry:
            continue
        token = username == TOKEN_USERNAME
        found.append(
            _Candidate(
                key.host,
                key.path,
                without_userinfo(server),
                None if token or not username else username,
                "identity_token" if token else "password",
                _store_source(name),
                -1,
                "",
            )
        )
    return found


# --------------------------------------------------------------------------- replay


class _Winner(NamedTuple):
    source: str
    key: str
    rank: int  # the config source that reached it
    how: str  # why a lookup reaches it


def _replay(
    configs: List[DockerConfig],
    stores: Dict[str, Optional[Dict[str, str]]],
    host: str,
    namespace: str,
) -> Tuple[Optional[_Winner], List[str]]:
    """What a lookup of ``host/namespace`` reaches, and stores it could not know about."""
    unknown: List[str] = []
    for rank, config in enumerate(configs):
        if config.is_empty:
            continue
        match = config.index.lookup(host, namespace)
        if match is not None and match.namespace and match.entry.is_empty:
            # a namespace marker: the keyring is asked for host/path first (resolver)
            server = f"{host}/{match.namespace}"
            listed = stores.get("keyring")
            if listed is None:
                unknown.append("keyring")
            elif server in listed:
                how = (
                    f"the namespace marker {without_userinfo(match.key)!r} in"
                    f" {config.source.label} asks the keyring for {server!r} first"
                )
                return _Winner(_store_source("keyring"), server, rank, how), unknown
        name: Optional[str] = None
        how = ""
        route = config.index.helper_for(host) if config.cred_helpers else None
        if route is not None:
            name = route[0]
            how = f"credHelpers[{route[1]!r}] in {config.source.label}"
        elif config.creds_store:
            name = config.creds_store
            how = f"credsStore in {config.source.label}"
        if name:
            server = helper_server(host)
            listed = stores.get(name)
            if listed is None:
                unknown.append(name)
            elif server in listed:
                return _Winner(_store_source(name), server, rank, how), unknown
        if match is not None and not match.entry.is_empty:
            how = f"auths key {without_userinfo(match.key)!r} in {config.source.label}"
            return _Winner(config.source.label, without_userinfo(match.key), rank, how), unknown
    return None, unknown


def _reaches(configs: List[DockerConfig], candidate: _Candidate) -> bool:
    """True when some source's route asks this store for this key."""
    if candidate.namespace or candidate.key != helper_server(candidate.registry):
        return False
    for config in configs:
        route = config.index.helper_for(candidate.registry) if config.cred_helpers else None
        name = route[0] if route is not None else config.creds_store
        if name and _store_source(name) == candidate.source:
            return True
    return False


def _status(
    configs: List[DockerConfig],
    candidate: _Candidate,
    winner: Optional[_Winner],
    unknown: List[str],
) -> Account:
    def account(status: str, reason: str, by: Optional[str] = None) -> Account:
        return Account(
            candidate.registry,
            candidate.namespace,
            candidate.key,
            candidate.username,
            candidate.secret,
            candidate.source,
            status,
            reason,
            by,
        )

    won = winner is not None and (winner.source, winner.key) == (
        candidate.source,
        candidate.key,
    )
    if won:
        assert winner is not None  # noqa: S101 - for mypy
        reason = f"used: {winner.how}"
        if unknown:
            reason += (
                " (unless "
                + ", ".join(f"docker-credential-{n}" for n in unknown)
                + ", which could not be listed, holds it)"
            )
        return account(ACTIVE, reason)
    by = f"{winner.source} {winner.key}" if winner is not None else None
    if candidate.beaten_by:
        return account(
            SHADOWED,
            f"key {candidate.beaten_by!r} names the same place as {candidate.key!r} and"
            " wins (canonical form first)",
            f"{candidate.source} {candidate.beaten_by}",
        )
    if candidate.rank >= 0:  # an auths entry that is not the winner: something earlier
        assert winner is not None  # noqa: S101 - a non-empty entry always ends the replay
        if winner.rank == candidate.rank:
            return account(SHADOWED, f"a lookup asks the store first: {winner.how}", by)
        return account(SHADOWED, f"an earlier source answers first: {winner.how}", by)
    if winner is not None and _reaches(configs, candidate):
        return account(SHADOWED, f"an earlier source answers first: {winner.how}", by)
    if candidate.namespace:
        why = (
            "lookups ask a store per registry; the keyring is asked for a namespace only"
            f" when a config has the marker \"{candidate.key}\": {{}}"
        )
    elif candidate.key != helper_server(candidate.registry):
        why = (
            f"lookups ask the store for {helper_server(candidate.registry)!r},"
            f" not {candidate.key!r}"
        )
    else:
        why = f"no config routes {candidate.registry} to this store"
    return account(UNUSED, why, by)


# --------------------------------------------------------------------------- API


def inventory(
    config: resolver.ConfigArg = None, sources: Optional[str] = None
) -> Inventory:
    """Every account, with its status, and the stores whose ``list`` failed.

    ``config`` and ``sources`` as for :func:`dockercreds.get_credentials`. With the
    default sources the keyring store is listed even when no config names it (its
    accounts are then ``unused``); an explicit ``config`` lists only what it names.
    """
    configs = list(resolver.iter_configs(config, sources))
    routes = _routes(configs)
    if config is None:
        routes.setdefault("keyring", "the keyring store of this machine")
    stores: Dict[str, Optional[Dict[str, str]]] = {}
    problems: List[StoreProblem] = []
    candidates: List[_Candidate] = []
    for rank, cfg in enumerate(configs):
        candidates.extend(_auths_accounts(cfg, rank))
    for name, routed_by in routes.items():
        try:
            listed = resolver.store_for(name).list()
        except DockerCredsError as exc:
            stores[name] = None
            problems.append(StoreProblem(name, routed_by, exc))
            continue
        stores[name] = listed
        candidates.extend(_store_accounts(name, listed))
    replays: Dict[Tuple[str, str], Tuple[Optional[_Winner], List[str]]] = {}
    accounts = []
    for candidate in candidates:
        place = (candidate.registry, candidate.namespace)
        if place not in replays:
            replays[place] = _replay(configs, stores, *place)
        accounts.append(_status(configs, candidate, *replays[place]))
    order = {ACTIVE: 0, SHADOWED: 1, UNUSED: 2}
    accounts.sort(
        key=lambda a: (a.registry != HUB_DOMAIN, a.registry, a.namespace, order[a.status])
    )
    log = debug_logger(__name__)
    if log:
        for problem in problems:
            log.debug("%s", problem.message)
        for a in accounts:
            log.debug("%s: %s %r (%s): %s, %s", a.place, a.source, a.key, a.secret, a.status,
                      a.reason)
    return Inventory(tuple(accounts), tuple(problems))


def list_credentials(
    config: resolver.ConfigArg = None,
    sources: Optional[str] = None,
    *,
    strict: bool = False,
) -> List[Account]:
    """Every account this machine has credentials for (no secrets), best first per place.

    A store whose ``list`` fails (or whose helper is not installed) gives an
    :class:`~dockercreds.errors.IncompleteListWarning` and the listing goes on without
    it; ``strict=True`` raises its error instead.
    """
    result = inventory(config, sources)
    for problem in result.problems:
        if strict:
            raise problem.error
        warnings.warn(IncompleteListWarning(problem.message, store=problem.store), stacklevel=2)
    return list(result.accounts)
