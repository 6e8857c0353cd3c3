"""Throw-away credentials for one command (``dockercreds run``).

:func:`temporary_config` makes a private directory (0700) holding a Docker ``config.json``
and a containers ``auth.json``, and an environment pointing ``DOCKER_CONFIG`` and
``REGISTRY_AUTH_FILE`` at them; the directory is removed when the ``with`` block ends,
however it ends. :func:`run` runs one command in that environment, relaying signals::

    with temporary_config([Login("quay.io/org", "robot", secret)]) as temp:
        subprocess.run(["podman", "pull", "quay.io/org/app"], env=temp.env)

What the files hold:

* ``isolated=False`` (default) layers the user's configuration: the Docker config is
  copied (every top-level key; ``credHelpers``, ``credsStore`` and ``auths`` as they are,
  so secrets kept by helpers stay there), the other entries of the Docker config
  directory (``contexts``, ``cli-plugins``, ``buildx``) are symlinked, and ``auth.json``
  merges what podman would read (``REGISTRY_AUTH_FILE`` or the runtime ``auth.json``,
  ``$XDG_CONFIG_HOME/containers/auth.json``, then the Docker config): for each registry,
  the entries of the first file that has any. ``isolated=True`` starts from nothing.
* Each login is then written as plaintext and made to win for its registry: every other
  key naming that registry is removed, so is a ``credHelpers`` entry for it, and when a
  ``credsStore`` is set ``credHelpers[registry] = ""`` routes the registry to the file
  (Docker consults ``credsStore`` for every registry that has no ``credHelpers`` entry).
  ``auth.json`` keeps namespace keys (``quay.io/org``); ``config.json`` gets Docker's key
  for the host, because Docker reduces keys to hosts: there, a login for ``quay.io/org``
  is the account for all of ``quay.io``.
* ``DOCKER_AUTH_CONFIG`` (read by Docker before the file): ``isolated`` removes it from the
  environment; otherwise only its entries for the logged-in registries are removed.

The user's files are only read, never opened for writing.

A run killed outright (SIGKILL) cannot clean up: the directory holds a lock file that
the kernel unlocks when the process dies, and the next run removes such directories
(ours, unlocked, older than a minute). Under ``$XDG_RUNTIME_DIR`` (a per-user tmpfs)
they also never reach a disk.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import signal
import stat
import tempfile
import warnings
from pathlib import Path
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from .config import (
    ENV_AUTH_CONFIG,
    DockerConfig,
    containers_auth_paths,
    docker_config_path,
    encode_auth,
    load_file,
)
from .credentials import TOKEN_USERNAME
from .errors import CommandError, InvalidArgument, InvalidRegistry
from .fileio import atomic_write
from .registry import HUB_DOMAIN, helper_server, parse_key
from .writer import dump_config, field_key, section

__all__ = ["Login", "TempConfig", "run", "temporary_config"]

#: Names inside the temporary directory.
DOCKER_FILE = "config.json"
CONTAINERS_FILE = "auth.json"
LOCK_FILE = ".dockercreds-run.lock"
_PREFIX = "dockercreds-run-"
#: Seconds after which an unlocked directory of a killed run is removed by the next run.
STALE_AFTER = 60.0

#: Signals relayed to the command by :func:`run` (and held back while the directory is
#: being created or removed).
_SIGNAL_NAMES = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")
_SIGNALS = tuple(getattr(signal, n) for n in _SIGNAL_NAMES if hasattr(signal, n))


class Login(NamedTuple):
    """One account for :func:`temporary_config`: registry (or ``host/namespace``), user,
    password (``username="<token>"``: the password is an identity token). The password
    is never shown in ``repr``."""

    registry: str
    username: str
    password: str

    def __repr__(self) -> str:
        return f"Login(registry={self.registry!r}, username={self.username!r}, password=***)"

    def __str__(self) -> str:
        return self.__repr__()


class TempConfig(NamedTuple):
    """What :func:`temporary_config` yields: the paths, and ``env`` for the command."""

    directory: Path  # the private directory (DOCKER_CONFIG)
    docker_config: Path  # DOCKER_CONFIG/config.json
    auth_file: Path  # REGISTRY_AUTH_FILE
    env: Dict[str, str]  # the whole environment for a subprocess

    def __repr__(self) -> str:
        return f"<TempConfig {self.directory}>"


class _Account(NamedTuple):
    host: str  # normalized (docker.io for Docker Hub)
    path: str  # namespace path, "" for the whole registry
    username: str
    password: str

    @property
    def containers_key(self) -> str:
        return f"{self.host}/{self.path}" if self.path else self.host

    def docker_fields(self) -> Dict[str, str]:
        if self.username == TOKEN_USERNAME:
            return {"identitytoken": self.password}
        return {"auth": encode_auth(self.username, self.password)}

    def containers_fields(self) -> Dict[str, str]:
        if self.username == TOKEN_USERNAME:  # c/image reads identitytoken next to auth
            return {"auth": encode_auth(TOKEN_USERNAME, ""), "identitytoken": self.password}
        return {"auth": encode_auth(self.username, self.password)}


# --------------------------------------------------------------------------- plan


def _accounts(logins: Iterable[Union[Login, Tuple[str, str, str]]]) -> List[_Account]:
    from .accounts import _check_credentials  # login's validation

    accounts: List[_Account] = []
    seen: Dict[Tuple[str, str], str] = {}
    for item in logins:
        registry, username, password = item
        key = parse_key(registry.strip() or HUB_DOMAIN)
        # a URL key means its host (as Docker); a namespace has no scheme
        path = "" if key.scheme else key.path
        _check_credentials(username, password)
        place = (key.host, path)
        if place in seen:
            raise InvalidArgument(
                f"two logins for {registry!r} (the same place as {seen[place]!r});"
                " give one account per registry or namespace"
            )
        seen[place] = registry
        accounts.append(_Account(key.host, path, username, password))
    return accounts


def _host_of(raw: str) -> Optional[Tuple[str, str, str]]:
    """(host, path, scheme) of a config key, or None when it is not one."""
    try:
        key = parse_key(raw)
    except InvalidRegistry:
        return None
    return key.host, key.path, key.scheme


def _host(raw: str) -> Optional[str]:
    parsed = _host_of(raw)
    return parsed[0] if parsed is not None else None


def _covers(account: _Account, raw: str) -> bool:
    """True when key ``raw`` would compete with ``account`` in a containers file."""
    parsed = _host_of(raw)
    if parsed is None or parsed[0] != account.host:
        return False
    _, path, scheme = parsed
    if not account.path:
        return True  # the whole registry: every key for it goes
    if scheme:
        return False  # a URL key is the host: less specific than the namespace
    return path == account.path or path.startswith(account.path + "/")


def _docker_data(
    user: Optional[DockerConfig], accounts: Sequence[_Account]
) -> Tuple[Dict[str, Any], List[str]]:
    """The temporary config.json object, and warnings about logins Docker cannot tell apart."""
    data: Dict[str, Any] = copy.deepcopy(dict(user.data)) if user is not None else {}
    auths = section(data, "auths")
    assert auths is not None  # noqa: S101 (created on demand)
    helpers = section(data, "credHelpers", create=False)
    store_key = field_key(data, "credsStore")
    has_store = store_key is not None and bool(data[store_key])
    # Docker reduces keys to hosts: one account per host. A whole-registry login beats
    # namespace logins for the same host; among those, the first given wins.
    chosen: Dict[str, _Account] = {}
    for account in accounts:
        current = chosen.get(account.host)
        if current is None or (current.path and not account.path):
            chosen[account.host] = account
    notes = [
        f"--login {a.containers_key}: Docker keeps one account per registry, so in the"
        f" temporary config.json the account of --login {chosen[a.host].containers_key}"
        f" ({chosen[a.host].username}) is used for all of {a.host}; podman and skopeo"
        " tell the namespaces apart"
        for a in accounts
        if chosen[a.host] is not a
    ]
    for host, account in chosen.items():
        for raw in [k for k in auths if _host(k) == host]:
            del auths[raw]
        if helpers:
            for raw in [k for k in helpers if _host(k) == host]:
                del helpers[raw]
        server = helper_server(host)
        auths[server] = account.docker_fields()
        if has_store:
            # credHelpers[host] = "": Docker's file store for this host despite credsStore
            routes = section(data, "credHelpers")
            assert routes is not None  # noqa: S101 (created on demand)
            routes[server] = ""
    return data, notes


def _raw_auths(config: DockerConfig) -> Dict[str, Any]:
    return section(copy.deepcopy(dict(config.data)), "auths", create=False) or {}


def _containers_data(
    sources: Sequence[DockerConfig], accounts: Sequence[_Account]
) -> Dict[str, Any]:
    """The temporary auth.json object: ``sources`` (first wins, per registry), then logins."""
    auths: Dict[str, Any] = {}
    helpers: Dict[str, str] = {}
    owner: Dict[str, int] = {}  # host -> index of the source that answers for it

    def claims(host: str, index: int) -> bool:
        return owner.setdefault(host, index) == index

    for index, config in enumerate(sources):
        raw_auths = _raw_auths(config)
        for raw, value in raw_auths.items():
            parsed = _host_of(raw)
            # only entries containers/image can use: an "auth" field (a {} marker would
            # stop its search for shorter keys of that file)
            auth_key = field_key(value, "auth") if isinstance(value, dict) else None
            if parsed is None or auth_key is None or not value[auth_key]:
                continue
            if claims(parsed[0], index):
                auths.setdefault(raw, value)
        for raw, name in config.cred_helpers.items():
            parsed = _host_of(raw)
            if parsed is not None and name and claims(parsed[0], index):
                helpers.setdefault(raw, name)
    for account in accounts:
        for raw in [k for k in auths if _covers(account, k)]:
            del auths[raw]
        for raw in [k for k in helpers if _host(k) == account.host]:
            del helpers[raw]  # containers/image asks credHelpers[host] before any auths key
    for account in accounts:
        auths[account.containers_key] = account.containers_fields()
    data: Dict[str, Any] = {"auths": auths}
    if helpers:
        data["credHelpers"] = helpers
    return data


def _docker_auth_env(
    value: Optional[str], accounts: Sequence[_Account], isolated: bool
) -> Optional[str]:
    """``DOCKER_AUTH_CONFIG`` for the command: None removes it."""
    if value is None or isolated:
        return None
    hosts = {a.host for a in accounts}
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    key = field_key(data, "auths") if isinstance(data, dict) else None
    auths: Dict[str, Any] = data[key] if key is not None and isinstance(data[key], dict) else {}
    doomed = [k for k in auths if _host(k) in hosts]
    if not doomed:
        # not ours to fix when it does not parse: the command sees what it would have
        return value
    for raw in doomed:
        del auths[raw]
    return json.dumps(data)


def _user_sources(env: Mapping[str, str]) -> Tuple[DockerConfig, List[DockerConfig]]:
    """The user's Docker config and the files podman reads, best first (read only)."""
    docker = load_file(docker_config_path(env))
    containers = [load_file(p, kind="containers") for p in containers_auth_paths(env)]
    for config in (docker, *containers):
        # entries are decoded when first used; a bad one stops us before anything exists
        for problem in config.problems():
            raise problem
    return docker, [*containers, docker]


