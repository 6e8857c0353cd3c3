"""Every example runs: examples/ against a real registry, and every code block of
README.md and docs/ (the snippet runner; the rules are in tests/snippets.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from dockercreds.config import encode_auth
from tests.peers import Registry

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "pull_manifest.py"), *args],
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.mark.peer
def test_pull_manifest_with_the_right_credentials(registry: Registry, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(
        {"auths": {registry.addr: {"auth": encode_auth(registry.user, registry.password)}}}
    ))
    proc = _run("--config", str(config), registry.image)
    assert proc.returncode == 0, proc.stderr
    digest, media_type, size = proc.stdout.splitlines()
    assert digest == registry.digest
    assert media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert size.endswith(" bytes")


@pytest.mark.peer
def test_pull_manifest_without_credentials_fails_cleanly(
    registry: Registry, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text("{}")
    proc = _run("--config", str(config), registry.image)
    assert proc.returncode == 1
    assert proc.stderr.startswith("pull_manifest: ") and "401" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_seed_example_config() -> None:
    from dockercreds import get_credentials

    config = EXAMPLES / "docker-config.json"
    quay = get_credentials("quay.io/lightside/svc-awesome:1.2.3", config=config)
    hub = get_credentials("ubuntu", config=config)
    assert quay is not None and quay.server == "quay.io"
    assert hub is not None and hub.server == "https://index.docker.io/v1/"


# --- the snippet runner: every code block in README.md and docs/ (tests/snippets.py) --------

import os  # noqa: E402
import shutil  # noqa: E402

from tests import snippets  # noqa: E402

BLOCKS = snippets.all_blocks()
# Blocks that cannot run in a test must stay the exception.
MAX_SKIPPED = 8


_PAGE_DIRS: Dict[Path, Path] = {}


@pytest.fixture
def workdir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scratch directory of the block's page: examples/ and an isolated home.

    Blocks of one page share it and run in page order, so a page can log in in one block
    and migrate in the next, as a reader would.
    """
    block: snippets.Block = request.node.callspec.params["block"]
    if block.path not in _PAGE_DIRS:
        directory = tmp_path_factory.mktemp(block.path.stem)
        (directory / "examples").symlink_to(EXAMPLES)
        (directory / "home" / ".docker").mkdir(parents=True)
        (directory / "home" / "run").mkdir(mode=0o700)
        _PAGE_DIRS[block.path] = directory
    return _PAGE_DIRS[block.path]


