"""The dockercreds program: get / explain, exit codes, error lines."""

from __future__ import annotations

import base64
import io
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest

from dockercreds.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "docker-config.json"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({
        "auths": {
            "https://index.docker.io/v1/": {"auth": b64("hubuser:hub-secret-1")},
            "quay.io": {"auth": b64("quser:quay-secret-2")},
            "quay.io/team": {"auth": b64("teamuser:team-secret-3")},
            "tok.example.com": {"auth": b64("uuid:"), "identitytoken": "refresh-secret-4"},
            "rt.example.com": {"registrytoken": "regtoken-secret-5"},
            "empty.example.com": {},
        }
    }))
    return path


GET_CASES = [
    # target, ServerURL, Username, Secret
    ("quay.io", "quay.io", "quser", "quay-secret-2"),
    ("https://quay.io/v2/", "quay.io", "quser", "quay-secret-2"),
    ("quay.io/team/app:1", "quay.io/team", "teamuser", "team-secret-3"),
    ("quay.io/teams/app", "quay.io", "quser", "quay-secret-2"),
    ("ubuntu", "https://index.docker.io/v1/", "hubuser", "hub-secret-1"),
    ("docker.io", "https://index.docker.io/v1/", "hubuser", "hub-secret-1"),
    ("index.docker.io/library/ubuntu:22.04", "https://index.docker.io/v1/", "hubuser",
     "hub-secret-1"),
    # no '/', but a tag that is no port or a digest: an image, not a registry
    ("ubuntu:22.04", "https://index.docker.io/v1/", "hubuser", "hub-secret-1"),
    ("ubuntu:latest", "https://index.docker.io/v1/", "hubuser", "hub-secret-1"),
    ("ubuntu@sha256:" + "a" * 64, "https://index.docker.io/v1/", "hubuser", "hub-secret-1"),
    ("quay.io:443", None, None, None),
    ("tok.example.com", "tok.example.com", "<token>", "refresh-secret-4"),
    ("rt.example.com", "rt.example.com", "", "regtoken-secret-5"),
]


@pytest.mark.parametrize(("target", "server", "username", "secret"), GET_CASES)
def test_get(capsys: Any, config: Path, target: str, server: Optional[str],
             username: Optional[str], secret: Optional[str]) -> None:
    code, out, err = run(capsys, "get", "--config", str(config), target)
    if server is None:  # a registry with no credentials (not an image, not an error)
        hint = f"dockercreds explain {target} --config {shlex.quote(str(config))}"
        assert (code, out, err) == (1, "", f"dockercreds: no credentials for {target}"
                                    f" (see: {hint})\n")
        return
    assert (code, err) == (0, "")
    assert json.loads(out) == {"ServerURL": server, "Username": username, "Secret": secret}
    assert out.endswith("}\n")
    if username == "<token>":
        assert "\\u003ctoken\\u003e" in out  # Go's JSON escaping, like the helpers


@pytest.mark.parametrize("target", ["ghcr.io", "empty.example.com", "localhost:5000/x/y"])
def test_get_nothing(capsys: Any, config: Path, target: str) -> None:
    code, out, err = run(capsys, "get", "--config", str(config), target)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("dockercreds: no credentials for ")