# --------------------------------------------------------------------------- directory


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back the signals :func:`run` relays (they arrive when the block ends)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:  # pragma: no cover - Windows
        yield
        return
    old = mask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


def _base_dir(env: Mapping[str, str]) -> Optional[str]:
    """``$XDG_RUNTIME_DIR`` (per-user tmpfs, gone at logout) when usable, else the default."""
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir() and os.access(runtime, os.W_OK | os.X_OK):
        return runtime
    return None


def _remove(directory: str, lock: List[int]) -> None:
    """Remove ``directory``, then release its lock (``lock``: the descriptor, if any)."""

    def retry(func: Any, path: str, _exc: Any) -> None:
        # the command may have left a directory without write permission
        with contextlib.suppress(OSError):
            Path(path).parent.chmod(0o700)
            func(path)

    with _signals_held():
        try:
            shutil.rmtree(directory, onerror=retry)
            if os.path.lexists(directory):
                shutil.rmtree(directory, ignore_errors=True)
        finally:
            for fd in lock:
                os.close(fd)


def _hold_lock(directory: str, lock: List[int]) -> None:
    """Create and lock ``directory``'s lock file for as long as the directory lives.

    The lock tells :func:`_sweep` the directory is in use; the kernel releases it when
    this process dies, however it dies.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no sweeping
        return
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(os.path.join(directory, LOCK_FILE), flags, 0o600)  # noqa: PTH118
    lock.append(fd)
    fcntl.flock(fd, fcntl.LOCK_EX)


def _sweep(base: str) -> None:
    """Remove the directories of runs that were killed outright (SIGKILL, OOM killer).

    Such a directory is ours (same owner), its lock file is older than
    :data:`STALE_AFTER` seconds, and nobody holds the lock: its process is gone.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no sweeping
        return
    import time

    now = time.time()
    try:
        entries = list(os.scandir(base))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(_PREFIX):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
                continue
            flags = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
            fd = os.open(os.path.join(entry.path, LOCK_FILE), flags)  # noqa: PTH118
        except OSError:
            continue
        try:
            if now - os.fstat(fd).st_mtime < STALE_AFTER:
                continue  # perhaps being set up right now
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its run is alive
            shutil.rmtree(entry.path, ignore_errors=True)
        finally:
            os.close(fd)


