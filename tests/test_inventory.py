"""dockercreds.inventory: every account, which one a lookup uses; `dockercreds list`."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

import dockercreds
from dockercreds import resolver
from dockercreds.cli import main
from dockercreds.errors import (
    HelperFailed,
    HelperNotInstalled,
    IncompleteListWarning,
    KeyringError,
)
from dockercreds.inventory import Account, inventory, list_credentials
from dockercreds.keyring_store import KeyringStore
from tests.fakestore import FakeStore
from tests.memory_keyring import MemoryKeyring
from tests.peers import require

SECRET = "S3cret-Zq7-inventory"  # distinctive: asserted absent from all output
TOKEN = "IdTok-Xw9-inventory"


def b64(user: str, secret: str = SECRET) -> str:
    return base64.b64encode(f"{user}:{secret}".encode()).decode()


def plain(user: str) -> Dict[str, str]:
    return {"auth": b64(user)}


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> Dict[str, FakeStore]:
    """resolver.store_for answers with FakeStores, made on demand."""
    made: Dict[str, FakeStore] = {}

    def store_for(name: str) -> FakeStore:
        return made.setdefault(name, FakeStore(name))

    monkeypatch.setattr(resolver, "store_for", store_for)
    return made


def fill(stores: Dict[str, FakeStore], content: Dict[str, Dict[str, str]]) -> None:
    for name, entries in content.items():
        store = stores.setdefault(name, FakeStore(name))
        for server, user in entries.items():
            store.data[server] = (user, TOKEN if user == "<token>" else SECRET)


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


Row = Tuple[str, Optional[str], str, str]  # place, username, source, status


def rows(accounts: List[Account], conf: Path) -> List[Row]:
    out = []
    for a in accounts:
        source = a.source.replace(f"file:{conf}", "FILE")
        out.append((a.place, a.username, source, a.status))
    return out


# (name, config, store contents, expected rows in listing order)
CASES: List[Tuple[str, Dict[str, Any], Dict[str, Dict[str, str]], List[Row]]] = [
    (
        "plaintext, collision: canonical key wins",
        {"auths": {"https://quay.io/v2/": plain("late"), "quay.io": plain("q"),
                   "https://index.docker.io/v1/": plain("hub")}},
        {},
        [("docker.io", "hub", "FILE", "active"), ("quay.io", "q", "FILE", "active"),
         ("quay.io", "late", "FILE", "shadowed")],
    ),
    (
        "namespace keys are accounts of their own",
        {"auths": {"quay.io": plain("host"), "quay.io/org": plain("robot"),
                   "quay.io/org/team": plain("teamrobot")}},
        {},
        [("quay.io", "host", "FILE", "active"), ("quay.io/org", "robot", "FILE", "active"),
         ("quay.io/org/team", "teamrobot", "FILE", "active")],
    ),
    (
        "credHelpers route hides the plaintext auths entry",
        {"auths": {"quay.io": plain("plainuser")}, "credHelpers": {"quay.io": "pass"}},
        {"pass": {"quay.io": "helperuser"}},
        [("quay.io", "helperuser", "helper:pass", "active"),
         ("quay.io", "plainuser", "FILE", "shadowed")],
    ),
    (
        "a routed helper without the entry: the plaintext entry is used",
        {"auths": {"quay.io": plain("plainuser")}, "credHelpers": {"quay.io": "pass"}},
        {"pass": {"ghcr.io": "other"}},
        [("ghcr.io", "other", "helper:pass", "unused"),
         ("quay.io", "plainuser", "FILE", "active")],
    ),
    (
        "credsStore: {} markers are not accounts; the store's are",
        {"auths": {"quay.io": {}, "ghcr.io": {}}, "credsStore": "keyring"},
        {"keyring": {"quay.io": "q", "https://index.docker.io/v1/": "<token>"}},
        [("docker.io", None, "keyring", "active"), ("quay.io", "q", "keyring", "active")],
    ),
    (
        "credHelpers beats credsStore; the store's entry for that host is unused",
        {"credsStore": "keyring", "credHelpers": {"gcr.io": "gcloud"}},
        {"keyring": {"gcr.io": "k"}, "gcloud": {"gcr.io": "g", "us.gcr.io": "g2"}},
        [("gcr.io", "g", "helper:gcloud", "active"), ("gcr.io", "k", "keyring", "unused"),
         ("us.gcr.io", "g2", "helper:gcloud", "unused")],
    ),
    (
        "credHelpers '' sends a host to the file, not credsStore",
        {"auths": {"quay.io": plain("plainuser")}, "credsStore": "pass",
         "credHelpers": {"quay.io": ""}},
        {"pass": {"quay.io": "p"}},
        [("quay.io", "plainuser", "FILE", "active"), ("quay.io", "p", "helper:pass", "unused")],
    ),
    (
        "a store entry in another spelling than the one asked is unused",
        {"credsStore": "pass"},
        {"pass": {"https://quay.io": "spelled", "quay.io": "asked"}},
        [("quay.io", "asked", "helper:pass", "active"),
         ("quay.io", "spelled", "helper:pass", "unused")],
    ),
    (
        "a namespace account in a store is listed (stores are asked per registry)",
        {"credsStore": "keyring"},
        {"keyring": {"quay.io/org": "robot"}},
        [("quay.io/org", "robot", "keyring", "unused")],
    ),
    (
        "a namespace marker makes the keyring's namespace account the one used",
        {"auths": {"quay.io/org": {}, "quay.io": plain("hostuser")}},
        {"keyring": {"quay.io/org": "robot"}},
        [("quay.io", "hostuser", "FILE", "active"),
         ("quay.io/org", "robot", "keyring", "active")],
    ),
    (
        "a store account hides a namespace auths entry (store asked first)",
        {"auths": {"quay.io/org": plain("robot")}, "credsStore": "pass"},
        {"pass": {"quay.io": "p"}},
        [("quay.io", "p", "helper:pass", "active"),
         ("quay.io/org", "robot", "FILE", "shadowed")],
    ),
]


@pytest.mark.parametrize("name,config,content,expected", CASES, ids=[c[0] for c in CASES])
def test_listing(
    tmp_path: Path,
    stores: Dict[str, FakeStore],
    name: str,
    config: Dict[str, Any],
    content: Dict[str, Dict[str, str]],
    expected: List[Row],
) -> None:
    conf = write(tmp_path / "config.json", config)
    fill(stores, content)
    accounts = list_credentials(conf)
    assert rows(accounts, conf) == expected
    assert SECRET not in repr(accounts) and TOKEN not in repr(accounts)
    # no store was asked for a secret
    assert all(action == "list" for store in stores.values() for action, _ in store.calls)
    # the active account of each place is exactly what a lookup there finds
    for place in {(a.registry, a.namespace) for a in accounts}:
        creds = resolver.resolve(*place, config=conf)
        active = [a for a in accounts if (a.registry, a.namespace) == place and a.active]
        if creds is None:
            assert active == [], place
            continue
        winner = [a for a in accounts if (a.source, a.key) == (creds.source, creds.server)]
        assert len(winner) == 1 and winner[0].active, place
        # a namespace may be served by its registry's account (a store asked first)
        assert active == (winner if (winner[0].registry, winner[0].namespace) == place else [])


REASONS: List[Tuple[Dict[str, Any], Dict[str, Dict[str, str]], str, str]] = [
    # config, stores, username of the account, words its reason must hold
    ({"auths": {"https://quay.io/v2/": plain("late"), "quay.io": plain("q")}}, {},
     "late", "key 'quay.io' names the same place as 'https://quay.io/v2/'"),
    ({"credsStore": "pass"}, {"pass": {"https://quay.io": "spelled"}},
     "spelled", "lookups ask the store for 'quay.io', not 'https://quay.io'"),
    ({"credsStore": "keyring"}, {"keyring": {"quay.io/org": "robot"}},
     "robot", "asked for a namespace only when a config has the marker"),
    ({"credHelpers": {"gcr.io": "gcloud"}}, {"gcloud": {"us.gcr.io": "g2"}},
     "g2", "no config routes us.gcr.io to this store"),
    ({"auths": {"quay.io": plain("plainuser")}, "credsStore": "pass"},
     {"pass": {"quay.io": "p"}},
     "plainuser", "a lookup asks the store first: credsStore in"),
    ({"auths": {"quay.io": plain("q")}}, {}, "q", "used: auths key 'quay.io' in"),
]


@pytest.mark.parametrize("config,content,user,words", REASONS)
def test_reasons(
    tmp_path: Path,
    stores: Dict[str, FakeStore],
    config: Dict[str, Any],
    content: Dict[str, Dict[str, str]],
    user: str,
    words: str,
) -> None:
    conf = write(tmp_path / "config.json", config)
    fill(stores, content)
    (account,) = [a for a in list_credentials(conf) if a.username == user]
    assert words in account.reason


def test_namespace_entry_under_a_store_is_shadowed_with_reason(
    tmp_path: Path, stores: Dict[str, FakeStore]
) -> None:
    conf = write(tmp_path / "config.json",
                 {"auths": {"quay.io/org": plain("robot")}, "credHelpers": {"quay.io": "pass"}})
    fill(stores, {"pass": {"quay.io": "p"}})
    accounts = {a.source: a for a in list_credentials(conf)}
    robot = accounts[f"file:{conf}"]
    assert (robot.registry, robot.namespace, robot.key) == ("quay.io", "org", "quay.io/org")
    assert robot.status == "shadowed"
    assert robot.shadowed_by == "helper:pass quay.io"
    assert "credHelpers['quay.io']" in robot.reason


def test_secret_kinds(tmp_path: Path, stores: Dict[str, FakeStore]) -> None:
    conf = write(tmp_path / "config.json", {
        "auths": {
            "tok.example": {"auth": b64("uuid", ""), "identitytoken": TOKEN},
            "reg.example": {"registrytoken": TOKEN},
            "pw.example": plain("u"),
        },
        "credHelpers": {"helper.example": "pass"},
    })
    fill(stores, {"pass": {"helper.example": "<token>"}})
    kinds = {a.registry: (a.username, a.secret) for a in list_credentials(conf)}
    assert kinds == {
        "tok.example": ("uuid", "identity_token"),
        "reg.example": (None, "registry_token"),
        "pw.example": ("u", "password"),
        "helper.example": (None, "identity_token"),
    }


def test_earlier_source_hides_later(
    tmp_path: Path, stores: Dict[str, FakeStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DOCKER_AUTH_CONFIG > the Docker config > the containers auth files."""
    conf_dir = tmp_path / "docker"
    conf = write(conf_dir / "config.json",
                 {"auths": {"quay.io": plain("fileuser"), "ghcr.io": plain("g")}})
    authfile = write(tmp_path / "auth.json",
                     {"auths": {"ghcr.io": plain("podman"), "registry.example": plain("p")}})
    monkeypatch.setenv("DOCKER_CONFIG", str(conf_dir))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(authfile))
    monkeypatch.setenv("DOCKER_AUTH_CONFIG",
                       json.dumps({"auths": {"quay.io": plain("envuser")}}))
    got = [(a.place, a.username, a.source, a.status) for a in list_credentials()]
    assert ("quay.io", "envuser", "env:DOCKER_AUTH_CONFIG", "active") in got
    assert ("quay.io", "fileuser", f"file:{conf}", "shadowed") in got
    assert not any(place == "registry.example" for place, *_ in got)  # docker sources only
    everything = list_credentials(sources="all")
    by = {(a.place, a.username): a for a in everything}
    assert by[("ghcr.io", "g")].active
    assert by[("ghcr.io", "podman")].status == "shadowed"
    assert by[("ghcr.io", "podman")].shadowed_by == f"file:{conf} ghcr.io"
    assert by[("registry.example", "p")].source == f"file:{authfile}"
    assert by[("registry.example", "p")].active
    # with the default sources the keyring store is listed even when no config names it
    assert "keyring" in stores


