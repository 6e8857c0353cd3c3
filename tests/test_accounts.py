"""dockercreds.accounts: login, logout, the store a write goes to, verification; their CLI."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import responses

from dockercreds import accounts, cli, resolver
from dockercreds.accounts import login, logout
from dockercreds.errors import (
    AuthError,
    ConfigWriteError,
    HelperFailed,
    HelperNotInstalled,
    InvalidArgument,
    InvalidCredentials,
    InvalidRegistry,
    KeyringError,
    LoginRefused,
)
from dockercreds.registry import HUB_KEY
from dockercreds.resolver import get_registry_credentials
from dockercreds.writer import PlaintextStorageWarning
from tests.fakestore import FakeStore, helper_calls, helper_db, install_fake_helper
from tests.peers import require


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> Dict[str, FakeStore]:
    """resolver.store_for (which accounts uses too) answers with FakeStores, made on demand."""
    made: Dict[str, FakeStore] = {}

    def store_for(name: str) -> FakeStore:
        return made.setdefault(name, FakeStore(name))

    monkeypatch.setattr(resolver, "store_for", store_for)
    return made


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    return tmp_path / "docker" / "config.json"


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def read(path: Path) -> Dict[str, Any]:
    return dict(json.loads(path.read_text()))


def quiet_login(*args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlaintextStorageWarning)
        return login(*args, **kwargs)


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("registry", "key"),
    [
        ("docker.io", HUB_KEY),
        ("", HUB_KEY),
        ("index.docker.io", HUB_KEY),
        ("registry-1.docker.io", HUB_KEY),
        ("https://index.docker.io/v1/", HUB_KEY),
        ("Quay.IO", "quay.io"),
        ("https://quay.io/v2/", "quay.io"),
        ("quay.io/org/app", "quay.io"),
        ("localhost:5000", "localhost:5000"),
        ("http://127.0.0.1:5000/some/path", "127.0.0.1:5000"),
        ("[::1]:5000", "[::1]:5000"),
        ("registry.example:443", "registry.example:443"),
    ],
)
def test_login_writes_dockers_key(conf: Path, registry: str, key: str) -> None:
    creds = quiet_login(registry, "alice", "pw", config=conf)
    assert read(conf) == {"auths": {key: {"auth": b64("alice:pw")}}}
    assert creds.server == key
    assert (creds.username, creds.password) == ("alice", "pw")
    assert creds.source == f"file:{conf}"


def test_login_then_lookup_finds_it(conf: Path) -> None:
    quiet_login("quay.io", "alice", "p:w:x", config=conf)
    found = get_registry_credentials("https://quay.io", config=conf)
    assert found is not None
    assert (found.username, found.password) == ("alice", "p:w:x")


def test_plaintext_login_warns_like_docker(conf: Path) -> None:
    with pytest.warns(PlaintextStorageWarning) as record:
        login("quay.io", "alice", "pw", config=conf)
    assert str(record[0].message) == (
        f"Your credentials are stored unencrypted in '{conf.absolute()}'."
    )
    assert "pw" not in str(record[0].message)


def test_identity_token_login_in_file(conf: Path) -> None:
    creds = quiet_login("quay.io", "<token>", "refresh-me", config=conf)
    assert read(conf)["auths"]["quay.io"] == {"identitytoken": "refresh-me"}
    assert creds.identity_token == "refresh-me"
    assert creds.username is None


def test_relogin_replaces_secret_keeps_fields_and_position(conf: Path) -> None:
    write(
        conf,
        {
            "auths": {
                "a.example": {},
                "quay.io": {"Email": "a@b", "auth": b64("old:old"), "x": 1,
                            "IdentityToken": "t"},
                "z.example": {},
            },
            "psFormat": "x",
        },
    )
    quiet_login("quay.io", "alice", "new", config=conf)
    data = read(conf)
    assert list(data["auths"]) == ["a.example", "quay.io", "z.example"]
    assert data["auths"]["quay.io"] == {"Email": "a@b", "auth": b64("alice:new"), "x": 1}
    assert data["psFormat"] == "x"


def test_login_over_an_undecodable_entry_fixes_it(conf: Path) -> None:
    write(conf, {"auths": {"quay.io": {"auth": "%%%"}}})
    quiet_login("quay.io", "alice", "pw", config=conf)
    assert read(conf)["auths"]["quay.io"] == {"auth": b64("alice:pw")}


@pytest.mark.parametrize(
    ("username", "password", "needle"),
    [
        ("", "pw", "needs a username"),
        ("alice", "", "needs a password"),
        ("al:ice", "pw", "contains ':'"),
        ("al\nice", "pw", "line break"),
    ],
)
def test_unusable_credentials_are_refused(
    conf: Path, username: str, password: str, needle: str
) -> None:
    with pytest.raises(InvalidCredentials, match=needle):
        login("quay.io", username, password, config=conf)
    assert not conf.exists()


def test_bad_registry_is_refused(conf: Path) -> None:
    with pytest.raises(InvalidRegistry):
        login("not a host", "alice", "pw", config=conf)


def test_malformed_config_is_refused_before_any_store(
    conf: Path, stores: Dict[str, FakeStore]
) -> None:
    conf.parent.mkdir(parents=True)
    conf.write_text('{"credsStore": "keyring", ')
    with pytest.raises(ConfigWriteError, match="line 1"):
        login("quay.io", "alice", "pw", config=conf)
    assert conf.read_text() == '{"credsStore": "keyring", '
    assert stores == {}


def test_default_config_is_docker_config(docker_config: Path) -> None:
    quiet_login("quay.io", "alice", "pw")
    assert "quay.io" in read(docker_config / "config.json")["auths"]
    assert logout("quay.io") is True


# --------------------------------------------------------------------------- layout


def _imported_modules(module: Any) -> List[str]:
    """Every dockercreds module ``module`` imports, at top level, in functions or typing."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(module))
    found: List[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.append(node.module)
            else:
                found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dockercreds."):
            found.append(str(node.module).split(".", 1)[1])
    return found


def test_resolver_has_no_write_path() -> None:
    imported = _imported_modules(resolver)
    for writer in ("accounts", "writer", "migrate", "auth", "auth_requests", "auth_httpx"):
        assert writer not in imported
    for name in ("login", "logout", "verify_login", "strip_secrets"):
        assert not hasattr(resolver, name)
    assert "resolver" in _imported_modules(accounts)


def test_package_login_and_logout_are_these() -> None:
    import dockercreds

    assert (dockercreds.login, dockercreds.logout) == (login, logout)


@pytest.mark.parametrize(
    ("host", "keys"),
    [
        ("quay.io", ["quay.io"]),
        ("localhost:5000", ["localhost:5000"]),
        # docker and dockercreds read the v1 URL; podman and skopeo read docker.io
        ("docker.io", [HUB_KEY, "docker.io"]),
    ],
)
def test_route_keys(host: str, keys: List[str]) -> None:
    assert accounts.route_keys(host) == keys


def test_hub_login_keeps_the_podman_copy_current(
    conf: Path, stores: Dict[str, FakeStore]
) -> None:
    write(conf, {"credHelpers": {HUB_KEY: "keyring", "docker.io": "keyring"}})
    login("docker.io", "alice", "new", config=conf)
    assert stores["keyring"].data == {HUB_KEY: ("alice", "new"), "docker.io": ("alice", "new")}
    assert logout("docker.io", config=conf) is True
    assert stores["keyring"].data == {}


# --------------------------------------------------------------------------- stores


@pytest.mark.parametrize(
    ("config", "store", "expected"),
    [
        ({"credsStore": "desktop"}, None, "desktop"),
        ({"credHelpers": {"quay.io": "pass"}, "credsStore": "desktop"}, None, "pass"),
        ({"credHelpers": {"https://quay.io": "pass"}}, None, "pass"),
        ({"credHelpers": {"gcr.io": "gcloud"}, "credsStore": "desktop"}, None, "desktop"),
        ({"credsStore": "desktop"}, "keyring", "keyring"),
        ({}, "keyring", "keyring"),
        ({"credsStore": ""}, "pass", "pass"),
    ],
)
def test_store_choice(
    conf: Path,
    stores: Dict[str, FakeStore],
    config: Dict[str, Any],
    store: Optional[str],
    expected: str,
) -> None:
    write(conf, config)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PlaintextStorageWarning)
        creds = login("Quay.io", "alice", "pw", config=conf, store=store)
    assert list(stores) == [expected]
    assert stores[expected].data == {"quay.io": ("alice", "pw")}
    assert read(conf)["auths"] == {"quay.io": {}}
    assert creds.source == ("keyring" if expected == "keyring" else f"helper:{expected}")
    for key, value in config.items():
        assert read(conf)[key] == value


