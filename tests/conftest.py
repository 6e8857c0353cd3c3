"""Shared fixtures: isolation from the real home, and real peers (tests/peers.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tests.peers import (
    REGISTRY_BIN,
    PassStore,
    Registry,
    SecretService,
    require,
    short_tmpdir,
    start_pass_store,
    start_registry,
    start_secret_service,
)

# Variables that could point a test at the real user's credentials or keyring.
_UNSET = (
    "DOCKER_CONFIG",
    "REGISTRY_AUTH_FILE",
    "DBUS_SESSION_BUS_ADDRESS",
    "GNOME_KEYRING_CONTROL",
    "GNUPGHOME",
    "PASSWORD_STORE_DIR",
    "PYTHON_KEYRING_BACKEND",
)


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """For the whole session: HOME and XDG dirs in a temp dir, no real bus or keyring.

    Tests never see the real ~/.docker, ~/.config/containers, keyring or gpg home.
    Restored at the end of the session. Tests may override with monkeypatch.
    """
    home = tmp_path_factory.mktemp("home")
    xdg = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_RUNTIME_DIR": home / "run",
    }
    for path in xdg.values():
        path.mkdir(parents=True, exist_ok=True)
    (home / "run").chmod(0o700)
    with pytest.MonkeyPatch.context() as mp:
        for name, path in xdg.items():
            mp.setenv(name, str(path))
        for name in _UNSET:
            mp.delenv(name, raising=False)
        yield home


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty DOCKER_CONFIG dir (and a fresh HOME); returns the dir."""
    home = tmp_path / "home"
    conf = tmp_path / "docker-config"
    home.mkdir()
    conf.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DOCKER_CONFIG", str(conf))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    return conf


@pytest.fixture
def venv_bin_path(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put this interpreter's bin dir first on PATH (docker-credential-keyring is there)."""
    bin_dir = Path(sys.executable).parent
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return bin_dir


@pytest.fixture(scope="session")
def registry(
    isolated_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    """docker-registry with htpasswd user ``registry.user`` and image ``registry.image``."""
    require(REGISTRY_BIN if Path(REGISTRY_BIN).exists() else "docker-registry")
    require("htpasswd")
    reg = start_registry(tmp_path_factory.mktemp("registry"))
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def secret_service(isolated_home: Path) -> Iterator[SecretService]:
    """Unlocked gnome-keyring Secret Service on a private bus; use ``secret_service.env``."""
    for binary in ("dbus-daemon", "dbus-send", "gnome-keyring-daemon"):
        require(binary)
    directory = short_tmpdir("dcss")  # unix socket path limit: keep it short
    svc = start_secret_service(directory)
    try:
        yield svc
    finally:
        svc.stop()
        _rmtree(directory)


@pytest.fixture(scope="session")
def pass_store(isolated_home: Path) -> Iterator[PassStore]:
    """gpg + pass store for docker-credential-pass; use ``pass_store.env``."""
    for binary in ("gpg", "gpgconf", "pass"):
        require(binary)
    ps = start_pass_store()  # short dir under /tmp, removed by stop()
    try:
        yield ps
    finally:
        ps.stop()


@pytest.fixture
def use_secret_service(
    secret_service: SecretService, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretService]:
    """``secret_service`` with its env (DBUS_SESSION_BUS_ADDRESS) set in os.environ.

    The daemon is shared by the session: one that died in an earlier test is restarted
    (unlocked), and a test during which it dies fails, naming the daemon's last words,
    so a crash is blamed on the test that caused it and on no later one.
    """
    if not secret_service.keyring_alive():
        secret_service.restart_keyring()
    for name, value in secret_service.env.items():
        monkeypatch.setenv(name, value)
    yield secret_service
    if not secret_service.keyring_alive():
        pytest.fail(
            "gnome-keyring-daemon died during this test; its log ends:\n"
            + secret_service.keyring_log()
        )


@pytest.fixture
def use_pass_store(pass_store: PassStore, monkeypatch: pytest.MonkeyPatch) -> PassStore:
    """``pass_store`` with GNUPGHOME / PASSWORD_STORE_DIR set in os.environ."""
    for name, value in pass_store.env.items():
        monkeypatch.setenv(name, value)
    return pass_store


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _ci() -> bool:
    return os.environ.get("CI") == "true"


def _skip_reason(longrepr: object) -> str:
    return str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true nothing passes by being skipped: every skip is a failure.

    A missing peer program, an optional dependency that ``pytest.importorskip`` did not
    find, a ``skipif`` that turned true: in CI each means the suite shrank without anyone
    seeing it. Locally the skip stays a skip (with its reason in the ``-ra`` summary).
    """
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        what = "peer test" if item.get_closest_marker("peer") is not None else "test"
        report.longrepr = f"{what} skipped under CI=true: {_skip_reason(report.longrepr)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """Under CI=true a module skipped at import (module-level importorskip) fails too."""
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"module skipped under CI=true: {_skip_reason(report.longrepr)}"