def test_explicit_config_lists_only_what_it_names(
    tmp_path: Path, stores: Dict[str, FakeStore]
) -> None:
    fill(stores, {"keyring": {"quay.io": "k"}})
    conf = write(tmp_path / "config.json", {"auths": {"ghcr.io": plain("g")}})
    assert [a.registry for a in list_credentials(conf)] == ["ghcr.io"]
    assert stores["keyring"].calls == []


FAILURES = [
    ("not installed", HelperNotInstalled("docker-credential-gone is not installed",
                                         helper="gone", action="list")),
    ("failing", HelperFailed("docker-credential-gone list failed (exit 1)",
                             helper="gone", action="list", returncode=1)),
    ("keyring", KeyringError("the keyring is locked")),
]


@pytest.mark.parametrize("label,error", FAILURES, ids=[f[0] for f in FAILURES])
def test_failing_store_warns_and_the_listing_goes_on(
    tmp_path: Path, stores: Dict[str, FakeStore], label: str, error: Exception
) -> None:
    conf = write(tmp_path / "config.json", {
        "auths": {"quay.io": plain("plainuser")},
        "credHelpers": {"quay.io": "gone", "ghcr.io": "pass"},
    })
    fill(stores, {"pass": {"ghcr.io": "g"}})
    stores["gone"] = FakeStore("gone")
    stores["gone"].fail[("list", "*")] = error  # type: ignore[assignment]
    with pytest.warns(IncompleteListWarning) as caught:
        accounts = list_credentials(conf)
    assert len(caught) == 1
    warning = caught[0].message
    assert isinstance(warning, IncompleteListWarning) and warning.store == "gone"
    assert "credHelpers['quay.io']" in str(warning)
    got = {(a.place, a.username): a for a in accounts}
    assert got[("ghcr.io", "g")].active
    plaintext = got[("quay.io", "plainuser")]
    assert plaintext.active  # as a lookup would, the failed store counts as "not found"
    assert "could not be listed" in plaintext.reason
    with pytest.raises(type(error)):
        list_credentials(conf, strict=True)
    code, out, err = run_cli("list", "--config", str(conf))
    assert code == 0
    assert err.count("\n") == 1 and "warning: cannot list" in err and "gone" in err
    assert "ghcr.io" in out
    code, out, err = run_cli("list", "--config", str(conf), "--strict")
    assert (code, out) == (1, "")
    assert "gone" in err


