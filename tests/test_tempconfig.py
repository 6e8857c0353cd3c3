"""dockercreds.tempconfig (temporary_config, run) and the `dockercreds run` command."""

from __future__ import annotations

import base64
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

import dockercreds
from dockercreds import cli, tempconfig
from dockercreds.errors import CommandError, InvalidArgument, InvalidCredentials, InvalidRegistry
from dockercreds.registry import HUB_KEY
from dockercreds.resolver import resolve
from dockercreds.tempconfig import Login, run, temporary_config
from tests.peers import Registry, require

BIN = Path(sys.executable).parent
DOCKERCREDS = str(BIN / "dockercreds")
WAIT = 20.0  # seconds: every wait on a child process is bounded by this


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def entry(user: str, password: str) -> Dict[str, str]:
    return {"auth": b64(f"{user}:{password}")}


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class User:
    """An isolated user: Docker config dir, containers auth files, runtime dir (the base)."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.docker_dir = tmp_path / "docker"
        self.runtime = tmp_path / "run"
        self.config_home = tmp_path / "xdg-config"
        self.bin = tmp_path / "bin"
        for d in (self.home, self.docker_dir, self.runtime, self.config_home, self.bin):
            d.mkdir()
        self.runtime.chmod(0o700)
        monkeypatch.setenv("HOME", str(self.home))
        monkeypatch.setenv("DOCKER_CONFIG", str(self.docker_dir))
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(self.runtime))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(self.config_home))
        monkeypatch.setenv("PATH", f"{self.bin}{os.pathsep}{BIN}{os.pathsep}{os.environ['PATH']}")
        for name in ("REGISTRY_AUTH_FILE", "DOCKER_AUTH_CONFIG"):
            monkeypatch.delenv(name, raising=False)

    @property
    def docker_file(self) -> Path:
        return self.docker_dir / "config.json"

    @property
    def runtime_file(self) -> Path:
        return self.runtime / "containers" / "auth.json"

    @property
    def config_home_file(self) -> Path:
        return self.config_home / "containers" / "auth.json"

    def leftovers(self) -> List[str]:
        """Temporary directories still in the base directory."""
        names = (p.name for p in self.runtime.iterdir())
        return sorted(n for n in names if n.startswith("dockercreds-run-"))

    def snapshot(self) -> Dict[str, Tuple[bytes, int]]:
        """(bytes, mtime_ns) of every file the user has."""
        out = {}
        for root in (self.docker_dir, self.runtime, self.config_home):
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    out[str(path)] = (path.read_bytes(), path.stat().st_mtime_ns)
        return out

    def helper(self, name: str, answers: Dict[str, Tuple[str, str]]) -> None:
        """docker-credential-NAME on PATH answering ``get`` from ``answers``."""
        path = self.bin / f"docker-credential-{name}"
        path.write_text(
            f"#!{sys.executable}\n"
            "import json, sys\n"
            f"ANSWERS = {answers!r}\n"
            "server = sys.stdin.read().strip()\n"
            "if sys.argv[1:] == ['get'] and server in ANSWERS:\n"
            "    u, s = ANSWERS[server]\n"
            "    print(json.dumps({'ServerURL': server, 'Username': u, 'Secret': s}))\n"
            "else:\n"
            "    print('credentials not found in native keychain')\n"
            "    sys.exit(1)\n",
            encoding="utf-8",
        )
        path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> User:
    return User(tmp_path, monkeypatch)


# --------------------------------------------------------------------------- values


def test_login_hides_the_password() -> None:
    login = Login("quay.io", "alice", "s3cret-pw")
    assert "s3cret-pw" not in repr(login)
    assert "s3cret-pw" not in str(login)
    assert tuple(login) == ("quay.io", "alice", "s3cret-pw")


def test_lazy_exports() -> None:
    assert dockercreds.temporary_config is temporary_config
    assert dockercreds.Login is Login


@pytest.mark.parametrize(
    ("logins", "error"),
    [
        ([("not a host", "u", "p")], InvalidRegistry),
        ([("https://u:pw@quay.io", "u", "p")], InvalidRegistry),
        ([("quay.io", "", "p")], InvalidCredentials),
        ([("quay.io", "u", "")], InvalidCredentials),
        ([("quay.io", "a:b", "p")], InvalidCredentials),
        ([("quay.io", "u\n", "p")], InvalidCredentials),
        ([("quay.io", "u", "p"), ("Quay.IO", "v", "q")], InvalidArgument),
        ([("quay.io/org", "u", "p"), ("quay.io/org/", "v", "q")], InvalidArgument),
        ([("docker.io", "u", "p"), (HUB_KEY, "v", "q")], InvalidArgument),
    ],
)
def test_bad_logins_are_refused_before_anything_is_created(
    user: User, logins: List[Tuple[str, str, str]], error: type
) -> None:
    with pytest.raises(error) as info, temporary_config(logins):
        pytest.fail("entered")  # pragma: no cover
    assert "p\n" not in str(info.value) and "'q'" not in str(info.value)
    assert user.leftovers() == []


# --------------------------------------------------------------------------- isolated


def test_isolated_holds_only_the_logins(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    write_json(user.docker_file, {"auths": {"gcr.io": entry("mine", "pw")}})
    monkeypatch.setenv("DOCKER_AUTH_CONFIG", json.dumps({"auths": {"ghcr.io": entry("e", "x")}}))
    logins = [Login("quay.io/org", "alice", "pw-a"), Login("docker.io", "<token>", "tok")]
    with temporary_config(logins, isolated=True) as temp:
        directory = temp.directory
        assert directory.parent == user.runtime
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        for path in (temp.docker_config, temp.auth_file):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert sorted(p.name for p in directory.iterdir()) == [
            ".dockercreds-run.lock", "auth.json", "config.json"
        ]
        assert read_json(temp.docker_config) == {
            "auths": {"quay.io": entry("alice", "pw-a"), HUB_KEY: {"identitytoken": "tok"}}
        }
        assert read_json(temp.auth_file) == {
            "auths": {
                "quay.io/org": entry("alice", "pw-a"),
                "docker.io": {"auth": b64("<token>:"), "identitytoken": "tok"},
            }
        }
        assert temp.env["DOCKER_CONFIG"] == str(directory)
        assert temp.env["REGISTRY_AUTH_FILE"] == str(temp.auth_file)
        assert "DOCKER_AUTH_CONFIG" not in temp.env
        assert os.environ["DOCKER_CONFIG"] == str(user.docker_dir)  # ours is untouched
        assert "pw-a" not in repr(temp)
    assert not directory.exists()
    assert user.leftovers() == []


# --------------------------------------------------------------------------- layering


@pytest.mark.parametrize(
    ("mine", "login", "expected"),
    [
        # other registries and unknown top-level keys stay as they are
        (
            {"auths": {"quay.io": entry("old", "o"), "gcr.io": entry("g", "g")},
             "currentContext": "ctx", "proxies": {"default": {"httpProxy": "p"}}},
            "quay.io",
            {"auths": {"gcr.io": entry("g", "g"), "quay.io": entry("new", "pw")},
             "currentContext": "ctx", "proxies": {"default": {"httpProxy": "p"}}},
        ),
        # every key naming the registry goes, whatever its form; a namespace login is
        # written under Docker's key for the host (Docker reduces keys to hosts)
        (
            {"auths": {"https://quay.io/v1/": entry("a", "a"), "quay.io/other": entry("b", "b"),
                       "quay.io.evil.com": entry("c", "c")}},
            "quay.io/org",
            {"auths": {"quay.io.evil.com": entry("c", "c"), "quay.io": entry("new", "pw")}},
        ),
        (
            {"auths": {"index.docker.io": entry("a", "a"), HUB_KEY: {}}},
            "docker.io",
            {"auths": {HUB_KEY: entry("new", "pw")}},
        ),
        # a credHelpers route for the registry is removed, other routes stay
        (
            {"credHelpers": {"quay.io": "h", "https://quay.io": "h", "gcr.io": "gcloud"}},
            "quay.io",
            {"credHelpers": {"gcr.io": "gcloud"}, "auths": {"quay.io": entry("new", "pw")}},
        ),
        # with a credsStore, credHelpers[host] = "" routes the registry to the file
        (
            {"auths": {"quay.io": {}, "gcr.io": {}}, "credsStore": "desktop"},
            "quay.io",
            {"auths": {"gcr.io": {}, "quay.io": entry("new", "pw")}, "credsStore": "desktop",
             "credHelpers": {"quay.io": ""}},
        ),
        (
            {"credsStore": "desktop", "credHelpers": {"quay.io": "h"}},
            "localhost:5000",
            {"credsStore": "desktop", "credHelpers": {"quay.io": "h", "localhost:5000": ""},
             "auths": {"localhost:5000": entry("new", "pw")}},
        ),
    ],
)
def test_docker_config_layers_the_users(
    user: User, mine: Dict[str, Any], login: str, expected: Dict[str, Any]
) -> None:
    write_json(user.docker_file, mine)
    with temporary_config([Login(login, "new", "pw")]) as temp:
        assert read_json(temp.docker_config) == expected


def test_login_wins_over_the_users_store_and_helpers(user: User) -> None:
    user.helper("store", {"quay.io": ("store-user", "x"), "gcr.io": ("g-user", "g")})
    user.helper("per-host", {"ghcr.io": ("h-user", "h")})
    write_json(user.docker_file, {
        "credsStore": "store",
        "credHelpers": {"ghcr.io": "per-host"},
        "auths": {"quay.io": {}, "gcr.io": {}},
    })
    logins = [Login("quay.io", "alice", "pw-a"), Login("ghcr.io", "bob", "pw-b")]
    with temporary_config(logins) as temp:
        found = {
            host: resolve(host, config=str(temp.docker_config))
            for host in ("quay.io", "ghcr.io", "gcr.io")
        }
    assert {h: (c.username, c.source) for h, c in found.items() if c} == {
        "quay.io": ("alice", f"file:{temp.docker_config}"),
        "ghcr.io": ("bob", f"file:{temp.docker_config}"),
        "gcr.io": ("g-user", "helper:store"),  # the user's store still answers the rest
    }


def test_containers_file_merges_what_podman_reads(user: User) -> None:
    write_json(user.runtime_file, {
        "auths": {"quay.io": entry("run", "r"), "quay.io/org/app": entry("app", "a"),
                  "quay.io/orgx": entry("x", "x")},
        "credHelpers": {"quay.io": "h", "gcr.io": "g"},
    })
    write_json(user.config_home_file, {
        "auths": {"quay.io": entry("cfg", "c"), "ghcr.io": entry("cfg", "c"),
                  "k8s.io": {"username": "u", "password": "p"}},
    })
    write_json(user.docker_file, {
        "auths": {"ghcr.io": entry("dock", "d"), "docker.io": {}, "gitlab.com": entry("d", "d")},
        "credsStore": "desktop",
        "credHelpers": {"ecr.aws": "ecr-login", "quay.io": ""},
    })
    with temporary_config([Login("quay.io/org", "new", "pw")]) as temp:
        data = read_json(temp.auth_file)
    # per registry, the first file that has it; only entries with "auth" (podman ignores
    # the rest, and a {} marker would hide shorter keys); never credsStore; the login
    # replaces the keys at or below its namespace and the registry's credHelpers route
    assert data == {
        "auths": {
            "quay.io": entry("run", "r"),
            "quay.io/orgx": entry("x", "x"),
            "ghcr.io": entry("cfg", "c"),
            "gitlab.com": entry("d", "d"),
            "quay.io/org": entry("new", "pw"),
        },
        "credHelpers": {"gcr.io": "g", "ecr.aws": "ecr-login"},
    }


def test_registry_auth_file_is_the_primary_containers_file(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = write_json(user.tmp / "mine.json", {"auths": {"quay.io": entry("mine", "m")}})
    write_json(user.runtime_file, {"auths": {"quay.io": entry("runtime", "r")}})
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(mine))
    with temporary_config([Login("gcr.io", "new", "pw")]) as temp:
        assert read_json(temp.auth_file)["auths"]["quay.io"] == entry("mine", "m")
        assert temp.env["REGISTRY_AUTH_FILE"] == str(temp.auth_file)


@pytest.mark.parametrize(
    ("value", "isolated", "expected"),
    [
        (None, False, None),
        ('{"auths": {"gcr.io": {"auth": "Zzpn"}}}', False,
         '{"auths": {"gcr.io": {"auth": "Zzpn"}}}'),
        ('{"auths": {"gcr.io": {"auth": "Zzpn"}}}', True, None),
        ('{"auths": {"https://quay.io": {"auth": "cTpx"}, "gcr.io": {"auth": "Zzpn"}}}', False,
         '{"auths": {"gcr.io": {"auth": "Zzpn"}}}'),
        ("not json", False, "not json"),
        ('{"auths": 5}', False, '{"auths": 5}'),
        ('{"Auths": {"quay.io": {}}, "x": 1}', False, '{"Auths": {}, "x": 1}'),
    ],
)
def test_docker_auth_config_loses_the_logged_in_registries(
    user: User, monkeypatch: pytest.MonkeyPatch, value: Optional[str], isolated: bool,
    expected: Optional[str],
) -> None:
    if value is not None:
        monkeypatch.setenv("DOCKER_AUTH_CONFIG", value)
    with temporary_config([Login("quay.io", "new", "pw")], isolated=isolated) as temp:
        assert temp.env.get("DOCKER_AUTH_CONFIG") == expected


def test_docker_dir_entries_are_linked_not_copied(user: User) -> None:
    (user.docker_dir / "contexts" / "meta").mkdir(parents=True)
    (user.docker_dir / "cli-plugins").mkdir()
    (user.docker_dir / "config.json.lock").write_text("")
    write_json(user.docker_file, {"auths": {}})
    with temporary_config([Login("quay.io", "new", "pw")]) as temp:
        names = sorted(p.name for p in temp.directory.iterdir())
        assert names == [".dockercreds-run.lock", "auth.json", "cli-plugins", "config.json",
                         "contexts"]
        assert (temp.directory / "contexts").resolve() == (user.docker_dir / "contexts").resolve()
    assert (user.docker_dir / "contexts" / "meta").is_dir()  # removal did not follow links
    with temporary_config([Login("quay.io", "new", "pw")], isolated=True) as temp:
        assert sorted(p.name for p in temp.directory.iterdir()) == [
            ".dockercreds-run.lock", "auth.json", "config.json"
        ]


def test_users_files_are_never_written(user: User) -> None:
    write_json(user.docker_file, {"auths": {"quay.io": entry("a", "b")}, "credsStore": "x"})
    write_json(user.runtime_file, {"auths": {"quay.io": entry("a", "b")}})
    write_json(user.config_home_file, {"auths": {"quay.io/org": entry("a", "b")}})
    for path in (user.docker_file, user.runtime_file, user.config_home_file):
        path.chmod(0o400)  # a write would fail loudly
    before = user.snapshot()
    with temporary_config([Login("quay.io/org", "new", "pw")]):
        pass
    assert user.snapshot() == before


def test_namespace_logins_docker_cannot_tell_apart_warn(user: User) -> None:
    logins = [Login("quay.io/a", "ua", "pa"), Login("quay.io/b", "ub", "pb")]
    match = r"quay.io/b.*--login quay.io/a \(ua\).*all of quay.io"
    with pytest.warns(UserWarning, match=match), temporary_config(logins) as temp:
        assert read_json(temp.docker_config)["auths"] == {"quay.io": entry("ua", "pa")}
        assert set(read_json(temp.auth_file)["auths"]) == {"quay.io/a", "quay.io/b"}
    # a whole-registry login is the one Docker gets, whatever the order
    logins = [Login("quay.io/a", "ua", "pa"), Login("quay.io", "u", "p")]
    with pytest.warns(UserWarning), temporary_config(logins) as temp:
        assert read_json(temp.docker_config)["auths"] == {"quay.io": entry("u", "p")}


def test_broken_user_config_stops_before_anything_is_created(user: User) -> None:
    user.docker_file.write_text('{"auths": {"quay.io": {"auth": "!!"}}}')
    with pytest.raises(dockercreds.errors.ConfigFormatError), temporary_config(
        [Login("gcr.io", "u", "p")]
    ):
        pytest.fail("entered")  # pragma: no cover
    assert user.leftovers() == []
    with temporary_config([Login("gcr.io", "u", "p")], isolated=True):
        pass  # --isolated does not read it


# --------------------------------------------------------------------------- clean-up


def test_removed_after_an_exception(user: User) -> None:
    with pytest.raises(RuntimeError), temporary_config([Login("quay.io", "u", "p")]) as temp:
        (temp.directory / "sub").mkdir()
        (temp.directory / "sub" / "f").write_text("x")
        (temp.directory / "sub").chmod(0o500)  # the command may leave this behind
        raise RuntimeError
    assert user.leftovers() == []


def test_removed_when_interrupted_while_writing(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(tempconfig, "_populate", interrupted)
    with pytest.raises(KeyboardInterrupt), temporary_config([Login("quay.io", "u", "p")]):
        pytest.fail("entered")  # pragma: no cover
    assert user.leftovers() == []


def test_signal_right_after_the_directory_is_made_cannot_leak_it(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ^C arriving between mkdtemp and registering the clean-up: held back until the
    # clean-up is registered, so the directory is still removed
    real = tempconfig.tempfile.mkdtemp

    def mkdtemp(**kwargs: Any) -> str:
        made = real(**kwargs)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # give an unheld signal every chance to be handled here
        return made

    monkeypatch.setattr(tempconfig.tempfile, "mkdtemp", mkdtemp)
    with pytest.raises(KeyboardInterrupt), temporary_config([Login("quay.io", "u", "p")]):
        pytest.fail("entered")  # pragma: no cover
    assert user.leftovers() == []


def _leftover(base: Path, name: str, age: float, locked: bool) -> Tuple[Path, Optional[int]]:
    directory = base / f"dockercreds-run-{name}"
    directory.mkdir(mode=0o700)
    (directory / "config.json").write_text('{"auths": {"q.io": {"auth": "cTpx"}}}')
    lock = directory / tempconfig.LOCK_FILE
    lock.write_text("")
    old = time.time() - age
    os.utime(lock, (old, old))
    fd = None
    if locked:
        import fcntl

        fd = os.open(lock, os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
    return directory, fd


def test_directories_of_killed_runs_are_swept(user: User) -> None:
    dead, _ = _leftover(user.runtime, "dead", 3600, locked=False)
    alive, fd = _leftover(user.runtime, "alive", 3600, locked=True)
    young, _ = _leftover(user.runtime, "young", 1, locked=False)  # may be starting up
    unlocked = user.runtime / "dockercreds-run-nolock"
    unlocked.mkdir()
    other = user.runtime / "someone-else"
    other.mkdir()
    try:
        with temporary_config([Login("quay.io", "u", "p")]):
            pass
    finally:
        assert fd is not None
        os.close(fd)
    assert not dead.exists()
    assert alive.exists() and young.exists() and unlocked.exists() and other.exists()


def test_a_killed_run_is_swept_by_the_next(user: User) -> None:
    started = user.tmp / "started"
    proc = subprocess.Popen(
        [DOCKERCREDS, "run", "--isolated", "--", sys.executable, "-c", _WAITER,
         str(started), str(user.tmp / "got"), "0"],
        stdin=subprocess.DEVNULL,
    )
    directory = Path(_wait_for(started, proc))
    child = int((user.tmp / "started.pid").read_text())
    try:
        proc.kill()  # dockercreds itself: it cannot clean up
        proc.wait(timeout=WAIT)
        assert directory.exists()
        lock = directory / tempconfig.LOCK_FILE
        os.utime(lock, (time.time() - 3600,) * 2)
        with temporary_config([Login("quay.io", "u", "p")]):
            pass
        assert not directory.exists()
    finally:
        os.kill(child, signal.SIGKILL)


# --------------------------------------------------------------------------- run()


@pytest.mark.parametrize(
    ("script", "status"),
    [
        ("exit 0", 0),
        ("exit 3", 3),
        ("kill -KILL $$", 128 + 9),
        ("kill -TERM $$", 128 + 15),
        ('test -s "$DOCKER_CONFIG/config.json" && test -s "$REGISTRY_AUTH_FILE"', 0),
    ],
)
def test_run_exit_status_is_the_commands(user: User, script: str, status: int) -> None:
    assert run(["sh", "-c", script], [Login("quay.io", "u", "p")]) == status
    assert user.leftovers() == []


@pytest.mark.parametrize(("name", "status"), [("no-such-command-xyz", 127), ("notexec", 126)])
def test_run_command_that_cannot_start(user: User, name: str, status: int) -> None:
    (user.bin / "notexec").write_text("#!/bin/sh\n")
    with pytest.raises(CommandError) as info:
        run([name], [Login("quay.io", "u", "p")])
    assert info.value.status == status
    assert name in str(info.value)
    assert user.leftovers() == []


def test_run_sigterm_during_setup_stops_before_the_command(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tempconfig._populate

    def populate(*args: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        real(*args)
        time.sleep(0.01)

    monkeypatch.setattr(tempconfig, "_populate", populate)
    marker = user.tmp / "ran"
    before = signal.getsignal(signal.SIGTERM)
    assert run(["touch", str(marker)], [Login("quay.io", "u", "p")]) == 128 + 15
    assert not marker.exists()
    assert user.leftovers() == []
    assert signal.getsignal(signal.SIGTERM) is before  # handlers restored


# --------------------------------------------------------------------------- CLI


def cli_run(
    *args: str, env: Optional[Dict[str, str]] = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DOCKERCREDS, "run", *args],
        input=stdin,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--login", "quay.io", "-u", "u", "--password-env", "PW"], "COMMAND to run is missing"),
        (["--login", "quay.io", "-u", "u", "--password-env", "PW", "--"], "COMMAND"),
        (["-u", "u", "--login", "quay.io", "--password-env", "PW", "--", "true"],
         "-u 'u' must follow the --login"),
        (["--login", "quay.io", "--password-env", "PW", "--", "true"], "needs -u USER"),
        (["--login", "quay.io", "-u", "u", "--", "true"], "needs --password-env VAR"),
        (["--login", "quay.io", "-u", "u", "-u", "v", "--password-env", "PW", "--", "true"],
         "-u given twice"),
        (["--login", "quay.io", "-u", "u", "--password-env", "UNSET_XYZ", "--", "true"],
         "UNSET_XYZ is not set"),
        (["--login", "quay.io", "-u", "u", "--password-env", "EMPTY", "--", "true"],
         "EMPTY is empty"),
        (["--login", "a.io", "-u", "u", "--login", "b.io", "-u", "v", "--password-stdin", "--",
          "true"], "--password-stdin needs exactly one --login"),
        (["--login", "quay.io", "-u", "u", "-p", "pw", "--", "true"], "unrecognized"),
        (["--isolated", "--keep-user-config", "--", "true"], "not allowed with"),
    ],
)
def test_cli_usage_errors(user: User, argv: List[str], message: str) -> None:
    out = cli_run(*argv, env={"PW": "pw-value", "EMPTY": ""})
    assert out.returncode == 2, out.stderr
    assert message in out.stderr
    assert "pw-value" not in out.stderr
    assert user.leftovers() == []


def test_cli_passwords_from_env_and_stdin(user: User) -> None:
    show = [sys.executable, "-c", "import os; print(open(os.environ['REGISTRY_AUTH_FILE']).read())"]
    out = cli_run("--login", "quay.io", "-u", "u", "--password-env", "PW", "--", *show,
                  env={"PW": "from-env"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["auths"]["quay.io"] == entry("u", "from-env")
    out = cli_run("--login", "quay.io", "-u", "u", "--password-stdin", "--", *show,
                  stdin="from-stdin\n")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["auths"]["quay.io"] == entry("u", "from-stdin")


def test_cli_bad_login_is_exit_1(user: User) -> None:
    out = cli_run("--login", "quay.io", "-u", "a:b", "--password-env", "PW", "--", "true",
                  env={"PW": "pw-value"})
    assert (out.returncode, out.stdout) == (1, "")
    assert "contains ':'" in out.stderr and "pw-value" not in out.stderr


def test_cli_command_not_found_is_127(user: User) -> None:
    out = cli_run("--", "no-such-command-xyz")
    assert out.returncode == 127
    assert "cannot run 'no-such-command-xyz'" in out.stderr
    assert user.leftovers() == []


@pytest.mark.parametrize(
    ("script", "status"), [("exit 0", 0), ("exit 42", 42), ("kill -KILL $$", 137)]
)
def test_cli_directory_gone_after_the_command_ends(user: User, script: str, status: int) -> None:
    out = cli_run("--login", "quay.io", "-u", "u", "--password-env", "PW", "--",
                  "sh", "-c", f'echo "$DOCKER_CONFIG"; test -d "$DOCKER_CONFIG"||exit 99; {script}',
                  env={"PW": "pw"})
    assert out.returncode == status, out.stderr
    seen = Path(out.stdout.strip())
    assert seen.parent == user.runtime
    assert not seen.exists()
    assert user.leftovers() == []


_WAITER = """
import os, signal, sys, time
def on(signum, frame):
    open(sys.argv[2], "w").write(signal.Signals(signum).name)
    sys.exit(int(sys.argv[3]))
