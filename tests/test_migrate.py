"""dockercreds.migrate: plaintext secrets into a store, without losing any."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from dockercreds import cli, resolver
from dockercreds import migrate as migrate_mod
from dockercreds.errors import ConfigWriteError, DockerCredsError, KeyringError
from dockercreds.migrate import FAILED, KEPT, MOVED, WOULD_MOVE, migrate
from dockercreds.registry import HUB_KEY
from dockercreds.resolver import get_credentials, get_registry_credentials
from dockercreds.writer import update_config
from tests.fakestore import FakeStore, helper_db, install_fake_helper
from tests.peers import require


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def read(path: Path) -> Dict[str, Any]:
    return dict(json.loads(path.read_text()))


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    return tmp_path / "docker" / "config.json"


@pytest.fixture
def store() -> FakeStore:
    return FakeStore("keyring")


@pytest.fixture(autouse=True)
def reads_from(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, store: FakeStore
) -> None:
    """Lookups and the CLI (resolver.store_for) see the FakeStore; peer tests the real one."""
    if request.node.get_closest_marker("peer") is None:
        monkeypatch.setattr(resolver, "store_for", lambda name: store)


def run(conf: Path, store: FakeStore, **kwargs: Any) -> migrate_mod.MigrationReport:
    return migrate(conf, store_factory=lambda name: store, **kwargs)


def statuses(report: migrate_mod.MigrationReport) -> Dict[str, str]:
    return {item.key: item.status for item in report.items}


# What each registry (and namespaced repository) resolves to, through dockercreds.
Seen = Dict[str, Any]


def lookups(conf: Path, targets: List[str]) -> Seen:
    seen: Seen = {}
    for target in targets:
        try:
            if "/" in target:
                found = get_credentials(target, config=conf)
            else:
                found = get_registry_credentials(target, config=conf)
        except DockerCredsError as exc:
            seen[target] = type(exc).__name__
            continue
        seen[target] = (
            None
            if found is None
            else (found.username, found.password or None, found.identity_token)
        )
    return seen


def bare(seen: Seen) -> Seen:
    """Identity-token answers from a helper carry no username: compare the secret only."""
    return {
        k: (None, None, v[2]) if isinstance(v, tuple) and v[2] else v for k, v in seen.items()
    }


TARGETS = ["quay.io", "docker.io", "ghcr.io", "gcr.io", "quay.io/org/app", "quay.io/other/x",
           "empty.example", "nothing.example"]

MOVABLE = {
    "auths": {
        "quay.io": {"auth": b64("alice:pw1"), "email": "a@b", "x-note": 1},
        "https://index.docker.io/v1/": {"auth": b64("bob:pw2")},
        # what the docker CLI writes for an identity token: auth "user:" plus the token
        "ghcr.io": {"auth": b64("carol:"), "identitytoken": "refresh-3"},
        "empty.example": {},
    },
    "psFormat": "table",
}


def test_migrate_moves_routes_and_sets_creds_store(conf: Path, store: FakeStore) -> None:
    write(conf, MOVABLE)
    conf.chmod(0o640)
    before = lookups(conf, TARGETS)
    report = run(conf, store)
    assert statuses(report) == {
        "quay.io": MOVED,
        HUB_KEY: MOVED,
        "ghcr.io": MOVED,
        "empty.example": "no secret",
    }
    assert store.data == {
        "quay.io": ("alice", "pw1"),
        HUB_KEY: ("bob", "pw2"),
        "docker.io": ("bob", "pw2"),  # what podman and skopeo ask for Docker Hub
        "ghcr.io": ("<token>", "refresh-3"),
    }
    data = read(conf)
    assert data["auths"] == {
        "quay.io": {"email": "a@b", "x-note": 1},
        HUB_KEY: {},
        "ghcr.io": {},
        "empty.example": {},
    }
    assert data["credHelpers"] == {
        HUB_KEY: "keyring", "docker.io": "keyring", "ghcr.io": "keyring", "quay.io": "keyring"
    }
    assert data["credsStore"] == "keyring"
    assert data["psFormat"] == "table"
    assert (conf.stat().st_mode & 0o777) == 0o640
    assert report.creds_store_set and report.changed
    assert report.routes == list(data["credHelpers"])
    assert bare(lookups(conf, TARGETS)) == bare(before)
    for item in report.items:
        for secret in ("pw1", "pw2", "refresh-3"):
            assert secret not in item.describe()


MIXED = {
    "auths": {
        "quay.io": {"auth": b64("alice:pw1"), "email": "a@b", "x-note": 1},
        "https://index.docker.io/v1/": {"auth": b64("bob:pw2")},
        "ghcr.io": {"identitytoken": "refresh-3"},
        "empty.example": {},
        "quay.io/org": {"auth": b64("ns:pw4")},
        "gcr.io": {"auth": b64("g:pw5")},
    },
    "credHelpers": {"gcr.io": "gcloud"},
    "psFormat": "table",
}


def test_kept_entries_leave_creds_store_unset(conf: Path, store: FakeStore) -> None:
    write(conf, MIXED)
    before = lookups(conf, ["docker.io", "quay.io", "quay.io/org/app", "ghcr.io"])
    report = run(conf, store)
    assert statuses(report) == {
        HUB_KEY: MOVED,
        "quay.io": KEPT,
        "quay.io/org": KEPT,
        "ghcr.io": KEPT,
        "gcr.io": KEPT,
        "empty.example": "no secret",
    }
    reasons = {i.key: i.reason for i in report.items}
    assert "namespace key" in reasons["quay.io/org"]
    assert "'quay.io/org' is a namespace key of the same registry" in reasons["quay.io"]
    assert "no 'auth' field" in reasons["ghcr.io"]
    assert "gcloud" in reasons["gcr.io"]
    data = read(conf)
    assert "credsStore" not in data
    assert not report.creds_store_set
    assert "4 entries stay in the file" in report.creds_store_note
    assert data["credHelpers"] == {"gcr.io": "gcloud", HUB_KEY: "keyring", "docker.io": "keyring"}
    assert data["auths"]["quay.io"] == MIXED["auths"]["quay.io"]  # type: ignore[index]
    assert data["auths"][HUB_KEY] == {}
    assert lookups(conf, ["docker.io", "quay.io", "quay.io/org/app", "ghcr.io"]) == before


@pytest.mark.parametrize(
    ("auths", "helpers", "reason"),
    [
        ({"quay.io": {"auth": "%%%"}}, {}, "cannot be decoded"),
        ({"quay.io": {"registrytoken": "rt"}}, {}, "registry token"),
        ({"quay.io": {"auth": b64("a:b"), "identitytoken": "t"}}, {},
         "both a password and an identity token"),
        ({"quay.io": {"username": "only-user"}}, {}, "incomplete"),
        # podman and skopeo read neither username/password nor a token without auth
        ({"quay.io": {"username": "u", "password": "p"}}, {}, "no 'auth' field"),
        ({"quay.io": {"identitytoken": "t"}}, {}, "no 'auth' field"),
        ({"quay.io": {"auth": b64("a:b")}, "quay.io/org": {}}, {},
         "namespace key of the same registry"),
        ({"quay.io": {"auth": b64("a:b")}}, {"quay.io": "pass"}, "sends it to 'pass'"),
        ({"r.example.com": {"auth": b64("a:b")}}, {"https://R.example.com/v1/": "pass"},
         "sends it to 'pass'"),
        # podman's own key for Docker Hub routes elsewhere
        ({HUB_KEY: {"auth": b64("a:b")}}, {"docker.io": "pass"}, "sends it to 'pass'"),
        ({"https://u:SECRET@quay.io": {"auth": b64("a:b")}}, {}, "not a registry key"),
    ],
)
def test_entries_that_cannot_move_leave_the_file_untouched(
    conf: Path,
    store: FakeStore,
    auths: Dict[str, Any],
    helpers: Dict[str, str],
    reason: str,
) -> None:
    write(conf, {"auths": auths, **({"credHelpers": helpers} if helpers else {})})
    before_bytes = conf.read_bytes()
    targets = ["quay.io", "quay.io/org/app", "docker.io", "r.example.com"]
    before = lookups(conf, targets)
    report = run(conf, store)
    assert [i.status for i in report.items if i.status != "no secret"] == [KEPT]
    assert reason in report.kept[0].reason
    assert conf.read_bytes() == before_bytes
    assert store.data == {}
    assert not report.creds_store_set and not report.routes and not report.changed
    assert lookups(conf, targets) == before


def test_total_failure_changes_nothing(conf: Path, store: FakeStore) -> None:
    # regression: with no keyring reachable, "0 moved, 2 failed" still set credsStore
    write(conf, {"auths": {"a.example": {"auth": b64("a:1")}, "b.example": {"auth": b64("b:2")}}})
    before_bytes = conf.read_bytes()
    before = lookups(conf, ["a.example", "b.example"])
    store.fail[("get", "*")] = KeyringError("no keyring available")
    store.fail[("store", "*")] = KeyringError("no keyring available")
    report = run(conf, store)
    assert statuses(report) == {"a.example": FAILED, "b.example": FAILED}
    assert all("no keyring" in i.reason for i in report.failed)
    assert conf.read_bytes() == before_bytes
    assert not report.creds_store_set and not report.routes and not report.changed
    store.fail.clear()
    assert lookups(conf, ["a.example", "b.example"]) == before


def test_partial_failure_changes_nothing_and_takes_copies_back(
    conf: Path, store: FakeStore
) -> None:
    write(conf, {"auths": {"a.example": {"auth": b64("a:1")}, "b.example": {"auth": b64("b:2")},
                           "c.example": {"auth": b64("c:3")}}})
    store.data["c.example"] = ("c", "stale")  # not routed: replaced, then put back
    before_bytes = conf.read_bytes()
    before = lookups(conf, ["a.example", "b.example", "c.example"])
    store.fail[("store", "b.example")] = KeyringError("keyring is locked")
    report = run(conf, store)
    assert statuses(report) == {"a.example": KEPT, "b.example": FAILED, "c.example": KEPT}
    assert report.failed[0].reason == "keyring is locked"
    assert "another entry failed" in report.kept[0].reason
    assert conf.read_bytes() == before_bytes
    assert store.data == {"c.example": ("c", "stale")}
    assert lookups(conf, ["a.example", "b.example", "c.example"]) == before


def test_read_back_mismatch_changes_nothing(conf: Path, store: FakeStore) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("a:1")}}})
    before = conf.read_bytes()
    store.corrupt_reads = True
    report = run(conf, store)
    assert statuses(report) == {"quay.io": FAILED}
    assert "did not match" in report.failed[0].reason
    assert conf.read_bytes() == before
    assert store.data == {}


def test_every_secret_is_read_back_before_removal(conf: Path, store: FakeStore) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("alice:pw")}}})
    run(conf, store)
    assert store.calls == [
        ("get", "quay.io"), ("store", "quay.io"), ("get", "quay.io"), ("list", "")
    ]


@pytest.mark.parametrize(
    "content",
    [None, b"", b"{}", b'{"auths": {"quay.io": {}}, "x": 1}', b'{"credsStore": "keyring"}'],
)
def test_no_plaintext_secret_no_write(
    conf: Path, store: FakeStore, content: Optional[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # regression: with an empty home, migrate created a config holding only credsStore
    if content is not None:
        conf.parent.mkdir(parents=True)
        conf.write_bytes(content)
        report = run(conf, store)
    else:  # the default location may be missing; a config named explicitly may not
        from dockercreds.errors import ConfigNotFound

        with pytest.raises(ConfigNotFound, match="no such config file"):
            run(conf, store)
        monkeypatch.setenv("DOCKER_CONFIG", str(conf.parent))
        report = migrate(store_factory=lambda name: store)
    if content is None:
        assert not conf.parent.exists()
    else:
        assert conf.read_bytes() == content
        assert sorted(p.name for p in conf.parent.iterdir()) == ["config.json"]
    assert store.calls == []
    assert not report.changed and not report.creds_store_set


def test_store_holding_other_registries_leaves_creds_store_unset(
    conf: Path, store: FakeStore
) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("a:1")}}})
    store.data["https://user:SECRET@other.example"] = ("o", "2")
    report = run(conf, store)
    assert statuses(report) == {"quay.io": MOVED}
    assert read(conf) == {"auths": {"quay.io": {}}, "credHelpers": {"quay.io": "keyring"}}
    assert "also holds credentials for https://***@other.example" in report.creds_store_note
    assert "SECRET" not in report.creds_store_note
    assert lookups(conf, ["other.example"]) == {"other.example": None}


def test_store_that_cannot_list_leaves_creds_store_unset(conf: Path, store: FakeStore) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("a:1")}}})
    store.fail[("list", "*")] = KeyringError("list is not supported")
    report = run(conf, store)
    assert statuses(report) == {"quay.io": MOVED}
    assert "credsStore" not in read(conf)
    assert "cannot list" in report.creds_store_note


def test_dry_run_changes_nothing(conf: Path, store: FakeStore) -> None:
    write(conf, MOVABLE)
    before = conf.read_bytes()
    report = run(conf, store, dry_run=True)
    assert conf.read_bytes() == before
    assert [c[0] for c in store.calls] == ["list"]  # only reads what the store holds
    assert statuses(report)["quay.io"] == WOULD_MOVE
    assert report.creds_store_set
    assert report.routes == [HUB_KEY, "docker.io", "ghcr.io", "quay.io"]
    assert not report.changed


@pytest.mark.parametrize("config", [MOVABLE, MIXED])
def test_idempotent(conf: Path, store: FakeStore, config: Dict[str, Any]) -> None:
    write(conf, config)
    run(conf, store)
    after = conf.read_bytes()
    calls = len(store.calls)
    again = run(conf, store)
    assert conf.read_bytes() == after
    assert report_moved(again) == []
    assert not again.creds_store_set and not again.routes and not again.changed
    assert store.calls[calls:] == []


def report_moved(report: migrate_mod.MigrationReport) -> List[str]:
    return [i.key for i in report.moved]


def test_other_creds_store_is_refused(conf: Path, store: FakeStore) -> None:
    write(conf, {"credsStore": "desktop", "auths": {"quay.io": {"auth": b64("a:b")}}})
    before = conf.read_bytes()
    with pytest.raises(ConfigWriteError, match="--to desktop"):
        run(conf, store)
    assert conf.read_bytes() == before
    assert store.calls == []


def test_same_creds_store_moves_leftovers(conf: Path, store: FakeStore) -> None:
    write(conf, {"credsStore": "keyring", "auths": {"quay.io": {"auth": b64("a:b")}}})
    report = run(conf, store)
    assert statuses(report) == {"quay.io": MOVED}
    assert not report.creds_store_set
    assert read(conf) == {
        "credsStore": "keyring", "auths": {"quay.io": {}}, "credHelpers": {"quay.io": "keyring"}
    }


@pytest.mark.parametrize(
    "routing",
    [{"credsStore": "keyring"}, {"credHelpers": {"quay.io": "keyring"}}],
)
def test_store_already_answering_differently_is_not_overwritten(
    conf: Path, store: FakeStore, routing: Dict[str, Any]
) -> None:
    write(conf, {**routing, "auths": {"quay.io": {"auth": b64("a:old")}}})
    before_bytes = conf.read_bytes()
    store.data["quay.io"] = ("a", "current")
    before = lookups(conf, ["quay.io"])
    report = run(conf, store)
    assert statuses(report) == {"quay.io": KEPT}
    assert "already holds other credentials" in report.items[0].reason
    assert store.data["quay.io"] == ("a", "current")
    assert conf.read_bytes() == before_bytes
    assert lookups(conf, ["quay.io"]) == before


def test_stale_store_entry_is_replaced_when_nothing_routed_to_it(
    conf: Path, store: FakeStore
) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("a:new")}}})
    store.data["quay.io"] = ("a", "stale")
    run(conf, store)
    assert store.data["quay.io"] == ("a", "new")
    assert lookups(conf, ["quay.io"]) == {"quay.io": ("a", "new", None)}


def test_aliases_of_one_registry(conf: Path, store: FakeStore) -> None:
    write(
        conf,
        {
            "auths": {
                "https://quay.io": {"auth": b64("a:same")},
                "quay.io": {"auth": b64("a:same")},
                "http://quay.io/v1/": {"auth": b64("a:different")},
            }
        },
    )
    before = lookups(conf, ["quay.io"])
    report = run(conf, store)
    assert statuses(report) == {"quay.io": MOVED, "https://quay.io": MOVED,
                                "http://quay.io/v1/": KEPT}
    assert store.data == {"quay.io": ("a", "same")}
    data = read(conf)
    assert data["auths"]["http://quay.io/v1/"] == {"auth": b64("a:different")}
    assert data["credHelpers"] == {"quay.io": "keyring"}
    assert "credsStore" not in data  # a kept entry: credsStore would hide it from docker
    assert lookups(conf, ["quay.io"]) == before


def test_report_hides_user_info_of_a_key(conf: Path, store: FakeStore) -> None:
    key = "https://user:url-SECRET@quay.io"
    write(conf, {"auths": {key: {"auth": b64("a:pw-SECRET")}}})
    report = run(conf, store, dry_run=True)
    assert statuses(report) == {key: KEPT}  # the item keeps the raw key
    line = report.items[0].describe()
    assert "SECRET" not in line
    assert "https://***@quay.io" in line


def test_candidate_repr_hides_the_secret(conf: Path) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("alice:pw-SECRET")}}})
    moving, _ = migrate_mod._plan(read(conf), str(conf), "keyring")
    assert [c.key for c in moving] == ["quay.io"]
    assert "SECRET" not in repr(moving[0])


def test_crash_before_rewrite_loses_nothing_and_rerun_finishes(
    conf: Path, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(conf, MOVABLE)
    before_bytes = conf.read_bytes()
    before = lookups(conf, TARGETS)

    def killed(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # stands in for a crash right before the rewrite

    monkeypatch.setattr(migrate_mod, "update_config", killed)
    with pytest.raises(KeyboardInterrupt):
        run(conf, store)
    assert conf.read_bytes() == before_bytes  # plaintext still there ...
    assert store.data["quay.io"] == ("alice", "pw1")  # ... and a copy in the store
    assert lookups(conf, TARGETS) == before
    monkeypatch.setattr(migrate_mod, "update_config", update_config)
    report = run(conf, store)
    assert statuses(report)["quay.io"] == MOVED
    assert read(conf)["auths"]["quay.io"] == {"email": "a@b", "x-note": 1}
    assert bare(lookups(conf, TARGETS)) == bare(before)


def test_file_changed_during_migration_changes_nothing(conf: Path, store: FakeStore) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("a:old")}}})

    def meanwhile(server: str) -> None:
        def change(data: Dict[str, Any]) -> None:
            data["auths"]["quay.io"] = {"auth": b64("a:new")}

        update_config(conf, change)

    store.on_store = meanwhile
    report = run(conf, store)
    assert statuses(report) == {"quay.io": FAILED}
    assert "changed by another program" in report.items[0].reason
    assert read(conf) == {"auths": {"quay.io": {"auth": b64("a:new")}}}
    assert store.data == {}  # the copy of the old secret was taken back
    assert lookups(conf, ["quay.io"]) == {"quay.io": ("a", "new", None)}


def test_failed_rewrite_takes_the_copies_back(
    conf: Path, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("a:1")}}})
    before = conf.read_bytes()

    def refused(*args: Any, **kwargs: Any) -> None:
        raise ConfigWriteError("cannot write the config (test)")

    monkeypatch.setattr(migrate_mod, "update_config", refused)
    with pytest.raises(ConfigWriteError):
        run(conf, store)
    assert conf.read_bytes() == before
    assert store.data == {}


def test_malformed_file_is_refused(conf: Path, store: FakeStore) -> None:
    conf.parent.mkdir(parents=True)
    conf.write_text('{"auths": ')
    with pytest.raises(ConfigWriteError, match="line 1"):
        run(conf, store)
    assert conf.read_text() == '{"auths": '


def test_migrate_into_a_helper_program(
    conf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the real store_for: a helper program
    bin_dir = tmp_path / "bin"
    install_fake_helper(bin_dir, monkeypatch, "fake")
    write(conf, {"auths": {"quay.io": {"auth": b64("alice:pw")}}})
    report = migrate(conf, to="fake")
    assert statuses(report) == {"quay.io": MOVED}
    assert helper_db(bin_dir) == {"quay.io": ["alice", "pw"]}
    assert read(conf) == {
        "auths": {"quay.io": {}}, "credHelpers": {"quay.io": "fake"}, "credsStore": "fake"
    }
    found = get_registry_credentials("quay.io", config=conf)
    assert found is not None
    assert (found.password, found.source) == ("pw", "helper:fake")


# --------------------------------------------------------------------------- CLI


def run_cli(argv: List[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_cli_migrate_report(
    conf: Path, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(conf, MIXED)
    code, out, err = run_cli(["migrate", "--dry-run", "--config", str(conf)], monkeypatch)
    assert code == 0, err
    assert out.startswith(f"Dry run: nothing changed in {conf}\n")
    assert f"would move {HUB_KEY} (user bob) -> {HUB_KEY}" in out
    assert f"credHelpers would be set to 'keyring' for {HUB_KEY}, docker.io in {conf}" in out
    assert "credsStore not set: 4 entries stay in the file" in out
    assert "1 would move, 4 kept, 0 failed" in out
    code, out, err = run_cli(["migrate", "--config", str(conf)], monkeypatch)
    assert code == 0, err
    assert f"moved      {HUB_KEY} (user bob) -> {HUB_KEY}" in out
    assert "kept       quay.io/org (user ns): namespace key" in out
    assert f"credHelpers set to 'keyring' for {HUB_KEY}, docker.io in {conf}" in out
    assert "podman and skopeo ignore" not in out
    for secret in ("pw1", "pw2", "refresh-3", "pw4", "pw5"):
        assert secret not in out + err


def test_cli_migrate_sets_creds_store_when_nothing_stays(
    conf: Path, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(conf, MOVABLE)
    code, out, err = run_cli(["migrate", "--config", str(conf)], monkeypatch)
    assert (code, err) == (0, "")
    assert f"credsStore set to 'keyring' in {conf}\n" in out
    assert out.endswith("3 moved, 0 kept, 0 failed\n")


def test_cli_migrate_failure_exit_1_one_line_each(
    conf: Path, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "https://user:KEY-SECRET@a.example"
    write(conf, {"auths": {"quay.io": {"auth": b64("a:pw-SECRET")}, "b.example": {"auth": b64(
        "b:pw2-SECRET")}, key: {"auth": b64("c:pw3-SECRET")}}})
    before = conf.read_bytes()
    store.fail[("store", "*")] = KeyringError("no keyring available\n(second line)")
    code, out, err = run_cli(["migrate", "--config", str(conf)], monkeypatch)
    assert code == 1
    assert err.splitlines() == [
        "dockercreds: quay.io: no keyring available (second line)",
        "dockercreds: b.example: no keyring available (second line)",
    ]
    assert f"nothing changed in {conf}\n" in out
    assert "0 moved, 1 kept, 2 failed" in out
    assert "credsStore set" not in out and "credHelpers set" not in out
    assert "SECRET" not in out + err
    assert conf.read_bytes() == before


def test_cli_migrate_empty_home_creates_nothing(
    docker_config: Path, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(["migrate"], monkeypatch)
    assert (code, err) == (0, "")
    assert out == f"no credentials in {docker_config / 'config.json'}\n0 moved, 0 kept, 0 failed\n"
    assert list(docker_config.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["migrate", "--to", "file"], 2, "not file"),
        (["migrate", "--bogus"], 2, "unrecognized"),
    ],
)
def test_cli_migrate_usage(
    conf: Path, monkeypatch: pytest.MonkeyPatch, argv: List[str], code: int, needle: str
) -> None:
    got, _, err = run_cli([*argv, "--config", str(conf)], monkeypatch)
    assert got == code
    assert needle in err


def test_cli_migrate_refusal_is_one_line(
    conf: Path, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(conf, {"credsStore": "desktop"})
    code, _out, err = run_cli(["migrate", "--config", str(conf)], monkeypatch)
    assert code == 1
    assert err.count("\n") == 1 and "credsStore 'desktop'" in err


# --------------------------------------------------------------------------- peers
# After a migration that succeeds, fails for one registry, or fails for all (no
# keyring), every registry resolves as before in dockercreds, the docker CLI, skopeo
# and podman, against a real htpasswd registry and the real keyring helper.

HUB_USER, HUB_SECRET = "hubuser", "hub-SECRET-pw"
OTHER = "other.example:5000"


def _tool(argv: List[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, env=dict(os.environ), timeout=120, check=False
    )


def _everyone(registry: Any, path: Path) -> Dict[str, Any]:
    """What each tool makes of the config at ``path`` (DOCKER_CONFIG is its directory)."""
    docker, skopeo, podman = require("docker"), require("skopeo"), require("podman")
    seen: Dict[str, Any] = {}
    ours = get_credentials(registry.image)
    seen["dockercreds"] = None if ours is None else (ours.username, ours.password)
    for host in ("docker.io", OTHER):
        found = get_registry_credentials(host)
        seen[f"dockercreds {host}"] = None if found is None else (found.username, found.password)
    pull = _tool([docker, "manifest", "inspect", "--insecure", registry.image])
    seen["docker"] = pull.returncode == 0 and "schemaVersion" in pull.stdout
    inspect = _tool([skopeo, "inspect", "--tls-verify=false", "--authfile", str(path),
                     f"docker://{registry.image}"])
    seen["skopeo"] = inspect.returncode == 0 and "Digest" in inspect.stdout
    for host in (registry.addr, "docker.io", OTHER):
        login = _tool([podman, "login", "--authfile", str(path), "--get-login", host])
        seen[f"podman {host}"] = login.stdout.strip() if login.returncode == 0 else None
    return seen


@pytest.fixture
def peer_config(
    registry: Any,
    docker_config: Path,
    secret_service: Any,
    venv_bin_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Path]:
    """A config with the registry's password, a Hub and another entry; keyring reachable."""
    require("docker-credential-keyring")
    for name, value in secret_service.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DOCKERCREDS_KEYRING_INDEX", str(tmp_path / "index.json"))
    _erase_peer_items(registry)  # items other tests left in the session's Secret Service
    path = docker_config / "config.json"
    write(
        path,
        {
            "auths": {
                registry.addr: {"auth": b64(f"{registry.user}:{registry.password}")},
                HUB_KEY: {"auth": b64(f"{HUB_USER}:{HUB_SECRET}")},
                OTHER: {"auth": b64("other-user:other-SECRET")},
            },
            "detachKeys": "ctrl-e,e",
        },
    )
    yield path
    _erase_peer_items(registry)


