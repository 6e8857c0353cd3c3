"""docker-credential-keyring: the helper protocol, byte for byte, and real clients using it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from dockercreds import helper_main
from dockercreds.helper_main import NAME, PACKAGE, run
from dockercreds.keyring_store import KeyringStore
from tests.memory_keyring import MemoryKeyring
from tests.peers import Registry, SecretService, require, write_docker_config

USAGE = b"Usage: docker-credential-keyring <store|get|erase|list|version>\n"


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Dict[Tuple[str, str], str]:
    """The helper's KeyringStore on an in-memory backend and a temp index."""
    backend = MemoryKeyring()
    index = str(tmp_path / "index.json")

    def factory(**kwargs: Any) -> KeyringStore:
        return KeyringStore(backend=backend, index_path=index)

    monkeypatch.setattr("dockercreds.keyring_store.KeyringStore", factory)
    monkeypatch.setenv("DOCKERCREDS_KEYRING_INDEX", index)
    return backend.items


def call(args: List[str], stdin: bytes = b"") -> Tuple[int, bytes]:
    out = io.BytesIO()
    rc = run(args, io.BytesIO(stdin), out)
    return rc, out.getvalue()


def store_msg(server: str, user: str, secret: str) -> bytes:
    return json.dumps({"ServerURL": server, "Username": user, "Secret": secret}).encode()


# --------------------------------------------------------------------------- protocol table


@pytest.mark.parametrize(
    ("args", "stdin", "rc", "out"),
    [
        ([], b"", 1, USAGE),
        (["get", "extra"], b"", 1, USAGE),
        (["-h"], b"", 0, USAGE),
        (["--help"], b"", 0, USAGE),
        (["-v"], b"", 0, None),
        (["--version"], b"", 0, None),
        (["version"], b"", 0, None),
        (["bogus"], b"", 1, b"docker-credential-keyring: unknown action: bogus\n"),
        (["GET"], b"", 1, b"docker-credential-keyring: unknown action: GET\n"),
        (["get"], b"", 1, b"no credentials server URL\n"),
        (["get"], b" \n\t", 1, b"no credentials server URL\n"),
        (["erase"], b"\n", 1, b"no credentials server URL\n"),
        (["get"], b"missing.example", 1, b"credentials not found in native keychain\n"),
        (["erase"], b"missing.example\n", 0, b""),
        (["list"], b"unused", 0, b"{}\n"),
        (["store"], b"", 1, None),
        (["store"], b"notjson", 1, None),
        (["store"], b"[]", 1, None),
        (["store"], b'{"ServerURL":1}', 1, None),
        (["store"], b'{"Username":"u","Secret":"s"}', 1, b"no credentials server URL\n"),
        (["store"], b'{"ServerURL":"a","Secret":"s"}', 1, b"no credentials username\n"),
    ],
)
def test_protocol(
    memory: Dict[Tuple[str, str], str],
    args: List[str],
    stdin: bytes,
    rc: int,
    out: Optional[bytes],
) -> None:
    got_rc, got = call(args, stdin)
    assert got_rc == rc
    if out is not None:
        assert got == out
    else:
        assert got.endswith(b"\n")
        assert got.count(b"\n") == 1
    assert memory == {}  # nothing here changes the store


def test_version_line() -> None:
    from dockercreds import __version__

    rc, out = call(["-v"])
    assert rc == 0
    assert out == f"{NAME} ({PACKAGE}) {__version__}\n".encode()


def test_round_trip(memory: Dict[Tuple[str, str], str]) -> None:
    assert call(["store"], store_msg("127.0.0.1:5000", "alice", "pw") + b"\n") == (0, b"")
    assert call(["get"], b"127.0.0.1:5000\n") == (
        0,
        b'{"ServerURL":"127.0.0.1:5000","Username":"alice","Secret":"pw"}\n',
    )
    assert call(["list"]) == (0, b'{"127.0.0.1:5000":"alice"}\n')
    assert call(["erase"], b"127.0.0.1:5000") == (0, b"")
    assert call(["get"], b"127.0.0.1:5000") == (1, b"credentials not found in native keychain\n")
    assert call(["list"]) == (0, b"{}\n")


