"""Real peer programs for the integration tests, started and stopped from Python.

Everything listens on 127.0.0.1 or a private unix socket, every wait is bounded,
and every process started here is stopped by its own PID (``Popen`` object).

* :func:`start_registry` - docker-registry 2.8 with htpasswd (bcrypt) or token auth,
  one tiny schema2 image ``test/hello:v1`` pushed over HTTP.
* :func:`start_secret_service` - private D-Bus session bus plus gnome-keyring-daemon
  serving ``org.freedesktop.secrets`` with the default collection unlocked.
* :func:`start_pass_store` - passphrase-less gpg key and a ``pass`` store for
  docker-credential-pass.
* :func:`require` - find a binary, or skip (locally) / fail (``CI=true``).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import html
import io
import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import pytest

REGISTRY_BIN = "/usr/bin/docker-registry"
IMAGE_REPO = "test/hello"
IMAGE_TAG = "v1"
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_V1 = "application/vnd.docker.container.image.v1+json"
LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
READY_TIMEOUT = 20.0


class PeerError(RuntimeError):
    """A peer program could not be started or did not behave."""


# --------------------------------------------------------------------------- helpers


def require(binary: str) -> str:
    """Path of ``binary``; skip the test when missing (fail when ``CI=true``)."""
    path = shutil.which(binary)
    if path is None:
        msg = f"peer program {binary!r} not found on PATH (install with .ci/peers-install.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll ``check`` until it is true; PeerError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() >= deadline:
            raise PeerError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def stop_process(proc: Optional[subprocess.Popen[Any]], timeout: float = 5.0) -> None:
    """SIGTERM, bounded wait, then SIGKILL - always by the Popen's own PID."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not any(line.startswith("State:") and "Z" in line for line in status.splitlines())


def stop_pid(pid: int, name: str, timeout: float = 5.0) -> None:
    """Stop a process we did not fork ourselves, if its command line still contains ``name``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _alive(pid) or name not in _cmdline(pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def _tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    method: str,
    url: str,
    *,
    headers: Optional[Mapping[str, str]] = None,
    data: Optional[bytes] = None,
    timeout: float = 10.0,
) -> Response:
    """One HTTP request without proxies; 4xx/5xx are returned, not raised."""
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return Response(resp.status, _headers(resp.headers), resp.read())
    except urllib.error.HTTPError as err:
        return Response(err.code, _headers(err.headers), err.read())


def _headers(msg: Any) -> Dict[str, str]:
    return {k.lower(): v for k, v in msg.items()}


def basic_auth(user: str, password: str) -> str:
    """``Authorization`` header value for HTTP basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# --------------------------------------------------------------------------- image


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _image_blobs() -> Tuple[bytes, bytes, bytes]:
    """(layer.tar.gz, config.json, manifest.json) of a reproducible one-layer image."""
    content = b"hello from the dockercreds test suite\n"
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        info.mtime = 0
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(content))
    layer_tar = tar_buf.getvalue()
    layer = gzip.compress(layer_tar, mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [_sha256(layer_tar)]},
        },
        separators=(",", ":"),
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {"mediaType": CONFIG_V1, "size": len(config), "digest": _sha256(config)},
            "layers": [{"mediaType": LAYER_GZIP, "size": len(layer), "digest": _sha256(layer)}],
        },
        separators=(",", ":"),
    ).encode()
    return layer, config, manifest