def _erase_peer_items(registry: Any) -> None:
    from dockercreds.keyring_store import KeyringStore

    keyring = KeyringStore()
    for server in (registry.addr, HUB_KEY, "docker.io", OTHER):
        keyring.erase(server)


@pytest.mark.peer
def test_peer_migrate_success_everyone_resolves_as_before(
    registry: Any, peer_config: Path
) -> None:
    before = _everyone(registry, peer_config)
    assert before["docker"] and before["skopeo"]
    assert before["podman docker.io"] == HUB_USER
    report = migrate()
    assert statuses(report) == {registry.addr: MOVED, HUB_KEY: MOVED, OTHER: MOVED}
    text = peer_config.read_text()
    assert registry.password not in text and "SECRET" not in text
    data = json.loads(text)
    assert data["credHelpers"] == {
        registry.addr: "keyring", HUB_KEY: "keyring", "docker.io": "keyring", OTHER: "keyring"
    }
    assert data["credsStore"] == "keyring"
    assert data["detachKeys"] == "ctrl-e,e"
    assert _everyone(registry, peer_config) == before
    again = migrate()  # nothing left to move
    assert again.moved == [] and not again.changed


class _FailsFor:
    """The real keyring store, except that storing ``server`` fails."""

    def __init__(self, inner: Any, server: str) -> None:
        self.inner, self.server = inner, server

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def store(self, server: str, username: str, secret: str) -> None:
        if server == self.server:
            raise KeyringError(f"the keyring refused {server} (test double)")
        self.inner.store(server, username, secret)