for name in ("SIGTERM", "SIGHUP", "SIGINT"):
    if sys.argv[3] != "die":
        signal.signal(getattr(signal, name), on)
open(sys.argv[1] + ".pid", "w").write(str(os.getpid()))
open(sys.argv[1] + ".tmp", "w").write(os.environ["DOCKER_CONFIG"])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
"""


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + WAIT
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            _, err = proc.communicate(timeout=WAIT)
            pytest.fail(f"the command did not start: {err}")
        time.sleep(0.02)
    return path.read_text()


@pytest.mark.parametrize(
    ("sig", "child", "status"),
    [
        (signal.SIGTERM, "7", 7),  # relayed; the command's own status
        (signal.SIGHUP, "8", 8),
        (signal.SIGINT, "9", 9),  # not from a terminal: relayed
        (signal.SIGTERM, "die", 128 + 15),  # the command dies of it: 128+N
    ],
)
def test_cli_signal_is_relayed_then_directory_removed(
    user: User, sig: int, child: str, status: int
) -> None:
    started, got = user.tmp / "started", user.tmp / "got"
    proc = subprocess.Popen(
        [DOCKERCREDS, "run", "--login", "quay.io", "-u", "u", "--password-env", "PW", "--",
         sys.executable, "-c", _WAITER, str(started), str(got), child],
        env={**os.environ, "PW": "pw"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    directory = Path(_wait_for(started, proc))
    assert directory.is_dir()
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == status, err
    if child != "die":
        assert got.read_text() == signal.Signals(sig).name
    assert not directory.exists()
    assert user.leftovers() == []


def test_cli_ignored_signal_stays_ignored(user: User) -> None:
    # nohup dockercreds run -- CMD: CMD must still ignore SIGHUP
    probe = "import signal; print(signal.getsignal(signal.SIGHUP) == signal.SIG_IGN)"
    out = subprocess.run(
        [DOCKERCREDS, "run", "--isolated", "--", sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    assert (out.returncode, out.stdout) == (0, "True\n"), out.stderr


_SHOW_USER = """
import json, os, subprocess, sys, time
me, other, registry = sys.argv[1:4]
open(me, "w").close()
deadline = time.monotonic() + 20
while not os.path.exists(other) and time.monotonic() < deadline:
    time.sleep(0.02)
