"""Smoke tests: the peer fixtures in tests/peers.py and tests/conftest.py really work.

The docker CLI and skopeo are the oracles other tests use; these tests check that
they accept the registry with the right credentials and refuse it with wrong ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from tests.peers import (
    IMAGE_REPO,
    IMAGE_TAG,
    MANIFEST_V2,
    PassStore,
    Registry,
    SecretService,
    auths_config,
    basic_auth,
    http_request,
    require,
    start_registry,
    write_docker_config,
    write_registries_conf,
)

pytestmark = pytest.mark.peer


def _run(
    argv: List[str], *, env: Optional[Dict[str, str]] = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        input=stdin,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --------------------------------------------------------------------------- require


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [("true", pytest.fail.Exception), ("", pytest.skip.Exception), ("1", pytest.skip.Exception)],
)
def test_require_missing(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no-such-peer-program"):
        require("no-such-peer-program")


def test_require_present(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert Path(require("sh")).is_absolute()


# --------------------------------------------------------------------------- isolation


def test_home_is_isolated(isolated_home: Path) -> None:
    assert os.environ["HOME"] == str(isolated_home)
    assert "DBUS_SESSION_BUS_ADDRESS" not in os.environ
    assert "DOCKER_CONFIG" not in os.environ


def test_docker_config_fixture(docker_config: Path, isolated_home: Path) -> None:
    assert os.environ["DOCKER_CONFIG"] == str(docker_config)
    assert os.environ["HOME"] != str(isolated_home)
    assert docker_config.is_dir()
    assert list(docker_config.iterdir()) == []


def test_venv_bin_path_has_keyring_helper(venv_bin_path: Path) -> None:
    assert os.environ["PATH"].split(os.pathsep)[0] == str(venv_bin_path)
    assert (venv_bin_path / "docker-credential-keyring").exists()


# --------------------------------------------------------------------------- registry


@pytest.mark.parametrize(
    ("auth", "status"),
    [("none", 401), ("wrong", 401), ("right", 200)],
)
def test_registry_v2_auth(registry: Registry, auth: str, status: int) -> None:
    headers = {
        "none": {},
        "wrong": {"Authorization": basic_auth(registry.user, registry.password + "x")},
        "right": {"Authorization": registry.authorization},
    }[auth]
    resp = http_request("GET", f"{registry.url}/v2/", headers=headers)
    assert resp.status == status
    if status == 401:
        assert resp.headers["www-authenticate"] == f'Basic realm="{registry.realm}"'


def test_registry_manifest(registry: Registry) -> None:
    url = f"{registry.url}/v2/{IMAGE_REPO}/manifests/{IMAGE_TAG}"
    assert http_request("GET", url, headers={"Accept": MANIFEST_V2}).status == 401
    resp = http_request(
        "GET", url, headers={"Accept": MANIFEST_V2, "Authorization": registry.authorization}
    )
    assert resp.status == 200
    assert resp.headers["docker-content-digest"] == registry.digest
    assert resp.json()["mediaType"] == MANIFEST_V2
    assert registry.image == f"{registry.addr}/{IMAGE_REPO}:{IMAGE_TAG}"


def test_registry_repr_hides_password(registry: Registry) -> None:
    assert registry.password not in repr(registry)


def test_registry_add_user(tmp_path: Path) -> None:
    require("docker-registry")
    require("htpasswd")
    with start_registry(tmp_path, push=False) as reg:
        assert reg.image is None
        url = f"{reg.url}/v2/"
        bob = {"Authorization": basic_auth("bob", "bob-secret")}
        assert http_request("GET", url, headers=bob).status == 401
        reg.add_user("bob", "bob-secret")
        assert http_request("GET", url, headers=bob).status == 200
        assert http_request("GET", url, headers={"Authorization": reg.authorization}).status == 200
        reg.add_user("bob", "changed")
        assert http_request("GET", url, headers=bob).status == 401
    assert reg.proc is not None
    assert reg.proc.poll() is not None


def test_registry_token_mode(tmp_path: Path) -> None:
    """A token-auth config is passed through; the registry asks for a Bearer token."""
    require("docker-registry")
    from tests.token_server import self_signed_cert

    bundle = tmp_path / "root.pem"
    bundle.write_bytes(self_signed_cert()[2])
    token = {
        "realm": "http://127.0.0.1:9/token",
        "service": "test-registry",
        "issuer": "test-token-issuer",
        "rootcertbundle": str(bundle),
    }
    with start_registry(tmp_path / "reg", auth={"token": token}) as reg:
        assert (reg.auth_mode, reg.image, reg.digest) == ("token", None, None)
        resp = http_request("GET", f"{reg.url}/v2/")
        assert resp.status == 401
        challenge = resp.headers["www-authenticate"]
        assert challenge.startswith("Bearer ")
        assert 'realm="http://127.0.0.1:9/token"' in challenge
        assert 'service="test-registry"' in challenge
        assert json.loads((reg.dir / "config.yml").read_text())["auth"] == {"token": token}


def test_registry_without_auth(tmp_path: Path) -> None:
    require("docker-registry")
    with start_registry(tmp_path, auth=None) as reg:
        assert reg.auth_mode == "none"
        assert reg.image is not None
        url = f"{reg.url}/v2/{IMAGE_REPO}/manifests/{IMAGE_TAG}"
        assert http_request("GET", url, headers={"Accept": MANIFEST_V2}).status == 200


# --------------------------------------------------------------------------- docker CLI


@pytest.mark.parametrize(("password_ok", "rc"), [(True, 0), (False, 1)])
def test_docker_manifest_inspect(
    registry: Registry, docker_config: Path, password_ok: bool, rc: int
) -> None:
    docker = require("docker")
    assert registry.image is not None
    password = registry.password if password_ok else "wrong-password"
    write_docker_config(docker_config, auths_config(registry, password=password))
    out = _run([docker, "manifest", "inspect", "--insecure", registry.image])
    assert out.returncode == rc, out.stderr
    if rc == 0:
        assert json.loads(out.stdout)["config"]["mediaType"]
    else:
        assert registry.password not in out.stderr


def test_docker_manifest_inspect_without_credentials(
    registry: Registry, docker_config: Path
) -> None:
    docker = require("docker")
    assert registry.image is not None
    out = _run([docker, "manifest", "inspect", "--insecure", registry.image])
    assert out.returncode == 1
    assert "no basic auth credentials" in out.stderr


# --------------------------------------------------------------------------- skopeo


@pytest.mark.parametrize(("password_ok", "rc"), [(True, 0), (False, 1)])
def test_skopeo_inspect(
    registry: Registry, tmp_path: Path, docker_config: Path, password_ok: bool, rc: int
) -> None:
    skopeo = require("skopeo")
    assert registry.image is not None
    password = registry.password if password_ok else "wrong-password"
    authfile = write_docker_config(tmp_path / "auth", auths_config(registry, password=password))
    out = _run(
        [
            skopeo, "inspect", "--tls-verify=false", "--authfile", str(authfile),
            f"docker://{registry.image}",
        ]
    )
    assert out.returncode == rc, out.stderr
    if rc == 0:
        assert json.loads(out.stdout)["Digest"] == registry.digest


def test_skopeo_inspect_registries_conf(registry: Registry, tmp_path: Path) -> None:
    """Instead of --tls-verify=false: a registries.conf marking the registry insecure."""
    skopeo = require("skopeo")
    assert registry.image is not None
    authfile = write_docker_config(tmp_path / "auth", auths_config(registry))
    conf = write_registries_conf(tmp_path / "registries.conf", registry.addr)
    argv = [skopeo, "inspect", "--authfile", str(authfile), f"docker://{registry.image}"]
    assert _run(argv).returncode == 1  # https by default: the registry speaks http
    out = _run([*argv[:2], "--registries-conf", str(conf), *argv[2:]])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Digest"] == registry.digest


# --------------------------------------------------------------------------- helpers


def _round_trip(helper: str, env: Dict[str, str], missing_get_rc: int) -> None:
    server = f"127.0.0.1:{uuid.uuid4().int % 50000 + 1024}"
    creds = {"ServerURL": server, "Username": "alice", "Secret": "s3cret-<x>"}
    out = _run([helper, "store"], env=env, stdin=json.dumps(creds))
    assert out.returncode == 0, out.stdout
    out = _run([helper, "get"], env=env, stdin=server)
    assert out.returncode == 0, out.stdout
    assert json.loads(out.stdout) == creds
    out = _run([helper, "list"], env=env)
    assert out.returncode == 0, out.stdout
    assert json.loads(out.stdout)[server] == "alice"
    out = _run([helper, "erase"], env=env, stdin=server)
    assert out.returncode == 0, out.stdout
    out = _run([helper, "list"], env=env)
    assert server not in json.loads(out.stdout)
    out = _run([helper, "get"], env=env, stdin=server)
    assert out.returncode == missing_get_rc


def test_pass_helper_round_trip(pass_store: PassStore) -> None:
    helper = require("docker-credential-pass")
    # docker-credential-pass answers a missing entry with rc 0 and empty fields.
    _round_trip(helper, pass_store.env, missing_get_rc=0)


def test_use_pass_store(use_pass_store: PassStore) -> None:
    assert os.environ["GNUPGHOME"] == use_pass_store.env["GNUPGHOME"]
    helper = require("docker-credential-pass")
    assert _run([helper, "list"]).returncode == 0


def test_pass_store_env(pass_store: PassStore) -> None:
    assert set(pass_store.env) == {"GNUPGHOME", "PASSWORD_STORE_DIR"}
    assert (pass_store.store_dir / ".gpg-id").read_text().strip() == pass_store.key_id
    assert len(pass_store.env["GNUPGHOME"]) < 60


def test_secretservice_helper_round_trip(secret_service: SecretService) -> None:
    helper = require("docker-credential-secretservice")
    _round_trip(helper, secret_service.env, missing_get_rc=1)


def test_python_keyring_in_secret_service(use_secret_service: SecretService) -> None:
    ss_backend = pytest.importorskip("keyring.backends.SecretService")
    assert os.environ["DBUS_SESSION_BUS_ADDRESS"] == use_secret_service.address
    kr = ss_backend.Keyring()
    service = f"dockercreds-test-{uuid.uuid4().hex[:8]}"
    kr.set_password(service, "alice", "s3cret")
    try:
        assert kr.get_password(service, "alice") == "s3cret"
    finally:
        kr.delete_password(service, "alice")
    assert kr.get_password(service, "alice") is None


def test_secretservice_helper_item_visible_to_python(
    secret_service: SecretService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item stored by docker-credential-secretservice is found by SecretStorage."""
    helper = require("docker-credential-secretservice")
    secretstorage = pytest.importorskip("secretstorage")
    server = f"127.0.0.1:{uuid.uuid4().int % 50000 + 1024}"
    creds = {"ServerURL": server, "Username": "bob", "Secret": "pw"}
    assert _run([helper, "store"], env=secret_service.env, stdin=json.dumps(creds)).returncode == 0
    try:
        for name, value in secret_service.env.items():
            monkeypatch.setenv(name, value)
        conn = secretstorage.dbus_init()
        try:
            items = list(secretstorage.search_items(conn, {"server": server}))
            assert [i.get_secret() for i in items] == [b"pw"]
        finally:
            conn.close()
    finally:
        _run([helper, "erase"], env=secret_service.env, stdin=server)
