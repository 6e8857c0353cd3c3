"""The dockercreds program's help and messages: every command and option explained,
messages that blame the right thing (issue 14, "Help and messages")."""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from dockercreds import cli


def run(
    argv: List[str], monkeypatch: pytest.MonkeyPatch, tty: bool = False
) -> Tuple[int, str, str]:
    out, err, fake_in = io.StringIO(), io.StringIO(), io.StringIO("")
    fake_in.isatty = lambda: tty  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdin", fake_in)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def subparsers() -> Dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


# --- help ---------------------------------------------------------------------------------


def test_every_command_has_a_description_and_every_argument_a_help_line() -> None:
    commands = subparsers()
    assert set(commands) == set(cli._COMMANDS)
    top = cli.build_parser()
    top_level = {o for a in top._actions if a.help != argparse.SUPPRESS for o in a.option_strings}
    for action in top._actions:
        if not isinstance(action, argparse._SubParsersAction):  # listed per command
            assert action.help, action.option_strings
    for name, parser in commands.items():
        assert parser.description, f"{name} has no description"
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                # hidden only when it repeats a documented top-level option (-v)
                assert set(action.option_strings) <= top_level, (name, action.option_strings)
                continue
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_top_level_help_lists_environment_and_exit_codes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = run(["--help"], monkeypatch)
    assert code == 0
    assert "environment variables:" in out and "exit status:" in out
    for variable in ("DOCKER_CONFIG", "DOCKER_AUTH_CONFIG", "REGISTRY_AUTH_FILE",
                     "DOCKERCREDS_HELPER_TIMEOUT", "DOCKERCREDS_LOCK_TIMEOUT",
                     "PYTHON_KEYRING_BACKEND", "DOCKERCREDS_KEYRING_ALLOW_INSECURE",
                     "DOCKERCREDS_KEYRING_INDEX", "DOCKERCREDS_KEYRING_LEAN"):
        assert variable in out
    for status in ("0", "1", "2"):
        assert f"\n  {status} " in out


def test_every_environment_variable_the_package_reads_is_listed() -> None:
    package = Path(cli.__file__).parent
    listed = " ".join(name for name, _ in cli.ENVIRONMENT)
    import re

    for path in package.glob("*.py"):
        for name in re.findall(r'"((?:DOCKERCREDS|DOCKER|REGISTRY)_[A-Z_]+)"', path.read_text()):
            assert name in listed, f"{name} (read in {path.name}) missing from --help"


@pytest.mark.parametrize("command", ["get", "explain"])
def test_containers_says_it_is_ignored_with_config(command: str) -> None:
    parser = subparsers()[command]
    (action,) = [a for a in parser._actions if "--containers" in a.option_strings]
    assert action.help is not None and "ignored with --config" in action.help


# --- messages -----------------------------------------------------------------------------


def test_k8s_secret_does_not_call_a_defaulted_flag_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = run(["k8s-secret", "s", "--docker-username", "u"], monkeypatch)
    assert code == 2
    assert "--docker-server is required" not in err
    assert "--docker-server defaults to https://index.docker.io/v1/" in err
    code, _, err = run(["k8s-secret", "s", "--docker-server", "", "--docker-username", "u",
                        "--docker-password", "p"], monkeypatch)
    assert code == 2
    assert "--docker-server must not be empty" in err


def test_login_store_typo_blames_the_flag(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run(["login", "quay.io", "-u", "a", "--password-stdin", "--no-verify",
                          "--store", "bogus", "--config", str(config)], monkeypatch)
    assert (code, out) == (2, "")
    assert "argument --store: no credential helper 'bogus'" in err
    assert "docker-credential-bogus is not on PATH" in err
    assert "config.json" not in err
    assert not config.exists()


def test_login_store_accepts_an_installed_helper(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    helper = tmp_path / "docker-credential-fake"
    helper.write_text("#!/bin/sh\nexit 0\n")
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    parser = subparsers()["login"]
    assert parser.parse_args(["--store", "fake"]).store == "fake"
    assert parser.parse_args(["--store", "file"]).store == "file"
    assert parser.parse_args(["--store", "keyring"]).store == "keyring"


def test_login_store_with_the_program_prefix_says_to_drop_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = run(["login", "--store", "docker-credential-pass"], monkeypatch)
    assert code == 2
    assert "without the docker-credential- prefix" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-u", "", "-p", "x"], "the username is empty (-u '')"),
        (["-u", "", "--password-stdin"], "the username is empty (-u '')"),
        (["-p", "x"], "--password needs a username: add -u USER"),
    ],
)
def test_login_without_a_username_does_not_talk_about_ttys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: List[str], message: str
) -> None:
    config = tmp_path / "config.json"
    code, out, err = run(["login", "quay.io", *argv, "--no-verify", "--config", str(config)],
                         monkeypatch)
    assert (code, out) == (1, "")
    assert message in err
    assert "TTY" not in err
    assert not config.exists()


def test_explain_collision_grammar(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import base64

    auth = base64.b64encode(b"a:1").decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {"quay.io": {"auth": auth},
                                            "https://quay.io": {"auth": auth}}}))
    _, out, _ = run(["explain", "quay.io", "--config", str(config)], monkeypatch)
    assert "collision: 'https://quay.io' also names the place 'quay.io' names" in out
    config.write_text(json.dumps({"auths": {"quay.io": {"auth": auth},
                                            "https://quay.io": {"auth": auth},
                                            "http://quay.io": {"auth": auth}}}))
    _, out, _ = run(["explain", "quay.io", "--config", str(config)], monkeypatch)
    assert "collision: 'https://quay.io', 'http://quay.io' also name the place" in out


@pytest.mark.parametrize(
    ("flags", "hint"),
    [
        ([], "see: dockercreds explain nowhere.example.com)"),
        (["--containers"], "see: dockercreds explain nowhere.example.com --containers)"),
        (["--config", "{config}"], "see: dockercreds explain nowhere.example.com --config {q})"),
        (["--config", "{config}", "--containers"],
         "see: dockercreds explain nowhere.example.com --config {q} --containers)"),
    ],
)
def test_get_hint_repeats_the_source_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, docker_config: Path,
    flags: List[str], hint: str,
) -> None:
    import shlex

    config = tmp_path / "my config.json"
    config.write_text("{}")
    argv = [f.format(config=config) for f in flags]
    code, _, err = run(["get", "nowhere.example.com", *argv], monkeypatch)
    assert code == 1
    assert hint.format(q=shlex.quote(str(config))) in err




def test_k8s_secret_hint_repeats_the_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text("{}")
    code, _, err = run(["k8s-secret", "s", "--from-config", "--config", str(config),
                        "--registry", "quay.io"], monkeypatch)
    assert code == 1
    assert f"(try: dockercreds explain quay.io --config {config})" in err
