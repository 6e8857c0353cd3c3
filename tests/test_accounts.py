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
    assert logout("quay.io", config=conf) is False
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
    registry: Any, docker_config: Path, secret_service: Any, venv_bin_path: Path,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    require("docker-credential-keyring")
    for name, value in secret_service.env.items():
        monkeypatch.setenv(name, value)
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
