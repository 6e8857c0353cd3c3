"""RegistryAuth against a real docker-registry 2.8 on 127.0.0.1.

htpasswd mode (the ``registry`` fixture) and token mode, with a small token server
written here: ES256 JWTs with an ``x5c`` header, refresh tokens (``offline_token=true``
and the OAuth2 POST), and counters so the tests can assert the caching.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from dockercreds.auth import RegistryAuth, RegistryHTTPXAuth
from dockercreds.cli import main
from dockercreds.credentials import Credentials
from dockercreds.errors import TokenError
from tests.peers import (
    MANIFEST_V2,
    REGISTRY_BIN,
    Registry,
    require,
    start_registry,
)

pytestmark = pytest.mark.peer

SERVICE = "test-registry"
ISSUER = "test-token-issuer"
USER = "alice"
PASSWORD = "alice-" + secrets.token_hex(8)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- token server


@dataclass
class Seen:
    method: str
    query: Dict[str, List[str]]
    form: Dict[str, List[str]]
    authorization: Optional[str]


@dataclass
class TokenServer:
    """A distribution token server: Basic users, anonymous pull of ``public/*``."""

    key: Any
    cert_der: bytes
    port: int = 0
    seen: List[Seen] = field(default_factory=list)
    refresh_tokens: Dict[str, str] = field(default_factory=dict)  # token -> user
    post_enabled: bool = True
    expired_next: int = 0  # issue this many already-expired tokens
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def reset(self) -> None:
        with self.lock:
            self.seen.clear()
            self.post_enabled = True
            self.expired_next = 0

    def sign(self, access: List[Dict[str, Any]], subject: str) -> Tuple[str, int]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        now = int(time.time())
        expires_in = 300
        exp = now + expires_in
        with self.lock:
            if self.expired_next > 0:
                self.expired_next -= 1
                exp = now - 300  # beyond the registry's 60 s leeway
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": exp,
            "nbf": min(now, exp) - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        der = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signing_input + "." + _b64url(signature), expires_in

    def grant(self, user: Optional[str], scopes: List[str]) -> List[Dict[str, Any]]:
        access = []
        for scope in " ".join(scopes).split():
            typ, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = [a for a in actions.split(",") if a]
            if user is None:
                wanted = [a for a in wanted if a == "pull"] if name.startswith("public/") else []
            if wanted:
                access.append({"type": typ, "name": name, "actions": wanted})
        return access


def _handler(server: TokenServer) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def reply(self, status: int, body: Dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def denied(self) -> None:
            self.reply(
                401,
                {"errors": [{"code": "UNAUTHORIZED", "message": "invalid username or password"}]},
            )

        def basic_user(self) -> Tuple[bool, Optional[str]]:
            """(ok, user): no header is anonymous; a bad one is not ok."""
            header = self.headers.get("Authorization")
            if header is None:
                return True, None
            if not header.startswith("Basic "):
                return False, None
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            if user == USER and password == PASSWORD:
                return True, user
            if user == "<token>" and password in server.refresh_tokens:
                return True, server.refresh_tokens[password]
            return False, None

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            with server.lock:
                server.seen.append(Seen("GET", query, {}, self.headers.get("Authorization")))
            if url.path != "/token":
                self.reply(404, {"details": "not found"})
                return
            ok, user = self.basic_user()
            if not ok:
                self.denied()
                return
            token, expires_in = server.sign(server.grant(user, query.get("scope", [])), user or "")
            body: Dict[str, Any] = {
                "token": token,
                "expires_in": expires_in,
                "issued_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            }
            if user is not None and query.get("offline_token") == ["true"]:
                refresh = secrets.token_hex(16)
                with server.lock:
                    server.refresh_tokens[refresh] = user
                body["refresh_token"] = refresh
            self.reply(200, body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            with server.lock:
                server.seen.append(Seen("POST", {}, form, self.headers.get("Authorization")))
                enabled = server.post_enabled
            if not enabled:
                self.reply(404, {"details": "no oauth endpoint"})
                return
            refresh = (form.get("refresh_token") or [""])[0]
            if form.get("grant_type") != ["refresh_token"] or not form.get("client_id"):
                self.reply(400, {"error": "invalid_request"})
                return
            with server.lock:
                user = server.refresh_tokens.get(refresh)
            if user is None:
                self.reply(401, {"error": "invalid_grant", "error_description": "unknown token"})
                return
            scopes = (form.get("scope") or [""])[0].split()
            token, expires_in = server.sign(server.grant(user, scopes), user)
            self.reply(
                200,
                {"access_token": token, "expires_in": expires_in, "refresh_token": refresh},
            )

    return Handler


def _self_signed() -> Tuple[Any, bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, ISSUER)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return (
        key,
        cert.public_bytes(serialization.Encoding.DER),
        cert.public_bytes(serialization.Encoding.PEM),
    )


@dataclass
class TokenRegistry:
    registry: Registry
    server: TokenServer

    @property
    def url(self) -> str:
        return self.registry.url

    @property
    def addr(self) -> str:
        return self.registry.addr


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenRegistry]:
    require(REGISTRY_BIN if Path(REGISTRY_BIN).exists() else "docker-registry")
    pytest.importorskip("cryptography")
    tmp = tmp_path_factory.mktemp("token-registry")
    key, der, pem = _self_signed()
    (tmp / "root.pem").write_bytes(pem)
    server = TokenServer(key, der)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    auth = {
        "token": {
            "realm": server.realm,
            "service": SERVICE,
            "issuer": ISSUER,
            "rootcertbundle": str(tmp / "root.pem"),
        }
    }
    try:
        reg = start_registry(tmp / "reg", auth=auth)
        try:
            tr = TokenRegistry(reg, server)
            _push(tr, "test/hello")
            _push(tr, "public/hello")
            yield tr
        finally:
            reg.stop()
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture
def token_server(token_registry: TokenRegistry) -> TokenServer:
    token_registry.server.reset()
    return token_registry.server


def _alice(registry: str) -> Optional[Credentials]:
    return Credentials(registry, username=USER, password=PASSWORD, source="test")


def _session(auth: Any) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    s.auth = auth
    return s


def _image() -> Tuple[bytes, bytes, bytes]:
    layer = b"layer-" + secrets.token_bytes(64)
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": _sha256(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": _sha256(layer),
                }
            ],
        }
    ).encode()
    return layer, config, manifest


def _push_blob(s: requests.Session, url: str, repo: str, blob: bytes) -> None:
    start = s.post(f"{url}/v2/{repo}/blobs/uploads/", data=b"")
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    if not location.startswith("http"):
        location = url + location
    sep = "&" if "?" in location else "?"
    put = s.put(
        f"{location}{sep}digest={_sha256(blob)}",
        data=blob,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert put.status_code == 201, put.text


def _push(tr: TokenRegistry, repo: str) -> None:
    s = _session(RegistryAuth(credentials=_alice))
    layer, config, manifest = _image()
    for blob in (layer, config):
        _push_blob(s, tr.url, repo, blob)
    put = s.put(
        f"{tr.url}/v2/{repo}/manifests/v1", data=manifest, headers={"Content-Type": MANIFEST_V2}
    )
    assert put.status_code == 201, put.text


def _pull(s: requests.Session, url: str, repo: str) -> int:
    """Pull the manifest and every blob, checking digests; returns the number of requests."""
    r = s.get(f"{url}/v2/{repo}/manifests/v1", headers={"Accept": MANIFEST_V2})
    assert r.status_code == 200, r.text
    assert r.headers["Docker-Content-Digest"] == _sha256(r.content)
    manifest = r.json()
    digests = [manifest["config"]["digest"]] + [layer["digest"] for layer in manifest["layers"]]
    for digest in digests:
        blob = s.get(f"{url}/v2/{repo}/blobs/{digest}")
        assert blob.status_code == 200
        assert _sha256(blob.content) == digest
    return 1 + len(digests)


def _token_gets(server: TokenServer) -> List[Seen]:
    return [s for s in server.seen if s.method == "GET"]


# --------------------------------------------------------------------------- htpasswd mode


def test_htpasswd_pull(registry: Registry) -> None:
    auth = RegistryAuth(
        credentials=lambda r: Credentials(r, username=registry.user, password=registry.password)
    )
    s = _session(auth)
    assert _pull(s, registry.url, "test/hello") == 3
    r = s.get(f"{registry.url}/v2/test/hello/manifests/v1", headers={"Accept": MANIFEST_V2})
    assert r.headers["Docker-Content-Digest"] == registry.digest


def test_htpasswd_from_config_file(registry: Registry, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {registry.addr: {"auth": registry.auth_b64}}}))
    s = _session(RegistryAuth(config=str(config)))
    r = s.get(f"{registry.url}/v2/test/hello/manifests/v1", headers={"Accept": MANIFEST_V2})
    assert r.status_code == 200


def test_htpasswd_wrong_password(registry: Registry) -> None:
    auth = RegistryAuth(
        credentials=lambda r: Credentials(r, username=registry.user, password="wrong")
    )
    r = _session(auth).get(f"{registry.url}/v2/test/hello/manifests/v1")
    assert r.status_code == 401
    assert len(r.history) == 1


def test_cli_token_on_htpasswd_registry(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {registry.addr: {"auth": registry.auth_b64}}}))
    assert main(["token", f"{registry.addr}/test/hello", "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "Basic authentication" in err
    assert "no token" in err
    assert registry.password not in err


# --------------------------------------------------------------------------- token mode


def test_token_pull_caches(token_registry: TokenRegistry, token_server: TokenServer) -> None:
    s = _session(RegistryAuth(credentials=_alice))
    requests_made = _pull(s, token_registry.url, "test/hello") + _pull(
        s, token_registry.url, "test/hello"
    )
    assert requests_made == 6
    gets = _token_gets(token_server)
    assert len(gets) == 1
    assert gets[0].query["scope"] == ["repository:test/hello:pull"]
    assert gets[0].query["account"] == [USER]
    assert gets[0].query["service"] == [SERVICE]


def test_token_push_upgrades_scope(
    token_registry: TokenRegistry, token_server: TokenServer
) -> None:
    s = _session(RegistryAuth(credentials=_alice))
    repo = "test/pushed"
    assert s.get(f"{token_registry.url}/v2/{repo}/manifests/v1").status_code == 404  # pull token
    layer = b"pushed-" + secrets.token_bytes(32)
    _push_blob(s, token_registry.url, repo, layer)
    assert s.head(f"{token_registry.url}/v2/{repo}/blobs/{_sha256(layer)}").status_code == 200
    scopes = [g.query["scope"] for g in _token_gets(token_server)]
    assert scopes == [[f"repository:{repo}:pull"], [f"repository:{repo}:pull,push"]]


def test_token_anonymous_public_pull(
    token_registry: TokenRegistry, token_server: TokenServer
) -> None:
    s = _session(RegistryAuth(credentials=lambda r: None))
    _pull(s, token_registry.url, "public/hello")
    gets = _token_gets(token_server)
    assert len(gets) == 1
    assert gets[0].authorization is None
    # a private repository stays closed to anonymous tokens
    assert s.get(f"{token_registry.url}/v2/test/hello/manifests/v1").status_code == 401


def test_token_wrong_password(token_registry: TokenRegistry, token_server: TokenServer) -> None:
    auth = RegistryAuth(
        credentials=lambda r: Credentials(r, username=USER, password="wrong-pw-123")
    )
    with pytest.raises(TokenError) as info:
        _session(auth).get(f"{token_registry.url}/v2/test/hello/manifests/v1")
    message = str(info.value)
    assert token_registry.addr in message
    assert token_server.realm in message
    assert "repository:test/hello:pull" in message
    assert "invalid username or password" in message
    assert "wrong-pw-123" not in message


def test_token_expiry_by_clock(token_registry: TokenRegistry, token_server: TokenServer) -> None:
    now = [time.time()]
    s = _session(RegistryAuth(credentials=_alice, clock=lambda: now[0]))
    url = f"{token_registry.url}/v2/test/hello/manifests/v1"
    assert s.get(url, headers={"Accept": MANIFEST_V2}).status_code == 200
    assert s.get(url, headers={"Accept": MANIFEST_V2}).status_code == 200
    assert len(_token_gets(token_server)) == 1
    now[0] += 400  # past expires_in=300
    assert s.get(url, headers={"Accept": MANIFEST_V2}).status_code == 200
    assert len(_token_gets(token_server)) == 2


def test_token_rejected_by_registry_is_refetched(
    token_registry: TokenRegistry, token_server: TokenServer
) -> None:
    """The server hands out an already-expired token: the registry refuses it."""
    token_server.expired_next = 1
    s = _session(RegistryAuth(credentials=_alice))
    url = f"{token_registry.url}/v2/test/hello/manifests/v1"
    accept = {"Accept": MANIFEST_V2}
    first = s.get(url, headers=accept)
    assert first.status_code == 401  # fetched once, retried once: the caller sees the 401
    assert 'error="invalid_token"' in first.headers["WWW-Authenticate"]
    assert s.get(url, headers=accept).status_code == 200  # refused token dropped, refetched
    assert len(_token_gets(token_server)) == 2


def test_identity_token_login_and_use(
    token_registry: TokenRegistry, token_server: TokenServer
) -> None:
    login = RegistryAuth(credentials=_alice, offline_token=True)
    assert _session(login).get(f"{token_registry.url}/v2/").status_code == 200
    refresh = login.identity_token(token_registry.addr)
    assert refresh
    (get,) = _token_gets(token_server)
    assert get.query["offline_token"] == ["true"]
    assert get.query["client_id"] == ["dockercreds"]

    token_server.reset()
    auth = RegistryAuth(credentials=lambda r: Credentials(r, identity_token=refresh))
    _pull(_session(auth), token_registry.url, "test/hello")
    (post,) = token_server.seen
    assert post.method == "POST"
    assert post.form["grant_type"] == ["refresh_token"]
    assert post.form["refresh_token"] == [refresh]
    assert post.form["scope"] == ["repository:test/hello:pull"]
    assert post.authorization is None


def test_identity_token_post_404_falls_back_to_get(
    token_registry: TokenRegistry, token_server: TokenServer
) -> None:
    login = RegistryAuth(credentials=_alice, offline_token=True)
    assert _session(login).get(f"{token_registry.url}/v2/").status_code == 200
    refresh = login.identity_token(token_registry.addr)
    assert refresh
    token_server.reset()
    token_server.post_enabled = False
    auth = RegistryAuth(credentials=lambda r: Credentials(r, identity_token=refresh))
    _pull(_session(auth), token_registry.url, "test/hello")
    assert [s.method for s in token_server.seen] == ["POST", "GET"]


def test_httpx_pull(token_registry: TokenRegistry, token_server: TokenServer) -> None:
    httpx = pytest.importorskip("httpx")
    with httpx.Client(auth=RegistryHTTPXAuth(credentials=_alice), trust_env=False) as client:
        for _ in range(3):
            r = client.get(
                f"{token_registry.url}/v2/test/hello/manifests/v1", headers={"Accept": MANIFEST_V2}
            )
            assert r.status_code == 200
    assert len(_token_gets(token_server)) == 1


@pytest.mark.parametrize(("push", "actions"), [(False, ["pull"]), (True, ["pull", "push"])])
def test_cli_token(
    token_registry: TokenRegistry,
    token_server: TokenServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    push: bool,
    actions: List[str],
) -> None:
    b64 = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {token_registry.addr: {"auth": b64}}}))
    argv = ["token", f"{token_registry.addr}/test/hello", "--config", str(config)]
    assert main(argv + (["--push"] if push else [])) == 0
    out, _ = capsys.readouterr()
    token = out.strip()
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["access"] == [{"type": "repository", "name": "test/hello", "actions": actions}]
    # the token works with any HTTP client
    r = requests.get(
        f"{token_registry.url}/v2/test/hello/manifests/v1",
        headers={"Authorization": f"Bearer {token}", "Accept": MANIFEST_V2},
        timeout=10,
    )
    assert r.status_code == 200