def _write(path: Path, data: Dict[str, Any]) -> None:
    atomic_write(path, dump_config(data).encode("utf-8"), mode=0o600)


def _link_docker_dir(user_dir: Path, directory: Path) -> None:
    """Symlink the user's contexts, cli-plugins, buildx... (not their config.json)."""
    try:
        entries = sorted(user_dir.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(DOCKER_FILE) or entry.name in (CONTAINERS_FILE, LOCK_FILE):
            continue
        with contextlib.suppress(OSError):
            (directory / entry.name).symlink_to(entry)


@contextlib.contextmanager
def temporary_config(
    logins: Iterable[Union[Login, Tuple[str, str, str]]] = (),
    *,
    isolated: bool = False,
    environ: Optional[Mapping[str, str]] = None,
) -> Iterator[TempConfig]:
    """A private DOCKER_CONFIG and REGISTRY_AUTH_FILE holding ``logins``, for one ``with``.

    ``logins``: :class:`Login` values (or ``(registry, username, password)`` tuples),
    validated as :func:`dockercreds.login` does. ``isolated``: start from empty files
    instead of layering the user's configuration (see the module docstring).
    ``environ``: the environment to start from (default ``os.environ``); the yielded
    :class:`TempConfig`'s ``env`` is it with ``DOCKER_CONFIG``, ``REGISTRY_AUTH_FILE``
    (and ``DOCKER_AUTH_CONFIG``) changed. The directory is created 0700 under
    ``$XDG_RUNTIME_DIR`` (else the system temp directory) and removed when the block
    ends, also on an exception or KeyboardInterrupt. Warns (``UserWarning``) when Docker
    cannot tell two namespace logins of one registry apart.
    """
    env = dict(os.environ if environ is None else environ)
    accounts = _accounts(logins)
    user_docker: Optional[DockerConfig] = None
    containers: List[DockerConfig] = []
    if not isolated:
        user_docker, containers = _user_sources(env)  # a broken file stops us here
    docker_data, notes = _docker_data(user_docker, accounts)
    containers_data = _containers_data(containers, accounts)
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    auth_env = _docker_auth_env(env.get(ENV_AUTH_CONFIG), accounts, isolated)

    base = _base_dir(env)
    _sweep(base if base is not None else tempfile.gettempdir())
    with contextlib.ExitStack() as stack:
        with _signals_held():  # nothing may come between creating and registering it
            directory = tempfile.mkdtemp(prefix=_PREFIX, dir=base)
            lock: List[int] = []
            stack.callback(_remove, directory, lock)
            _hold_lock(directory, lock)
        # from here on, any exception (KeyboardInterrupt too) removes the directory
        path = Path(directory)
        _populate(path, docker_data, containers_data)
        if user_docker is not None and user_docker.path is not None:
            _link_docker_dir(Path(user_docker.path).parent, path)
        env["DOCKER_CONFIG"] = directory
        env["REGISTRY_AUTH_FILE"] = str(path / CONTAINERS_FILE)
        if auth_env is None:
            env.pop(ENV_AUTH_CONFIG, None)
        else:
            env[ENV_AUTH_CONFIG] = auth_env
        yield TempConfig(path, path / DOCKER_FILE, path / CONTAINERS_FILE, env)


def _populate(directory: Path, docker: Dict[str, Any], containers: Dict[str, Any]) -> None:
    _write(directory / DOCKER_FILE, docker)
    _write(directory / CONTAINERS_FILE, containers)


# --------------------------------------------------------------------------- run


class _Interrupted(BaseException):
    """A relayed signal arrived before the command started: unwind and clean up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminal_sent_it() -> bool:
    """True when we are in the terminal's foreground group: a ^C / ^\\ reached the
    command too (it shares our process group), so relaying it would deliver it twice."""
    tcgetpgrp = getattr(os, "tcgetpgrp", None)
    if tcgetpgrp is None:  # pragma: no cover - Windows
        return False
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return bool(tcgetpgrp(fd) == os.getpgrp())
        except OSError:
            continue
    return False


class _Relay:
    """The signal handler of :func:`run`; what it does depends on ``phase``."""

    def __init__(self) -> None:
        self.phase = "setup"  # setup -> spawning -> running -> done
        self.proc: Any = None
        self.pending: List[int] = []

    def __call__(self, signum: int, _frame: Any) -> None:
        if self.phase == "running":
            self.forward(signum)
        elif self.phase == "spawning":
            self.pending.append(signum)
        elif self.phase == "setup":
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise _Interrupted(signum)
        # "done": the command has ended; cleaning up, then exiting with its status

    def forward(self, signum: int) -> None:
        if signum in (signal.SIGINT, getattr(signal, "SIGQUIT", -1)) and _terminal_sent_it():
            return
        with contextlib.suppress(OSError):
            self.proc.send_signal(signum)


@contextlib.contextmanager
def _relaying(relay: _Relay) -> Iterator[None]:
    previous: Dict[int, Any] = {}
    try:
        for signum in _SIGNALS:
            if signal.getsignal(signum) == signal.SIG_IGN:
                continue  # nohup, a background job: the command inherits the ignore
            try:
                previous[signum] = signal.signal(signum, relay)
            except ValueError:  # not the main thread: signals stay as they are
                break
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(
    command: Sequence[str],
    logins: Iterable[Union[Login, Tuple[str, str, str]]] = (),
    *,
    isolated: bool = False,
) -> int:
    """Run ``command`` with :func:`temporary_config`; return its exit status.

    A command killed by signal N gives 128+N, as shells do. SIGTERM, SIGHUP, SIGQUIT,
    SIGUSR1 and SIGUSR2 are relayed to the command, and SIGINT too unless it came from
    the terminal (then the command got it already); a signal ignored when ``run`` is
    called (``nohup``) stays ignored, for the command too. The directory is removed once the
    command has ended. A signal that arrives before the command starts stops the set-up
    (the directory is removed) and gives 128+N. Raises
    :class:`~dockercreds.errors.CommandError` when the command cannot be started.
    """
    if not command:
        raise InvalidArgument("run needs a command")
    import subprocess

    relay = _Relay()
    try:
        with _relaying(relay), temporary_config(logins, isolated=isolated) as temp:
            relay.phase = "spawning"
            try:
                proc = subprocess.Popen(list(command), env=temp.env)
            except OSError as exc:
                raise CommandError(
                    f"cannot run {command[0]!r}: {exc.strerror or exc}",
                    command=command[0],
                    status=127 if isinstance(exc, FileNotFoundError) else 126,
                ) from None
            relay.proc = proc
            relay.phase = "running"
            for signum in relay.pending:
                relay.forward(signum)
            status = proc.wait()
            relay.phase = "done"
    except _Interrupted as exc:
        return 128 + exc.signum
    return status if status >= 0 else 128 - status