def push_image(
    url: str,
    *,
    repo: str = IMAGE_REPO,
    tag: str = IMAGE_TAG,
    authorization: Optional[str] = None,
) -> str:
    """Push the one-layer schema2 test image to ``url`` (``http://ADDR``); returns its digest.

    ``authorization`` is the ``Authorization`` header value (basic or bearer with
    push scope on ``repo``); monolithic blob uploads (POST then PUT).
    """
    auth = {"Authorization": authorization} if authorization else {}
    layer, config, manifest = _image_blobs()
    for blob in (layer, config):
        start = http_request("POST", f"{url}/v2/{repo}/blobs/uploads/", headers=auth, data=b"")
        location = start.headers.get("location")
        if start.status != 202 or not location:
            raise PeerError(f"blob upload start to {url}/v2/{repo} failed: HTTP {start.status}")
        if not location.startswith("http"):
            location = url + location
        sep = "&" if "?" in location else "?"
        put = http_request(
            "PUT",
            f"{location}{sep}digest={_sha256(blob)}",
            headers={**auth, "Content-Type": "application/octet-stream"},
            data=blob,
        )
        if put.status != 201:
            raise PeerError(f"blob upload to {url}/v2/{repo} failed: HTTP {put.status}")
    put = http_request(
        "PUT",
        f"{url}/v2/{repo}/manifests/{tag}",
        headers={**auth, "Content-Type": MANIFEST_V2},
        data=manifest,
    )
    if put.status != 201:
        raise PeerError(f"manifest put to {url}/v2/{repo}:{tag} failed: HTTP {put.status}")
    return _sha256(manifest)


# --------------------------------------------------------------------------- registry


AuthSpec = Union[None, str, Dict[str, Any]]


@dataclass
class Registry:
    """A running docker-registry; ``image`` / ``digest`` are None in token mode."""

    addr: str
    port: int
    url: str
    user: str
    password: str = field(repr=False)
    image: Optional[str]
    digest: Optional[str]
    dir: Path
    realm: str
    auth_mode: str  # "htpasswd", "token" (any dict auth) or "none"
    proc: Optional[subprocess.Popen[bytes]] = field(default=None, repr=False)
    users: Dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc is not None else None

    @property
    def auth_b64(self) -> str:
        """base64("user:password") as in a docker config.json ``auth`` field."""
        return base64.b64encode(f"{self.user}:{self.password}".encode()).decode()

    @property
    def authorization(self) -> str:
        """``Authorization`` header value for the main user."""
        return basic_auth(self.user, self.password)

    @property
    def log(self) -> Path:
        return self.dir / "registry.log"

    def add_user(self, user: str, password: str) -> None:
        """Add (or change) an htpasswd user; the registry re-reads the file on mtime change."""
        if self.auth_mode != "htpasswd":
            raise PeerError(f"add_user needs an htpasswd registry, this one uses {self.auth_mode}")
        self.users[user] = password
        before = (self.dir / "htpasswd").stat().st_mtime_ns
        _write_htpasswd(self.dir / "htpasswd", self.users)
        # Make sure the mtime moves even on coarse-grained file systems.
        path = self.dir / "htpasswd"
        if path.stat().st_mtime_ns == before:
            os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))

    def stop(self) -> None:
        stop_process(self.proc)

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _write_htpasswd(path: Path, users: Mapping[str, str]) -> None:
    htpasswd = require("htpasswd")
    lines: List[str] = []
    for user, password in users.items():
        out = subprocess.run(
            [htpasswd, "-Bbn", "-C", "5", user, password],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if out.returncode != 0:
            raise PeerError(f"htpasswd failed for user {user!r}: rc {out.returncode}")
        lines.append(out.stdout.strip())
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)


