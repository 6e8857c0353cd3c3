"""Fuzz: random argv and config files for the dockercreds program (in-process and real)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.common import (
    SECRETS,
    check_helper,
    check_program,
    docker_configs,
    fuzz,
    image_words,
    nasty_text,
    run_cli,
    run_subprocess,
)

COMMANDS = ["get", "explain", "login", "logout", "migrate", "token", "k8s-secret",
            "kubelet-plugin"]
FLAGS = ["--config", "--containers", "--json", "-u", "--username", "-p", "--password",
         "--password-stdin", "--store", "--no-verify", "--insecure", "--to", "--dry-run",
         "--push", "--docker-server", "--docker-username", "--docker-password", "-o",
         "--from-config", "--registry", "--cache-duration", "--timeout", "-n", "--version",
         "-h", "--", "-", "--bogus"]
# argv as the OS gives it: undecodable bytes arrive as surrogateescape characters
os_words = st.binary(max_size=12).map(lambda b: os.fsdecode(b) if b else "x")
words = st.sampled_from(COMMANDS + FLAGS) | image_words | nasty_text | os_words


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clihome")


@pytest.fixture
def isolated(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No network, no keyring, no helpers: every command fails fast or works offline."""
    conf = home / "docker"
    conf.mkdir(exist_ok=True)
    monkeypatch.setenv("DOCKER_CONFIG", str(conf))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("DOCKERCREDS_HELPER_TIMEOUT", "5")
    # token/login would reach out: any name resolves nowhere quickly
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    return conf


@fuzz(150)
@given(st.lists(words, max_size=6), st.binary(max_size=40))
def test_random_argv(isolated: Path, argv: list[str], stdin: bytes) -> None:
    if argv and argv[0] in ("login", "logout", "migrate"):
        argv = [*argv, "--config", str(isolated / "config.json")]  # never the real home
    result = run_cli(argv, stdin)
    check_program(
        result,
        prints_secrets=bool(argv) and argv[0] in ("get", "k8s-secret"),
        migrate="migrate" in argv,
    )


@fuzz(60)
@given(st.lists(words, max_size=6))
def test_random_argv_with_stdin_closed(isolated: Path, argv: list[str]) -> None:
    """``<&-``: every command that reads stdin says so in one line (was AttributeError)."""
    if argv and argv[0] in ("login", "logout", "migrate"):
        argv = [*argv, "--config", str(isolated / "config.json")]
    result = run_cli(argv, stdin=None)
    check_program(result, prints_secrets=bool(argv) and argv[0] in ("get", "k8s-secret"),
                  migrate="migrate" in argv)


timeout_text = (
    st.floats(allow_nan=True, allow_infinity=True).map(repr)
    | st.integers(min_value=-(10**30), max_value=10**30).map(str)
    | st.from_regex(r"\A[-+]?[0-9]{0,5}(\.[0-9]{0,3})?([eE][-+]?[0-9]{1,4})?\Z")
    | nasty_text
)


@fuzz(60)
@given(st.sampled_from(["token", "kubelet-plugin"]), timeout_text)
def test_any_timeout_text(isolated: Path, command: str, value: str) -> None:
    """A usage error or a run, never an OverflowError from a socket or timer wait."""
    config = isolated / "empty.json"
    config.write_text("{}")
    argv = [command, f"--timeout={value}", "--config", str(config)]
    if command == "token":
        argv.append("127.0.0.1:9/org/app")  # refused at once: the timeout is armed, not used
    request = {"apiVersion": "credentialprovider.kubelet.k8s.io/v1",
               "kind": "CredentialProviderRequest", "image": "quay.io/org/app"}
    check_program(run_cli(argv, stdin=json.dumps(request).encode()))


@fuzz(100)
@given(st.sampled_from(["get", "explain", "logout", "k8s-secret"]),
       docker_configs.map(json.dumps), image_words)
def test_commands_over_generated_configs(isolated: Path, command: str, text: str,
                                         target: str) -> None:
    path = isolated / "config.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    before = path.read_bytes()
    if command == "k8s-secret":
        argv = ["k8s-secret", "regcred", "--from-config", "--config", str(path),
                "--registry", target or "x"]
    else:
        argv = [command, "--config", str(path), target]
    result = run_cli(argv)
    check_program(result, prints_secrets=command in ("get", "k8s-secret"))
    after = path.read_bytes()
    if command != "logout":
        assert after == before
    elif result.code != 0 and after != before:
        # logout cleans the file first and then reports a store that failed to erase
        # (accounts.logout): the rewrite may only have removed auths entries
        old, new = json.loads(before), json.loads(after)
        assert {k: v for k, v in new.items() if k.lower() != "auths"} == {
            k: v for k, v in old.items() if k.lower() != "auths"
        }
        old_auths = next((v for k, v in old.items() if k.lower() == "auths"), {})
        new_auths = next((v for k, v in new.items() if k.lower() == "auths"), {})
        assert set(new_auths) < set(old_auths)


