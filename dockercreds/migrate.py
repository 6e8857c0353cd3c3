"""Move plaintext secrets out of a Docker config file into the keyring or a helper.

The rule: afterwards every registry resolves to the same credentials as before, in
dockercreds, the docker CLI, skopeo and podman. So::

    1. read the file; decide per auths entry (move, or keep and say why)
    2. for each registry to move: store its secret, read it back, compare
    3. any failure: undo what step 2 stored, leave the file byte for byte as it was
    4. else one locked rewrite, only if the file is still what step 1 read: each moved
       entry loses its secret fields (``{}`` plus unknown fields) and its registry gets
       ``credHelpers[host] = store`` (docker, skopeo and podman all honour it; Docker Hub
       gets both ``https://index.docker.io/v1/`` and podman's ``docker.io``); ``credsStore``
       is set only when nothing was kept and the store holds nothing else, since
       ``credsStore`` hides every plaintext entry from the docker CLI and would hand it
       whatever else the store holds.

Nothing to move means no write at all: a config without a plaintext secret is never
created or changed. A crash before step 4 leaves the plaintext and a copy in the store
(the copy is not routed to, so nothing changes); the next run finishes. Running it again
is a no-op.

Kept in place (reported), each because moving it would change what some tool uses:

* namespace keys (``quay.io/org``): stores are asked per registry; and the registry's own
  entry too, as ``credHelpers[host]`` is asked before any namespace key. With
  ``include_namespaces`` they move into the keyring (item ``host/path``, marker ``{}``,
  no route: dockercreds asks the keyring for a ``{}`` namespace marker before the
  registry's store), which only dockercreds reads per namespace; the report says what
  the docker CLI, podman and skopeo see afterwards;
* registries sent to another helper by ``credHelpers``;
* entries without an ``auth`` field: podman and skopeo ignore ``username``/``password``
  and an ``identitytoken`` without ``auth``, so routing them would start using them;
* aliases of a registry that already has an entry winning over them, when their secret
  differs (the store holds one secret per registry);
* entries the store already answers for with different credentials;
* entries with a registry token, or with both a password and an identity token (a
  helper can hold only one of them), and entries that cannot be decoded.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from .accounts import (
    CONTAINERS,
    DOCKER,
    HUB_ALIAS,
    existing_config_path,
    route_keys,
    settings_of,
    strip_secrets,
)
from .config import AuthEntry, DockerConfig, Source, parse_config_text
from .credentials import TOKEN_USERNAME
from .errors import ConfigWriteError, DockerCredsError, InvalidRegistry
from .helper_cache import invalidate
from .matcher import rank_key
from .registry import helper_server, normalize_registry, parse_key, without_userinfo
from .writer import field_key, read_config, section, update_config

__all__ = ["MigrationItem", "MigrationReport", "migrate"]

PathLike = Union[str, "os.PathLike[str]"]
StoreFactory = Callable[[str], Any]

MOVED = "moved"
WOULD_MOVE = "would move"
KEPT = "kept"
FAILED = "failed"
EMPTY = "no secret"

_NOT_MOVED = "not moved: another entry failed, so the file was left unchanged"


@dataclass(frozen=True)
class MigrationItem:
    """What happened to one auths key. Never holds a secret."""

    key: str
    status: str  # moved, would move, kept, failed, no secret
    server: Optional[str] = None
    username: Optional[str] = None
    reason: str = ""

    def describe(self) -> str:
        who = f" (user {self.username})" if self.username else ""
        where = f" -> {self.server}" if self.server and self.status in (MOVED, WOULD_MOVE) else ""
        why = f": {self.reason}" if self.reason else ""
        return f"{self.status:<10} {without_userinfo(self.key)}{who}{where}{why}"


@dataclass
class MigrationReport:
    """The outcome of :func:`migrate`.

    ``routes``: the ``credHelpers`` keys this run set (or would set) to the store.
    ``creds_store_set``: ``credsStore`` was (or would be) written by this run;
    ``creds_store_note`` says why not when it stays unset. ``changed``: the file was
    rewritten. ``notes``: anything else to tell (never a secret).
    """

    path: str
    store: str
    dry_run: bool
    items: List[MigrationItem] = field(default_factory=list)
    creds_store_set: bool = False
    routes: List[str] = field(default_factory=list)
    creds_store_note: str = ""
    changed: bool = False
    notes: List[str] = field(default_factory=list)

    @property
    def failed(self) -> List[MigrationItem]:
        return [i for i in self.items if i.status == FAILED]

    @property
    def moved(self) -> List[MigrationItem]:
        return [i for i in self.items if i.status in (MOVED, WOULD_MOVE)]

    @property
    def kept(self) -> List[MigrationItem]:
        return [i for i in self.items if i.status == KEPT]


@dataclass
class _Candidate:
    key: str
    host: str
    server: str
    entry: AuthEntry
    pair: Tuple[str, str] = field(repr=False)  # (helper Username, Secret)
    namespace: bool = False  # a namespace key: ``host`` and ``server`` are "host/path"


def _decode_entry(key: str, value: Any, path: str) -> AuthEntry:
    """The decoded auths entry (ConfigFormatError when it cannot be decoded)."""
    text = json.dumps({"auths": {key: value}})
    cfg = parse_config_text(text, Source("docker", f"file:{path}", path))
    return cfg.auths[key]


def _pair(entry: AuthEntry) -> Optional[Tuple[str, str]]:
    if entry.identity_token:
        return TOKEN_USERNAME, entry.identity_token
    if entry.username and entry.password:
        return entry.username, entry.password
    return None


def _has_auth(value: Any) -> bool:
    """True when an entry has the ``auth`` field podman and skopeo read."""
    if not isinstance(value, dict):
        return False
    key = field_key(value, "auth")
    return key is not None and isinstance(value[key], str) and bool(value[key])


def _namespace_hosts(auths: Dict[str, Any], skip: Callable[[str], bool]) -> Dict[str, str]:
    """host -> one of its namespace keys (``quay.io/org``) not ``skip``-ped, per such host."""
    out: Dict[str, str] = {}
    for key in sorted(auths):
        try:
            parsed = parse_key(key)
        except InvalidRegistry:
            continue
        if parsed.path and not parsed.scheme and not skip(key):
            out.setdefault(parsed.host, key)
    return out


def _namespace_keep_reason(entry: AuthEntry) -> str:
    """Why namespace entry must stay in the file with ``include_namespaces`` ("" if not)."""
    if entry.registry_token:
        return "a registry token cannot go to a store"
    if entry.identity_token and entry.password:
        return "has both a password and an identity token; a store holds one"
    if _pair(entry) is None:
        return "incomplete credentials"
    return ""


def _other_route(
    host: str, to: str, settings: DockerConfig, raw_helpers: Dict[str, Any], target: str
) -> Optional[Tuple[str, str]]:
    """(credHelpers key, helper) when some tool is sent for ``host`` to a store not ``to``."""
    helper = settings.index.helper_for(host)
    if helper is not None and helper[0] != to:
        return str(helper[1]), str(helper[0])
    for key in route_keys(host, target):  # what docker, podman and skopeo read, exactly
        name = raw_helpers.get(key)
        if isinstance(name, str) and name and name != to:
            return key, name
    return None


def _routed(host: str, to: str, settings: DockerConfig, current: Optional[str]) -> bool:
    """True when lookups of ``host`` already ask store ``to`` first."""
    helper = settings.index.helper_for(host)
    return helper[0] == to if helper is not None else current == to


def _keep_reason(
    key: str,
    value: Any,
    entry: AuthEntry,
    namespaces: Dict[str, str],
    other: Optional[Tuple[str, str]],
) -> str:
    """Why entry ``key`` must stay in the file ("" when it can move)."""
    try:
        parsed = parse_key(key)
    except InvalidRegistry:
        return "not a registry key"
    if parsed.path and not parsed.scheme:
        return "namespace key: stores are asked per registry, so its secret stays in the file"
    if other is not None:
        return f"credHelpers[{other[0]!r}] sends it to {other[1]!r}; log in again to store it there"
    if parsed.host in namespaces:
        return (
            f"{namespaces[parsed.host]!r} is a namespace key of the same registry and"
            f" credHelpers[{helper_server(parsed.host)!r}] would be asked before it"
            " (dockercreds, podman, skopeo)"
        )
    if entry.registry_token:
        return "a registry token cannot go to a store"
    if entry.identity_token and entry.password:
        return "has both a password and an identity token; a store holds one"
    if _pair(entry) is None:
        return "incomplete credentials"
    if not _has_auth(value):
        return (
            "no 'auth' field: podman and skopeo do not read this entry, and would start"
            " using it once moved; log in again to store it"
        )
    return ""


def _movable_namespace(key: str, value: Any, path: str) -> bool:
    """True for a namespace key that ``include_namespaces`` moves, or an empty marker."""
    try:
        entry = _decode_entry(key, value, path)
    except DockerCredsError:
        return False
    return entry.is_empty or not _namespace_keep_reason(entry)


def _plan(
    data: Dict[str, Any],
    path: str,
    to: str,
    target: str = DOCKER,
    include_namespaces: bool = False,
) -> Tuple[List[_Candidate], List[MigrationItem]]:
    auths = section(data, "auths", create=False) or {}
    settings = settings_of(data, path)
    raw_helpers = section(data, "credHelpers", create=False) or {}
    if include_namespaces:
        # moved namespaces (and {} markers) are asked in the keyring before the
        # registry's store: only namespace keys that keep a secret hold their host back
        namespaces = _namespace_hosts(
            auths, lambda key: _movable_namespace(key, auths[key], path)
        )
    else:
        namespaces = _namespace_hosts(auths, lambda key: False)
    kept: List[MigrationItem] = []
    # host -> candidates, best key first (the matcher's ranking)
    by_host: Dict[str, List[Tuple[Tuple[int, str], _Candidate]]] = {}
    for key, value in auths.items():
        try:
            entry = _decode_entry(key, value, path)
        except DockerCredsError as exc:
            kept.append(MigrationItem(key, KEPT, reason=f"cannot be decoded ({exc})"))
            continue
        if entry.is_empty:
            kept.append(MigrationItem(key, EMPTY))
            continue
        try:
            parsed = parse_key(key)
        except InvalidRegistry:
            kept.append(MigrationItem(key, KEPT, username=entry.username,
                                      reason="not a registry key"))
            continue
        if include_namespaces and parsed.path and not parsed.scheme:
            why = _namespace_keep_reason(entry)
            pair = _pair(entry)
            if why or pair is None:
                kept.append(MigrationItem(key, KEPT, username=entry.username, reason=why))
                continue
            server = f"{parsed.host}/{parsed.path}"  # the keyring item's name
            cand = _Candidate(key, server, server, entry, pair, namespace=True)
            by_host.setdefault(server, []).append((rank_key(key, parsed), cand))
            continue
        other = _other_route(parsed.host, to, settings, raw_helpers, target)
        why = _keep_reason(key, value, entry, namespaces, other)
        pair = _pair(entry)
        if why or pair is None:
            kept.append(MigrationItem(key, KEPT, username=entry.username, reason=why))
            continue
        server = route_keys(parsed.host, target)[0]  # what the store is asked for
        cand = _Candidate(key, parsed.host, server, entry, pair)
        by_host.setdefault(parsed.host, []).append((rank_key(key, parsed), cand))
    moving: List[_Candidate] = []
    for choices in by_host.values():
        choices.sort(key=lambda c: c[0])
        best = choices[0][1]
        moving.append(best)
        for _, other_cand in choices[1:]:
            if other_cand.pair == best.pair:
                moving.append(other_cand)  # same secret: clearing it loses nothing
            else:
                kept.append(
                    MigrationItem(
                        other_cand.key,
                        KEPT,
                        username=other_cand.entry.username,
                        reason=f"{best.key!r} names the same registry with other credentials"
                        " and wins; remove one of them",
                    )
                )
    return moving, kept


class _Undo:
    """What this run stored, so that a failure can put the store back as it was."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.before: List[Tuple[str, Optional[Tuple[str, str]]]] = []

    def store(
        self, server: str, pair: Tuple[str, str], previous: Optional[Tuple[str, str]]
    ) -> None:
        self.before.append((server, previous))
        self.target.store(server, *pair)
        invalidate(server)

    def run(self, store_name: str) -> List[str]:
        """Undo every store, newest first; returns what could not be undone (no secrets)."""
        problems: List[str] = []
        for server, previous in reversed(self.before):
            try:
                if previous is None:
                    self.target.erase(server)
                else:
                    self.target.store(server, *previous)
                invalidate(server)
            except DockerCredsError as exc:
                problems.append(
                    f"could not take the copy for {server} back out of {store_name!r}"
                    f" ({exc}); it is not used while the file does not route {server} there"
                )
        self.before.clear()
        return problems