def test_seed_example(capsys: Any) -> None:
    code, out, _ = run(capsys, "get", "--config", str(EXAMPLE),
                       "quay.io/lightside/svc-awesome:1.2.3")
    assert code == 0
    assert json.loads(out)["ServerURL"] == "quay.io"
    code, out, _ = run(capsys, "get", "--config", str(EXAMPLE), "ubuntu")
    assert code == 0
    assert json.loads(out)["ServerURL"] == "https://index.docker.io/v1/"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"auths": {', "not valid JSON at line 1, column 12"),
        ('{"auths": {"q.io": {"auth": "' + b64("nocolon-secret") + '"}}}', "has no ':'"),
        ('{"auths": []}', "auths must be an object"),
    ],
)
def test_broken_config_is_one_line(capsys: Any, tmp_path: Path, content: str,
                                   message: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(content)
    code, out, err = run(capsys, "get", "--config", str(path), "q.io")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert message in err
    assert str(path) in err
    assert "nocolon-secret" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required"),
        (["get"], "TARGET"),
        (["frobnicate"], "invalid choice"),
        (["get", "--bogus", "x"], "unrecognized arguments"),
    ],
)
def test_usage_errors_exit_2(capsys: Any, argv: List[str], message: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err


@pytest.mark.parametrize("target", ["UPPER/case", "a" * 300, "-x", "quay.io:bad:port"])
def test_bad_target_is_one_line(capsys: Any, config: Path, target: str) -> None:
    code, _, err = run(capsys, "get", "--config", str(config), target)
    assert code in (1, 2)
    assert "Traceback" not in err
    assert err.strip().count("\n") <= 1


@pytest.mark.parametrize("command", ["get", "explain"])
@pytest.mark.parametrize("target", ["https://user:S3CR3T-xyz@quay.io", "https://tok@quay.io/v2/"])
def test_target_with_user_info_is_not_echoed(
    capsys: Any, config: Path, command: str, target: str
) -> None:
    code, out, err = run(capsys, command, "--config", str(config), target)
    assert code == 1
    assert "user info" in err
    assert "S3CR3T" not in out + err
    assert "tok@" not in out + err


def test_explain_masks_secrets(capsys: Any, config: Path) -> None:
    code, out, err = run(capsys, "explain", "--config", str(config), "quay.io/team/app")
    assert code == 0
    assert "auths key 'quay.io/team' matches (namespace 'quay.io/team')" in out
    assert "teamuser" in out
    for secret in ("hub-secret-1", "quay-secret-2", "team-secret-3", "refresh-secret-4"):
        assert secret not in out + err


def test_explain_reports_collisions_and_empty_entries(capsys: Any, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {
        "http://quay.io": {"auth": b64("b:2")},
        "quay.io": {"auth": b64("a:1")},
        "https://quay.io/v2/": {"auth": b64("c:3")},
        "q.io/bad:tag": {},
        "empty.io": {},
    }}))
    _, out, _ = run(capsys, "explain", "--config", str(path), "quay.io")
    assert "collision: 'https://quay.io/v2/', 'http://quay.io'" in out
    assert "'quay.io' wins" in out
    assert "ignored key 'q.io/bad:tag'" in out
    _, out, _ = run(capsys, "explain", "--config", str(path), "empty.io")
    assert "is empty ({})" in out
    assert "result: no credentials" in out


def test_explain_json(capsys: Any, config: Path) -> None:
    code, out, _ = run(capsys, "explain", "--json", "--config", str(config), "tok.example.com")
    assert code == 0
    doc = json.loads(out)
    assert doc["registry"] == "tok.example.com"
    assert doc["result"] == {"server": "tok.example.com", "source": f"file:{config}",
                             "username": "uuid", "secret": "identity_token"}
    assert "refresh-secret-4" not in out