@pytest.mark.parametrize(
    ("config", "registry", "helpers"),
    [
        # nothing routes the registry to the forced store: login adds a credHelpers entry
        ({}, "quay.io", {"quay.io": "keyring"}),
        ({"credsStore": "desktop"}, "quay.io", {"quay.io": "keyring"}),
        ({"credHelpers": {"quay.io": "pass"}}, "quay.io", {"quay.io": "keyring"}),
        ({"credHelpers": {"gcr.io": "gcloud"}}, "docker.io",
         {"gcr.io": "gcloud", HUB_KEY: "keyring"}),
        # already routed there: the file keeps its routing as it is
        ({"credsStore": "keyring"}, "quay.io", None),
        ({"credHelpers": {"https://quay.io": "keyring"}}, "quay.io",
         {"https://quay.io": "keyring"}),
    ],
)
def test_forced_store_login_can_be_read_back_and_logged_out(
    conf: Path,
    stores: Dict[str, FakeStore],
    config: Dict[str, Any],
    registry: str,
    helpers: Optional[Dict[str, str]],
) -> None:
    write(conf, config)
    login(registry, "alice", "pw", config=conf, store="keyring")
    assert read(conf).get("credHelpers") == helpers
    found = get_registry_credentials(registry, config=conf)
    assert found is not None and (found.username, found.password) == ("alice", "pw")
    assert found.source == "keyring"
    assert logout(registry, config=conf) is True
    assert stores["keyring"].data == {}
    assert get_registry_credentials(registry, config=conf) is None


def test_store_file_overrides_creds_store(conf: Path, stores: Dict[str, FakeStore]) -> None:
    write(conf, {"credsStore": "desktop"})
    quiet_login("quay.io", "alice", "pw", config=conf, store="file")
    assert stores == {}
    assert read(conf)["auths"]["quay.io"] == {"auth": b64("alice:pw")}


def test_empty_cred_helper_means_this_file(conf: Path, stores: Dict[str, FakeStore]) -> None:
    # credHelpers[host] = "": Docker's file store for that host, even with a credsStore
    write(conf, {"credsStore": "desktop", "credHelpers": {"quay.io": ""}})
    quiet_login("quay.io", "alice", "pw", config=conf)
    assert stores == {}
    assert read(conf)["auths"]["quay.io"] == {"auth": b64("alice:pw")}
    assert logout("quay.io", config=conf) is True
    assert "quay.io" not in read(conf)["auths"]
    assert list(stores) == ["desktop"]  # asked to erase too (dockercreds erases everywhere)


def test_store_login_removes_plaintext_of_that_registry(
    conf: Path, stores: Dict[str, FakeStore]
) -> None:
    write(
        conf,
        {
            "auths": {
                "quay.io": {"auth": b64("old:old"), "email": "a@b"},
                "https://quay.io/v1/": {"username": "u", "password": "p"},
                "quay.io/org": {"auth": b64("ns:ns")},
                "other.example": {"auth": b64("o:o")},
            },
        },
    )
    login("quay.io", "alice", "pw", config=conf, store="keyring")
    assert read(conf)["auths"] == {
        "quay.io": {"email": "a@b"},
        "https://quay.io/v1/": {},
        "quay.io/org": {"auth": b64("ns:ns")},
        "other.example": {"auth": b64("o:o")},
    }


def test_identity_token_to_store_uses_token_username(
    conf: Path, stores: Dict[str, FakeStore]
) -> None:
    creds = login("docker.io", "<token>", "refresh", config=conf, store="keyring")
    assert stores["keyring"].data == {HUB_KEY: ("<token>", "refresh")}
    assert creds.identity_token == "refresh"
    assert read(conf)["auths"] == {HUB_KEY: {}}


def test_store_failure_leaves_file_untouched(conf: Path, stores: Dict[str, FakeStore]) -> None:
    write(conf, {"credsStore": "keyring", "auths": {"quay.io": {"auth": b64("a:old")}}})
    before = conf.read_bytes()
    stores["keyring"] = FakeStore("keyring")
    stores["keyring"].fail[("store", "*")] = KeyringError("locked")
    with pytest.raises(KeyringError):
        login("quay.io", "alice", "pw", config=conf)
    assert conf.read_bytes() == before


