"""Move plaintext secrets out of a Docker config file into the keyring or a helper.

Order, so that an interruption at any point loses nothing::

    1. read the file; decide per auths entry (move, or keep and say why)
    2. for each entry to move: store it, read it back, compare
    3. one locked rewrite: each verified entry whose plaintext is still what was stored
       loses its secret fields (``{}`` plus unknown fields), and ``credsStore`` is set

A crash before step 3 leaves the plaintext and a copy in the store (both valid); the
next run stores the same values again and finishes. Running it again is a no-op.

Kept in place (reported):

* namespace keys (``quay.io/org``): stores are asked per registry, so a namespace's
  secret cannot move there without changing its meaning;
* registries sent to another helper by ``credHelpers``;
* aliases of a registry that already has an entry winning over them, when their secret
  differs (the store holds one secret per registry);
* entries the store already holds with different credentials;
* entries with a registry token, or with both a password and an identity token (a
  helper can hold only one of them), and entries that cannot be decoded.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from .accounts import strip_secrets
from .config import AuthEntry, Source, docker_config_path, parse_config_text
from .credentials import TOKEN_USERNAME
from .errors import ConfigWriteError, DockerCredsError, InvalidRegistry
from .matcher import rank_key
from .registry import helper_server, parse_key, without_userinfo
from .writer import field_key, read_config, section, update_config

__all__ = ["MigrationItem", "MigrationReport", "migrate"]

PathLike = Union[str, "os.PathLike[str]"]
StoreFactory = Callable[[str], Any]

MOVED = "moved"
WOULD_MOVE = "would move"
KEPT = "kept"
FAILED = "failed"
EMPTY = "no secret"


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
    """The outcome of :func:`migrate`."""

    path: str
    store: str
    dry_run: bool
    items: List[MigrationItem] = field(default_factory=list)
    creds_store_set: bool = False  # credsStore was (or would be) written by this run

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


def _same(entry: AuthEntry, other: AuthEntry) -> bool:
    return (entry.username, entry.password, entry.identity_token, entry.registry_token) == (
        other.username,
        other.password,
        other.identity_token,
        other.registry_token,
    )


def _plan(
    data: Dict[str, Any], path: str, helpers: Dict[str, str]
) -> Tuple[List[_Candidate], List[MigrationItem]]:
    auths = section(data, "auths", create=False) or {}
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
        user = entry.username
        try:
            parsed = parse_key(key)
        except InvalidRegistry:
            kept.append(MigrationItem(key, KEPT, username=user, reason="not a registry key"))
            continue
        if parsed.path:
            kept.append(
                MigrationItem(
                    key,
                    KEPT,
                    username=user,
                    reason="namespace key: stores are asked per registry, so its secret"
                    " stays in the file",
                )
            )
            continue
        if parsed.host in helpers:
            kept.append(
                MigrationItem(
                    key,
                    KEPT,
                    username=user,
                    reason=f"credHelpers sends {parsed.host} to {helpers[parsed.host]!r};"
                    " log in again to store it there",
                )
            )
            continue
        if entry.registry_token:
            kept.append(
                MigrationItem(
                    key, KEPT, username=user, reason="a registry token cannot go to a store"
                )
            )
            continue
        if entry.identity_token and entry.password:
            kept.append(
                MigrationItem(
                    key,
                    KEPT,
                    username=user,
                    reason="has both a password and an identity token; a store holds one",
                )
            )
            continue
        pair = _pair(entry)
        if pair is None:
            kept.append(MigrationItem(key, KEPT, username=user, reason="incomplete credentials"))
            continue
        cand = _Candidate(key, parsed.host, helper_server(parsed.host), entry, pair)
        by_host.setdefault(parsed.host, []).append((rank_key(key, parsed), cand))
    moving: List[_Candidate] = []
    for choices in by_host.values():
        choices.sort(key=lambda c: c[0])
        best = choices[0][1]
        moving.append(best)
        for _, other in choices[1:]:
            if other.pair == best.pair:
                moving.append(other)  # same secret: clearing it loses nothing
            else:
                kept.append(
                    MigrationItem(
                        other.key,
                        KEPT,
                        username=other.entry.username,
                        reason=f"{best.key!r} names the same registry with other credentials"
                        " and wins; remove one of them",
                    )
                )
    return moving, kept


def migrate(
    config: Optional[PathLike] = None,
    *,
    to: str = "keyring",
    dry_run: bool = False,
    store_factory: Optional[StoreFactory] = None,
) -> MigrationReport:
    """Move every plaintext secret of ``config`` into store ``to`` (see the module doc).

    ``to`` is ``keyring`` or a helper name. A ``credsStore`` naming another store is
    refused (:class:`~dockercreds.errors.ConfigWriteError`): the secrets already there
    would stop being used. Store errors on one entry are reported (status ``failed``)
    and leave that entry's plaintext in place.
    """
    if store_factory is None:
        from . import resolver

        store_factory = resolver.store_for
    path = Path(config) if config is not None else docker_config_path()
    label = str(path)
    data = read_config(path)
    helper_settings = _helpers(data, label)
    current = _creds_store(data)
    if current and current != to:
        raise ConfigWriteError(
            f"{label} already has credsStore {current!r}; migrating into {to!r} would hide"
            f" the credentials kept there. Use --to {current} to move the plaintext"
            f" secrets into {current!r}, or remove credsStore first",
            path=label,
        )
    report = MigrationReport(label, to, dry_run, creds_store_set=not current)
    moving, kept = _plan(data, label, helper_settings)
    if dry_run:
        report.items = [
            MigrationItem(c.key, WOULD_MOVE, c.server, c.entry.username) for c in moving
        ] + kept
        return report

    target = store_factory(to)
    verified: Dict[str, _Candidate] = {}
    items: List[MigrationItem] = []
    stored: Dict[str, Tuple[str, str]] = {}
    for cand in moving:
        user = cand.entry.username
        try:
            if cand.server not in stored:
                existing = target.get(cand.server)
                existing_pair = existing.helper_pair() if existing is not None else None
                if existing_pair and existing_pair != cand.pair and current == to:
                    # the store already answers for this registry (credsStore is set):
                    # its credentials are the ones in use; do not replace them
                    items.append(
                        MigrationItem(
                            cand.key,
                            KEPT,
                            cand.server,
                            user,
                            f"{to!r} already holds other credentials for {cand.server}",
                        )
                    )
                    continue
                if existing_pair != cand.pair:
                    target.store(cand.server, *cand.pair)
                back = target.get(cand.server)
                if back is None or back.helper_pair() != cand.pair:
                    items.append(
                        MigrationItem(
                            cand.key,
                            FAILED,
                            cand.server,
                            user,
                            f"read back from {to!r} did not match what was stored",
                        )
                    )
                    continue
                stored[cand.server] = cand.pair
            elif stored[cand.server] != cand.pair:  # pragma: no cover (planned away)
                continue
        except DockerCredsError as exc:
            items.append(MigrationItem(cand.key, FAILED, cand.server, user, str(exc)))
            continue
        verified[cand.key] = cand

    changed_meanwhile: List[str] = []

    def rewrite(fresh: Dict[str, Any]) -> bool:
        changed = False
        auths = section(fresh, "auths", create=False) or {}
        for key, cand in verified.items():
            value = auths.get(key)
            try:
                now = _decode_entry(key, value, label) if value is not None else None
            except DockerCredsError:
                now = None
            if now is None or not _same(now, cand.entry):
                changed_meanwhile.append(key)
                continue
            auths[key] = _without_secrets(value)
            changed = True
        store_key = field_key(fresh, "credsStore")
        now_store = fresh.get(store_key) if store_key is not None else None
        if not now_store:
            fresh[store_key or "credsStore"] = to
            changed = True
        elif now_store != to:
            raise ConfigWriteError(
                f"{label}: credsStore changed to {now_store!r} during the migration;"
                " nothing was removed from the file (run it again)",
                path=label,
            )
        return changed

    update_config(path, rewrite)
    for key, cand in verified.items():
        if key in changed_meanwhile:
            items.append(
                MigrationItem(
                    key,
                    KEPT,
                    cand.server,
                    cand.entry.username,
                    "changed by another program during the migration; the store has the"
                    " old value, the file the new one (run it again)",
                )
            )
        else:
            items.append(MigrationItem(key, MOVED, cand.server, cand.entry.username))
    report.items = items + kept
    return report


def _without_secrets(value: Any) -> Dict[str, Any]:
    return strip_secrets(value)


def _creds_store(data: Dict[str, Any]) -> Optional[str]:
    key = field_key(data, "credsStore")
    value = data.get(key) if key is not None else None
    return value if isinstance(value, str) and value else None


def _helpers(data: Dict[str, Any], path: str) -> Dict[str, str]:
    """Normalized host -> helper name from ``credHelpers``."""
    helpers = section(data, "credHelpers", create=False) or {}
    out: Dict[str, str] = {}
    for key, name in helpers.items():
        if not isinstance(name, str) or not name:
            continue
        try:
            parsed = parse_key(key)
        except InvalidRegistry:
            continue
        out.setdefault(parsed.host, name)
    return out