@pytest.mark.peer
def test_peer_migrate_partial_failure_everyone_resolves_as_before(
    registry: Any, peer_config: Path
) -> None:
    from dockercreds.keyring_store import KeyringStore

    before_bytes = peer_config.read_bytes()
    before = _everyone(registry, peer_config)
    report = migrate(store_factory=lambda name: _FailsFor(KeyringStore(), OTHER))
    assert statuses(report) == {registry.addr: KEPT, HUB_KEY: KEPT, OTHER: FAILED}
    assert peer_config.read_bytes() == before_bytes
    assert KeyringStore().list() == {}  # the copies stored before the failure went back
    assert _everyone(registry, peer_config) == before


@pytest.mark.peer
def test_peer_migrate_without_keyring_everyone_resolves_as_before(
    registry: Any, peer_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_bytes = peer_config.read_bytes()
    before = _everyone(registry, peer_config)
    with monkeypatch.context() as env:
        env.delenv("DBUS_SESSION_BUS_ADDRESS")  # no Secret Service: no keyring at all
        code, out, err = run_cli(["migrate"], env)
    assert code == 1
    assert len(err.splitlines()) == 3 and all("keyring" in line for line in err.splitlines())
    assert "0 moved, 0 kept, 3 failed" in out
    assert peer_config.read_bytes() == before_bytes
    assert _everyone(registry, peer_config) == before


# --------------------------------------------------------------------------- containers
# migrate --containers / --authfile: podman's auth file, routed the way podman reads it.

PODMAN_FILE = {
    "auths": {
        "docker.io": {"auth": b64("bob:pw2"), "x-note": 1},
        "ghcr.io": {"auth": b64("carol:pw3")},
        "quay.io": {"auth": b64("alice:pw1")},
        "quay.io/org": {"auth": b64("ns:pw4")},
    },
    "x-tool": True,
}


def containers_lookups(path: Path) -> Seen:
    seen: Seen = {}
    for target in ("docker.io/library/x", "ghcr.io/a/b", "quay.io/x/y", "quay.io/org/app"):
        found = get_credentials(target, config=path)
        seen[target] = None if found is None else (found.username, found.password)
    return seen


def test_containers_migrate_routes_podmans_keys(tmp_path: Path, store: FakeStore) -> None:
    path = tmp_path / "auth.json"
    write(path, PODMAN_FILE)
    before = containers_lookups(path)
    report = run(path, store, target="containers")
    assert statuses(report) == {
        "docker.io": MOVED, "ghcr.io": MOVED, "quay.io": KEPT, "quay.io/org": KEPT
    }
    # routed with what podman reads (docker.io); Hub stored under both of its helper names
    assert store.data == {"docker.io": ("bob", "pw2"), HUB_KEY: ("bob", "pw2"),
                          "ghcr.io": ("carol", "pw3")}
    data = read(path)
    assert data["credHelpers"] == {"docker.io": "keyring", "ghcr.io": "keyring"}
    assert "credsStore" not in data  # podman ignores it: never written
    assert data["x-tool"] is True
    assert data["auths"]["docker.io"] == {"x-note": 1}
    assert report.routes == ["docker.io", "ghcr.io"]
    assert not report.creds_store_set and "ignore credsStore" in report.creds_store_note
    moved = [item.describe() for item in report.moved]
    assert moved[0].endswith("-> docker.io")
    assert containers_lookups(path) == before


def test_containers_migrate_ignores_an_existing_creds_store(
    tmp_path: Path, store: FakeStore
) -> None:
    path = tmp_path / "auth.json"
    write(path, {"credsStore": "pass", "auths": {"ghcr.io": {"auth": b64("carol:pw3")}}})
    # for the Docker file another credsStore is refused; podman never reads it
    with pytest.raises(ConfigWriteError, match="credsStore 'pass'"):
        run(path, store)
    report = run(path, store, target="containers")
    assert statuses(report) == {"ghcr.io": MOVED}
    assert read(path) == {"credsStore": "pass", "auths": {"ghcr.io": {}},
                          "credHelpers": {"ghcr.io": "keyring"}}


def test_containers_migrate_default_file_is_podmans(
    tmp_path: Path, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "explicit.json"
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(path))
    write(path, {"auths": {"ghcr.io": {"auth": b64("carol:pw3")}}})
    report = migrate(target="containers", store_factory=lambda name: store)
    assert report.path == str(path) and report.changed


def test_cli_migrate_authfile(
    tmp_path: Path, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "auth.json"
    write(path, PODMAN_FILE)
    code, out, err = run_cli(["migrate", "--authfile", str(path)], monkeypatch)
    assert code == 0, err
    assert "moved      docker.io (user bob) -> docker.io" in out
    assert f"credHelpers set to 'keyring' for docker.io, ghcr.io in {path}" in out
    assert "credsStore not set: podman and skopeo ignore credsStore" in out
    assert "2 moved, 2 kept, 0 failed" in out


@pytest.mark.peer
def test_peer_containers_migrate_podman_and_skopeo_resolve_as_before(
    registry: Any,
    docker_config: Path,
    secret_service: Any,
    venv_bin_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    require("docker-credential-keyring")
    for name, value in secret_service.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DOCKERCREDS_KEYRING_INDEX", str(tmp_path / "index.json"))
    path = tmp_path / "auth.json"
    write(path, {"auths": {
        registry.addr: {"auth": b64(f"{registry.user}:{registry.password}")},
        "docker.io": {"auth": b64(f"{HUB_USER}:{HUB_SECRET}")},
    }})
    skopeo, podman = require("skopeo"), require("podman")

    def seen() -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        inspect = _tool([skopeo, "inspect", "--tls-verify=false", "--authfile", str(path),
                         f"docker://{registry.image}"])
        out["skopeo"] = inspect.returncode == 0 and "Digest" in inspect.stdout
        for host in (registry.addr, "docker.io"):
            login = _tool([podman, "login", "--authfile", str(path), "--get-login", host])
            out[host] = login.stdout.strip() if login.returncode == 0 else None
        return out

    before = seen()
    assert before == {"skopeo": True, registry.addr: registry.user, "docker.io": HUB_USER}
    try:
        res = subprocess.run(
            [sys.executable, "-m", "dockercreds.cli", "migrate", "--authfile", str(path)],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert res.returncode == 0, res.stdout + res.stderr
        text = path.read_text()
        assert registry.password not in text and HUB_SECRET not in text
        assert json.loads(text)["credHelpers"] == {
            registry.addr: "keyring", "docker.io": "keyring"
        }
        assert seen() == before  # now through docker-credential-keyring
    finally:
        from dockercreds.keyring_store import KeyringStore

        for server in (registry.addr, "docker.io"):
            KeyringStore().erase(server)


# --------------------------------------------------------------------------- namespaces

NAMESPACED = {
    "auths": {
        "quay.io": {"auth": b64("alice:pw1")},
        "quay.io/org": {"auth": b64("ns:pw4"), "email": "n@b"},
        "quay.io/org/team": {"auth": b64("teamer:pw6")},
        "ghcr.io/acme": {"identitytoken": "refresh-7"},
    },
}
NS_TARGETS = ["quay.io", "quay.io/org/app", "quay.io/org/team/app", "quay.io/other/x",
              "quay.io/organization/x", "ghcr.io/acme/app", "ghcr.io/other/app"]


def test_namespaces_stay_without_the_flag(conf: Path, store: FakeStore) -> None:
    write(conf, NAMESPACED)
    report = run(conf, store)
    assert statuses(report) == {
        "quay.io": KEPT, "quay.io/org": KEPT, "quay.io/org/team": KEPT, "ghcr.io/acme": KEPT,
    }
    assert not report.changed and store.data == {}


def test_include_namespaces_moves_them_to_the_keyring(conf: Path, store: FakeStore) -> None:
    write(conf, NAMESPACED)
    before = lookups(conf, NS_TARGETS)
    report = run(conf, store, include_namespaces=True)
    assert statuses(report) == {
        "quay.io": MOVED, "quay.io/org": MOVED, "quay.io/org/team": MOVED, "ghcr.io/acme": MOVED,
    }
    assert store.data == {
        "quay.io": ("alice", "pw1"),
        "quay.io/org": ("ns", "pw4"),
        "quay.io/org/team": ("teamer", "pw6"),
        "ghcr.io/acme": ("<token>", "refresh-7"),
    }
    data = read(conf)
    # 0 secrets left; namespaces are markers, never credHelpers keys
    assert data["auths"] == {
        "quay.io": {}, "quay.io/org": {"email": "n@b"}, "quay.io/org/team": {}, "ghcr.io/acme": {},
    }
    assert data["credHelpers"] == {"quay.io": "keyring"}
    assert "credsStore" not in data  # the store holds namespace items docker must not list
    assert bare(lookups(conf, NS_TARGETS)) == bare(before)
    # the report says plainly what the docker CLI, podman and skopeo see
    note = " ".join(report.notes)
    assert "ghcr.io/acme, quay.io/org, quay.io/org/team" in note
    assert "docker CLI reduces keys to hosts" in note and "podman and skopeo" in note
    again = run(conf, store, include_namespaces=True)
    assert again.moved == [] and not again.changed


def test_include_namespaces_dry_run_changes_nothing(conf: Path, store: FakeStore) -> None:
    write(conf, NAMESPACED)
    before = conf.read_bytes()
    report = run(conf, store, include_namespaces=True, dry_run=True)
    assert set(statuses(report).values()) == {WOULD_MOVE}
    assert report.routes == ["quay.io"]
    assert any("would leave no secret" in n for n in report.notes)
    assert conf.read_bytes() == before and store.data == {}


def test_a_namespace_that_must_stay_holds_its_registry_back(
    conf: Path, store: FakeStore
) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("alice:pw1")},
                           "quay.io/org": {"registrytoken": "rt"}}})
    before = lookups(conf, NS_TARGETS)
    report = run(conf, store, include_namespaces=True)
    assert statuses(report) == {"quay.io": KEPT, "quay.io/org": KEPT}
    assert "registry token" in report.items[1].reason or "registry token" in report.items[0].reason
    assert lookups(conf, NS_TARGETS) == before