def block_env(workdir: Path) -> Dict[str, str]:
    home = workdir / "home"
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("DOCKER", "REGISTRY_AUTH", "PYTHON_KEYRING", "XDG_", "DBUS"))
    }
    env.update(
        HOME=str(home),
        DOCKER_CONFIG=str(home / ".docker"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_RUNTIME_DIR=str(home / "run"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONPATH=str(snippets.ROOT),
        PYTHON_KEYRING_BACKEND="tests.file_keyring_backend.FileKeyring",
        TEST_KEYRING_FILE=str(workdir / "keyring.json"),
        COLUMNS="80",
    )
    return env


def _shell(command: str, workdir: Path, env: Dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command], cwd=workdir, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300, check=False,
    )


def test_the_docs_have_blocks_of_every_kind() -> None:
    assert {"python", "console", "sh", "json"} <= {b.lang for b in BLOCKS}
    assert len(BLOCKS) >= 20


def test_every_block_has_a_known_language_and_directive() -> None:
    for block in BLOCKS:
        assert block.lang in snippets.LANGUAGES, f"{block.id}: unknown language {block.lang!r}"
        assert block.directive in (None, *snippets.DIRECTIVES), f"{block.id}: {block.directive}"
        if block.directive == "skip":
            assert len(block.reason) >= 10, f"{block.id}: a skipped block needs a reason"


def test_skipped_blocks_stay_few() -> None:
    skipped = [b.id for b in BLOCKS if b.directive == "skip"]
    assert len(skipped) <= MAX_SKIPPED, skipped


def test_snippet_parser_and_matcher() -> None:
    assert snippets.console_steps("$ a\nout\n...\n$ b\n") == [("a", ["out", "..."]), ("b", [])]
    assert snippets.output_matches(["x ... z", "..."], ["x y z", "1", "2"])
    assert snippets.output_matches(["a", "...", "c"], ["a", "c"])
    assert not snippets.output_matches(["a"], ["a", "b"])
    assert not snippets.output_matches(["x ... z"], ["x y"])


RUN = [b for b in BLOCKS if b.directive not in ("skip", "quickstart", "registry")]


@pytest.mark.parametrize("block", RUN, ids=[b.id for b in RUN])
def test_snippet(block: snippets.Block, workdir: Path) -> None:
    env = block_env(workdir)
    if block.directive == "secret-service":
        from tests.peers import require

        for program in ("dbus-run-session", "gnome-keyring-daemon"):
            require(program)
        del env["PYTHON_KEYRING_BACKEND"]
    if block.lang == "json":
        json.loads(block.text)
    elif block.lang == "yaml":
        import yaml

        yaml.safe_load(block.text)
    elif block.lang == "python":
        proc = subprocess.run(
            [sys.executable, "-c", block.text], cwd=workdir, env=env,
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert proc.returncode == 0, f"{block.id}:\n{proc.stderr}"
    elif block.lang == "sh":
        proc = _shell(block.text, workdir, env)
        assert proc.returncode == 0, f"{block.id}:\n{proc.stdout}"
    else:
        for command, expected in snippets.console_steps(block.text):
            proc = _shell(command, workdir, env)
            actual = proc.stdout.splitlines()
            assert snippets.output_matches(expected, actual), (
                f"{block.id}: $ {command}\nexpected:\n" + "\n".join(expected)
                + "\nactual:\n" + "\n".join(actual)
            )


REGISTRY_BLOCKS = [b for b in BLOCKS if b.directive == "registry"]
PLACEHOLDER = '"https://registry.example.com", "team/app", "1.0"'


@pytest.mark.peer
@pytest.mark.parametrize("block", REGISTRY_BLOCKS, ids=[b.id for b in REGISTRY_BLOCKS])
def test_snippet_against_a_registry(
    block: snippets.Block, workdir: Path, registry: Registry
) -> None:
    assert PLACEHOLDER in block.text, f"{block.id}: the registry placeholder line is missing"
    assert registry.image is not None
    repository, tag = registry.image.split("/", 1)[1].rsplit(":", 1)
    code = block.text.replace(PLACEHOLDER, f'"http://{registry.addr}", "{repository}", "{tag}"')
    env = block_env(workdir)
    (workdir / "home/.docker/config.json").write_text(
        json.dumps({"auths": {registry.addr: {"auth": registry.auth_b64}}})
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=workdir, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, f"{block.id}:\n{proc.stderr}"
    assert registry.digest is not None and registry.digest in proc.stdout


QUICKSTART = [b for b in BLOCKS if b.directive == "quickstart"]
APT_PREFIX = "apt-get update && apt-get install -y python3-venv && "


@pytest.mark.parametrize("block", QUICKSTART, ids=[b.id for b in QUICKSTART])
def test_quickstart_in_a_fresh_copy(block: snippets.Block, tmp_path: Path) -> None:
    """The README's first command, as a new user runs it on Debian 12 (minus apt-get)."""
    command = block.text.strip()
    assert "\n" not in command and command.startswith(APT_PREFIX), block.text
    copy = tmp_path / "dockercreds"
    ignore = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", "dist",
                                    "build", ".*_cache", ".hypothesis", "site")
    shutil.copytree(snippets.ROOT, copy, ignore=ignore)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER", "VIRTUAL_ENV"))}
    env["HOME"] = str(tmp_path)
    rest = command[len(APT_PREFIX):]
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", rest], cwd=copy, env=env,
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    promised = re.search(r"It prints `([^`]+)`", block.path.read_text())
    assert promised is not None, "the README says what the quick start prints"
    # pip reports on stdout too; the last line is dockercreds get's answer
    assert proc.stdout.splitlines()[-1] == promised.group(1)
