"""dockercreds.migrate: plaintext secrets into a store, without losing any."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from dockercreds import cli, resolver
from dockercreds import migrate as migrate_mod
from dockercreds.errors import ConfigWriteError, KeyringError
from dockercreds.migrate import FAILED, KEPT, MOVED, WOULD_MOVE, migrate
from dockercreds.registry import HUB_KEY
from dockercreds.resolver import get_registry_credentials
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


def run(conf: Path, store: FakeStore, **kwargs: Any) -> migrate_mod.MigrationReport:
    return migrate(conf, store_factory=lambda name: store, **kwargs)


def statuses(report: migrate_mod.MigrationReport) -> Dict[str, str]:
    return {item.key: item.status for item in report.items}


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


def test_migrate_moves_plaintext_and_sets_creds_store(conf: Path, store: FakeStore) -> None:
    write(conf, MIXED)
    conf.chmod(0o640)
    report = run(conf, store)
    assert statuses(report) == {
        "quay.io": MOVED,
        HUB_KEY: MOVED,
        "ghcr.io": MOVED,
        "empty.example": "no secret",
        "quay.io/org": KEPT,
        "gcr.io": KEPT,
    }
    assert store.data == {
        "quay.io": ("alice", "pw1"),
        HUB_KEY: ("bob", "pw2"),
        "ghcr.io": ("<token>", "refresh-3"),
    }
    data = read(conf)
    assert data["credsStore"] == "keyring"
    assert data["auths"] == {
        "quay.io": {"email": "a@b", "x-note": 1},
        HUB_KEY: {},
        "ghcr.io": {},
        "empty.example": {},
        "quay.io/org": {"auth": b64("ns:pw4")},
        "gcr.io": {"auth": b64("g:pw5")},
    }
    assert data["credHelpers"] == {"gcr.io": "gcloud"}
    assert data["psFormat"] == "table"
    assert (conf.stat().st_mode & 0o777) == 0o640
    assert report.creds_store_set
    reasons = {i.key: i.reason for i in report.items}
    assert "namespace" in reasons["quay.io/org"]
    assert "gcloud" in reasons["gcr.io"]
    for item in report.items:
        for secret in ("pw1", "pw2", "refresh-3", "pw4", "pw5"):
            assert secret not in item.describe()


def test_every_secret_is_read_back_before_removal(conf: Path, store: FakeStore) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("alice:pw")}}})
    run(conf, store)
    assert store.calls == [("get", "quay.io"), ("store", "quay.io"), ("get", "quay.io")]


def test_dry_run_changes_nothing(conf: Path, store: FakeStore) -> None:
    write(conf, MIXED)
    before = conf.read_bytes()
    report = run(conf, store, dry_run=True)
    assert conf.read_bytes() == before
    assert store.calls == []
    assert statuses(report)["quay.io"] == WOULD_MOVE
    assert report.creds_store_set


def test_idempotent(conf: Path, store: FakeStore) -> None:
    write(conf, MIXED)
    run(conf, store)
    after = conf.read_bytes()
    again = run(conf, store)
    assert conf.read_bytes() == after
    assert report_moved(again) == []
    assert not again.creds_store_set


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
    assert read(conf) == {"credsStore": "keyring", "auths": {"quay.io": {}}}


def test_store_already_answering_differently_is_not_overwritten(
    conf: Path, store: FakeStore
) -> None:
    write(conf, {"credsStore": "keyring", "auths": {"quay.io": {"auth": b64("a:old")}}})
    store.data["quay.io"] = ("a", "current")
    report = run(conf, store)
    assert statuses(report) == {"quay.io": KEPT}
    assert store.data["quay.io"] == ("a", "current")
    assert read(conf)["auths"]["quay.io"] == {"auth": b64("a:old")}


def test_stale_store_entry_is_replaced_when_file_was_in_use(
    conf: Path, store: FakeStore
) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("a:new")}}})
    store.data["quay.io"] = ("a", "stale")
    run(conf, store)
    assert store.data["quay.io"] == ("a", "new")


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
    report = run(conf, store)
    assert statuses(report) == {"quay.io": MOVED, "https://quay.io": MOVED,
                                "http://quay.io/v1/": KEPT}
    assert store.data == {"quay.io": ("a", "same")}
    assert read(conf)["auths"]["http://quay.io/v1/"] == {"auth": b64("a:different")}


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"auth": "%%%"}, "cannot be decoded"),
        ({"registrytoken": "rt"}, "registry token"),
        ({"auth": b64("a:b"), "identitytoken": "t"}, "both a password and an identity token"),
        ({"username": "only-user"}, "incomplete"),
    ],
)
def test_entries_a_store_cannot_hold_stay(
    conf: Path, store: FakeStore, entry: Dict[str, str], reason: str
) -> None:
    write(conf, {"auths": {"quay.io": entry}})
    report = run(conf, store)
    assert statuses(report) == {"quay.io": KEPT}
    assert reason in report.items[0].reason
    assert read(conf)["auths"]["quay.io"] == entry
    assert store.data == {}


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
    moving, _ = migrate_mod._plan(read(conf), str(conf), {})
    assert [c.key for c in moving] == ["quay.io"]
    assert "SECRET" not in repr(moving[0])


def test_store_failure_keeps_that_plaintext(conf: Path, store: FakeStore) -> None:
    write(conf, {"auths": {"a.example": {"auth": b64("a:1")}, "b.example": {"auth": b64("b:2")}}})
    store.fail[("store", "a.example")] = KeyringError("keyring is locked")
    report = run(conf, store)
    assert statuses(report) == {"a.example": FAILED, "b.example": MOVED}
    assert "locked" in report.failed[0].reason
    assert read(conf)["auths"] == {"a.example": {"auth": b64("a:1")}, "b.example": {}}


def test_read_back_mismatch_keeps_plaintext(conf: Path, store: FakeStore) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("a:1")}}})
    store.corrupt_reads = True
    report = run(conf, store)
    assert statuses(report) == {"quay.io": FAILED}
    assert read(conf)["auths"]["quay.io"] == {"auth": b64("a:1")}


def test_crash_before_rewrite_loses_nothing_and_rerun_finishes(
    conf: Path, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(conf, MIXED)
    before = conf.read_bytes()

    def killed(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # stands in for a crash right before the rewrite

    monkeypatch.setattr(migrate_mod, "update_config", killed)
    with pytest.raises(KeyboardInterrupt):
        run(conf, store)
    assert conf.read_bytes() == before  # plaintext still there ...
    assert store.data["quay.io"] == ("alice", "pw1")  # ... and a copy in the store
    found = get_registry_credentials("quay.io", config=conf)
    assert found is not None and found.password == "pw1"
    monkeypatch.setattr(migrate_mod, "update_config", update_config)
    report = run(conf, store)
    assert statuses(report)["quay.io"] == MOVED
    assert read(conf)["auths"]["quay.io"] == {"email": "a@b", "x-note": 1}


def test_entry_changed_during_migration_is_kept(conf: Path, store: FakeStore) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("a:old")}}})

    def meanwhile(server: str) -> None:
        def change(data: Dict[str, Any]) -> None:
            data["auths"]["quay.io"] = {"auth": b64("a:new")}

        update_config(conf, change)

    store.on_store = meanwhile
    report = run(conf, store)
    assert statuses(report) == {"quay.io": KEPT}
    assert "changed by another program" in report.items[0].reason
    assert read(conf)["auths"]["quay.io"] == {"auth": b64("a:new")}


def test_malformed_file_is_refused(conf: Path, store: FakeStore) -> None:
    conf.parent.mkdir(parents=True)
    conf.write_text('{"auths": ')
    with pytest.raises(ConfigWriteError, match="line 1"):
        run(conf, store)
    assert conf.read_text() == '{"auths": '


def test_missing_file_sets_creds_store_only(conf: Path, store: FakeStore) -> None:
    report = run(conf, store)
    assert report.items == []
    assert read(conf) == {"credsStore": "keyring", "auths": {}}


def test_migrate_into_a_helper_program(
    conf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    install_fake_helper(bin_dir, monkeypatch, "fake")
    write(conf, {"auths": {"quay.io": {"auth": b64("alice:pw")}}})
    report = migrate(conf, to="fake")
    assert statuses(report) == {"quay.io": MOVED}
    assert helper_db(bin_dir) == {"quay.io": ["alice", "pw"]}
    assert read(conf) == {"auths": {"quay.io": {}}, "credsStore": "fake"}
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


@pytest.fixture
def fake_store_for(monkeypatch: pytest.MonkeyPatch, store: FakeStore) -> FakeStore:
    monkeypatch.setattr(resolver, "store_for", lambda name: store)
    return store


def test_cli_migrate_report(
    conf: Path, fake_store_for: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(conf, MIXED)
    code, out, err = run_cli(["migrate", "--dry-run", "--config", str(conf)], monkeypatch)
    assert code == 0, err
    assert out.startswith(f"Dry run: nothing changed in {conf}\n")
    assert "would move quay.io (user alice) -> quay.io" in out
    assert "credsStore would be set to 'keyring'" in out
    assert "3 would move, 2 kept, 0 failed" in out
    code, out, err = run_cli(["migrate", "--config", str(conf)], monkeypatch)
    assert code == 0, err
    assert "moved      quay.io (user alice) -> quay.io" in out
    assert "kept       quay.io/org (user ns): namespace key" in out
    for secret in ("pw1", "pw2", "refresh-3", "pw4", "pw5"):
        assert secret not in out + err
    assert read(conf)["credsStore"] == "keyring"


def test_cli_migrate_failure_exit_1(
    conf: Path, fake_store_for: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("a:b")}}})
    fake_store_for.fail[("store", "*")] = KeyringError("no keyring")
    code, _out, err = run_cli(["migrate", "--config", str(conf)], monkeypatch)
    assert code == 1
    assert "quay.io: no keyring" in err


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
    conf: Path, fake_store_for: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(conf, {"credsStore": "desktop"})
    code, _out, err = run_cli(["migrate", "--config", str(conf)], monkeypatch)
    assert code == 1
    assert err.count("\n") == 1 and "credsStore 'desktop'" in err


# --------------------------------------------------------------------------- peers


@pytest.mark.peer
def test_peer_migrate_then_docker_pulls_without_secret_in_file(
    registry: Any,
    docker_config: Path,
    secret_service: Any,
    venv_bin_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    require("docker-credential-keyring")
    docker = require("docker")
    for name, value in secret_service.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DOCKERCREDS_KEYRING_INDEX", str(tmp_path / "index.json"))
    path = docker_config / "config.json"
    write(
        path,
        {
            "auths": {
                registry.addr: {"auth": b64(f"{registry.user}:{registry.password}")},
                f"{registry.addr}/test": {"auth": b64("ns-user:ns-secret")},
            },
            "detachKeys": "ctrl-e,e",
        },
    )
    report = migrate()
    assert statuses(report) == {registry.addr: MOVED, f"{registry.addr}/test": KEPT}
    data = read(path)
    assert data["credsStore"] == "keyring"
    assert data["detachKeys"] == "ctrl-e,e"
    del data["auths"][f"{registry.addr}/test"]  # the kept namespace entry
    path.write_text(json.dumps(data))
    assert registry.password not in path.read_text()
    assert b64(f"{registry.user}:{registry.password}") not in path.read_text()
    res = subprocess.run(
        [docker, "manifest", "inspect", "--insecure", registry.image],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "schemaVersion" in res.stdout
    # and again: nothing left to move
    again = migrate()
    assert again.moved == [] and not again.creds_store_set