def test_include_namespaces_failure_leaves_the_file_byte_for_byte(
    conf: Path, store: FakeStore
) -> None:
    write(conf, NAMESPACED)
    before = conf.read_bytes()
    store.fail[("store", "quay.io/org/team")] = KeyringError("the keyring refused it (test)")
    report = run(conf, store, include_namespaces=True)
    assert report.failed and not report.changed
    assert conf.read_bytes() == before
    assert store.data == {}  # what was stored is taken back out


@pytest.mark.parametrize(("to", "target"), [("pass", "docker"), ("keyring", "containers")])
def test_include_namespaces_only_into_the_keyring(
    tmp_path: Path, store: FakeStore, to: str, target: str
) -> None:
    from dockercreds.errors import InvalidArgument

    path = tmp_path / "c.json"
    write(path, NAMESPACED)
    with pytest.raises(InvalidArgument, match="keyring only"):
        migrate(path, to=to, target=target, include_namespaces=True,
                store_factory=lambda name: store)


def test_cli_migrate_include_namespaces(
    conf: Path, store: FakeStore, capsys: pytest.CaptureFixture[str]
) -> None:
    write(conf, NAMESPACED)
    assert cli.main(["migrate", "--config", str(conf), "--include-namespaces"]) == 0
    out = capsys.readouterr().out
    assert "moved      quay.io/org (user ns) -> quay.io/org" in out
    assert "note: namespace accounts (ghcr.io/acme, quay.io/org, quay.io/org/team)" in out
    assert "4 moved, 0 kept, 0 failed" in out
    for secret in ("pw1", "pw4", "pw6", "refresh-7"):
        assert secret not in conf.read_text() and secret not in out