def _store_and_check(
    target: Any,
    undo: _Undo,
    servers: List[str],
    pair: Tuple[str, str],
    in_use: Callable[[str], bool],
    to: str,
) -> Tuple[str, str]:
    """Store ``pair`` under each of ``servers`` and read it back: ("", "") when done.

    Else (status, reason): KEPT when the store already answers for a server in use
    with other credentials, FAILED when a store or read back fails.
    """
    for server in servers:
        existing = target.get(server)
        existing_pair = existing.helper_pair() if existing is not None else None
        if existing is not None and existing.is_empty:
            existing_pair = None
        if existing_pair is not None and existing_pair != pair and in_use(server):
            # lookups already ask the store for this server: its answer is the one in use
            return KEPT, f"{to!r} already holds other credentials for {server}"
        if existing_pair != pair:
            undo.store(server, pair, existing_pair)
        back = target.get(server)
        if back is None or back.helper_pair() != pair:
            return FAILED, f"{server}: what {to!r} gave back did not match what was stored"
    return "", ""


def migrate(
    config: Optional[PathLike] = None,
    *,
    to: str = "keyring",
    dry_run: bool = False,
    store_factory: Optional[StoreFactory] = None,
    target: str = DOCKER,
    include_namespaces: bool = False,
) -> MigrationReport:
    """Move every plaintext secret of ``config`` into store ``to`` (see the module doc).

    A ``config`` named explicitly must exist (:class:`~dockercreds.errors.ConfigNotFound`).

    ``to`` is ``keyring`` or a helper name. A ``credsStore`` naming another store is
    refused (:class:`~dockercreds.errors.ConfigWriteError`): the secrets already there
    would stop being used. When any entry fails (status ``failed``, with the reason),
    nothing is changed: the file stays byte for byte as it was and what was stored is
    taken back out of the store.

    ``target="containers"``: migrate the containers auth file (``config`` names it,
    default podman's; see :func:`dockercreds.accounts.login`). Routes are its
    ``credHelpers[host]`` keys (``docker.io`` for Docker Hub); ``credsStore`` is never
    written there and one already in it is ignored, as podman ignores it.

    ``include_namespaces``: move namespace keys (``quay.io/org``) too, into the keyring
    only (``to="keyring"``, Docker target): each becomes a keyring item named
    ``host/path`` and the marker ``"quay.io/org": {}``; no ``credHelpers`` entry is
    written for it. Only dockercreds asks the keyring per namespace: the docker CLI
    (which reduces keys to hosts), podman and skopeo stop seeing those accounts, which
    ``report.notes`` says. Without it, namespace keys stay in the file.
    """
    if include_namespaces and (to != "keyring" or target != DOCKER):
        from .errors import InvalidArgument

        raise InvalidArgument(
            "include_namespaces moves namespace keys into the keyring only (credential"
            " helpers are asked per registry, and podman reads a containers auth file"
            f" per namespace itself); not into {to!r}"
            + (" in a containers auth file" if target != DOCKER else "")
        )
    if store_factory is None:
        from . import resolver

        store_factory = resolver.store_for
    path = existing_config_path(config, target)
    label = str(path)
    data = read_config(path)
    # podman and skopeo ignore credsStore (container-libs#278): so does a containers migration
    current = _creds_store(data) if target == DOCKER else None
    if current and current != to:
        raise ConfigWriteError(
            f"{label} already has credsStore {current!r}; migrating into {to!r} would hide"
            f" the credentials kept there. Use --to {current} to move the plaintext"
            f" secrets into {current!r}, or remove credsStore first",
            path=label,
        )
    report = MigrationReport(label, to, dry_run)
    moving, kept = _plan(data, label, to, target, include_namespaces)
    if not moving:  # no plaintext secret that can move: the file is not touched
        report.items = kept
        return report
    settings = settings_of(data, label)
    if target == CONTAINERS:
        settings.creds_store = None
    raw_helpers = section(data, "credHelpers", create=False) or {}
    hosts = sorted({c.host for c in moving if not c.namespace})
    routes = [
        key
        for host in hosts
        for key in route_keys(host, target)
        if raw_helpers.get(key) != to
    ]
    store = store_factory(to)
    if dry_run:
        report.items = [
            MigrationItem(c.key, WOULD_MOVE, c.server, c.entry.username) for c in moving
        ] + kept
        report.routes = routes
        _decide_creds_store(report, store, current, hosts, target)
        report.notes += _namespace_notes([c for c in moving if c.namespace], True)
        return report

    ns_servers = {c.server for c in moving if c.namespace}

    def in_use(server: str) -> bool:
        if server in ns_servers:  # the plaintext key answers now, not the keyring
            return False
        if server == HUB_ALIAS:  # podman's name for Docker Hub: exact credHelpers key only
            return raw_helpers.get(HUB_ALIAS) == to
        return _routed(normalize_registry(server), to, settings, current)

    undo = _Undo(store)
    outcome: Dict[str, Tuple[str, str]] = {}  # host -> (status, reason)
    for host in hosts + sorted(ns_servers):
        pair = next(c.pair for c in moving if c.host == host)
        # both names of Docker Hub in either file: podman asks a helper for docker.io,
        # dockercreds and docker for the v1 URL; a namespace has one name
        servers = [host] if host in ns_servers else route_keys(host)
        try:
            outcome[host] = _store_and_check(store, undo, servers, pair, in_use, to)
        except DockerCredsError as exc:
            outcome[host] = (FAILED, str(exc))
    items: List[MigrationItem] = []
    done = [c for c in moving if not outcome[c.host][0]]
    for cand in moving:
        status, reason = outcome[cand.host]
        if status:
            items.append(MigrationItem(cand.key, status, cand.server, cand.entry.username, reason))
    if any(item.status == FAILED for item in items):
        report.notes = undo.run(to)
        items += [
            MigrationItem(c.key, KEPT, c.server, c.entry.username, _NOT_MOVED) for c in done
        ]
        report.items = items + kept
        return report

    done_hosts = sorted({c.host for c in done if not c.namespace})
    report.routes = [
        key
        for host in done_hosts
        for key in route_keys(host, target)
        if raw_helpers.get(key) != to
    ]
    report.items = items + kept  # before the decision: it counts what is kept
    if done:
        _decide_creds_store(report, store, current, done_hosts, target)
    changed_meanwhile = False

    def rewrite(fresh: Dict[str, Any]) -> bool:
        nonlocal changed_meanwhile
        if fresh != data:
            changed_meanwhile = True
            return False
        auths = section(fresh, "auths", create=False) or {}
        for cand in done:
            auths[cand.key] = strip_secrets(auths[cand.key])
        if report.routes:
            helpers = section(fresh, "credHelpers")
            assert helpers is not None  # noqa: S101 (created on demand)
            for key in report.routes:
                helpers[key] = to
        if report.creds_store_set:
            fresh[field_key(fresh, "credsStore") or "credsStore"] = to
        return True

    if done:
        try:
            update_config(path, rewrite)
        except DockerCredsError:
            undo.run(to)  # the file was not changed: nothing may route to the copies
            raise
    if changed_meanwhile:
        report.notes = undo.run(to)
        report.routes = []
        report.creds_store_set = False
        report.creds_store_note = ""
        reason = (
            "the file was changed by another program during the migration; nothing was"
            " changed (run it again)"
        )
        items = [
            MigrationItem(c.key, FAILED, c.server, c.entry.username, reason) for c in done
        ] + items
        report.items = items + kept
        return report
    report.changed = bool(done)
    report.notes += _namespace_notes([c for c in done if c.namespace], False)
    report.items = [
        MigrationItem(c.key, MOVED, c.server, c.entry.username) for c in done
    ] + items + kept
    return report