def test_token_and_specials(memory: Dict[Tuple[str, str], str]) -> None:
    call(["store"], store_msg("https://index.docker.io/v1/", "<token>", "a&b<c>"))
    rc, out = call(["get"], b"https://index.docker.io/v1/")
    assert rc == 0
    assert out == (
        b'{"ServerURL":"https://index.docker.io/v1/","Username":"\\u003ctoken\\u003e",'
        b'"Secret":"a\\u0026b\\u003cc\\u003e"}\n'
    )
    assert call(["list"])[1] == b'{"https://index.docker.io/v1/":"\\u003ctoken\\u003e"}\n'


def test_big_secret_and_text_streams(memory: Dict[Tuple[str, str], str]) -> None:
    secret = "é" + "x" * (60 * 1024)
    assert call(["store"], store_msg("big.example", "u", secret)) == (0, b"")
    out = io.StringIO()
    assert run(["get"], io.StringIO("big.example\n"), out) == 0
    assert json.loads(out.getvalue())["Secret"] == secret


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x00\xff\xfe",
        b'{"ServerURL":"g.example","Username":"u","Secret":"s"',
        b'{"ServerURL":"g.example","Username":"u","Secret":"s"} trailing',
        b'{"ServerURL":"g.example","Username":"u","Secret":5}',
        b"x" * 200_000,
    ],
)
def test_garbage_never_changes_the_store(
    memory: Dict[Tuple[str, str], str], garbage: bytes
) -> None:
    call(["store"], store_msg("keep.example", "u", "s"))
    before = dict(memory)
    for action in ("store", "get", "erase", "list"):
        _rc, out = call([action], garbage)
        assert b"Traceback" not in out
        assert out.count(b"\n") <= 1
    assert memory == before