@pytest.mark.peer
def test_peer_migrate_include_namespaces_leaves_no_secret(
    secret_service: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 11 item 1: plaintext host + two namespace accounts, migrated to Secret Service."""
    from dockercreds.keyring_store import KeyringStore
    from tests.test_accounts import _pulls, _three_user_registry

    require("htpasswd")
    for name, value in secret_service.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DOCKERCREDS_KEYRING_INDEX", str(tmp_path / "index.json"))
    reg = _three_user_registry(tmp_path)
    path = tmp_path / "docker" / "config.json"
    users = {"team-a": "team-a-bot", "team-b": "team-b-bot", "other": reg.user}
    write(path, {"auths": {
        reg.addr: {"auth": b64(f"{reg.user}:{reg.password}")},
        f"{reg.addr}/team-a": {"auth": b64("team-a-bot:team-a-bot-pw")},
        f"{reg.addr}/team-b": {"auth": b64("team-b-bot:team-b-bot-pw")},
    }})
    repos = [f"{ns}/app" for ns in users]
    try:
        before = {ns: get_credentials(f"{reg.addr}/{ns}/app", config=path) for ns in users}
        assert {ns: c.username if c else None for ns, c in before.items()} == users
        report = migrate(path, include_namespaces=True)
        assert {item.status for item in report.items} == {MOVED} and report.changed
        text = path.read_text()
        for secret in (reg.password, "team-a-bot-pw", "team-b-bot-pw"):
            assert secret not in text
        assert all(entry == {} for entry in json.loads(text)["auths"].values())
        for ns, user in users.items():
            found = get_credentials(f"{reg.addr}/{ns}/app", config=path)
            assert found is not None and (found.username, found.source) == (user, "keyring")
        assert _pulls(reg, path, repos) == dict.fromkeys(repos, 200)
        reg.add_user("team-b-bot", "changed")  # only team-b's pulls use that user
        assert _pulls(reg, path, repos) == {
            "team-a/app": 200, "team-b/app": 401, "other/app": 200,
        }
    finally:
        keyring = KeyringStore()
        for server in (reg.addr, f"{reg.addr}/team-a", f"{reg.addr}/team-b"):
            keyring.erase(server)
        reg.stop()