def test_in_memory_keyring_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real KeyringStore on the in-memory backend, answered in-process."""
    keyring = KeyringStore(backend=MemoryKeyring(), index_path=str(tmp_path / "index.json"))
    keyring.store("quay.io", "kuser", SECRET)
    keyring.store("https://index.docker.io/v1/", "<token>", TOKEN)
    real = resolver.store_for

    def store_for(name: str) -> Any:
        return keyring if name == "keyring" else real(name)

    monkeypatch.setattr(resolver, "store_for", store_for)
    conf = write(tmp_path / "config.json", {
        "auths": {"quay.io": {}, "https://index.docker.io/v1/": {},
                  "quay.io/org": plain("robot")},
        "credsStore": "keyring",
    })
    got = [(a.place, a.username, a.secret, a.source, a.status) for a in list_credentials(conf)]
    assert got == [
        ("docker.io", None, "identity_token", "keyring", "active"),
        ("quay.io", "kuser", "password", "keyring", "active"),
        ("quay.io/org", "robot", "password", f"file:{conf}", "shadowed"),
    ]
    assert_no_secret_in_cli(conf)


def run_cli(*argv: str) -> Tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def assert_no_secret_in_cli(conf: Path) -> None:
    for extra in ([], ["--json"]):
        code, out, err = run_cli("list", "--config", str(conf), *extra)
        assert code == 0, err
        for text in (out, err):
            assert SECRET not in text and TOKEN not in text
            assert b64("robot") not in text


def test_cli_table_and_json(tmp_path: Path, stores: Dict[str, FakeStore]) -> None:
    conf = write(tmp_path / "config.json", {
        "auths": {"quay.io": plain("plainuser"), "quay.io/org": plain("robot"),
                  "tok.example": {"auth": b64("uuid", ""), "identitytoken": TOKEN}},
        "credHelpers": {"quay.io": "pass"},
    })
    fill(stores, {"pass": {"quay.io": "helperuser"}})
    code, out, err = run_cli("list", "--config", str(conf))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["REGISTRY", "USERNAME", "SECRET", "SOURCE", "STATUS"]
    # aligned: every column starts at the same offset on every line
    starts = [lines[0].index(h) for h in ("USERNAME", "SECRET", "SOURCE", "STATUS")]
    for line in lines[1:]:
        for start in starts:
            assert line[start - 2 : start] == "  " and line[start] != " "
    assert any("helper:pass" in ln and ln.rstrip().endswith("active") for ln in lines)
    shadowed = next(ln for ln in lines if "plainuser" in ln)
    assert "shadowed:" in shadowed and "credHelpers['quay.io']" in shadowed
    assert any("uuid" in ln and "<token>" in ln for ln in lines)
    code, out, err = run_cli("list", "--config", str(conf), "--json")
    assert code == 0
    doc = json.loads(out)
    assert [sorted(obj) for obj in doc] == [sorted((*Account._fields, "active"))] * len(doc)
    by = {(obj["registry"], obj["namespace"], obj["username"]): obj for obj in doc}
    assert by[("quay.io", "", "plainuser")]["shadowed_by"] == "helper:pass quay.io"
    assert by[("quay.io", "", "helperuser")]["active"] is True
    assert by[("quay.io", "org", "robot")]["status"] == "shadowed"
    assert by[("tok.example", "", "uuid")]["secret"] == "identity_token"
    for text in (out, err):
        assert SECRET not in text and TOKEN not in text
    assert_no_secret_in_cli(conf)


def test_cli_empty_and_bad_config(tmp_path: Path, stores: Dict[str, FakeStore]) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("")  # a 0-byte file is an empty config, as in Docker
    code, out, _ = run_cli("list", "--config", str(empty))
    assert (code, out) == (0, "REGISTRY  USERNAME  SECRET  SOURCE  STATUS\n(no credentials)\n")
    assert json.loads(run_cli("list", "--config", str(empty), "--json")[1]) == []
    # a --config that names no file is a mistake, not an empty config
    code, out, err = run_cli("list", "--config", str(tmp_path / "missing.json"))
    assert (code, out) == (1, "") and "no such config file" in err and err.count("\n") == 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"auths": ')
    code, out, err = run_cli("list", "--config", str(bad))
    assert code == 1 and out == "" and err.startswith("dockercreds: ") and err.count("\n") == 1


def test_debug_log_names_each_account_never_a_secret(
    tmp_path: Path, stores: Dict[str, FakeStore], caplog: pytest.LogCaptureFixture
) -> None:
    conf = write(tmp_path / "config.json", {
        "auths": {"quay.io": plain("plainuser"),
                  "tok.example": {"auth": b64("uuid", ""), "identitytoken": TOKEN}},
        "credHelpers": {"quay.io": "pass", "ghcr.io": "gone"},
    })
    fill(stores, {"pass": {"quay.io": "helperuser"}})
    stores["gone"] = FakeStore("gone")
    stores["gone"].fail[("list", "*")] = KeyringError("locked")  # type: ignore[assignment]
    with caplog.at_level("DEBUG", logger="dockercreds"):
        accounts = inventory(conf).accounts
    mine = [r for r in caplog.records if r.name == "dockercreds.inventory"]
    assert len(mine) == len(accounts) + 1
    assert "cannot list docker-credential-gone" in mine[0].getMessage()
    assert any("shadowed" in r.getMessage() and "'quay.io'" in r.getMessage() for r in mine)
    for record in caplog.records:
        assert SECRET not in record.getMessage() and TOKEN not in record.getMessage()


def test_lazy_export() -> None:
    assert dockercreds.list_credentials is list_credentials
    assert "list_credentials" in dockercreds.__all__


def test_inventory_records_are_immutable(tmp_path: Path, stores: Dict[str, FakeStore]) -> None:
    conf = write(tmp_path / "config.json", {"auths": {"quay.io": plain("q")}})
    result = inventory(conf)
    account = result.accounts[0]
    with pytest.raises(AttributeError):
        account.username = "x"  # type: ignore[misc]
    assert isinstance(result.accounts, tuple)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list_credentials(conf)  # nothing failed: no warning


# --------------------------------------------------------------------------- peers


@pytest.mark.peer
def test_peer_docker_login_through_pass_lists(
    registry: Any,
    docker_config: Path,
    use_pass_store: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docker login stores in docker-credential-pass; `dockercreds list` shows it in use."""
    docker = require("docker")
    require("docker-credential-pass")
    monkeypatch.setenv("DOCKERCREDS_KEYRING_INDEX", str(tmp_path / "index.json"))
    conf = write(docker_config / "config.json", {
        "credsStore": "pass",
        "auths": {"plain.example": plain("plainuser")},
    })
    login = subprocess.run(
        [docker, "login", "-u", registry.user, "--password-stdin", registry.addr],
        input=registry.password.encode(),
        capture_output=True,
        timeout=120,
        check=False,
        env=dict(os.environ),
    )
    assert login.returncode == 0, login.stdout + login.stderr
    assert json.loads(conf.read_text())["auths"][registry.addr] == {}
    got = {(a.place, a.username, a.source, a.status) for a in list_credentials()}
    assert (registry.addr, registry.user, "helper:pass", "active") in got
    assert ("plain.example", "plainuser", f"file:{conf}", "active") in got
    code, out, err = run_cli("list", "--json")
    assert code == 0, err
    doc = json.loads(out)
    mine = [obj for obj in doc if obj["registry"] == registry.addr]
    assert [(o["username"], o["source"], o["active"]) for o in mine] == [
        (registry.user, "helper:pass", True)
    ]
    for text in (out, err):
        assert registry.password not in text and SECRET not in text
    logout = subprocess.run([docker, "logout", registry.addr], capture_output=True,
                            timeout=120, check=False)
    assert logout.returncode == 0, logout.stderr
    assert not any(a.registry == registry.addr for a in list_credentials())