out = subprocess.run(["dockercreds", "get", registry], capture_output=True, text=True)
print(json.loads(out.stdout)["Username"])
"""


def test_cli_concurrent_runs_each_see_their_own_account(user: User) -> None:
    write_json(user.docker_file, {"auths": {"localhost:5000": entry("runner", "r")}})
    ready = [user.tmp / "ready-a", user.tmp / "ready-b"]
    procs = [
        subprocess.Popen(
            [DOCKERCREDS, "run", "--login", "localhost:5000", "-u", name, "--password-env", "PW",
             "--", sys.executable, "-c", _SHOW_USER, str(ready[i]), str(ready[1 - i]),
             "localhost:5000"],
            env={**os.environ, "PW": f"pw-{name}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, name in enumerate(["alice", "bob"])
    ]
    outs = []
    for proc in procs:
        try:
            outs.append(proc.communicate(timeout=WAIT * 2))
        finally:
            proc.kill()
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    assert [o[0].strip() for o in outs] == ["alice", "bob"]
    assert read_json(user.docker_file)["auths"] == {"localhost:5000": entry("runner", "r")}
    assert user.leftovers() == []


# --------------------------------------------------------------------------- real peers


@pytest.fixture
def peer_user(user: User, registry: Registry) -> Iterator[User]:
    """``user`` whose config has nothing usable for ``registry``: a credsStore whose
    helper answers with a wrong password, and a wrong plaintext entry."""
    user.helper("wrong", {registry.addr: (registry.user, "wrong-password")})
    write_json(user.docker_file, {
        "credsStore": "wrong",
        "auths": {registry.addr: entry(registry.user, "wrong-password")},
    })
    yield user


@pytest.mark.peer
@pytest.mark.parametrize("config", ["wrong", "none"])
def test_peer_docker_uses_the_login(
    user: User, registry: Registry, config: str, request: pytest.FixtureRequest
) -> None:
    docker = require("docker")
    assert registry.image is not None
    if config == "wrong":
        request.getfixturevalue("peer_user")
    before = user.snapshot()
    argv = [docker, "manifest", "inspect", "--insecure", registry.image]
    plain = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert plain.returncode == 1  # the user's own config cannot pull it
    out = cli_run("--login", registry.addr, "-u", registry.user, "--password-env", "PW", "--",
                  *argv, env={"PW": registry.password})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["config"]["mediaType"]
    assert registry.password not in out.stderr
    assert user.snapshot() == before
    assert user.leftovers() == []


@pytest.mark.peer
def test_peer_podman_and_skopeo_use_the_login(peer_user: User, registry: Registry) -> None:
    podman, skopeo = require("podman"), require("skopeo")
    assert registry.image is not None
    before = peer_user.snapshot()
    login = ["--login", registry.addr, "-u", registry.user, "--password-env", "PW", "--"]
    env = {"PW": registry.password}
    out = cli_run(*login, podman, "login", "--get-login", registry.addr, env=env)
    assert (out.returncode, out.stdout.strip()) == (0, registry.user), out.stderr
    out = cli_run(*login, skopeo, "inspect", "--tls-verify=false",
                  f"docker://{registry.image}", env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Digest"] == registry.digest
    # a namespace login reaches podman as a namespace
    out = cli_run("--isolated", "--login", f"{registry.addr}/test", "-u", registry.user,
                  "--password-env", "PW", "--", skopeo, "inspect", "--tls-verify=false",
                  f"docker://{registry.image}", env=env)
    assert out.returncode == 0, out.stderr
    assert peer_user.snapshot() == before
    assert peer_user.leftovers() == []


def test_cli_main_dispatches_run(user: User, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--isolated", "--", sys.executable, "-c", "raise SystemExit(5)"]) == 5
    assert user.leftovers() == []