@fuzz(30)
@given(st.binary(max_size=300))
def test_commands_over_config_bytes(isolated: Path, data: bytes) -> None:
    path = isolated / "config.json"
    path.write_bytes(data)
    for command in ("get", "explain"):
        check_program(run_cli([command, "--config", str(path), "quay.io/org/app"]),
                      prints_secrets=True)


@fuzz(30)
@given(st.sampled_from(["-u", "--username"]), nasty_text | os_words,
       nasty_text | os_words | st.sampled_from(SECRETS))
def test_login_user_and_password(isolated: Path, flag: str, user: str, password: str) -> None:
    """Non-UTF-8 or odd usernames and passwords: a one-line error, never a traceback."""
    argv = ["login", "--no-verify", "--store", "file", "--config",
            str(isolated / "login.json"), flag, user, "--password-stdin", "reg.example"]
    result = run_cli(argv, stdin=password.encode("utf-8", "surrogatepass"))
    check_program(result)


# --- a few real runs: the installed entry points, with a memory limit and a timeout ---

REAL_ARGV = [
    ["get", "--config", "{cfg}", "quay.io"],
    ["explain", "--config", "{cfg}", "quay.io/org/app"],
    ["kubelet-plugin", "--config", "{cfg}"],
    ["login", "-u", "\udcff\udcfe", "-p", "x", "--no-verify", "--config", "{cfg}", "reg.example"],
    ["get", "--config", "{cfg}", "\udcff"],
    ["frobnicate"],
    [],
]


@pytest.mark.parametrize("argv", REAL_ARGV)
@pytest.mark.parametrize("content", [b"{", b'{"auths": {"quay.io": {"auth": "!!"}}}'])
def test_real_program_runs(tmp_path: Path, argv: list[str], content: bytes) -> None:
    _real_run(tmp_path, argv, content)


@pytest.mark.parametrize("argv", REAL_ARGV[:2])
def test_real_program_deep_config(tmp_path: Path, argv: list[str]) -> None:
    _real_run(tmp_path, argv, b"[" * 100_000)


def _real_run(tmp_path: Path, argv: list[str], content: bytes) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_bytes(content)
    env = {**os.environ, "DOCKER_CONFIG": str(tmp_path), "PATH": os.path.dirname(sys.executable)}
    args = [os.fsencode(a.replace("{cfg}", str(cfg))) for a in argv]
    result = run_subprocess("dockercreds.cli", [os.fsdecode(a) for a in args],
                            stdin=content, timeout=60, env=env)
    check_program(result, prints_secrets=True)


@pytest.mark.parametrize("action", ["store", "get", "erase", "list", "version", "bogus"])
@pytest.mark.parametrize("stdin", [b"", b"\xff\xfe", b"{" * 100_000, b'{"ServerURL":"a"}'])
def test_real_helper_runs(tmp_path: Path, action: str, stdin: bytes) -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "DOCKERCREDS_KEYRING_INDEX": str(tmp_path / "index.json")}
    result = run_subprocess("dockercreds.helper_main", [action], stdin=stdin, timeout=60, env=env)
    check_helper(result)


def test_cli_guard_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    """If a bug reaches cli.main's last resort, check_program fails: the guard hides nothing."""

    def bug(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("x")

    monkeypatch.setattr("dockercreds.resolver.resolve", bug)
    result = run_cli(["get", "quay.io"])
    assert result.code == 1 and result.err.startswith("dockercreds: internal error: ")
    with pytest.raises(AssertionError, match="last-resort guard"):
        check_program(result)


@fuzz(50)
@given(docker_configs.map(json.dumps), image_words)
def test_docker_auth_config_env(isolated: Path, monkeypatch: pytest.MonkeyPatch, text: str,
                                target: str) -> None:
    monkeypatch.setenv("DOCKER_AUTH_CONFIG", text)
    for command in ("get", "explain"):
        check_program(run_cli([command, target]), prints_secrets=command == "get")