def _namespace_notes(moved: List[_Candidate], dry_run: bool) -> List[str]:
    """What the other tools see of namespace accounts moved to the keyring (no secret)."""
    if not moved:
        return []
    keys = ", ".join(sorted({without_userinfo(c.server) for c in moved}))
    verb = "would leave" if dry_run else "leaves"
    return [
        f"namespace accounts ({keys}) are in the keyring now; only dockercreds asks the"
        " keyring per namespace. The docker CLI reduces keys to hosts and never asks for"
        " them (it uses the registry's own account, or none where only an empty namespace"
        " entry names the registry); podman and skopeo read the emptied entries as 'no"
        " credentials here' and go on to their next auth file without trying the"
        " registry's own entry (so anonymous, unless credHelpers names the registry or"
        f" another file has credentials). This run {verb} no secret of them in the file"
    ]


def _decide_creds_store(
    report: MigrationReport, store: Any, current: Optional[str], hosts: List[str], target: str
) -> None:
    """Set ``report.creds_store_set`` (or the note why not).

    ``credsStore`` makes the docker CLI ignore every plaintext entry and use anything the
    store holds, so it is set only when it changes no lookup: nothing kept, and the store
    holds nothing but what this run routes to it.
    """
    if current:
        return
    if target == CONTAINERS:
        report.creds_store_note = "podman and skopeo ignore credsStore; routed with credHelpers"
        return
    if report.kept:
        report.creds_store_note = (
            f"{len(report.kept)} entr{'y stays' if len(report.kept) == 1 else 'ies stay'}"
            " in the file, which the docker CLI would stop reading"
        )
        return
    ours = {server for host in hosts for server in route_keys(host)}
    try:
        held = set(store.list())
    except DockerCredsError as exc:
        report.creds_store_note = f"cannot list what {report.store!r} holds ({exc})"
        return
    others = sorted(held - ours)
    if others:
        shown = without_userinfo(others[0])
        more = f" and {len(others) - 1} more" if len(others) > 1 else ""
        report.creds_store_note = (
            f"{report.store!r} also holds credentials for {shown}{more}, which the docker"
            " CLI would start to use"
        )
        return
    report.creds_store_set = True


def _creds_store(data: Dict[str, Any]) -> Optional[str]:
    key = field_key(data, "credsStore")
    value = data.get(key) if key is not None else None
    return value if isinstance(value, str) and value else None