def test_unexpected_error_is_one_safe_line(
    memory: Dict[Tuple[str, str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(self: Any, server: str) -> None:
        raise RuntimeError("secret-in-exception-text")

    monkeypatch.setattr(KeyringStore, "get", boom)
    rc, out = call(["get"], b"x.example")
    assert rc == 1
    assert out == b"docker-credential-keyring: internal error (RuntimeError); please report it\n"


def test_main_uses_sys_streams(monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    monkeypatch.setattr(sys, "argv", ["docker-credential-keyring", "bogus"])
    assert helper_main.main() == 1
    assert capsysbinary.readouterr().out == b"docker-credential-keyring: unknown action: bogus\n"


def test_keyring_error_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real subprocess with no keyring at all: one line on stdout, exit 1."""
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["DOCKERCREDS_KEYRING_INDEX"] = str(tmp_path / "i.json")
    out = subprocess.run(
        [sys.executable, "-m", "dockercreds.helper_main", "store"],
        input=store_msg("x.example", "u", "topsecret"),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert out.returncode == 1
    assert out.stderr == b""
    assert out.stdout.startswith(b"no D-Bus session bus")
    assert out.stdout.count(b"\n") == 1
    assert b"topsecret" not in out.stdout


# --------------------------------------------------------------------------- Go helper oracle


def _helper(
    program: List[str], action: str, stdin: bytes, env: Dict[str, str]
) -> Tuple[int, bytes]:
    out = subprocess.run(
        [*program, action], input=stdin, capture_output=True, env=env, timeout=60, check=False
    )
    return out.returncode, out.stdout


@pytest.fixture
def helpers(
    use_secret_service: SecretService, tmp_path: Path
) -> Iterator[Tuple[List[str], List[str], Dict[str, str]]]:
    go = require("docker-credential-secretservice")
    ours = str(Path(sys.executable).parent / "docker-credential-keyring")
    env = {**os.environ, "DOCKERCREDS_KEYRING_INDEX": str(tmp_path / "index.json")}
    yield [go], [ours], env


@pytest.mark.peer
@pytest.mark.parametrize(
    ("action", "stdin"),
    [
        ("get", b"oracle-missing.example:5000"),
        ("get", b""),
        ("get", b"\n"),
        ("erase", b"oracle-missing.example:5000"),
        ("store", b'{"ServerURL":"","Username":"u","Secret":"s"}'),
        ("store", b'{"ServerURL":"x","Username":"","Secret":"s"}'),
    ],
)
def test_same_output_as_go_helper(
    helpers: Tuple[List[str], List[str], Dict[str, str]], action: str, stdin: bytes
) -> None:
    go, ours, env = helpers
    assert _helper(ours, action, stdin, env) == _helper(go, action, stdin, env)


@pytest.mark.peer
def test_get_and_list_match_go_helper(
    helpers: Tuple[List[str], List[str], Dict[str, str]],
) -> None:
    go, ours, env = helpers
    entries = [
        ("127.0.0.1:5055", "testuser", "testpass"),
        ("https://index.docker.io/v1/", "<token>", "refresh&<token>"),
        ("ünï.example", "ü:ser", 'pä"ss\\'),
    ]
    try:
        for server, user, secret in entries:
            msg = store_msg(server, user, secret) + b"\n"
            assert _helper(go, "store", msg, env) == (0, b"")
            assert _helper(ours, "store", msg, env) == (0, b"")
        for server, _, _ in entries:
            for stdin in (server.encode(), server.encode() + b"\n"):
                assert _helper(ours, "get", stdin, env) == _helper(go, "get", stdin, env)
        go_list = _helper(go, "list", b"unused", env)
        ours_list = _helper(ours, "list", b"unused", env)
        assert ours_list[0] == go_list[0] == 0
        assert ours_list[1].endswith(b"\n")
        ours_map = json.loads(ours_list[1])
        assert ours_map == {s: u for s, u, _ in entries}
        # Go's list has the same format; it holds exactly its own items here.
        assert json.loads(go_list[1]) == ours_map
        assert b"\\u003ctoken\\u003e" in ours_list[1]
    finally:
        for server, _, _ in entries:
            _helper(go, "erase", server.encode(), env)
            _helper(ours, "erase", server.encode(), env)


@pytest.mark.peer
def test_big_secret_through_the_program(
    helpers: Tuple[List[str], List[str], Dict[str, str]],
) -> None:
    _, ours, env = helpers
    secret = "s" * (60 * 1024)
    try:
        assert _helper(ours, "store", store_msg("big.example", "u", secret), env) == (0, b"")
        rc, out = _helper(ours, "get", b"big.example", env)
        assert rc == 0
        assert json.loads(out)["Secret"] == secret
    finally:
        _helper(ours, "erase", b"big.example", env)


# --------------------------------------------------------------------------- real clients


@pytest.fixture
def client_env(
    use_secret_service: SecretService,
    docker_config: Path,
    venv_bin_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """Secret Service env, a temp DOCKER_CONFIG, our helper on PATH, a temp index."""
    monkeypatch.setenv("DOCKERCREDS_KEYRING_INDEX", str(tmp_path / "index.json"))
    return docker_config


def _run(cmd: List[str], stdin: Optional[bytes] = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=120, check=False)


@pytest.mark.peer
def test_docker_cli_login_pull_logout(client_env: Path, registry: Registry) -> None:
    docker = require("docker")
    assert registry.image is not None
    write_docker_config(client_env, {"credsStore": "keyring"})
    login = _run(
        [docker, "login", "-u", registry.user, "--password-stdin", registry.addr],
        registry.password.encode(),
    )
    assert login.returncode == 0, login.stdout + login.stderr
    config_text = (client_env / "config.json").read_text()
    assert registry.password not in config_text
    assert json.loads(config_text)["auths"] == {registry.addr: {}}

    store = KeyringStore()
    creds = store.get(registry.addr)
    assert creds is not None
    assert (creds.username, creds.password) == (registry.user, registry.password)
    assert store.list() == {registry.addr: registry.user}

    inspect = _run([docker, "manifest", "inspect", "--insecure", registry.image])
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["schemaVersion"] == 2

    logout = _run([docker, "logout", registry.addr])
    assert logout.returncode == 0, logout.stderr
    assert store.get(registry.addr) is None
    assert store.list() == {}
    again = _run([docker, "manifest", "inspect", "--insecure", registry.image])
    assert again.returncode != 0


@pytest.mark.peer
def test_library_reads_token_entries(
    client_env: Path, registry: Registry
) -> None:
    """A <token> entry (what docker stores for an identity token) is one in the library."""
    store = KeyringStore()
    store.store("tok.example:5000", "<token>", "refresh-value")
    try:
        creds = store.get("tok.example:5000")
        assert creds is not None
        assert creds.identity_token == "refresh-value"
    finally:
        store.erase("tok.example:5000")


@pytest.mark.peer
def test_skopeo_and_podman_via_cred_helpers(client_env: Path, registry: Registry) -> None:
    skopeo = require("skopeo")
    podman = require("podman")
    assert registry.image is not None
    store = KeyringStore()
    store.store(registry.addr, registry.user, registry.password)
    try:
        authfile = write_docker_config(client_env, {"credHelpers": {registry.addr: "keyring"}})
        inspect = _run(
            [
                skopeo, "inspect", "--tls-verify=false", "--authfile", str(authfile),
                f"docker://{registry.image}",
            ]
        )
        assert inspect.returncode == 0, inspect.stderr
        assert "Digest" in json.loads(inspect.stdout)

        get_login = _run([podman, "login", "--authfile", str(authfile), "--get-login",
                          registry.addr])
        assert get_login.returncode == 0, get_login.stderr
        assert get_login.stdout.decode().strip() == registry.user
        assert json.loads(authfile.read_text()) == {"credHelpers": {registry.addr: "keyring"}}
    finally:
        store.erase(registry.addr)
    denied = _run(
        [skopeo, "inspect", "--tls-verify=false", "--authfile", str(authfile),
         f"docker://{registry.image}"]
    )
    assert denied.returncode != 0


# --------------------------------------------------------------------------- hostile input

HOSTILE_STORE = [
    pytest.param(b"[" * 100_000, "nested too deeply", id="deep-array"),
    pytest.param(b'{"ServerURL":' * 50_000, "nested too deeply", id="deep-object"),
    pytest.param(
        b'{"ServerURL":"keep.example","Username":' + b"9" * 5000 + b',"Secret":"s"}',
        "'Username' is a number",
        id="huge-int",
    ),
    pytest.param(
        b'{"ServerURL":"keep.example","Username":"u","Secret":NaN}', "NaN", id="nan"
    ),
    pytest.param(
        b'{"ServerURL":"keep.example","Username":"\\udc80","Secret":"s"}',
        "lone surrogate",
        id="surrogate-username",
    ),
    pytest.param(
        b'{"ServerURL":"keep.example","Username":"u","Secret":"x\\ud800"}',
        "lone surrogate",
        id="surrogate-secret",
    ),
    pytest.param(
        b'{"ServerURL":"keep.example\\udfff","Username":"u","Secret":"s"}',
        "lone surrogate",
        id="surrogate-server",
    ),
    pytest.param(b" " * (1024 * 1024 + 1), "larger than 1 MiB", id="oversized"),
]


@pytest.mark.parametrize(("stdin", "needle"), HOSTILE_STORE)
def test_hostile_store_is_one_protocol_line_and_changes_nothing(
    memory: Dict[Tuple[str, str], str], stdin: bytes, needle: str
) -> None:
    call(["store"], store_msg("keep.example", "alice", "good-secret"))
    before = dict(memory)
    index_before = call(["list"])
    rc, out = call(["store"], stdin)
    assert rc == 1
    assert out.count(b"\n") == 1
    assert out.endswith(b"\n")
    assert needle.encode() in out, out
    assert b"internal error" not in out
    assert b"good-secret" not in out
    assert memory == before
    assert call(["list"]) == index_before
    assert call(["get"], b"keep.example")[1] == (
        b'{"ServerURL":"keep.example","Username":"alice","Secret":"good-secret"}\n'
    )


@pytest.mark.parametrize("action", ["get", "erase"])
def test_oversized_input_for_get_and_erase(
    memory: Dict[Tuple[str, str], str], action: str
) -> None:
    rc, out = call([action], b"x" * (2 * 1024 * 1024))
    assert rc == 1
    assert out == b"docker-credential-keyring: input larger than 1 MiB: not a helper message\n"


def test_program_store_with_surrogate_is_one_line_no_traceback(tmp_path: Path) -> None:
    """The installed program: stdout one line, exit 1, stderr empty (no traceback)."""
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["DOCKERCREDS_KEYRING_INDEX"] = str(tmp_path / "i.json")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    done = subprocess.run(
        [sys.executable, "-m", "dockercreds.helper_main", "store"],
        input=b'{"ServerURL":"x.example","Username":"\\udc80","Secret":"s"}',
        capture_output=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == b""
    assert done.stdout.count(b"\n") == 1
    assert b"lone surrogate" in done.stdout
    assert not (tmp_path / "i.json").exists()