def test_containers_flag_reads_auth_json(capsys: Any, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    auth = tmp_path / "auth.json"
    auth.write_text(json.dumps({"auths": {"podman.example": {"auth": b64("pu:pp")}}}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "nodocker"))
    code, _, _ = run(capsys, "get", "podman.example")
    assert code == 1
    code, out, _ = run(capsys, "get", "--containers", "podman.example")
    assert code == 0
    assert json.loads(out)["Username"] == "pu"


def test_program_never_prints_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{")
    proc = subprocess.run(
        [sys.executable, "-m", "dockercreds.cli", "get", "--config", str(path), "quay.io"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("dockercreds: file:")
    assert "Traceback" not in proc.stderr


def test_explain_shows_the_steps_before_a_helper_failure(
    capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"credsStore": "nosuchhelper", "auths": {"quay.io": {}}}))
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run(capsys, "explain", "--strict", "--config", str(path), "quay.io")
    assert code == 1
    assert "credsStore = 'nosuchhelper'" in out
    assert "asking docker-credential-nosuchhelper for 'quay.io'" in out
    assert out.rstrip().splitlines()[-1].startswith("error: ")
    assert err.startswith("dockercreds: ") and err.count("\n") == 1
    assert "docker-credential-nosuchhelper" in err


# --- secrets carried by targets (issue 10 #11) ----------------------------------------

DISTINCT = "Zq9-DISTINCT-s3cr3t"


@pytest.mark.parametrize("command", ["get", "explain"])
@pytest.mark.parametrize(
    "target",
    [f"{DISTINCT}@quay.io/app", f"{DISTINCT}@localhost:5000", f"quay.io/app?token={DISTINCT}",
     f"https://u:{DISTINCT}@quay.io"],
)
def test_target_carrying_a_secret_is_refused_masked(
    capsys: Any, config: Path, command: str, target: str
) -> None:
    code, out, err = run(capsys, command, "--config", str(config), target)
    assert code == 1
    assert DISTINCT not in out + err
    assert "***" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", ["get", "explain"])
def test_url_target_with_a_token_query_is_masked(
    capsys: Any, config: Path, command: str
) -> None:
    target = f"https://quay.io/v2/?access_token={DISTINCT}"
    code, out, err = run(capsys, command, "--config", str(config), target)
    assert code == 0
    assert DISTINCT not in out + err
    if command == "explain":
        assert "target 'https://quay.io/v2/?access_token=***': registry 'quay.io'" in out


@pytest.mark.parametrize("param", ["token", "access_token", "X-Amz-Signature", "password"])
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_secret_query_in_a_key_never_shown(
    capsys: Any, tmp_path: Path, param: str, json_flag: List[str]
) -> None:
    """An auths or credHelpers key carrying a secret query: masked in every output of
    explain (the steps, the --json result) and in the warnings of any command."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "auths": {f"https://quay.io/?{param}={DISTINCT}": {"auth": b64("u:pw-1234")}},
        "credHelpers": {f"quay.io/?{param}={DISTINCT}": "pass"},
    }))
    for argv in (["explain", *json_flag, "quay.io"], ["check"], ["list"]):
        _code, out, err = run(capsys, *argv, "--config", str(config))
        assert DISTINCT not in out + err, argv


# --- a helper that is not installed (issue 11 #3) ------------------------------------------


@pytest.fixture
def missing_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from dockercreds import resolver

    monkeypatch.setattr(resolver, "_MISSING_WARNED", set())
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    path = tmp_path / "config.json"
    path.write_text(json.dumps({
        "credsStore": "desktop",
        "auths": {"quay.io": {"auth": b64("quser:quay-secret-2")}, "gcr.io": {}},
    }))
    return path


def test_get_goes_on_without_a_missing_helper(capsys: Any, missing_helper: Path) -> None:
    code, out, err = run(capsys, "get", "--config", str(missing_helper), "quay.io")
    assert code == 0
    assert json.loads(out)["Secret"] == "quay-secret-2"
    assert err.startswith("dockercreds: warning: docker-credential-desktop is not installed")
    assert err.count("\n") == 1
    code, out, err = run(capsys, "get", "--config", str(missing_helper), "gcr.io")
    assert code == 1  # the marker says the store holds it: nothing found, no second warning
    assert err.startswith("dockercreds: no credentials for gcr.io")


@pytest.mark.parametrize("command", ["get", "explain"])
def test_strict_makes_a_missing_helper_an_error(
    capsys: Any, missing_helper: Path, command: str
) -> None:
    code, _, err = run(capsys, command, "--strict", "--config", str(missing_helper), "quay.io")
    assert code == 1
    assert err.startswith("dockercreds: docker-credential-desktop is not installed")
    assert err.count("\n") == 1


def test_any_command_warns_in_one_line(capsys: Any, missing_helper: Path) -> None:
    argv = ["k8s-secret", "s", "--from-config", "--config", str(missing_helper),
            "--registry", "quay.io", "-o", "json"]
    code, out, err = run(capsys, *argv)
    assert code == 0
    exported = json.loads(base64.b64decode(json.loads(out)["data"][".dockerconfigjson"]))
    assert list(exported["auths"]) == ["quay.io"]
    assert err.startswith("dockercreds: warning: docker-credential-desktop is not installed")
    assert err.count("\n") == 1


def test_explain_shows_a_missing_helper(capsys: Any, missing_helper: Path) -> None:
    code, out, err = run(capsys, "explain", "--config", str(missing_helper), "quay.io")
    assert code == 0
    assert "docker-credential-desktop is not installed (not on PATH): skipped" in out
    assert "auths['quay.io']: username 'quser'" in out
    assert err == ""


# --- one helper run per registry in one program run (issue 11 #4) ----------------------------

_COUNTING = """#!/bin/sh
read server
echo "$server" >> {log}
printf '{{"ServerURL":"%s","Username":"cu","Secret":"{secret}"}}' "$server"
"""


@pytest.fixture
def counting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tuple[Path, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "asked.log"
    helper = bin_dir / "docker-credential-count"
    helper.write_text(_COUNTING.format(log=log, secret=DISTINCT))
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.delenv("DOCKERCREDS_HELPER_CACHE_TTL", raising=False)
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"credsStore": "count"}))
    return path, log


def test_one_run_asks_each_helper_once_per_registry(
    capsys: Any, counting: Tuple[Path, Path]
) -> None:
    path, log = counting
    argv = ["k8s-secret", "s", "--from-config", "--config", str(path), "-o", "json"]
    for place in ("quay.io/a", "quay.io/b", "quay.io/c", "gcr.io/x", "gcr.io/y"):
        argv += ["--registry", place]
    code, _, _ = run(capsys, *argv)
    assert code == 0
    assert sorted(log.read_text().split()) == ["gcr.io", "quay.io"]


# --- -v/--verbose (issue 11 #5) -------------------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_logs_the_lookup_on_stderr(
    capsys: Any, counting: Tuple[Path, Path], where: str
) -> None:
    path, _ = counting
    args = ["get", "--config", str(path), "quay.io"]
    argv = ["-v", *args] if where == "before" else [*args, "-v"]
    code, out, err = run(capsys, *argv)
    assert code == 0
    assert json.loads(out)["Secret"] == DISTINCT  # the answer itself, on stdout
    assert DISTINCT not in err
    lines = err.splitlines()
    assert all(line.startswith("dockercreds: debug: dockercreds.") for line in lines)
    text = "\n".join(lines)
    assert "lookup of registry 'quay.io'" in text
    assert "credsStore = 'count'" in text
    assert "docker-credential-count get: exit 0 after" in text
    assert "result: helper:count ('quay.io')" in text
    # the handler is removed afterwards: a run without -v logs nothing
    code, _, err = run(capsys, *args)
    assert (code, err) == (0, "")
# --- check (issue 12: entries are decoded when used; check decodes them all) -----------


def test_check_reports_every_bad_entry_with_file_line_and_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "config.json"
    path.write_text(
        '{"auths": {\n'
        f' "a.io": {{"auth": "{b64("u:p")}"}},\n'
        ' "b.io": {"auth": "!!not-base64-S3CRET"},\n'
        ' "https://u:S3CRET@c.io": 5\n'
        '}, "credHelpers": {"x.io/p": "pass"}}'
    )
    code, out, err = run(capsys, "check", "--config", str(path))
    assert code == 1
    problems = [ln for ln in out.splitlines() if ln.startswith("problem: ")]
    assert problems == [
        f"problem: file:{path}: line 3: auths['b.io'].auth is not valid base64"
        " (expected base64 of 'username:password'; log in again to rewrite it)",
        f"problem: file:{path}: line 4: auths['https://***@c.io'] must be an object,"
        " not number",
    ]
    assert f"checked file:{path}: 3 auths entries (2 bad)" in out
    assert "ignored key 'x.io/p'" in err  # a warning: does not fail the check
    assert "S3CRET" not in out + err
    # a lookup of a good entry works all the same
    code, out, _ = run(capsys, "get", "a.io", "--config", str(path))
    assert code == 0 and json.loads(out)["Username"] == "u"


def test_check_clean_and_missing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {"a.io": {"auth": b64("u:p")}}}))
    code, out, err = run(capsys, "check", "--config", str(path))
    assert (code, err) == (0, "")
    assert out == f"checked file:{path}: 1 auths entries (0 bad), 0 credHelpers, credsStore None\n"
    code, out, err = run(capsys, "check", "--config", str(tmp_path / "nope.json"))
    assert code == 1
    assert out == f"problem: no such config file: {tmp_path / 'nope.json'} (a config named" \
        " explicitly must exist; leave it out to use the default locations)\n"


def test_check_default_sources_go_on_after_a_bad_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_AUTH_CONFIG", '{"auths": {"x": Infinity}}')
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text('{"auths": {"a.io": {"auth": "!!"}}}')
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "auth.json"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    code, out, _ = run(capsys, "check", "--containers")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("checked file:")  # the env source failed to load
    assert any("env:DOCKER_AUTH_CONFIG: not valid JSON at line 1, column 17: Infinity" in ln
               for ln in lines)
    assert any(f"file:{tmp_path / 'config.json'}: line 1: auths['a.io'].auth" in ln
               for ln in lines)
    assert f"checked file:{tmp_path / 'auth.json'}: missing or empty" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["get", "quay.io"],
        ["explain", "quay.io"],
        ["logout", "quay.io"],
        ["logout", "quay.io/org"],
        ["logout", "quay.io", "--containers"],
        ["migrate"],
        ["migrate", "--dry-run"],
        ["migrate", "--containers"],
    ],
)
def test_named_config_that_does_not_exist_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: List[str]
) -> None:
    """A typo in --config is never read as an empty config ("Not logged in", "no
    credentials"), and nothing is created in its place."""
    missing = tmp_path / "nope.json"
    option = "--authfile" if "--containers" in argv else "--config"
    argv = [a for a in argv if a != "--containers"]
    code, out, err = run(capsys, *argv, option, str(missing))
    assert code == 1
    assert out == "" or argv[0] == "explain"  # explain reports the failed step on stdout
    assert f"no such config file: {missing}" in err and err.count("\n") == 1
    assert not missing.exists()


# --- issue 10 finding 9: never a traceback, always one line ------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _login_argv(tmp_path: Path, *extra: str) -> List[str]:
    return ["login", "reg.example", "--no-verify", "--config", str(tmp_path / "c.json"), *extra]


@pytest.mark.parametrize(
    ("extra", "typed", "prompt_eof"),
    [
        ((), "", False),  # Ctrl-D at "Username:"
        (("-u", "alice"), "", True),  # Ctrl-D at "Password:"
    ],
)
def test_login_end_of_input_at_the_prompt(
    capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    extra: Tuple[str, ...], typed: str, prompt_eof: bool,
) -> None:
    import getpass

    def eof(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", eof if prompt_eof else lambda prompt="": "pw")
    monkeypatch.setattr(sys, "stdin", _Tty(typed))
    code, out, err = run(capsys, *_login_argv(tmp_path, *extra))
    assert code == 1
    assert out == ""
    assert "Traceback" not in err and "EOFError" not in err
    assert err.splitlines()[-1].startswith("dockercreds: login cancelled: end of input")
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize(
    ("extra", "stdin", "what"),
    [
        (("-u", "al\udcffice", "-p", "pw"), b"", "username"),
        (("-u", "alice", "-p", "p\udcffw"), b"", "password"),
        (("-u", "al\udcffice", "--password-stdin"), b"pw", "username"),
        (("-u", "alice", "--password-stdin"), b"p\xffw\n", "password on stdin"),
    ],
)
def test_login_non_utf8_input(
    capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    extra: Tuple[str, ...], stdin: bytes, what: str,
) -> None:
    """argv carries undecodable bytes as surrogates (os.fsdecode); stdin as raw bytes."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code, out, err = run(capsys, *_login_argv(tmp_path, *extra))
    assert code == 1
    assert out == ""
    assert err.splitlines()[-1] == f"dockercreds: the {what} is not valid UTF-8 text" + (
        "" if what == "password on stdin" else "; registries and config files need UTF-8"
    )
    assert not (tmp_path / "c.json").exists()


def test_login_non_utf8_username_real_program(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dockercreds.cli", *_login_argv(tmp_path, "-u", "\udcff",
                                                               "--password-stdin")],
        input=b"pw", capture_output=True, check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.decode().count("\n") == 1, proc.stderr
    assert b"Traceback" not in proc.stderr


def test_error_message_is_folded_to_one_line(
    capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockercreds.errors import ConfigError

    def fail(*args: Any, **kwargs: Any) -> None:
        raise ConfigError("first line\n  second line\r\nthird")

    monkeypatch.setattr("dockercreds.resolver.resolve", fail)
    code, _, err = run(capsys, "get", "quay.io")
    assert (code, err) == (1, "dockercreds: first line second line third\n")


def test_unexpected_exception_is_one_line_without_the_values(
    capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last resort: a bug is reported in one line, never with a traceback or input."""

    def bug(*args: Any, **kwargs: Any) -> None:
        raise KeyError("S3CR3T-pw")

    monkeypatch.setattr("dockercreds.resolver.resolve", bug)
    code, out, err = run(capsys, "get", "quay.io")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("dockercreds: internal error: KeyError at test_cli.py:")
    assert "please report" in err
    assert "S3CR3T" not in err


def test_unprintable_answer_is_a_typed_error(
    capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockercreds.credentials import Credentials

    def found(*args: Any, **kwargs: Any) -> Credentials:
        return Credentials("quay.io", username="u\udcff", password="pw", source="test")

    monkeypatch.setattr("dockercreds.resolver.resolve", found)
    code, out, err = run(capsys, "get", "quay.io")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and "not valid Unicode" in err


# --- closed and failing standard streams (issue 10: never a traceback) -------------------

CLOSED_STDIN = [
    (["-u", "bob"], "Cannot perform an interactive login from a non TTY device"),
    ([], "Cannot perform an interactive login from a non TTY device"),
    (["-u", "bob", "--password-stdin"], "cannot read the password from stdin: stdin is closed"),
    (["-p", "pw"], "--password needs a username: add -u USER"),
]


@pytest.mark.parametrize(("extra", "message"), CLOSED_STDIN)
def test_login_with_stdin_closed(
    capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    extra: List[str], message: str,
) -> None:
    """``<&-``: Python's sys.stdin is None; this was an AttributeError (internal error)."""
    monkeypatch.setattr(sys, "stdin", None)
    code, out, err = run(capsys, *_login_argv(tmp_path, *extra))
    assert (code, out) == (1, "")
    assert err.splitlines()[-1] == f"dockercreds: {message}"
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--login", "reg.example", "-u", "bob", "--password-stdin", "--", "true"],
        ["kubelet-plugin"],
    ],
)
def test_other_stdin_readers_with_stdin_closed(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, argv: List[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", None)
    code, out, err = run(capsys, *argv)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and err.endswith("stdin is closed\n"), err


class _Full(io.StringIO):
    """A stdout on a full disk: the write is accepted, the flush fails (as /dev/full)."""

    def flush(self) -> None:
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (None, "cannot write the answer: stdout is closed"),
        (_Full(), "cannot write the answer to stdout: No space left on device"),
    ],
)
@pytest.mark.parametrize(
    "argv", [["get", "quay.io"], ["explain", "quay.io"], ["list"], ["check"], ["--help"]]
)
def test_output_that_cannot_be_written_is_one_line(
    capsys: Any, config: Path, monkeypatch: pytest.MonkeyPatch,
    stream: Any, message: str, argv: List[str],
) -> None:
    monkeypatch.setattr(sys, "stdout", stream)
    flags = ["--config", str(config)] if argv[0] != "--help" else []
    code, _out, err = run(capsys, *argv, *flags)
    assert code == 1
    assert err.splitlines() == [f"dockercreds: {message}"]
    assert sys.stdout is stream  # main put the caller's stdout back


@pytest.mark.parametrize("redirect", [">&-", ">/dev/full", "2>&- >&-", "<&-"])
def test_real_program_with_closed_or_full_streams(config: Path, redirect: str) -> None:
    """The real process: no traceback and no "Exception ignored" at interpreter exit."""
    command = f"{shlex.quote(sys.executable)} -m dockercreds.cli get --config" \
              f" {shlex.quote(str(config))} quay.io {redirect}"
    proc = subprocess.run(["sh", "-c", command], capture_output=True, check=False)
    err = proc.stderr.decode()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    if redirect == "<&-":  # get does not read stdin
        assert proc.returncode == 0 and proc.stdout
    else:
        assert proc.returncode == 1
        assert err.count("\n") == (0 if "2>&-" in redirect else 1), err