def test_login_through_a_real_helper_program(
    conf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    install_fake_helper(bin_dir, monkeypatch, "rec")
    write(conf, {"credHelpers": {"127.0.0.1:5000": "rec"}})
    login("http://127.0.0.1:5000/v2/", "alice", "s3cret", config=conf)
    calls = helper_calls(bin_dir)
    # get first: a stored entry under another username is erased before the store
    assert [c["action"] for c in calls] == ["get", "store"]
    assert calls[0]["stdin"] == "127.0.0.1:5000"
    assert json.loads(calls[1]["stdin"]) == {
        "ServerURL": "127.0.0.1:5000",
        "Username": "alice",
        "Secret": "s3cret",
    }
    assert read(conf)["auths"] == {"127.0.0.1:5000": {}}
    found = get_registry_credentials("127.0.0.1:5000", config=conf)
    assert found is not None and found.password == "s3cret"
    assert logout("127.0.0.1:5000", config=conf) is True
    assert helper_db(bin_dir) == {}
    assert read(conf)["auths"] == {}


def test_login_and_logout_drop_cached_helper_answers(
    conf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loaded config reuses helper answers (misses too); a login or logout made in the
    same process must not leave a stale answer behind."""
    from dockercreds import load_config

    install_fake_helper(tmp_path / "bin", monkeypatch, "rec")
    write(conf, {"credHelpers": {"127.0.0.1:5000": "rec"}})
    loaded = load_config(conf)
    assert get_registry_credentials("127.0.0.1:5000", config=loaded) is None  # cached miss
    login("127.0.0.1:5000", "alice", "s3cret", config=conf)
    found = get_registry_credentials("127.0.0.1:5000", config=loaded)
    assert found is not None and found.password == "s3cret"
    assert logout("127.0.0.1:5000", config=conf) is True
    assert get_registry_credentials("127.0.0.1:5000", config=loaded) is None


def test_login_with_a_new_username_erases_the_old_entry(
    conf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docker-credential-pass/-secretservice keep one entry per username and may answer
    # with the old one after a store under a new username; login erases it first.
    bin_dir = tmp_path / "bin"
    install_fake_helper(bin_dir, monkeypatch, "rec")
    write(conf, {"credHelpers": {"127.0.0.1:5000": "rec"}})
    login("127.0.0.1:5000", "alice", "one", config=conf)
    login("127.0.0.1:5000", "alice", "two", config=conf)
    login("127.0.0.1:5000", "bob", "three", config=conf)
    actions = [c["action"] for c in helper_calls(bin_dir)]
    assert actions == ["get", "store", "get", "store", "get", "erase", "store"]
    found = get_registry_credentials("127.0.0.1:5000", config=conf)
    assert found is not None
    assert (found.username, found.password) == ("bob", "three")


# --------------------------------------------------------------------------- logout


@pytest.mark.parametrize(
    ("registry", "before", "after"),
    [
        (
            "quay.io",
            ["quay.io", "Quay.io", "https://quay.io", "http://quay.io/v1/", "quay.io/org",
             "quay.io:443", "other.example"],
            ["quay.io/org", "quay.io:443", "other.example"],
        ),
        ("https://quay.io/v2/", ["quay.io", "quay.io/org"], ["quay.io/org"]),
        (
            "docker.io",
            [HUB_KEY, "docker.io", "index.docker.io", "https://registry-1.docker.io",
             "docker.io/library"],
            ["docker.io/library"],
        ),
        ("quay.io/org", ["quay.io", "quay.io/org", "quay.io/org/app"],
         ["quay.io", "quay.io/org/app"]),
        ("quay.io/nothere", ["quay.io", "quay.io/org"], ["quay.io/org"]),
        ("localhost:5000", ["localhost:5000", "localhost", "localhost:5001"],
         ["localhost", "localhost:5001"]),
    ],
)
def test_logout_removes_every_key_of_the_registry(
    conf: Path, registry: str, before: List[str], after: List[str]
) -> None:
    write(conf, {"auths": {k: {"auth": b64("u:p")} for k in before}, "x": [1]})
    assert logout(registry, config=conf) is True
    data = read(conf)
    assert list(data["auths"]) == after
    assert data["x"] == [1]


def test_logout_not_logged_in(conf: Path, stores: Dict[str, FakeStore]) -> None:
    from dockercreds.errors import ConfigNotFound

    # a config named explicitly must exist (issue 14): a typo is not "not logged in"
    for target in ("docker", "containers"):
        with pytest.raises(ConfigNotFound, match="no such config file"):
            logout("quay.io", config=conf, target=target)
    assert not conf.exists()
    assert not conf.parent.exists()
    write(conf, {"auths": {"other.example": {}}})
    before = conf.read_bytes()
    assert logout("quay.io", config=conf) is False
    assert conf.read_bytes() == before


def test_logout_erases_from_helper_and_creds_store(
    conf: Path, stores: Dict[str, FakeStore]
) -> None:
    write(
        conf,
        {"credsStore": "keyring", "credHelpers": {"quay.io": "pass"}, "auths": {"quay.io": {}}},
    )
    for name in ("pass", "keyring"):
        stores[name] = FakeStore(name)
    stores["pass"].data["quay.io"] = ("a", "1")
    stores["keyring"].data["https://quay.io"] = ("b", "2")
    stores["keyring"].data["gcr.io"] = ("c", "3")
    assert logout("quay.io", config=conf) is True
    assert stores["pass"].data == {}
    assert stores["keyring"].data == {"gcr.io": ("c", "3")}
    assert ("get", "http://quay.io") in stores["keyring"].calls
    assert read(conf)["auths"] == {}


def test_logout_store_only_counts_as_removed(conf: Path, stores: Dict[str, FakeStore]) -> None:
    write(conf, {"credsStore": "keyring"})
    stores["keyring"] = FakeStore("keyring")
    stores["keyring"].data[HUB_KEY] = ("a", "1")
    assert logout("docker.io", config=conf) is True
    assert stores["keyring"].calls == [("get", HUB_KEY), ("erase", HUB_KEY), ("get", "docker.io")]
    assert logout("docker.io", config=conf) is False


def test_logout_store_error_raised_after_file_is_cleaned(
    conf: Path, stores: Dict[str, FakeStore]
) -> None:
    write(conf, {"credsStore": "pass", "auths": {"quay.io": {"auth": b64("a:b")}}})
    stores["pass"] = FakeStore("pass")
    stores["pass"].fail[("get", "*")] = HelperFailed(
        "boom", helper="pass", action="get", returncode=1
    )
    with pytest.raises(HelperFailed):
        logout("quay.io", config=conf)
    assert read(conf)["auths"] == {}


def test_logout_missing_helper_program_warns(
    conf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    write(conf, {"credsStore": "nosuchhelper", "auths": {"quay.io": {}}})
    with pytest.warns(UserWarning, match="nosuchhelper"):
        assert logout("quay.io", config=conf) is True
    assert read(conf)["auths"] == {}


def test_logout_refuses_malformed_file(conf: Path) -> None:
    conf.parent.mkdir(parents=True)
    conf.write_text("{oops")
    with pytest.raises(ConfigWriteError):
        logout("quay.io", config=conf)
    assert conf.read_text() == "{oops"


# --------------------------------------------------------------------------- verify


@responses.activate
def test_verify_basic_ok_then_stored(conf: Path) -> None:
    seen: List[Optional[str]] = []

    def v2(request: Any) -> Any:
        seen.append(request.headers.get("Authorization"))
        if request.headers.get("Authorization") == "Basic " + b64("alice:pw"):
            return (200, {}, "{}")
        return (401, {"WWW-Authenticate": 'Basic realm="r"'}, "")

    responses.add_callback(responses.GET, "https://quay.io/v2/", callback=v2)
    quiet_login("quay.io", "alice", "pw", config=conf, verify=True)
    assert seen[-1] == "Basic " + b64("alice:pw")
    assert "quay.io" in read(conf)["auths"]


@responses.activate
@pytest.mark.parametrize("status", [401, 403])
def test_verify_refused_stores_nothing(
    conf: Path, stores: Dict[str, FakeStore], status: int
) -> None:
    responses.add(
        responses.GET,
        "https://quay.io/v2/",
        status=status,
        headers={"WWW-Authenticate": 'Basic realm="r"'},
    )
    with pytest.raises(LoginRefused) as info:
        login("quay.io", "alice", "wrong-pw", config=conf, verify=True, store="keyring")
    assert "wrong-pw" not in str(info.value)
    assert f"status {status}" in str(info.value)
    assert not conf.exists()
    assert stores == {}


@responses.activate
def test_verify_bearer_token_flow(conf: Path) -> None:
    def v2(request: Any) -> Any:
        if request.headers.get("Authorization") == "Bearer tok":
            return (200, {}, "{}")
        return (
            401,
            {"WWW-Authenticate": 'Bearer realm="https://auth.quay.io/token",service="quay.io"'},
            "",
        )

    def token(request: Any) -> Any:
        if request.headers.get("Authorization") == "Basic " + b64("alice:pw"):
            return (200, {}, json.dumps({"token": "tok"}))
        return (401, {}, "")

    responses.add_callback(responses.GET, "https://quay.io/v2/", callback=v2)
    responses.add_callback(responses.GET, "https://auth.quay.io/token", callback=token)
    quiet_login("quay.io", "alice", "pw", config=conf, verify=True)
    assert "quay.io" in read(conf)["auths"]
    with pytest.raises(AuthError):
        login("quay.io", "alice", "bad", config=conf, verify=True)
    assert read(conf)["auths"]["quay.io"] == {"auth": b64("alice:pw")}


@responses.activate
def test_verify_loopback_falls_back_to_http(conf: Path) -> None:
    import requests

    responses.add(
        responses.GET,
        "https://127.0.0.1:5000/v2/",
        body=requests.exceptions.ConnectionError("refused"),
    )
    responses.add(responses.GET, "http://127.0.0.1:5000/v2/", status=200, json={})
    quiet_login("127.0.0.1:5000", "alice", "pw", config=conf, verify=True)
    assert "127.0.0.1:5000" in read(conf)["auths"]


@responses.activate
def test_verify_remote_http_needs_insecure(conf: Path) -> None:
    import requests

    responses.add(
        responses.GET,
        "https://reg.example/v2/",
        body=requests.exceptions.ConnectionError("refused"),
    )
    responses.add(responses.GET, "http://reg.example/v2/", status=200, json={})
    with pytest.raises(AuthError, match="--insecure"):
        login("reg.example", "alice", "pw", config=conf, verify=True)
    assert not conf.exists()
    quiet_login("reg.example", "alice", "pw", config=conf, verify=True, insecure=True)
    assert "reg.example" in read(conf)["auths"]


@responses.activate
def test_no_network_without_verify(conf: Path) -> None:
    quiet_login("quay.io", "alice", "pw", config=conf)
    assert len(responses.calls) == 0


# --------------------------------------------------------------------------- CLI


def run_cli(
    argv: List[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "", tty: bool = False
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    fake_in = io.StringIO(stdin)
    fake_in.isatty = lambda: tty  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdin", fake_in)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_cli_login_password_stdin(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run_cli(
        ["login", "quay.io", "-u", "alice", "--password-stdin", "--no-verify",
         "--config", str(conf)],
        monkeypatch,
        stdin="s3cret\r\n",
    )
    assert (code, out) == (0, "Login Succeeded\n")
    assert "WARNING! Your credentials are stored unencrypted" in err
    assert "s3cret" not in out + err
    assert read(conf)["auths"]["quay.io"] == {"auth": b64("alice:s3cret")}


def test_cli_login_password_flag_warns(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(
        ["login", "quay.io", "-u", "alice", "-p", "s3cret", "--no-verify", "--store", "file",
         "--config", str(conf)],
        monkeypatch,
    )
    assert code == 0
    assert "WARNING! Using --password via the CLI is insecure. Use --password-stdin." in err


def test_cli_login_no_tty(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _out, err = run_cli(
        ["login", "quay.io", "--no-verify", "--config", str(conf)], monkeypatch
    )
    assert code == 1
    assert "Cannot perform an interactive login from a non TTY device" in err
    assert not conf.exists()


def test_cli_login_prompts_on_tty(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "typed-pw")
    code, out, _ = run_cli(
        ["login", "quay.io", "--no-verify", "--config", str(conf)],
        monkeypatch,
        stdin="bob\n",
        tty=True,
    )
    assert (code, out) == (0, "Login Succeeded\n")
    assert read(conf)["auths"]["quay.io"] == {"auth": b64("bob:typed-pw")}


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["login", "quay.io", "-p", "x", "--password-stdin"], 2),
        (["login", "quay.io", "--password-stdin"], 1),
        (["login", "quay.io", "--bogus"], 2),
    ],
)
def test_cli_login_usage(
    conf: Path, monkeypatch: pytest.MonkeyPatch, argv: List[str], code: int
) -> None:
    got, _, err = run_cli([*argv, "--config", str(conf)], monkeypatch, stdin="pw")
    assert got == code
    assert "Traceback" not in err


def test_cli_login_refused(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with responses.RequestsMock() as mock:
        mock.add(
            responses.GET,
            "https://quay.io/v2/",
            status=401,
            headers={"WWW-Authenticate": 'Basic realm="r"'},
        )
        code, out, err = run_cli(
            ["login", "quay.io", "-u", "alice", "--password-stdin", "--config", str(conf)],
            monkeypatch,
            stdin="bad-pw",
        )
    assert code == 1
    assert out == ""
    assert err.startswith("dockercreds: login to https://quay.io/v2/ failed with status 401")
    assert "bad-pw" not in err
    assert not conf.exists()


def test_cli_logout_messages(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(conf, {"auths": {"quay.io": {"auth": b64("a:b")}}})
    assert run_cli(["logout", "quay.io", "--config", str(conf)], monkeypatch) == (
        0,
        "Removing login credentials for quay.io\n",
        "",
    )
    assert run_cli(["logout", "quay.io", "--config", str(conf)], monkeypatch) == (
        0,
        "Not logged in to quay.io\n",
        "",
    )
    code, out, _ = run_cli(["logout", "--config", str(conf)], monkeypatch)
    assert (code, out) == (0, f"Not logged in to {HUB_KEY}\n")


@pytest.mark.parametrize(
    ("keys", "shown", "left"),
    [
        # the namespace key exists: only it goes, and the message names it
        (["quay.io", "quay.io/org"], "quay.io/org", ["quay.io"]),
        # no such namespace: the whole host is logged out (as Docker): say so
        (["quay.io", "quay.io/other"], "quay.io", ["quay.io/other"]),
    ],
)
def test_cli_logout_message_names_what_was_removed(
    conf: Path, monkeypatch: pytest.MonkeyPatch, keys: List[str], shown: str, left: List[str]
) -> None:
    write(conf, {"auths": {k: {"auth": b64("a:b")} for k in keys}})
    assert run_cli(["logout", "quay.io/org", "--config", str(conf)], monkeypatch) == (
        0,
        f"Removing login credentials for {shown}\n",
        "",
    )
    assert list(read(conf)["auths"]) == left


# --------------------------------------------------------------------------- peers


def _docker(
    args: List[str], env: Dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require("docker"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def _env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


@pytest.mark.peer
def test_peer_docker_pulls_with_our_file_login(registry: Any, docker_config: Path) -> None:
    quiet_login(registry.addr, registry.user, registry.password, verify=True)
    res = _docker(["manifest", "inspect", "--insecure", registry.image], _env())
    assert res.returncode == 0, res.stderr
    assert "schemaVersion" in res.stdout


@pytest.mark.peer
def test_peer_wrong_password_against_real_registry(registry: Any, docker_config: Path) -> None:
    with pytest.raises(LoginRefused, match="401"):
        login(registry.addr, registry.user, "definitely-wrong", verify=True)
    assert not (docker_config / "config.json").exists()


@pytest.mark.peer
def test_peer_we_find_dockers_login(registry: Any, docker_config: Path) -> None:
    # an existing entry keeps docker from picking a default helper (pass is on PATH)
    (docker_config / "config.json").write_text('{"auths": {"unrelated.example": {"auth": "dTpw"}}}')
    res = _docker(
        ["login", "-u", registry.user, "--password-stdin", registry.addr],
        _env(),
        stdin=registry.password + "\n",
    )
    assert res.returncode == 0, res.stderr
    found = get_registry_credentials(registry.addr)
    assert found is not None
    assert (found.username, found.password) == (registry.user, registry.password)
    assert logout(registry.addr) is True
    res = _docker(["manifest", "inspect", "--insecure", registry.image], _env())
    assert res.returncode != 0


@pytest.mark.peer
def test_peer_docker_pulls_with_our_keyring_login(
    registry: Any, docker_config: Path, use_secret_service: Any, venv_bin_path: Path,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    require("docker-credential-keyring")
    monkeypatch.setenv("DOCKERCREDS_KEYRING_INDEX", str(tmp_path / "index.json"))
    creds = login(registry.addr, registry.user, registry.password, store="keyring", verify=True)
    assert creds.source == "keyring"
    text = (docker_config / "config.json").read_text()
    assert registry.password not in text
    assert json.loads(text)["auths"] == {registry.addr: {}}
    # docker asks the keyring helper because credsStore names it
    data = json.loads(text)
    data["credsStore"] = "keyring"
    (docker_config / "config.json").write_text(json.dumps(data))
    res = _docker(["manifest", "inspect", "--insecure", registry.image], _env())
    assert res.returncode == 0, res.stderr
    assert logout(registry.addr) is True
    res = _docker(["manifest", "inspect", "--insecure", registry.image], _env())
    assert res.returncode != 0


# --------------------------------------------------------------------------- containers
# target="containers" / --containers / --authfile: podman's auth file, in podman's format.


@pytest.fixture
def authfile(tmp_path: Path) -> Path:
    return tmp_path / "containers" / "auth.json"


def c_login(registry: str, path: Path, user: str = "alice", pw: str = "pw1", **kw: Any) -> Any:
    return quiet_login(registry, user, pw, config=path, target="containers", **kw)


@pytest.mark.parametrize(
    ("registry", "key"),
    [
        # what `podman login` writes (c/common normalizeAuthFileKey; checked with podman 4/5)
        ("docker.io", "docker.io"),
        ("", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("https://index.docker.io/v1/", "docker.io"),
        ("docker.io/library", "docker.io/library"),
        ("index.docker.io/vendor", "docker.io/vendor"),
        ("quay.io", "quay.io"),
        ("quay.io/org", "quay.io/org"),
        ("quay.io/org/team", "quay.io/org/team"),
        ("https://quay.io/org", "quay.io"),  # a URL means the whole registry
        ("localhost:5000", "localhost:5000"),
        ("127.0.0.1:5000/ns", "127.0.0.1:5000/ns"),
        ("[::1]:5000", "[::1]:5000"),
    ],
)
def test_containers_login_writes_podmans_key(authfile: Path, registry: str, key: str) -> None:
    creds = c_login(registry, authfile)
    assert read(authfile) == {"auths": {key: {"auth": b64("alice:pw1")}}}
    assert creds.source == f"file:{authfile}"


def test_containers_default_file_is_podmans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    quiet_login("quay.io", "alice", "pw1", target="containers")
    made = runtime / "containers" / "auth.json"
    assert read(made)["auths"] == {"quay.io": {"auth": b64("alice:pw1")}}
    assert (made.stat().st_mode & 0o777, made.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    assert not (tmp_path / "home").exists()  # ~/.docker untouched
    # DOCKER_CONFIG makes podman write (its format) into Docker's file: so do we
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    quiet_login("quay.io/org", "olga", "pw3", target="containers")
    assert read(tmp_path / "docker" / "config.json")["auths"] == {
        "quay.io/org": {"auth": b64("olga:pw3")}
    }
    # REGISTRY_AUTH_FILE wins over both, as in podman
    explicit = tmp_path / "explicit.json"
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(explicit))
    quiet_login("ghcr.io", "bob", "pw2", target="containers")
    assert list(read(explicit)["auths"]) == ["ghcr.io"]
    assert list(read(made)["auths"]) == ["quay.io"]
    assert accounts.config_path(None, "containers") == explicit
    assert logout("ghcr.io", target="containers") is True
    assert read(explicit)["auths"] == {}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"REGISTRY_AUTH_FILE": "/a.json", "DOCKER_CONFIG": "/d", "XDG_RUNTIME_DIR": "/r"},
         "/a.json"),
        ({"DOCKER_CONFIG": "/d", "XDG_RUNTIME_DIR": "/r"}, "/d/config.json"),
        ({"REGISTRY_AUTH_FILE": "", "DOCKER_CONFIG": "", "XDG_RUNTIME_DIR": "/r"},
         "/r/containers/auth.json"),
        ({"HOME": "/h"}, f"/run/containers/{os.getuid()}/auth.json"),
    ],
)
def test_containers_write_path(env: Dict[str, str], expected: str) -> None:
    assert accounts.containers_write_path(env) == Path(expected)


def test_containers_target_is_checked(authfile: Path) -> None:
    from dockercreds.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="'podman'"):
        login("quay.io", "a", "b", config=authfile, target="podman")
    with pytest.raises(InvalidArgument, match="'podman'"):
        logout("quay.io", config=authfile, target="podman")
    assert not authfile.exists()


def test_containers_login_then_lookup_with_containers_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "auth.json"
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(path))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))  # REGISTRY_AUTH_FILE wins
    quiet_login("quay.io", "alice", "pw1", target="containers")
    quiet_login("quay.io/org", "olga", "pw2", target="containers")
    found = get_registry_credentials("quay.io", sources="containers")
    assert found is not None and (found.username, found.password) == ("alice", "pw1")
    from dockercreds.resolver import get_credentials

    org = get_credentials("quay.io/org/app", sources="containers")
    assert org is not None and (org.username, org.password) == ("olga", "pw2")
    other = get_credentials("quay.io/organization/app", sources="containers")
    assert other is not None and other.username == "alice"
    assert get_registry_credentials("quay.io") is None  # the Docker config is untouched


def test_containers_login_keeps_unknown_keys_and_ignores_creds_store(
    authfile: Path, stores: Dict[str, FakeStore]
) -> None:
    write(authfile, {"credsStore": "pass", "x-tool": {"a": 1},
                     "auths": {"quay.io": {"auth": b64("old:pw"), "x-note": "kept"}}})
    c_login("quay.io", authfile)
    assert read(authfile) == {"credsStore": "pass", "x-tool": {"a": 1},
                              "auths": {"quay.io": {"auth": b64("alice:pw1"), "x-note": "kept"}}}
    assert stores == {}  # podman ignores credsStore: so do writes of its file


def test_containers_login_replaces_other_forms_of_the_registry(authfile: Path) -> None:
    write(authfile, {"auths": {
        "https://index.docker.io/v1/": {"auth": b64("old:pw")},
        "index.docker.io": {"auth": b64("old2:pw")},
        "docker.io/library": {"auth": b64("lib:pw")},
        "quay.io": {"auth": b64("q:pw")},
    }})
    c_login("docker.io", authfile)
    # one key per registry: podman's; a namespace and other registries stay
    assert read(authfile)["auths"] == {
        "docker.io/library": {"auth": b64("lib:pw")},
        "quay.io": {"auth": b64("q:pw")},
        "docker.io": {"auth": b64("alice:pw1")},
    }
    c_login("docker.io/library", authfile, user="lib2")
    assert read(authfile)["auths"]["docker.io/library"] == {"auth": b64("lib2:pw1")}
    assert read(authfile)["auths"]["docker.io"] == {"auth": b64("alice:pw1")}


def test_containers_identity_token_needs_a_store(authfile: Path) -> None:
    with pytest.raises(InvalidCredentials, match="identity token"):
        c_login("quay.io", authfile, user="<token>", pw="refresh")
    assert not authfile.exists()


@pytest.mark.parametrize(
    ("config", "store", "expect_store", "expect_file"),
    [
        # credHelpers[host] routes, exactly as containers/image reads it
        ({"credHelpers": {"quay.io": "fake"}}, None, "fake",
         {"credHelpers": {"quay.io": "fake"}}),  # nothing to change: not rewritten
        # another registry's helper, or a glob, is not podman's route: plaintext
        ({"credHelpers": {"ghcr.io": "fake"}}, None, None,
         {"credHelpers": {"ghcr.io": "fake"}, "auths": {"quay.io": {"auth": b64("alice:pw1")}}}),
        # a forced store gets a credHelpers route, never credsStore
        ({}, "keyring", "keyring", {"auths": {}, "credHelpers": {"quay.io": "keyring"}}),
        ({"credsStore": "other"}, "keyring", "keyring",
         {"credsStore": "other", "auths": {}, "credHelpers": {"quay.io": "keyring"}}),
        # --store file wins over credHelpers
        ({"credHelpers": {"quay.io": "fake"}}, "file", None,
         {"credHelpers": {"quay.io": "fake"}, "auths": {"quay.io": {"auth": b64("alice:pw1")}}}),
    ],
)
def test_containers_store_choice(
    authfile: Path,
    stores: Dict[str, FakeStore],
    config: Dict[str, Any],
    store: Optional[str],
    expect_store: Optional[str],
    expect_file: Dict[str, Any],
) -> None:
    write(authfile, config)
    c_login("quay.io", authfile, store=store)
    assert read(authfile) == expect_file
    held = {name: s.data for name, s in stores.items() if s.data}
    assert held == ({expect_store: {"quay.io": ("alice", "pw1")}} if expect_store else {})


def test_containers_store_login_removes_plaintext_and_routes_hub_as_podman(
    authfile: Path, stores: Dict[str, FakeStore]
) -> None:
    write(authfile, {"auths": {
        "docker.io": {"auth": b64("old:pw"), "x-note": 1},
        "https://index.docker.io/v1/": {"auth": b64("old:pw")},
        "docker.io/library": {"auth": b64("lib:pw")},
    }})
    c_login("docker.io", authfile, store="keyring")
    assert read(authfile) == {
        "auths": {"docker.io": {"x-note": 1}, "docker.io/library": {"auth": b64("lib:pw")}},
        "credHelpers": {"docker.io": "keyring"},
    }
    # what podman asks for, and what dockercreds and docker ask for
    assert stores["keyring"].data == {"docker.io": ("alice", "pw1"), HUB_KEY: ("alice", "pw1")}
    found = get_registry_credentials("docker.io", config=authfile)
    assert found is not None and found.username == "alice"


def test_containers_namespace_cannot_go_to_a_helper(
    authfile: Path, stores: Dict[str, FakeStore]
) -> None:
    from dockercreds.errors import InvalidArgument

    write(authfile, {"credHelpers": {"quay.io": "fake"}})
    before = authfile.read_bytes()
    with pytest.raises(InvalidArgument, match=r"namespace 'quay.io/org'.*credHelpers\['quay.io'\]"):
        c_login("quay.io/org", authfile)
    with pytest.raises(InvalidArgument, match="--store 'keyring'"):
        c_login("quay.io/org", authfile, store="keyring")
    assert authfile.read_bytes() == before
    assert all(not s.calls for s in stores.values())
    c_login("quay.io/org", authfile, store="file")  # explicit plaintext is fine
    assert read(authfile)["auths"] == {"quay.io/org": {"auth": b64("alice:pw1")}}


def test_containers_malformed_file_is_refused(authfile: Path) -> None:
    authfile.parent.mkdir(parents=True)
    authfile.write_text('{"auths": {')
    with pytest.raises(ConfigWriteError, match=r"auth\.json"):
        c_login("quay.io", authfile)
    assert authfile.read_text() == '{"auths": {'


def test_containers_symlink_stays_a_link(authfile: Path, tmp_path: Path) -> None:
    real = tmp_path / "real" / "auth.json"
    write(real, {"auths": {}})
    authfile.parent.mkdir(parents=True)
    authfile.symlink_to(real)
    c_login("quay.io", authfile)
    assert authfile.is_symlink()
    assert read(real)["auths"] == {"quay.io": {"auth": b64("alice:pw1")}}


@pytest.mark.parametrize(
    ("registry", "removed", "left"),
    [
        # a namespace removes exactly that key, as `podman logout quay.io/org` does
        ("quay.io/org", True, ["quay.io", "https://quay.io", "quay.io/other"]),
        # a namespace without a key is "not logged in"; the registry's entry stays
        ("quay.io/none", False, ["quay.io", "https://quay.io", "quay.io/org", "quay.io/other"]),
        # the registry removes its whole-registry keys; namespaces stay
        ("quay.io", True, ["quay.io/org", "quay.io/other"]),
        ("ghcr.io", False, ["quay.io", "https://quay.io", "quay.io/org", "quay.io/other"]),
    ],
)
def test_containers_logout(
    authfile: Path, registry: str, removed: bool, left: List[str]
) -> None:
    keys = ["quay.io", "https://quay.io", "quay.io/org", "quay.io/other"]
    write(authfile, {"auths": {k: {"auth": b64("u:p")} for k in keys}})
    assert logout(registry, config=authfile, target="containers") is removed
    assert list(read(authfile)["auths"]) == left


def test_containers_logout_erases_from_credhelper_not_creds_store(
    authfile: Path, stores: Dict[str, FakeStore]
) -> None:
    write(authfile, {"credHelpers": {"quay.io": "fake"}, "credsStore": "other", "auths": {}})
    stores["fake"] = FakeStore("fake")
    stores["fake"].data["quay.io"] = ("alice", "pw1")
    stores["other"] = FakeStore("other")
    stores["other"].data["quay.io"] = ("bob", "pw2")
    assert logout("quay.io", config=authfile, target="containers") is True
    assert stores["fake"].data == {}
    assert stores["other"].data == {"quay.io": ("bob", "pw2")}
    assert not stores["other"].calls
    assert logout("quay.io", config=authfile, target="containers") is False


def test_containers_logout_of_missing_file_creates_nothing(
    authfile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(authfile))  # the default: may be missing
    assert logout("quay.io", target="containers") is False
    assert not authfile.exists()


def test_containers_write_survives_an_unlocked_writer(
    authfile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """podman renames a copy it read before our write over the file: we write again."""
    from dockercreds import writer

    write(authfile, {"auths": {"ghcr.io": {"auth": b64("p:pw")}}})
    stale = authfile.read_bytes()  # what an overlapping podman login read
    real_update = writer.update_config
    calls: List[int] = []

    def racing_update(path: Any, mutate: Any, **kw: Any) -> Any:
        result = real_update(path, mutate, **kw)
        calls.append(1)
        if len(calls) == 1:
            authfile.write_bytes(stale)  # podman's rename lands right after ours
        return result

    monkeypatch.setattr(writer, "update_config", racing_update)
    c_login("quay.io", authfile)
    assert len(calls) == 2
    assert read(authfile)["auths"] == {
        "ghcr.io": {"auth": b64("p:pw")}, "quay.io": {"auth": b64("alice:pw1")}
    }


def test_containers_write_leaves_a_later_writers_value(
    authfile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A login that lands after ours (another value, not the one we replaced) stands."""
    from dockercreds import writer

    write(authfile, {"auths": {"quay.io": {"auth": b64("old:pw")}}})
    real_update = writer.update_config
    calls: List[int] = []

    def later_login(path: Any, mutate: Any, **kw: Any) -> Any:
        calls.append(1)
        result = real_update(path, mutate, **kw)
        write(authfile, {"auths": {"quay.io": {"auth": b64("newer:pw")}}})
        return result

    monkeypatch.setattr(writer, "update_config", later_login)
    c_login("quay.io", authfile)
    assert len(calls) == 1
    assert read(authfile)["auths"] == {"quay.io": {"auth": b64("newer:pw")}}


def test_containers_route_survives_an_unlocked_writer(
    authfile: Path, stores: Dict[str, FakeStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockercreds import writer

    write(authfile, {"auths": {}})
    real_update = writer.update_config
    calls: List[int] = []

    def racing_update(path: Any, mutate: Any, **kw: Any) -> Any:
        result = real_update(path, mutate, **kw)
        calls.append(1)
        if len(calls) == 1:
            write(authfile, {"auths": {"ghcr.io": {"auth": b64("p:pw")}}})  # podman's copy
        return result

    monkeypatch.setattr(writer, "update_config", racing_update)
    c_login("quay.io", authfile, store="keyring")
    assert len(calls) == 2
    assert read(authfile) == {"auths": {"ghcr.io": {"auth": b64("p:pw")}},
                              "credHelpers": {"quay.io": "keyring"}}


def test_containers_write_gives_up_on_a_writer_that_keeps_undoing_it(
    authfile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockercreds import writer

    real_update = writer.update_config
    calls: List[int] = []

    def undone(path: Any, mutate: Any, **kw: Any) -> Any:
        calls.append(1)
        result = real_update(path, mutate, **kw)
        authfile.write_text("{}")
        return result

    monkeypatch.setattr(writer, "update_config", undone)
    c_login("quay.io", authfile)
    assert len(calls) == accounts._SETTLE_TRIES


# --- CLI


def _cli(argv: List[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> Any:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def test_cli_containers_login_and_logout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = runtime / "containers" / "auth.json"
    code, out, err = _cli(
        ["login", "--containers", "--no-verify", "-u", "alice", "--password-stdin",
         "quay.io/org"], monkeypatch, "pw1\n")
    assert (code, out) == (0, "Login Succeeded\n")
    assert str(path) in err  # the plaintext warning names the file
    assert read(path)["auths"] == {"quay.io/org": {"auth": b64("alice:pw1")}}
    code, out, _ = _cli(["logout", "--containers", "quay.io/org"], monkeypatch)
    assert (code, out) == (0, "Removing login credentials for quay.io/org\n")
    code, out, _ = _cli(["logout", "--containers", "docker.io"], monkeypatch)
    assert (code, out) == (0, "Not logged in to docker.io\n")
    assert not (tmp_path / "home").exists()


def test_cli_authfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mine.json"
    code, _, _ = _cli(
        ["login", "--authfile", str(path), "--no-verify", "-u", "alice", "--password-stdin",
         "docker.io"], monkeypatch, "pw1\n")
    assert code == 0
    assert read(path)["auths"] == {"docker.io": {"auth": b64("alice:pw1")}}
    code, out, _ = _cli(["logout", "--authfile", str(path)], monkeypatch)
    assert (code, out) == (0, "Removing login credentials for docker.io\n")


@pytest.mark.parametrize(
    "flags",
    [["--config", "a.json", "--containers"], ["--config", "a.json", "--authfile", "b.json"],
     ["--containers", "--authfile", "b.json"]],
)
@pytest.mark.parametrize("command", ["login", "logout", "migrate"])
def test_cli_target_flags_exclude_each_other(
    monkeypatch: pytest.MonkeyPatch, flags: List[str], command: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        _cli([command, *flags], monkeypatch)
    assert exc.value.code == 2


# --- containers peers: podman and skopeo read what we write, we read what podman writes


@pytest.fixture
def podman_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Default containers auth file under a private XDG_RUNTIME_DIR; returns its path."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    # with DOCKER_CONFIG set podman would use $DOCKER_CONFIG/config.json instead
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return runtime / "containers" / "auth.json"


def _peer(argv: List[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, input=stdin, capture_output=True, text=True, env=dict(os.environ), timeout=120,
        check=False,
    )


def _ours(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return _peer([sys.executable, "-m", "dockercreds.cli", *args], stdin)


def _get_login(target: str) -> Optional[str]:
    res = _peer([require("podman"), "login", "--get-login", target])
    return res.stdout.strip() if res.returncode == 0 else None


def _skopeo_inspect(image: str) -> bool:
    res = _peer([require("skopeo"), "inspect", "--tls-verify=false", f"docker://{image}"])
    return res.returncode == 0 and "Digest" in res.stdout


@pytest.mark.peer
@pytest.mark.parametrize("namespace", ["", "/test"])
def test_peer_podman_and_skopeo_use_our_containers_login(
    registry: Any, podman_env: Path, namespace: str
) -> None:
    target = registry.addr + namespace
    assert _get_login(target) is None
    assert not _skopeo_inspect(registry.image)
    res = _ours("login", "--containers", "-u", registry.user, "--password-stdin", target,
                stdin=registry.password + "\n")  # verified against the registry first
    assert res.returncode == 0, res.stderr
    assert list(read(podman_env)["auths"]) == [target]
    assert _get_login(target) == registry.user
    assert _skopeo_inspect(registry.image)  # test/hello is under /test too
    res = _ours("logout", "--containers", target)
    assert res.returncode == 0, res.stderr
    assert _get_login(target) is None
    assert not _skopeo_inspect(registry.image)


@pytest.mark.peer
def test_peer_wrong_password_stores_nothing_in_containers_file(
    registry: Any, podman_env: Path
) -> None:
    res = _ours("login", "--containers", "-u", registry.user, "--password-stdin",
                registry.addr, stdin="wrong\n")
    assert res.returncode == 1
    assert not podman_env.exists()


@pytest.mark.peer
def test_peer_we_find_and_remove_podmans_login(registry: Any, podman_env: Path) -> None:
    podman = require("podman")
    for target in (registry.addr, f"{registry.addr}/org"):
        res = _peer([podman, "login", "--tls-verify=false", "-u", registry.user,
                     "--password-stdin", target], registry.password)
        assert res.returncode == 0, res.stderr
    from dockercreds.resolver import get_credentials

    for found in (
        get_registry_credentials(registry.addr, sources="containers"),
        get_credentials(f"{registry.addr}/org/app", sources="containers"),
    ):
        assert found is not None
        assert (found.username, found.password) == (registry.user, registry.password)
        assert found.source == f"file:{podman_env}"
    assert get_registry_credentials(registry.addr) is None  # docker sources: not there
    # our logout of the namespace removes podman's key for it, and only that one
    assert logout(f"{registry.addr}/org", target="containers") is True
    assert _get_login(f"{registry.addr}/org") == registry.user  # the registry's key answers
    assert list(read(podman_env)["auths"]) == [registry.addr]
    # and podman's logout undoes ours
    quiet_login(f"{registry.addr}/org", "nsuser", "nspw", target="containers")
    assert _get_login(f"{registry.addr}/org") == "nsuser"
    res = _peer([podman, "logout", f"{registry.addr}/org"])
    assert res.returncode == 0, res.stderr
    assert _get_login(f"{registry.addr}/org") == registry.user


@pytest.mark.peer
def test_peer_concurrent_logins_with_podman_lose_nothing_we_wrote(
    registry: Any, podman_env: Path
) -> None:
    """Several dockercreds processes and podman logins at once on one auth file.

    dockercreds writers lock, re-read and re-apply when podman (which does not lock)
    replaced the file with a copy read before our write. podman's own entries are not
    asserted: concurrent podman logins can lose each other's (container-libs#244).
    """
    podman = require("podman")
    ours = [f"{registry.addr}/dc{i}" for i in range(6)]
    theirs = [f"{registry.addr}/pm{i}" for i in range(4)]
    procs: List[Any] = []  # (process, what it reads on stdin)

    def start(argv: List[str], secret: str) -> None:
        procs.append((subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True), secret))

    try:
        for n in range(max(len(ours), len(theirs))):  # interleaved, all running at once
            if n < len(ours):
                start([sys.executable, "-m", "dockercreds.cli", "login", "--containers",
                       "--no-verify", "-u", f"dc{n}", "--password-stdin", ours[n]], "pw\n")
            if n < len(theirs):
                start([podman, "login", "--tls-verify=false", "-u", registry.user,
                       "--password-stdin", theirs[n]], registry.password)
        for proc, secret in procs:
            _, err = proc.communicate(secret, timeout=120)
            assert proc.returncode == 0, err
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    auths = read(podman_env)["auths"]
    for n, key in enumerate(ours):
        assert auths.get(key) == {"auth": b64(f"dc{n}:pw")}, sorted(auths)
    assert _get_login(ours[0]) == "dc0"


@pytest.mark.peer
def test_peer_with_docker_config_set_we_write_where_podman_reads(
    registry: Any, podman_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # containers/common: REGISTRY_AUTH_FILE > $DOCKER_CONFIG/config.json > XDG_RUNTIME_DIR
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
    target = f"{registry.addr}/test"
    res = _ours("login", "--containers", "-u", registry.user, "--password-stdin", target,
                stdin=registry.password + "\n")
    assert res.returncode == 0, res.stderr
    assert list(read(tmp_path / "dc" / "config.json")["auths"]) == [target]
    assert not podman_env.exists()
    assert _get_login(target) == registry.user
    assert _skopeo_inspect(registry.image)


def test_verify_unreachable_is_one_line(conf: Path) -> None:
    """Network failures read the same everywhere: 'cannot reach HOST: CAUSE' (issue 14)."""
    import socket

    from dockercreds.errors import NetworkError

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(NetworkError) as info:
        login(f"127.0.0.1:{port}", "alice", "pw", config=conf, verify=True)
    message = str(info.value)
    assert message.startswith(f"cannot reach 127.0.0.1:{port}: connection refused (GET http")
    assert message.endswith("nothing was stored")
    assert "\n" not in message and "Pool" not in message and "urllib3" not in message


# --------------------------------------------------------------------------- namespace accounts


def test_namespace_login_to_the_keyring(conf: Path, stores: Dict[str, FakeStore]) -> None:
    write(conf, {"auths": {"quay.io/org": {"auth": b64("old:pw"), "email": "e"},
                           "quay.io": {"auth": b64("host:pw")}}})
    creds = login("quay.io/org", "robot", "pw1", config=conf, store="keyring")
    assert (creds.server, creds.source) == ("quay.io/org", "keyring")
    assert stores["keyring"].data == {"quay.io/org": ("robot", "pw1")}
    # the marker, no secret, unknown fields kept; no credHelpers (docker reduces to hosts)
    assert read(conf) == {"auths": {"quay.io/org": {"email": "e"},
                                    "quay.io": {"auth": b64("host:pw")}}}
    found = get_credentials_of(conf, "quay.io/org/team/app")
    assert found == ("robot", "pw1", "keyring")
    assert get_credentials_of(conf, "quay.io/other/app") == ("host", "pw", f"file:{conf}")


def get_credentials_of(conf: Path, image: str) -> Optional[tuple[Any, Any, Any]]:
    from dockercreds.resolver import get_credentials

    found = get_credentials(image, config=conf)
    return None if found is None else (found.username, found.password, found.source)


@pytest.mark.parametrize(
    ("config", "store"),
    [
        ({"credsStore": "keyring"}, None),  # routed to the keyring: a namespace account
        ({"credHelpers": {"quay.io": "keyring"}}, None),
        ({"credHelpers": {"quay.io": "pass"}}, "keyring"),  # forced
    ],
)
def test_namespace_login_when_the_keyring_is_the_store(
    conf: Path, stores: Dict[str, FakeStore], config: Dict[str, Any], store: Optional[str]
) -> None:
    write(conf, config)
    login("quay.io/org", "robot", "pw1", config=conf, store=store)
    assert stores["keyring"].data == {"quay.io/org": ("robot", "pw1")}
    assert read(conf) == {**config, "auths": {"quay.io/org": {}}}


@pytest.mark.parametrize(
    ("config", "store"),
    [({}, "pass"), ({"credsStore": "keyring"}, "pass")],
)
def test_namespace_login_to_an_external_helper_is_refused(
    conf: Path, stores: Dict[str, FakeStore], config: Dict[str, Any], store: str
) -> None:
    write(conf, config)
    before = conf.read_bytes()
    with pytest.raises(InvalidArgument, match=r"namespace 'quay.io/org' in 'pass'.*per registry"):
        login("quay.io/org", "robot", "pw1", config=conf, store=store)
    assert conf.read_bytes() == before
    assert all(not s.data for s in stores.values())


def test_namespace_login_elsewhere_is_the_registry_as_in_docker(
    conf: Path, stores: Dict[str, FakeStore]
) -> None:
    # plaintext, or a helper the file routes the registry to: the whole registry
    quiet_login("quay.io/org", "u", "pw", config=conf)
    assert read(conf) == {"auths": {"quay.io": {"auth": b64("u:pw")}}}
    write(conf, {"credsStore": "pass"})
    login("quay.io/org", "u", "pw", config=conf)
    assert stores["pass"].data == {"quay.io": ("u", "pw")}


def test_namespace_relogin_with_a_new_username_erases_the_old(
    conf: Path, stores: Dict[str, FakeStore]
) -> None:
    login("quay.io/org", "robot", "pw1", config=conf, store="keyring")
    login("quay.io/org", "robot2", "pw2", config=conf, store="keyring")
    assert stores["keyring"].data == {"quay.io/org": ("robot2", "pw2")}
    assert ("erase", "quay.io/org") in stores["keyring"].calls


def test_namespace_logout_removes_just_that_account(
    conf: Path, stores: Dict[str, FakeStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(conf, {"credsStore": "keyring"})
    login("quay.io", "host", "pw0", config=conf)
    login("quay.io/team-a", "a", "pw1", config=conf)
    login("quay.io/team-b", "b", "pw2", config=conf)
    assert logout("quay.io/team-a", config=conf) is True
    assert stores["keyring"].data == {"quay.io": ("host", "pw0"), "quay.io/team-b": ("b", "pw2")}
    assert read(conf)["auths"] == {"quay.io": {}, "quay.io/team-b": {}}
    assert get_credentials_of(conf, "quay.io/team-a/app") == ("host", "pw0", "keyring")
    assert get_credentials_of(conf, "quay.io/team-b/app") == ("b", "pw2", "keyring")


def _three_user_registry(tmp: Path) -> Any:
    """An htpasswd registry knowing host/team-a/team-b users, with team-a/app and team-b/app."""
    from tests.peers import push_image, start_registry

    reg = start_registry(tmp / "reg", user="hostuser")
    try:
        for user in ("team-a-bot", "team-b-bot"):
            reg.add_user(user, f"{user}-pw")
        for repo in ("team-a/app", "team-b/app", "other/app"):
            push_image(reg.url, repo=repo, authorization=reg.authorization)
    except BaseException:
        reg.stop()
        raise
    return reg


def ns_image(reg: Any, ns: str) -> str:
    return f"{reg.addr}/{ns}/app"


def _pulls(reg: Any, conf: Path, repos: List[str]) -> Dict[str, int]:
    """HTTP status of a full pull of each repository through a fresh RegistryAuth."""
    from dockercreds.auth_requests import RegistryAuth
    from tests.peers import PeerError
    from tests.token_server import new_session, pull_image

    out: Dict[str, int] = {}
    for repo in repos:
        session = new_session(RegistryAuth(config=str(conf)))
        try:
            pull_image(session, reg.url, repo)
            out[repo] = 200
        except PeerError:
            out[repo] = session.get(f"{reg.url}/v2/{repo}/manifests/v1").status_code
    return out


@pytest.mark.peer
def test_peer_namespace_accounts_in_secret_service(
    use_secret_service: Any,
    venv_bin_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Done-when of issue 11 item 1: two namespace accounts plus a host account."""
    from dockercreds.resolver import get_credentials

    require("htpasswd")
    monkeypatch.setenv("DOCKERCREDS_KEYRING_INDEX", str(tmp_path / "index.json"))
    reg = _three_user_registry(tmp_path)
    conf = tmp_path / "docker" / "config.json"
    try:
        # verify=True: the real registry checks each account before it is stored
        login(reg.addr, reg.user, reg.password, config=conf, store="keyring", verify=True)
        for team in ("team-a", "team-b"):
            login(f"{reg.addr}/{team}", f"{team}-bot", f"{team}-bot-pw", config=conf,
                  store="keyring", verify=True)
        data = read(conf)
        assert data["auths"] == {reg.addr: {}, f"{reg.addr}/team-a": {}, f"{reg.addr}/team-b": {}}
        assert data["credHelpers"] == {reg.addr: "keyring"}  # the host; never a namespace

        expected = {"team-a": "team-a-bot", "team-b": "team-b-bot", "other": reg.user}
        repos = [f"{ns}/app" for ns in expected]
        for ns, user in expected.items():
            found = get_credentials(ns_image(reg, ns), config=conf)
            assert found is not None and (found.username, found.source) == (user, "keyring")
        assert _pulls(reg, conf, repos) == dict.fromkeys(repos, 200)
        # which user each pull used: the registry refuses exactly the pulls of the
        # namespace whose user it no longer knows (htpasswd has no per-repository ACL,
        # and its log does not name the user)
        for ns, user in expected.items():
            password = reg.users[user]
            reg.add_user(user, "changed-" + password)
            try:
                assert _pulls(reg, conf, repos) == {
                    repo: 401 if repo == f"{ns}/app" else 200 for repo in repos
                }
            finally:
                reg.add_user(user, password)

        # the docker CLI reads the same file: it reduces keys to hosts, asks
        # docker-credential-keyring for the registry only, and so pulls every namespace
        # with the host account; it loads the {} markers without complaint
        docker = require("docker")
        env = {**os.environ, "DOCKER_CONFIG": str(conf.parent)}
        for ns in expected:
            out = subprocess.run(
                [docker, "manifest", "inspect", "--insecure", f"{ns_image(reg, ns)}:v1"],
                capture_output=True, text=True, env=env, timeout=120, check=False,
            )
            assert out.returncode == 0 and "schemaVersion" in out.stdout, out.stderr
            assert "config" not in out.stderr.lower()
        reg.add_user("team-a-bot", "changed")  # docker never used it: still pulls
        try:
            out = subprocess.run(
                [docker, "manifest", "inspect", "--insecure", f"{ns_image(reg, 'team-a')}:v1"],
                capture_output=True, text=True, env=env, timeout=120, check=False,
            )
            assert out.returncode == 0, out.stderr
        finally:
            reg.add_user("team-a-bot", "team-a-bot-pw")

        assert logout(f"{reg.addr}/team-a", config=conf) is True
        assert read(conf)["auths"] == {reg.addr: {}, f"{reg.addr}/team-b": {}}
        after = {ns: get_credentials(ns_image(reg, ns), config=conf) for ns in expected}
        assert {ns: c.username if c else None for ns, c in after.items()} == {
            "team-a": reg.user, "team-b": "team-b-bot", "other": reg.user,
        }
        from dockercreds.keyring_store import KeyringStore

        held = KeyringStore().list()
        assert f"{reg.addr}/team-a" not in held
        assert {reg.addr, f"{reg.addr}/team-b"} <= set(held)
    finally:
        for key in (f"{reg.addr}/team-a", f"{reg.addr}/team-b", reg.addr):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                logout(key, config=conf)
        reg.stop()


@pytest.mark.parametrize("target", ["docker", "containers"])
def test_login_store_argument_naming_a_missing_helper_blames_the_argument(
    tmp_path: Path, target: str
) -> None:
    conf = tmp_path / "config.json"
    with pytest.raises(HelperNotInstalled) as caught:
        login("quay.io", "u", "p", config=conf, store="bogus", target=target)
    assert str(caught.value).startswith("store='bogus': docker-credential-bogus is not")
    assert "config.json" not in str(caught.value)
    assert not conf.exists()