def start_registry(
    tmpdir: Union[str, Path],
    *,
    user: str = "testuser",
    password: Optional[str] = None,
    auth: AuthSpec = "htpasswd",
    push: bool = True,
    timeout: float = READY_TIMEOUT,
) -> Registry:
    """Start docker-registry 2.8 on 127.0.0.1:<free port>, storage under ``tmpdir``.

    ``auth``: ``"htpasswd"`` (default; bcrypt user ``user``/``password``, random
    password when None), ``None`` (no auth), or a dict used as the registry's whole
    ``auth`` section, e.g. ``{"token": {"realm": ..., "service": ..., "issuer": ...,
    "rootcertbundle": ...}}`` - then no image is pushed (``image``/``digest`` None).
    With htpasswd or no auth, ``test/hello:v1`` is pushed (unless ``push=False``)
    and read back.
    """
    binary = require(REGISTRY_BIN) if Path(REGISTRY_BIN).exists() else require("docker-registry")
    directory = Path(tmpdir).resolve()
    (directory / "data").mkdir(parents=True, exist_ok=True)
    password = password if password is not None else secrets.token_hex(12)
    realm = f"dockercreds-test-{secrets.token_hex(6)}"
    users = {user: password}

    if auth == "htpasswd":
        mode = "htpasswd"
        _write_htpasswd(directory / "htpasswd", users)
        auth_section: Optional[Dict[str, Any]] = {
            "htpasswd": {"realm": realm, "path": str(directory / "htpasswd")}
        }
    elif auth is None:
        mode = "none"
        auth_section = None
    elif isinstance(auth, dict):
        mode = "token" if "token" in auth else "custom"
        auth_section = auth
    else:
        raise ValueError(f"auth must be 'htpasswd', None or a dict, not {auth!r}")

    log = directory / "registry.log"
    proc: Optional[subprocess.Popen[bytes]] = None
    port = 0
    for _attempt in range(5):
        port = free_port()
        config: Dict[str, Any] = {
            "version": "0.1",
            "log": {"level": "info", "accesslog": {"disabled": False}},
            "storage": {
                "filesystem": {"rootdirectory": str(directory / "data")},
                "delete": {"enabled": True},
            },
            "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
        }
        if auth_section is not None:
            config["auth"] = auth_section
        # YAML is a superset of JSON: the registry reads this as its config.yml.
        (directory / "config.yml").write_text(json.dumps(config, indent=2) + "\n")
        env = {**os.environ, "REGISTRY_HTTP_SECRET": config["http"]["secret"]}
        with log.open("ab") as log_fh:
            proc = subprocess.Popen(
                [binary, "serve", str(directory / "config.yml")],
                stdin=subprocess.DEVNULL,
                stdout=log_fh,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        if _wait_registry(proc, port, mode, realm, timeout):
            break
        stop_process(proc)
        proc = None
    if proc is None:
        raise PeerError(f"docker-registry did not start in {directory}; log:\n{_tail(log)}")

    addr = f"127.0.0.1:{port}"
    reg = Registry(
        addr=addr,
        port=port,
        url=f"http://{addr}",
        user=user,
        password=password,
        image=None,
        digest=None,
        dir=directory,
        realm=realm,
        auth_mode=mode,
        proc=proc,
        users=users,
    )
    if push and mode in ("htpasswd", "none"):
        try:
            authorization = reg.authorization if mode == "htpasswd" else None
            reg.digest = push_image(reg.url, authorization=authorization)
            reg.image = f"{addr}/{IMAGE_REPO}:{IMAGE_TAG}"
            check = http_request(
                "GET",
                f"{reg.url}/v2/{IMAGE_REPO}/manifests/{IMAGE_TAG}",
                headers={
                    "Accept": MANIFEST_V2,
                    **({"Authorization": authorization} if authorization else {}),
                },
            )
            if check.status != 200 or check.headers.get("docker-content-digest") != reg.digest:
                raise PeerError(f"pushed manifest of {reg.image} not readable: HTTP {check.status}")
        except BaseException:
            reg.stop()
            raise
    return reg


def _wait_registry(
    proc: subprocess.Popen[bytes], port: int, mode: str, realm: str, timeout: float
) -> bool:
    """True once our registry answers GET /v2/ as its auth mode says; False if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False  # e.g. port taken meanwhile: caller retries on another port
        try:
            resp = http_request("GET", f"http://127.0.0.1:{port}/v2/", timeout=2)
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
            continue
        challenge = resp.headers.get("www-authenticate", "")
        if mode == "htpasswd":
            ok = resp.status == 401 and f'realm="{realm}"' in challenge
        elif mode == "none":
            ok = resp.status == 200
        else:
            ok = resp.status == 401
        if ok:
            return True
        time.sleep(0.1)
    return False


# --------------------------------------------------------------------------- Secret Service


@dataclass
class SecretService:
    """gnome-keyring-daemon on a private D-Bus bus; give clients ``env``."""

    dir: Path
    env: Dict[str, str]
    password: str = field(repr=False)
    bus: Optional[subprocess.Popen[bytes]] = field(default=None, repr=False)
    keyring: Optional[subprocess.Popen[bytes]] = field(default=None, repr=False)
    #: The daemon's environment (private HOME and XDG dirs), for :meth:`restart_keyring`.
    daemon_env: Dict[str, str] = field(default_factory=dict, repr=False)
    timeout: float = field(default=READY_TIMEOUT, repr=False)

    @property
    def address(self) -> str:
        return self.env["DBUS_SESSION_BUS_ADDRESS"]

    def keyring_alive(self) -> bool:
        return self.keyring is not None and self.keyring.poll() is None

    def keyring_log(self, lines: int = 12) -> str:
        return _tail(self.dir / "keyring.log", lines)

    def restart_keyring(self) -> None:
        """A new daemon on the same bus and keyring files, unlocked with the same password.

        The private bus has no service activation, so when the daemon dies (a client
        can crash gnome-keyring), calls fail with ServiceUnknown instead of reaching an
        auto-started daemon whose login keyring is locked.
        """
        stop_process(self.keyring)
        _start_keyring_daemon(self)

    @property
    def bus_pid(self) -> Optional[int]:
        return self.bus.pid if self.bus is not None else None

    @property
    def keyring_pid(self) -> Optional[int]:
        return self.keyring.pid if self.keyring is not None else None

    def stop(self) -> None:
        stop_process(self.keyring)
        stop_process(self.bus)
        if self.bus is not None and self.bus.stdout is not None:
            self.bus.stdout.close()

    def __enter__(self) -> SecretService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """One line from ``proc.stdout`` within ``timeout`` seconds ('' on timeout/EOF)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return ""
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return ""
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\n", 1)[0].decode()


def _dbus_send(env: Mapping[str, str], dest: str, *args: str) -> Optional[str]:
    out = subprocess.run(
        [
            "dbus-send", "--session", "--reply-timeout=3000", "--print-reply=literal",
            f"--dest={dest}", *args,
        ],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return out.stdout if out.returncode == 0 else None


def _start_keyring_daemon(svc: SecretService) -> None:
    """``gnome-keyring-daemon --unlock`` on ``svc``'s bus; returns once it owns
    ``org.freedesktop.secrets`` and the default collection is unlocked."""
    keyring_daemon = require("gnome-keyring-daemon")
    with (svc.dir / "keyring.log").open("ab") as kr_log:
        svc.keyring = subprocess.Popen(
            [keyring_daemon, "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=kr_log,
            stderr=kr_log,
            env=svc.daemon_env,
            start_new_session=True,
        )
    assert svc.keyring.stdin is not None
    svc.keyring.stdin.write(svc.password.encode())
    svc.keyring.stdin.close()

    client_env = {**os.environ, **svc.env}
    owner: List[str] = []

    def on_bus() -> bool:
        if svc.keyring is not None and svc.keyring.poll() is not None:
            raise PeerError(
                "gnome-keyring-daemon exited; log:\n" + _tail(svc.dir / "keyring.log")
            )
        out = _dbus_send(
            client_env,
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            "string:org.freedesktop.secrets",
        )
        if out is None:
            return False
        owner.append(out.split()[-1])
        return True

    wait_until(on_bus, svc.timeout, "org.freedesktop.secrets on the private bus")
    if owner[-1] != str(svc.keyring.pid):
        raise PeerError(
            f"org.freedesktop.secrets is owned by PID {owner[-1]}, not our daemon"
        )

    collection: List[str] = []

    def unlocked() -> bool:
        alias = _dbus_send(
            client_env,
            "org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.ReadAlias",
            "string:default",
        )
        path = (alias or "").strip()
        if not path.startswith("/org/freedesktop/secrets/collection/"):
            return False
        collection[:] = [path]
        locked = _dbus_send(
            client_env,
            "org.freedesktop.secrets",
            path,
            "org.freedesktop.DBus.Properties.Get",
            "string:org.freedesktop.Secret.Collection",
            "string:Locked",
        )
        return locked is not None and "false" in locked

    wait_until(unlocked, svc.timeout, "an unlocked default collection in the Secret Service")


_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def start_secret_service(
    tmpdir: Union[str, Path], *, password: Optional[str] = None, timeout: float = READY_TIMEOUT
) -> SecretService:
    """Private dbus-daemon + ``gnome-keyring-daemon --unlock --components=secrets``.

    Keyring files go to ``tmpdir/data`` (XDG_DATA_HOME), sockets to ``tmpdir/run``;
    those XDG dirs are given to the bus and daemon only. Waits (bounded) until
    ``org.freedesktop.secrets`` is on the bus and its default collection is unlocked.
    Clients need only ``env`` (``DBUS_SESSION_BUS_ADDRESS``). ``password`` (the
    login keyring's, random when None) matters only when reusing a ``tmpdir``.
    """
    if password is None:
        password = secrets.token_hex(8)
    dbus_daemon = require("dbus-daemon")
    require("dbus-send")
    require("gnome-keyring-daemon")
    directory = Path(tmpdir).resolve()
    for sub in ("data", "run", "home"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    for sub in ("", "run"):
        (directory / sub).chmod(0o700)
    sock = directory / "run" / "bus"
    if len(str(sock)) > 100:
        raise PeerError(f"socket path too long for a unix socket: {sock}; use a shorter tmpdir")

    private = {
        **os.environ,
        "HOME": str(directory / "home"),
        "XDG_DATA_HOME": str(directory / "data"),
        "XDG_RUNTIME_DIR": str(directory / "run"),
        "XDG_CONFIG_HOME": str(directory / "home" / ".config"),
        "XDG_CACHE_HOME": str(directory / "home" / ".cache"),
    }
    for var in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "GNOME_KEYRING_CONTROL"):
        private.pop(var, None)

    # A session bus with no service activation: if the daemon dies, clients get
    # ServiceUnknown rather than a new daemon (from /usr/share/dbus-1/services) whose
    # login keyring is locked, which hid the crash behind "the keyring is locked".
    config = directory / "bus.conf"
    config.write_text(_BUS_CONFIG.replace("{socket}", html.escape(str(sock))))
    svc = SecretService(dir=directory, env={}, password=password, timeout=timeout)
    try:
        with (directory / "bus.log").open("ab") as bus_log:
            svc.bus = subprocess.Popen(
                [
                    dbus_daemon,
                    f"--config-file={config}",
                    "--nofork",
                    "--nopidfile",
                    "--print-address=1",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=bus_log,
                env=private,
                start_new_session=True,
            )
        address = _read_line(svc.bus, timeout)
        if not address.startswith("unix:"):
            raise PeerError(f"dbus-daemon gave no address; log:\n{_tail(directory / 'bus.log')}")
        svc.env = {"DBUS_SESSION_BUS_ADDRESS": address}
        private["DBUS_SESSION_BUS_ADDRESS"] = address

        svc.daemon_env = private
        _start_keyring_daemon(svc)
    except BaseException:
        svc.stop()
        raise
    return svc


# --------------------------------------------------------------------------- pass


@dataclass
class PassStore:
    """gpg home + password store for docker-credential-pass; give clients ``env``."""

    dir: Path
    gnupghome: Path
    store_dir: Path
    key_id: str
    env: Dict[str, str]
    remove_dir: bool = False

    def agent_pid(self) -> Optional[int]:
        """PID of the running gpg-agent for this GNUPGHOME (none is started)."""
        out = subprocess.run(
            ["gpg-connect-agent", "--no-autostart", "getinfo pid", "/bye"],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        for line in out.stdout.splitlines():
            if line.startswith("D ") and line[2:].strip().isdigit():
                return int(line[2:].strip())
        return None

    def stop(self) -> None:
        """Stop the gpg-agent (gpgconf --kill all, then by PID), remove a temp dir we made."""
        if self.gnupghome.is_dir():
            pid = self.agent_pid() if shutil.which("gpg-connect-agent") else None
            subprocess.run(
                ["gpgconf", "--kill", "all"],
                env={**os.environ, **self.env},
                capture_output=True,
                timeout=20,
                check=False,
            )
            if pid is not None:
                deadline = time.monotonic() + 5
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                stop_pid(pid, str(self.gnupghome))
        if self.remove_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PassStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def short_tmpdir(prefix: str = "dcp") -> Path:
    """A new short directory under /tmp (gpg-agent / dbus socket paths are limited)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def start_pass_store(directory: Union[str, Path, None] = None) -> PassStore:
    """Passphrase-less gpg key in ``DIR/gnupg`` and ``pass init`` in ``DIR/store``.

    ``directory`` None: a new short dir under /tmp, removed by ``stop()``.
    """
    gpg = require("gpg")
    require("gpgconf")
    require("pass")
    made = directory is None
    root = short_tmpdir() if directory is None else Path(directory).resolve()
    gnupghome = root / "gnupg"
    store_dir = root / "store"
    gnupghome.mkdir(parents=True, exist_ok=True)
    gnupghome.chmod(0o700)
    if not Path(f"/run/user/{os.getuid()}").is_dir() and len(str(gnupghome)) > 90:
        raise PeerError(f"GNUPGHOME {gnupghome} too long for the gpg-agent socket path")
    env = {"GNUPGHOME": str(gnupghome), "PASSWORD_STORE_DIR": str(store_dir)}
    full_env = {**os.environ, **env}
    ps = PassStore(
        dir=root, gnupghome=gnupghome, store_dir=store_dir, key_id="", env=env, remove_dir=made
    )
    try:
        gen = subprocess.run(
            [
                gpg, "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", "",
                "--quick-gen-key", "dockercreds test suite <test-suite@invalid>",
                "default", "default", "never",
            ],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if gen.returncode != 0:
            raise PeerError(f"gpg key generation in {gnupghome} failed: {gen.stderr.strip()}")
        keys = subprocess.run(
            [gpg, "--batch", "--with-colons", "--list-secret-keys"],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        fprs = [ln.split(":")[9] for ln in keys.stdout.splitlines() if ln.startswith("fpr:")]
        if not fprs:
            raise PeerError(f"no gpg secret key in {gnupghome} after generation")
        ps.key_id = fprs[0]
        init = subprocess.run(
            ["pass", "init", ps.key_id],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if init.returncode != 0:
            raise PeerError(f"pass init in {store_dir} failed: {init.stderr.strip()}")
    except BaseException:
        ps.stop()
        raise
    return ps


# --------------------------------------------------------------------------- docker config


def write_docker_config(directory: Union[str, Path], config: Mapping[str, Any]) -> Path:
    """Write ``directory/config.json`` (0600) and return its path."""
    path = Path(directory) / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)
    return path


def auths_config(registry: Registry, *, password: Optional[str] = None) -> Dict[str, Any]:
    """``{"auths": {ADDR: {"auth": b64(user:password)}}}`` for ``registry``."""
    secret = registry.password if password is None else password
    auth = base64.b64encode(f"{registry.user}:{secret}".encode()).decode()
    return {"auths": {registry.addr: {"auth": auth}}}


def write_registries_conf(path: Union[str, Path], *addrs: str) -> Path:
    """A containers registries.conf marking ``addrs`` (host:port) as plain-HTTP registries.

    For skopeo/podman: ``--registries-conf PATH`` (skopeo 1.9 ignores
    CONTAINERS_REGISTRIES_CONF); ``--tls-verify=false`` works as well.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        "".join(f'[[registry]]\nlocation = "{a}"\ninsecure = true\n\n' for a in addrs)
    )
    return out
